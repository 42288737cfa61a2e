"""How many CPU threads one job may use.

Every engine that starts threads (CTranslate2 or torch for Whisper, OpenCV for the face detector,
ffmpeg's decoders, filters and x264) takes its count from :func:`budget`. Alone, a job uses every
core (the libraries' own default). When the batch runs jobs side by side, each worker gets its
share of the cores (:func:`set_budget`), so two jobs on two cores run two threads, not eight
threads fighting for two cores: spinning thread pools (OpenMP, OpenCV) waste much of their time
when oversubscribed.
"""
from __future__ import annotations

import os

from pipeline.core.errors import CadreError

ENV = "CADRE_THREADS"


def _parse(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise CadreError(f"{ENV}={value}", "must be a whole number of threads, 1 or more; "
                                           f"unset {ENV} to let every engine use all cores")
    return int(value)


def budget() -> int | None:
    """The thread count for this process's engines, or None for each library's default (all cores)."""
    return _parse(os.environ.get(ENV))


_USER_VALUE = os.environ.get(ENV)           # as the process started: the user's own limit
_USER_OMP = os.environ.get("OMP_NUM_THREADS")


def cores() -> int:
    """Cores this process may run on (the affinity mask, so containers and taskset are honoured)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def share(jobs: int, total: int | None = None) -> int | None:
    """Each job's thread budget when ``jobs`` share ``total`` cores (default: this machine's);
    None when one job has the machine."""
    return None if jobs <= 1 else max(1, (total or cores()) // jobs)


def set_budget(n: int | None) -> None:
    """Limit this process (and the ffmpeg processes it starts) to ``n`` threads per engine; None
    gives every core back. A ``CADRE_THREADS`` set by the user (say, on a Dask worker sharing its
    machine) stays the upper bound."""
    cap = _parse(_USER_VALUE)
    if cap is not None:
        n = cap if n is None else min(n, cap)
    if n is not None:   # OMP_NUM_THREADS: read when CTranslate2 / torch start their pools
        os.environ[ENV] = os.environ["OMP_NUM_THREADS"] = str(n)
        return
    os.environ.pop(ENV, None)
    if _USER_OMP is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = _USER_OMP


def follow(running) -> None:
    """In a local worker: ``running`` is the shared count of jobs running on this machine, so
    engines that can resize their pool mid-job (OpenCV) take every core once a job is alone."""
    global _RUNNING
    _RUNNING = running


_RUNNING = None


def apply_opencv() -> None:
    """Size OpenCV's thread pool: call before running a ``cv2.dnn`` network, and now and then
    during a long analysis (the other jobs of a batch may have finished)."""
    n = budget()
    if _RUNNING is not None:    # a local batch worker: its share of the cores right now
        n = min(share(max(1, _RUNNING.value)) or cores(), _parse(_USER_VALUE) or cores())
    if n is not None:
        import cv2

        cv2.setNumThreads(n)


def ffmpeg_input_options() -> dict:
    """ffmpeg-python keyword options for a decoder, an encoder or a filter graph's inputs."""
    n = budget()
    return {} if n is None else {"threads": n}


def ffmpeg_global_args() -> list[str]:
    """Global ffmpeg arguments limiting the filter graph's threads."""
    n = budget()
    return [] if n is None else ["-filter_threads", str(n), "-filter_complex_threads", str(n)]
