"""Batch executors: where the jobs of a campaign run. One module per engine, behind ``base.Executor``.

- ``local``: a process pool on this machine (the default);
- ``dask``: a Dask distributed cluster whose workers share the campaign storage.
"""
from __future__ import annotations

from pipeline.campaign.executors.base import Executor, WorkerLost
from pipeline.campaign.executors.local import LocalExecutor
from pipeline.core.errors import CadreError

EXECUTORS = ("local", "dask")


def make_executor(name: str, jobs: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor called ``name``; CadreError when it cannot start (e.g. unreachable scheduler)."""

    if name == "local":
        if scheduler:
            raise CadreError(f"--scheduler {scheduler}", "only applies to --executor dask; add --executor dask")
        return LocalExecutor(jobs)
    if name == "dask":
        from pipeline.campaign.executors.dask import DaskExecutor  # lazy: optional dask.distributed (cluster extra)

        return DaskExecutor(scheduler, jobs)
    raise CadreError(f"--executor {name}", f"unknown executor; choose from: {', '.join(EXECUTORS)}")


__all__ = ["EXECUTORS", "Executor", "WorkerLost", "make_executor"]
