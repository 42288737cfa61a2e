"""The campaign's job graph, and the fingerprints that make it incremental.

A campaign is planned as a graph of small jobs:

    analyse:<clip>  (transcript, face tracks; once per distinct clip and analysis settings)
        -> render:<episode>  (audio, one master encode)
            -> <episode>/<network> outputs  (byte copies, sidecars, cover, report.json)

The analysis jobs only warm the analysis cache (``cache.py``); the render job then finds every
result there, so a clip shared by two episodes is analysed once, and a worker that renders never
has to load Whisper or the face detector. The network outputs of an episode share its master and
are written by the render job in one atomic publish per network folder.

An episode's *fingerprint* is a hash of everything its outputs depend on: the clips' content,
the caption and mask files a person edits, the resolved settings, the presets and assets used
and the Cadre version. After a render, the fingerprint is recorded inside each network folder
(``.cadre-job.json``); a network whose record matches and whose files are whole is skipped.
The record is written after the folder is published, so a run killed in between leaves a folder
without a record, which the next run simply renders again.

The task functions at the bottom run inside the executor's workers: they take a picklable task
and an ``events`` callable and return a :class:`JobOutcome`; they never raise.
"""
from __future__ import annotations

import errno
import json
import os
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from pipeline.analyse import analyse_clip
from pipeline.core import cache
from pipeline.core.cache import make_key
from pipeline.core.crash import internal_error
from pipeline.core.errors import CadreError
from pipeline.core.threads import set_budget
from pipeline.core.version import __version__
from pipeline.master import duration_refusals
from pipeline.orchestrator import RenderOptions, output_root, prepare, render_episode
from pipeline.post.provenance import preflight
from pipeline.signoff.fingerprint import (
    analysis_settings,
    changed_parts,
    fingerprint_inputs,
    read_record,
    recorded_refusal,
    write_record,
)
from pipeline.source.schema import x264_preset

ANALYSED = "batch-analysed"   # cache entries marking an analysis job as finished
# ---------------------------------------------------------------- records of finished outputs

