"""The default executor: a pool of worker processes on this machine.

Processes, not threads: a crash in a native library (ffmpeg bindings, ONNX) or a worker killed
for memory costs one job, not the batch. Workers are started with ``spawn`` (no fork of a process
that runs threads) and, on Linux, die with the batch: a batch killed with ``kill -9`` leaves no
worker rendering behind it.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import queue
import sys
from concurrent.futures.process import BrokenProcessPool

from pipeline.campaign.executors.base import EventSink, Executor, WorkerLost
from pipeline.campaign.jobs import run_task
from pipeline.threads import cores, follow

_QUEUE = None   # in a worker: where its jobs' events go


class QueueSink(EventSink):
    def send(self, message: dict) -> None:
        if _QUEUE is not None:
            _QUEUE.put(message)


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
        except OSError:
            pass


def _init(events_queue, running) -> None:
    global _QUEUE
    _QUEUE = events_queue
    _die_with_parent()
    follow(running)


def _call(job_id: str, task):
    return run_task(job_id, task, QueueSink(job_id))


def default_jobs() -> int:
    """As many jobs as cores, at most 4, each with its share of the cores (``threads.py``): the
    analysis of one episode overlaps with the encode of another. benchmarks/bench_batch.py on 2
    cores: -j 2 is 1.09x to 1.26x -j 1 (5 pairs), which already keeps 1.8 cores busy."""
    return max(1, min(4, cores()))


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, jobs: int | None = None):
        super().__init__()
        self.jobs = max(1, jobs or default_jobs())
        self.cores = cores()
        self._ctx = multiprocessing.get_context("spawn")
        self._queue = self._ctx.Queue()
        self._running = self._ctx.Value("i", 0, lock=False)   # jobs running now, read by the workers
        self._counted: set = set()
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def slots(self) -> int:
        return self.jobs

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(self.jobs, mp_context=self._ctx, initializer=_init,
                                                initargs=(self._queue, self._running))
        return self._pool

    def submit(self, job_id: str, task):
        try:
            pool = self._ensure_pool()
            handle = pool.submit(_call, job_id, task)
        except BrokenProcessPool:
            self._reset()
            pool = self._ensure_pool()
            handle = pool.submit(_call, job_id, task)
        handle.cadre_pool = pool
        self._counted.add(handle)
        self._running.value = len(self._counted)
        return handle

    def wait(self, handles: list, timeout: float) -> list:
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        self._counted.difference_update(done)
        self._running.value = len(self._counted)
        return list(done)

    def outcome(self, handle):
        try:
            return handle.result()
        except BrokenProcessPool:
            if getattr(handle, "cadre_pool", None) is self._pool:
                self._reset()
            raise WorkerLost("the worker process running this job died (crashed or was killed)") from None

    def _reset(self) -> None:
        """A dead worker breaks the whole pool: start a fresh one for the jobs still to run."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def drain(self) -> list[dict]:
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except (queue.Empty, OSError, ValueError, EOFError):
                return out

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            if cancel:
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    proc.kill()   # stop renders now; their staging folders are cleaned next run
            self._pool.shutdown(wait=not cancel, cancel_futures=True)
            self._pool = None
        self._queue.close()
        self._queue.cancel_join_thread()
