"""The default executor: a pool of worker processes on this machine.

Processes, not threads: a crash in a native library (ffmpeg bindings, ONNX) or a worker killed
for memory costs one job, not the batch. Workers are started with ``spawn`` (no fork of a process
that runs threads) and, on Linux, die with the batch: a batch killed with ``kill -9`` leaves no
worker rendering behind it.

Stop signals (SIGTERM, SIGHUP, SIGINT; ``pipeline/core/interrupt.py``): when the batch stops, it tells
its workers (a shared flag) and passes the signal on; each stops its ffmpeg children, lets its job
remove its staging folder, and ends. A worker signalled by anyone else while the batch goes on
stops its job the same way but stays in the pool, so the other episodes' jobs running beside it
are not lost (a dead worker would break the whole pool); the batch runs the stopped job again.
"""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import queue
import sys
from concurrent.futures.process import BrokenProcessPool

from pipeline.campaign.executors.base import EventSink, Executor, WorkerLost
from pipeline.campaign.jobs import run_task
from pipeline.core.interrupt import (
    Interrupted,
    forget_received,
    handle_signals,
    received,
    when_stopping,
)
from pipeline.core.threads import cores, follow

_QUEUE = None   # in a worker: where its jobs' events go
_BUSY = False   # in a worker: a job is running (a stop signal unwinds it first)
_STOPPING = None   # in a worker: the batch's flag, set when the batch itself is stopping


class JobStopped(Exception):
    """A worker's job was stopped by a signal sent to that worker alone; the batch goes on."""


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


def _init(events_queue, running, stopping) -> None:
    global _QUEUE, _STOPPING
    _QUEUE, _STOPPING = events_queue, stopping
    _die_with_parent()
    follow(running)
    handle_signals(_on_signal)


def _batch_stopping() -> bool:
    return bool(_STOPPING is not None and _STOPPING.value)


def _on_signal(signum: int) -> None:
    """A stop signal in a worker, its children already stopped: unwind the running job (its
    staging folder goes); an idle worker ends at once if the batch is stopping, else goes on."""
    if _BUSY:
        raise Interrupted(signum)
    if _batch_stopping():
        _end(128 + signum)


def _end(code: int) -> None:
    if _QUEUE is not None:
        _QUEUE.cancel_join_thread()   # the batch may not be reading any more
    atexit._run_exitfuncs()
    os._exit(code)


def _call(job_id: str, task):
    global _BUSY
    _BUSY = True
    forget_received()
    try:
        outcome = run_task(job_id, task, QueueSink(job_id))
        stopped = received()   # a stop signal the job turned into a failure (inside an import...)
    except KeyboardInterrupt as exc:   # a stop signal: the job's finally blocks removed its staging folder
        stopped = exc if isinstance(exc, Interrupted) else Interrupted(2)
    finally:
        _BUSY = False
    if stopped is None:
        return outcome
    if _batch_stopping():
        _end(stopped.exit_code)
    raise JobStopped(f"the worker running this job was stopped ({stopped.name})")


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
        self._stopping = self._ctx.Value("b", 0, lock=False)   # set when the batch stops: workers end
        self._forget = when_stopping(lambda: setattr(self._stopping, "value", 1))
        self._counted: set = set()
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def slots(self) -> int:
        return self.jobs

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(self.jobs, mp_context=self._ctx, initializer=_init,
                                                initargs=(self._queue, self._running, self._stopping))
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
        except JobStopped as exc:
            raise WorkerLost(str(exc)) from None

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
        self._forget()
        if self._pool is not None:
            if cancel:
                workers = list(getattr(self._pool, "_processes", {}).values())
                for proc in workers:
                    proc.kill()   # stop renders now; the batch then removes their staging folders
                for proc in workers:
                    proc.join(5.0)   # gone, so their staging folders are no longer held
            self._pool.shutdown(wait=not cancel, cancel_futures=True)
            self._pool = None
        self._queue.close()
        self._queue.cancel_join_thread()
