"""What the batch needs from an execution engine: submit a job, wait for some to finish, read
their outcome, and receive the events the jobs send while they run.

A job is ``run_task(job_id, task, events)`` from :mod:`pipeline.campaign.jobs`: a top-level function and a
picklable task, so it can run in another process or on another machine. Events (stage, progress,
warning) travel back through :attr:`Executor.events` and are drained by the batch in its own thread,
so the display never runs inside an engine's callback thread.
"""
from __future__ import annotations

import queue
import time
from abc import ABC, abstractmethod
from typing import Any


class WorkerLost(Exception):
    """The worker running a job died or was lost (crash, OOM kill, dropped connection); may be retried."""


class EventSink:
    """Base for the picklable ``events(kind, **data)`` callables given to jobs in their worker.

    Progress events are thinned to a few a second: a render reports every few frames.
    """

    interval = 0.25

    def __init__(self, job_id: str):
        self.job_id = job_id
        self._last = 0.0

    def __call__(self, kind: str, **data) -> None:
        if kind == "progress":
            now = time.monotonic()
            if now - self._last < self.interval and data.get("done") != data.get("total"):
                return
            self._last = now
        self.send({"job": self.job_id, "kind": kind, "data": data})

    def send(self, message: dict) -> None:   # pragma: no cover - implemented by each engine
        raise NotImplementedError


class Executor(ABC):
    name = "base"
    cores: int | None = None     # cores shared by the jobs running at once; None: on other machines

    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()

    @property
    @abstractmethod
    def slots(self) -> int:
        """How many jobs the batch keeps running at once."""

    @abstractmethod
    def submit(self, job_id: str, task) -> Any:
        """Start ``run_task(job_id, task, events)``; return a handle."""

    @abstractmethod
    def wait(self, handles: list, timeout: float) -> list:
        """Handles among ``handles`` that have finished, waiting at most ``timeout`` seconds."""

    @abstractmethod
    def outcome(self, handle):
        """The job's ``JobOutcome``; raises WorkerLost when its worker died."""

    def describe(self) -> str:
        return f"{self.name} ({self.slots} at once)"

    def drain(self) -> list[dict]:
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def close(self, cancel: bool = False) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(cancel=exc_type is not None)
