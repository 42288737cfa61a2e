"""A campaign: every episode folder under CAMPAIGN_DIR, rendered for every network it names.

``run_batch`` takes the campaign lock, removes what a killed run left half-made, plans each
episode (validation, fingerprint, which networks are stale; see ``jobs.py``), runs the job graph
on an executor, then writes the campaign report. One broken episode never stops the others: its
rows say why it failed, and the batch's result lists every episode x network as done, skipped
or failed.

Events for the display, ``events(kind, **data)``: ``batch_start``, ``job_start``, ``job_stage``,
``job_progress``, ``job_done``, ``warning``, ``batch_done``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.campaign.decision import approval
from pipeline.campaign.executors import Executor, WorkerLost, make_executor
from pipeline.campaign.executors.dask import SchedulerUnreachable
from pipeline.campaign.jobs import (
    EpisodePlan,
    Job,
    JobOutcome,
    build_graph,
    mark_analysed,
    plan_episode,
    resolved_options,
)
from pipeline.campaign.report import Row, fill_from_outputs, merge_rows, write_report
from pipeline.core.cache import cache_dir
from pipeline.core.crash import internal_error
from pipeline.core.errors import CadreError
from pipeline.core.lock import STAGING_PREFIX, CampaignLock, remove_stale_staging
from pipeline.core.networks import network_names
from pipeline.core.threads import budget, share
from pipeline.master import no_events
from pipeline.orchestrator import RenderOptions, check_output_folder
from pipeline.source.config import load_settings
from pipeline.source.episode import holds_clips

WORKER_RETRIES = 1   # a job whose worker died is tried once more


@dataclass
class BatchOptions:
    render: RenderOptions = field(default_factory=RenderOptions)
    jobs: int | None = None             # jobs at once (default: the executor's choice)
    force: bool = False                 # render even what is up to date
    executor: str = "local"
    scheduler: str | None = None        # Dask scheduler address
    only: tuple[str, ...] = ()          # episode folder names to consider (cadre watch); () = all
    lock_wait: float = 0.0              # seconds to wait for another batch on the same campaign


@dataclass
class BatchResult:
    campaign: str
    rows: list[Row]
    executor: str = ""
    elapsed: float = 0.0
    report_json: Path | None = None
    report_html: Path | None = None
    campaign_dir: Path | None = None

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)



def out_root(campaign: Path, options: RenderOptions) -> Path:
    return Path(options.out_dir) if options.out_dir else campaign / "exports"


def find_episodes(campaign: Path, out_dir: Path | None = None) -> list[Path]:
    """Every visible sub-folder is an episode (one without clips fails with a clear reason)."""
    if not campaign.is_dir():
        raise CadreError(campaign, "campaign folder not found; pass the folder that holds the episode folders")
    from natsort import natsorted

    skip = {(campaign / "exports").resolve(), Path(out_dir).resolve() if out_dir else None}
    folders = [p for p in campaign.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
               and p.resolve() not in skip]
    if not folders:
        raise CadreError(campaign, "no episode folders found; make one sub-folder of clips per episode")
    return natsorted(folders)


def check_campaign_output(campaign: Path, root: Path) -> None:
    """Exports among the footage are refused before any work: an output folder that is, holds or
    is inside an episode folder (any sub-folder of clips, even the one ``-o`` names)."""
    if campaign.is_dir():
        check_output_folder(root, [p for p in campaign.iterdir() if p.is_dir() and holds_clips(p)])


def check_campaign_file(campaign: Path) -> None:
    """A bad ``campaign.toml`` concerns every episode: stop before any work, with one line."""

    load_settings(campaign / ".cadre-campaign-check")   # no such episode: parses campaign.toml only


def remove_leftovers(root: Path) -> int:
    """Staging folders and half-written files left by a killed run (the caller holds the lock)."""
    removed = 0
    if not root.is_dir():
        return 0
    for ep in root.iterdir():
        if not ep.is_dir():
            continue
        removed += remove_stale_staging(ep)   # never one a `cadre render` of this episode holds now
        for item in ep.iterdir():
            if item.is_dir() and not item.name.startswith(STAGING_PREFIX):
                for part in item.glob(".*.part"):
                    part.unlink(missing_ok=True)
                    removed += 1
        for part in ep.glob(".*.part"):
            part.unlink(missing_ok=True)
    for part in root.glob(".*.part"):
        part.unlink(missing_ok=True)
    return removed


def run_batch(campaign: str | Path, options: BatchOptions | RenderOptions | None = None,
              events=no_events) -> BatchResult:
    """Render the campaign incrementally; never raises for one episode's failure."""
    if not isinstance(options, BatchOptions):
        options = BatchOptions(render=options or RenderOptions())
    started = time.monotonic()
    campaign = Path(campaign).resolve()
    render = resolved_options(replace(options.render, out_dir=out_root(campaign, options.render),
                                      reanalyse=options.render.reanalyse or options.force))
    root = Path(render.out_dir)
    check_campaign_output(campaign, root)
    folders = find_episodes(campaign, root)
    check_campaign_file(campaign)
    budget()                                   # a malformed CADRE_THREADS stops the batch, not each job
    names = [f.name for f in folders]
    unknown = [n for n in options.only if n not in names]
    if unknown:
        raise CadreError(campaign / unknown[0], "no such episode folder in the campaign")
    selected = [f for f in folders if not options.only or f.name in options.only]

    with CampaignLock(root, campaign, options.lock_wait):
        if remove_leftovers(root):
            events("warning", message="removed half-made outputs left by an interrupted run")
        cache = str(cache_dir())
        plans = [plan_episode(f, render, options.force, cache) for f in selected]
        jobs = build_graph(plans, render, cache)
        executor_desc = "nothing to render"
        outcomes: dict[str, JobOutcome] = {}
        events("batch_start", campaign=campaign.name, episodes=len(plans),
               jobs=[{"job": j.id, "type": j.kind, "episode": j.episode, "weight": j.weight} for j in jobs],
               up_to_date=sum(len(p.networks) - len(p.stale) - len(p.refused) for p in plans if not p.error))
        if jobs:
            try:
                with _executor(options, events) as executor:
                    executor_desc = executor.describe()
                    outcomes = execute(jobs, executor, events)
            except KeyboardInterrupt:   # stopped: what a worker killed mid-job left goes now
                remove_leftovers(root)
                raise
        rows = episode_rows(plans, outcomes, root, render)
        all_rows = merge_rows(rows, root, names, {p.name for p in plans})
        result = BatchResult(campaign.name, all_rows if not options.only else rows, executor_desc,
                             time.monotonic() - started, campaign_dir=campaign)
        try:
            result.report_json, result.report_html = write_report(root, campaign.name, all_rows, executor_desc)
        except OSError as exc:
            events("warning", message=f"could not write the campaign report ({exc.strerror})")
    events("batch_done", rows=[r.to_dict() for r in result.rows], elapsed=round(result.elapsed, 2),
           report=str(result.report_html or ""), counts={s: result.count(s) for s in ("done", "skipped", "failed")})
    return result