def outputs_whole(folder: Path) -> bool:
    """The network folder holds every file its report lists, at the size the report measured."""
    try:
        report = json.loads((folder / "report.json").read_text("utf-8"))
        for out in report["outputs"]:
            stem = Path(out["file"]).stem
            if (folder / out["file"]).stat().st_size != out["size_bytes"]:
                return False
            for side in (f"{stem}.srt", f"{stem}.vtt"):
                if not (folder / side).is_file():
                    return False
        return (folder / "cover.jpg").is_file() and bool(report["outputs"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def up_to_date(out_root: Path, episode: str, network: str, fingerprint: str, inputs: dict) -> tuple[bool, str]:
    """Whether a network's outputs can be skipped; otherwise why they must be rendered."""
    record = read_record(out_root, episode, network)
    if record is None:
        return False, "not rendered yet" if not (out_root / episode / network).exists() else "no record of a finished render"
    if record.get("fingerprint") != fingerprint:
        parts = changed_parts(record.get("inputs") or {}, inputs)
        return False, f"{', '.join(parts) or 'inputs'} changed"
    if not outputs_whole(out_root / episode / network):
        return False, "outputs missing or incomplete"
    return True, "up to date"


# ---------------------------------------------------------------- the graph

@dataclass
class AnalyseTask:
    folder: str
    options: RenderOptions
    clip_index: int
    clip: str
    cache_dir: str
    threads: int | None = None    # set when the job starts: its share of the cores, 0 = all (threads.py)


@dataclass
class RenderTask:
    folder: str
    episode: str
    options: RenderOptions
    fingerprint: str
    inputs: dict
    cache_dir: str
    threads: int | None = None


@dataclass
class Job:
    id: str
    kind: str                     # analyse | render
    episode: str
    task: AnalyseTask | RenderTask
    deps: tuple[str, ...] = ()
    weight: int = 1               # frames, for the overall progress and ETA
    episodes: tuple[str, ...] = ()   # every episode waiting on this job
    key: str = ""                 # analysis key (marked in the cache once the job is done)


@dataclass
class EpisodePlan:
    """One episode as planned: what it would render and whether it must."""
    name: str
    folder: Path
    networks: tuple[str, ...] = ()
    frames: int = 0
    fingerprint: str = ""
    inputs: dict = field(default_factory=dict)
    stale: dict[str, str] = field(default_factory=dict)      # network -> why it must be rendered
    error: str = ""                                           # could not even be planned
    unknown: tuple[str, ...] = ()                             # campaign.toml names that are not networks
    refused: dict[str, str] = field(default_factory=dict)    # network -> why it cannot take these inputs
    analyses: list[tuple[str, AnalyseTask, int]] = field(default_factory=list)   # (key, task, frames)


def plan_episode(folder: Path, options: RenderOptions, force: bool, cache_dir: str) -> EpisodePlan:
    """Validate an episode (probing its clips) and decide which of its networks need work."""
    plan = EpisodePlan(folder.name, folder)
    try:
        prepared = prepare(folder, options)
        episode, networks, redaction = prepared.episode, prepared.networks, prepared.redaction
        preflight(episode.settings, episode.folder)   # provenance = "required" without a usable key: no job at all
        plan.name = episode.name          # outputs are named after the resolved folder (symlinks)
        plan.networks = tuple(n.name for n in networks)
        plan.unknown = () if options.networks else episode.settings.unknown_networks
        plan.frames = sum(s.frame_count for s in episode.spans)
        plan.inputs = fingerprint_inputs(episode, networks, prepared.profile, redaction, prepared.redaction_off)
        plan.fingerprint = make_key(plan.inputs)
        out_root = output_root(folder, options.out_dir)
        again = force or options.reanalyse     # --force implies --reanalyse (batch.run_batch)
        too_short = duration_refusals(prepared)   # known from the probe: never worth a render
        for name in plan.networks:
            ok, why = up_to_date(out_root, episode.name, name, plan.fingerprint, plan.inputs)
            refusal = None if ok or again else recorded_refusal(out_root, episode.name, name, plan.fingerprint)
            if not ok and name in too_short:
                plan.refused[name] = too_short[name]
            elif refusal is not None:   # refused by a render from these very inputs: it would be again
                plan.refused[name] = f"{refusal['reason']} (refused at {refusal['at']}; inputs unchanged since)"
            elif again or not ok:
                plan.stale[name] = ("--force" if force else "--reanalyse") if again and ok else why
        if plan.stale:
            red_key = redaction.analysis_key() if redaction is not None else None
            settings_key = analysis_settings(episode.settings)
            for i, span in enumerate(episode.spans):
                key = make_key("analyse", __version__, *span.content_key(), settings_key,
                               red_key)
                if not again and analysed(key):
                    continue
                plan.analyses.append((key, AnalyseTask(str(folder), options, i, Path(span.path).name, cache_dir),
                                      span.frame_count))
    except CadreError as exc:
        plan.error = str(exc)
    except OSError as exc:
        plan.error = describe_os_error(exc, folder)
    except Exception as exc:  # a bug: this episode fails, the others are planned
        plan.error = internal_error(exc, f"planning the batch job of {folder}")
    return plan


def analysed(key: str) -> bool:
    """Whether an analysis job with this key has finished before (its results are in the cache)."""
    return cache.load(ANALYSED, key) is not None


def mark_analysed(key: str, clip: str) -> None:
    try:
        cache.store(ANALYSED, key, {"clip": clip, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    except OSError:   # only an optimisation: the render job finds or redoes the analysis itself
        pass


def build_graph(plans: list[EpisodePlan], options: RenderOptions, cache_dir: str) -> list[Job]:
    """Analysis jobs (one per distinct clip analysis) feeding one render job per stale episode."""
    jobs: dict[str, Job] = {}
    renders = []
    for plan in plans:
        if plan.error or not plan.stale:
            continue
        deps = []
        for key, task, frames in plan.analyses:
            job_id = f"analyse:{plan.name}/{task.clip}" if f"analyse-key:{key}" not in jobs else None
            if job_id is None:
                shared = jobs[f"analyse-key:{key}"]
                shared.episodes += (plan.name,)
                deps.append(shared.id)
                continue
            job = Job(job_id, "analyse", plan.name, task, (), frames, (plan.name,), key)
            jobs[f"analyse-key:{key}"] = job
            deps.append(job_id)
        task = RenderTask(str(plan.folder), plan.name, options, plan.fingerprint, plan.inputs, cache_dir)
        renders.append(Job(f"render:{plan.name}", "render", plan.name, task, tuple(dict.fromkeys(deps)),
                           plan.frames, (plan.name,)))
    return list(jobs.values()) + renders


# ---------------------------------------------------------------- outcomes and the task functions

@dataclass
class JobOutcome:
    job_id: str
    status: str                   # done | failed
    detail: str = ""
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    networks: tuple[str, ...] = ()
    trace: str = ""               # traceback of an unexpected error, for --json and bug reports
    refused: dict[str, str] = field(default_factory=dict)   # network -> why it was not published

    def to_dict(self) -> dict:
        return asdict(self)


def describe_os_error(exc: OSError, where) -> str:
    path = exc.filename or where
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"{path}: disk full ({exc.strerror}); free some space or choose another output folder with -o, "
                "then run the batch again (finished episodes are kept)")
    return f"{path}: {exc.strerror or exc}; check the file and its permissions, then run the batch again"


def run_task(job_id: str, task: AnalyseTask | RenderTask, events) -> JobOutcome:
    """Run one job in a worker. Errors become a failed outcome, never an exception."""
    start = time.monotonic()
    warnings: list[str] = []
    refused: dict[str, str] = {}

    def forward(kind, **data):
        if kind == "warning":
            warnings.append(str(data.get("message", "")))
        elif kind == "refused":
            refused[str(data.get("network", ""))] = str(data.get("reason", ""))
        events(kind, **data)

    if task.cache_dir:
        os.environ["CADRE_CACHE_DIR"] = task.cache_dir
    if task.threads is not None:   # 0: every core; None: as the worker was started (Dask)
        set_budget(task.threads or None)
    try:
        if not Path(task.folder).is_dir():
            raise CadreError(task.folder, "episode folder not found on this worker; every worker must see the "
                                          "campaign at the same path (shared storage)")
        networks = _analyse(task, forward) if isinstance(task, AnalyseTask) else _render(task, forward, start, warnings)
        return JobOutcome(job_id, "done", "", warnings, time.monotonic() - start, networks, refused=refused)
    except CadreError as exc:
        detail = str(exc)
        if "No space left on device" in detail:
            detail += "; the disk is full: free some space or choose another output folder with -o, then run again"
        return JobOutcome(job_id, "failed", detail, warnings, time.monotonic() - start)
    except OSError as exc:
        return JobOutcome(job_id, "failed", describe_os_error(exc, task.folder), warnings, time.monotonic() - start)
    except Exception as exc:  # a bug: isolate it to this job, the traceback goes to a log file
        trace = traceback.format_exc()
        return JobOutcome(job_id, "failed", internal_error(exc, f"batch job {job_id} ({task.folder})"), warnings,
                          time.monotonic() - start, trace=trace)


def _analyse(task: AnalyseTask, events) -> tuple[str, ...]:
    prepared = prepare(Path(task.folder), task.options)
    span = prepared.episode.spans[task.clip_index]
    events("stage", name="analyse", clip=task.clip, frames=span.frame_count)
    with cache.reanalysing(task.options.reanalyse):   # the new results replace the cached ones
        analyse_clip(span, prepared.settings, prepared.redaction, events=events)
    return ()


def _render(task: RenderTask, events, start: float, warnings: list[str]) -> tuple[str, ...]:
    # the analysis jobs before it did any --reanalyse: the render finds their fresh results in the cache
    result = render_episode(Path(task.folder), replace(task.options, reanalyse=False), events)
    out_root = output_root(Path(task.folder), task.options.out_dir)
    for network in result["reports"]:
        write_record(out_root, result["episode"], network, task.fingerprint, task.inputs, warnings,
                     time.monotonic() - start)
    return tuple(result["reports"])


def resolved_options(options: RenderOptions) -> RenderOptions:
    """Options that mean the same on every worker: environment defaults made explicit."""
    preset = x264_preset(options.x264_preset)   # checked now: a preset the master cannot use stops the batch
    out_dir = Path(options.out_dir).resolve() if options.out_dir else None
    return replace(options, x264_preset=preset, out_dir=out_dir)
