"""The batch's job graph and scheduler, with a fake executor (no rendering)."""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.campaign.batch import execute
from pipeline.campaign.executors.base import Executor, WorkerLost
from pipeline.campaign.jobs import Job, JobOutcome


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


@dataclass
class Task:
    threads: int | None = None


class CountingExecutor(FakeExecutor):
    """A fake with a core count: records each job's thread budget; jobs finish in submission order."""

    def __init__(self, slots, cores):
        super().__init__(slots)
        self.cores = cores
        self.threads: dict[str, int | None] = {}
        self.kinds_at_start: dict[str, list[str]] = {}

    def submit(self, job_id, task):
        self.threads[job_id] = task.threads
        self.kinds_at_start[job_id] = [j.split(":")[0] for j in self._live]
        return super().submit(job_id, task)


def real_job(job_id, kind="analyse", deps=(), episode="e"):
    return Job(job_id, kind, episode, Task(), tuple(deps), 10)


def test_jobs_side_by_side_share_the_cores_and_the_last_one_gets_them_all():
    jobs = [real_job("analyse:1", episode="1"), real_job("analyse:2", episode="2"), real_job("analyse:3", episode="3"),
            real_job("render:1", "render", ["analyse:1"], "1"), real_job("render:2", "render", ["analyse:2"], "2"),
            real_job("render:3", "render", ["analyse:3"], "3")]
    ex = CountingExecutor(slots=2, cores=4)
    outcomes = execute(jobs, ex)
    assert all(o.status == "done" for o in outcomes.values())
    assert ex.threads["analyse:1"] == 2 and ex.threads["analyse:2"] == 2     # 4 cores, 2 at once
    assert ex.threads["render:3"] == 0                                      # nothing left to share with: all
    # a free slot takes the kind of job that is not running: with render:1 encoding, analyse:3
    # starts before the ready render:2, so analysis overlaps with encoding
    assert ex.submitted == ["analyse:1", "analyse:2", "render:1", "analyse:3", "render:2", "render:3"]
    assert ex.kinds_at_start["analyse:3"] == ["render"]


def test_one_job_at_a_time_keeps_every_core():
    jobs = [real_job("analyse:1"), real_job("render:1", "render", ["analyse:1"])]
    ex = CountingExecutor(slots=1, cores=4)
    execute(jobs, ex)
    assert ex.threads == {"analyse:1": 0, "render:1": 0}