def _executor(options: BatchOptions, events) -> Executor:
    try:
        return make_executor(options.executor, options.jobs, options.scheduler)
    except SchedulerUnreachable as exc:
        events("warning", message=f"{exc}; running on this machine's process pool instead")
        return make_executor("local", options.jobs)


def _next_job(ready: list[Job], running, order: dict) -> Job:
    """Overlap analysis with encoding: prefer the kind of job not running now; then renders
    (finished episodes come early), then the planned order."""
    kinds = {j.kind for j in running}
    return min(ready, key=lambda j: (j.kind in kinds, j.kind != "render", order[j.id]))


def job_threads(executor: Executor, queued: int) -> int | None:
    """A starting job's thread budget: its share of this machine's cores while other jobs are
    queued to run beside it; 0 (every core) for the last jobs of the batch, or with -j 1."""
    if executor.cores is None:   # workers on other machines size their own pools (CADRE_THREADS)
        return None
    return share(min(executor.slots, 1 + queued), executor.cores) or 0


def execute(jobs: list[Job], executor: Executor, events=no_events, retries: int = WORKER_RETRIES) -> dict[str, JobOutcome]:
    """Run the graph: a job starts when its dependencies are done (see :func:`_next_job`)."""
    order = {j.id: i for i, j in enumerate(jobs)}
    waiting = {j.id: j for j in jobs}
    running: dict = {}
    outcomes: dict[str, JobOutcome] = {}
    attempts: dict[str, int] = {}

    def finish(job: Job, outcome: JobOutcome) -> None:
        outcomes[job.id] = outcome
        if job.kind == "analyse" and outcome.status == "done" and job.key:
            mark_analysed(job.key, job.task.clip)
        events("job_done", job=job.id, type=job.kind, episode=job.episode, status=outcome.status,
               detail=outcome.detail, elapsed=round(outcome.elapsed, 2), weight=job.weight, trace=outcome.trace)

    def forward_events() -> None:
        for msg in executor.drain():
            data = dict(msg.get("data") or {})
            if msg["kind"] == "progress":
                events("job_progress", job=msg["job"], done=data.get("done", 0), total=data.get("total", 0),
                       unit=data.get("unit", "frames"))
            elif msg["kind"] == "warning":
                events("warning", job=msg["job"], message=str(data.get("message", "")))
            elif msg["kind"] == "refused":   # one network dropped; the episode's others go on
                events("job_refused", job=msg["job"], network=data.get("network", ""), reason=data.get("reason", ""))
            else:
                events("job_stage", job=msg["job"], **data)

    while waiting or running:
        for job in list(waiting.values()):
            failed = next((outcomes[d] for d in job.deps if d in outcomes and outcomes[d].status == "failed"), None)
            if failed is not None:
                del waiting[job.id]
                finish(job, JobOutcome(job.id, "failed", failed.detail))
        ready = [j for j in waiting.values() if all(d in outcomes for d in j.deps)]
        while ready and len(running) < executor.slots:
            job = _next_job(ready, running.values(), order)
            ready.remove(job)
            del waiting[job.id]
            threads = job_threads(executor, len(waiting))
            task = job.task if threads is None else replace(job.task, threads=threads)
            try:
                running[executor.submit(job.id, task)] = job
            except Exception as exc:  # the engine refused the job (closed client, pickling...)
                finish(job, JobOutcome(job.id, "failed", f"{job.episode}: could not start the job "
                                                          f"({exc.__class__.__name__}: {exc})"))
                continue
            events("job_start", job=job.id, type=job.kind, episode=job.episode, weight=job.weight,
                   clip=getattr(job.task, "clip", ""))
        if not running:
            for job in list(waiting.values()):   # cannot happen with a well-formed graph
                del waiting[job.id]
                finish(job, JobOutcome(job.id, "failed", f"{job.episode}: its dependencies never ran"))
            break
        done = executor.wait(list(running), timeout=0.2)
        forward_events()
        for handle in done:
            job = running.pop(handle)
            try:
                outcome = executor.outcome(handle)
            except WorkerLost as exc:
                attempts[job.id] = attempts.get(job.id, 0) + 1
                if attempts[job.id] <= retries:
                    events("warning", job=job.id, message=f"{job.id}: {exc}; trying once more")
                    waiting[job.id] = job
                    continue
                outcome = JobOutcome(job.id, "failed", f"{job.episode}: {exc}; run the batch again")
            except Exception as exc:  # the job's result could not be read back (a bug): that job fails
                outcome = JobOutcome(job.id, "failed", internal_error(exc, f"batch job {job.id}"))
            finish(job, outcome)
    forward_events()
    return outcomes


