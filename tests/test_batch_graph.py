"""The batch's job graph and scheduler, with a fake executor (no rendering)."""
from __future__ import annotations

from pipeline.batch import execute
from pipeline.executors.base import Executor, WorkerLost
from pipeline.jobs import Job, JobOutcome


class FakeExecutor(Executor):
    """Runs jobs instantly in order of submission; ``script`` says how each attempt ends."""

    def __init__(self, slots=2, script=None):
        super().__init__()
        self._slots = slots
        self.script = dict(script or {})
        self.submitted: list[str] = []
        self.running_max = 0
        self._live: list[str] = []

    @property
    def slots(self):
        return self._slots

    def submit(self, job_id, task):
        self.submitted.append(job_id)
        self._live.append(job_id)
        self.running_max = max(self.running_max, len(self._live))
        self.events.put({"job": job_id, "kind": "progress", "data": {"done": 1, "total": 1}})
        return job_id

    def wait(self, handles, timeout):
        return handles[:1]

    def outcome(self, handle):
        self._live.remove(handle)
        plan = self.script.get(handle, ["done"])
        result = plan.pop(0) if len(plan) > 1 else plan[0]
        if result == "lost":
            raise WorkerLost("worker died")
        return JobOutcome(handle, result, "" if result == "done" else f"{handle} broke")


def job(job_id, kind="analyse", deps=(), episode="e"):
    return Job(job_id, kind, episode, None, tuple(deps), 10)


def test_dependencies_run_first_and_renders_have_priority():
    jobs = [job("a1"), job("a2"), job("b1", episode="f"), job("render:e", "render", ["a1", "a2"]),
            job("render:f", "render", ["b1"], "f")]
    ex = FakeExecutor(slots=1)
    outcomes = execute(jobs, ex)
    assert all(o.status == "done" for o in outcomes.values())
    order = ex.submitted
    assert order.index("render:e") > order.index("a2")
    assert order.index("render:e") < order.index("b1")    # a ready render goes before more analysis
    assert ex.running_max == 1


def test_failed_analysis_fails_its_render_with_the_reason_and_spares_others():
    jobs = [job("a1"), job("b1", episode="f"), job("render:e", "render", ["a1"]),
            job("render:f", "render", ["b1"], "f")]
    ex = FakeExecutor(script={"a1": ["failed"]})
    events = []
    outcomes = execute(jobs, ex, lambda kind, **d: events.append((kind, d)))
    assert outcomes["render:e"].status == "failed" and outcomes["render:e"].detail == "a1 broke"
    assert "render:e" not in ex.submitted
    assert outcomes["render:f"].status == "done"
    assert any(k == "job_progress" for k, _ in events)


def test_a_lost_worker_is_retried_once_then_reported():
    ex = FakeExecutor(script={"render:e": ["lost", "done"], "render:f": ["lost"]})
    outcomes = execute([job("render:e", "render"), job("render:f", "render", episode="f")], ex)
    assert outcomes["render:e"].status == "done"
    assert outcomes["render:f"].status == "failed" and "worker died" in outcomes["render:f"].detail
    assert ex.submitted.count("render:f") == 2
