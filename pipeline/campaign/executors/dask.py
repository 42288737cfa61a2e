"""Run the campaign's job graph on a Dask distributed cluster.

``--executor dask --scheduler tcp://HOST:8786`` connects to a running scheduler; without
``--scheduler`` a LocalCluster is started on this machine. Workers must see the campaign (and
ideally ``CADRE_CACHE_DIR``) at the same path, and run the same Cadre version: both are checked.
Each worker thread runs one job, so start workers with ``--nthreads 1`` (one render at a time
already keeps a few cores busy through ffmpeg).
"""
from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

from pipeline.campaign.executors.base import EventSink, Executor, WorkerLost
from pipeline.campaign.executors.local import default_jobs
from pipeline.campaign.jobs import run_task
from pipeline.core.errors import CadreError
from pipeline.core.version import __version__

CONNECT_TIMEOUT = "10s"   # CADRE_DASK_TIMEOUT overrides


class SchedulerUnreachable(CadreError):
    """The Dask scheduler could not be reached."""


class DaskSink(EventSink):
    def __init__(self, job_id: str, topic: str):
        super().__init__(job_id)
        self.topic = topic

    def send(self, message: dict) -> None:
        from distributed import get_worker

        try:
            get_worker().log_event(self.topic, json.loads(json.dumps(message, default=str)))
        except ValueError:   # not inside a worker
            pass


def _call(job_id: str, task, topic: str):
    return run_task(job_id, task, DaskSink(job_id, topic))


def _worker_version() -> str:
    return __version__


class DaskExecutor(Executor):
    name = "dask"

    def __init__(self, scheduler: str | None = None, jobs: int | None = None):
        super().__init__()
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise CadreError("--executor dask", "Dask is not installed; run `pip install \"dask[distributed]\"`") from None
        self.cluster = None
        self.jobs = jobs
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=os.environ.get("CADRE_DASK_TIMEOUT", CONNECT_TIMEOUT),
                                     set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SchedulerUnreachable(f"--scheduler {scheduler}", f"cannot reach the Dask scheduler "
                                           f"({exc.__class__.__name__}: {exc}); start it with `dask scheduler` "
                                           "on that host, or check the address and port") from None
        else:
            self.cluster = LocalCluster(n_workers=jobs or default_jobs(), threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster, set_as_default=False)
        self.address = self.client.scheduler.address
        self.topic = f"cadre-batch-{uuid.uuid4().hex[:12]}"
        self.client.subscribe_topic(self.topic, self._on_event)
        self._check_versions()

    def _check_versions(self) -> None:
        other = {w: v for w, v in self.client.run(_worker_version).items() if v != __version__}
        if other:
            worker, version = next(iter(other.items()))
            raise CadreError(f"--scheduler {self.address}", f"worker {worker} runs Cadre {version}, this machine "
                                                            f"{__version__}; install the same version everywhere")

    def _on_event(self, event) -> None:
        _, message = event
        self.events.put(message)

    @property
    def slots(self) -> int:
        if self.jobs:
            return self.jobs
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> str:
        return f"dask at {self.address} ({self.slots} at once)"

    def submit(self, job_id: str, task):
        return self.client.submit(_call, job_id, task, self.topic, key=f"cadre-{job_id}-{uuid.uuid4().hex[:8]}",
                                  pure=False)

    def wait(self, handles: list, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        while True:
            done = [h for h in handles if h.done()]
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.02)

    def outcome(self, handle):
        try:
            return handle.result()
        except (Exception, asyncio.CancelledError) as exc:   # KilledWorker, cancelled, CommClosedError...
            raise WorkerLost(f"the Dask worker or scheduler running this job was lost "
                             f"({exc.__class__.__name__}: {exc})") from None

    def close(self, cancel: bool = False) -> None:
        try:
            self.client.unsubscribe_topic(self.topic)
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