def episode_rows(plans: list[EpisodePlan], outcomes: dict[str, JobOutcome], root: Path,
                 render: RenderOptions) -> list[Row]:
    """One row per episode x network, from the plan and the render job's outcome."""
    rows = []
    for plan in plans:
        if plan.error:
            for net in render.networks or ("all",):
                rows.append(Row(plan.name, net, "failed", plan.error))
            continue
        outcome = outcomes.get(f"render:{plan.name}")
        for net in plan.unknown:
            rows.append(Row(plan.name, net, "failed", "campaign.toml names an unknown network; choose from: "
                                                      + ", ".join(network_names())))
        for net in plan.networks:
            if net in plan.refused:   # known before any work: no render job for it
                reason = plan.refused[net]
                if (root / plan.name / net).is_dir():
                    reason += " (the previous export is left as it was, out of date)"
                rows.append(Row(plan.name, net, "failed", reason, decision={"approval": approval(plan.folder)}))
            elif net not in plan.stale:
                rows.append(fill_from_outputs(Row(plan.name, net, "skipped", "up to date"), root, plan.folder))
            elif outcome is not None and outcome.status == "done" and net not in outcome.refused:
                rows.append(fill_from_outputs(Row(plan.name, net, "done", rendered_because(plan.stale[net])), root,
                                              plan.folder))
            else:
                reason = outcome.detail if outcome is not None else "not run"
                if outcome is not None and net in outcome.refused:
                    reason = outcome.refused[net]
                if (root / plan.name / net).is_dir():
                    reason += " (the previous export is left as it was, out of date)"
                rows.append(Row(plan.name, net, "failed", reason, decision={"approval": approval(plan.folder)}))
    return rows


def rendered_because(stale: str) -> str:
    """A finished row's reason: why it was rendered this time, said as done ("not rendered yet" was
    true before the run, not after)."""
    if stale == "not rendered yet":
        return "rendered (first render)"
    if stale == "--force":
        return "rendered again (--force)"
    return f"rendered again ({stale})"
