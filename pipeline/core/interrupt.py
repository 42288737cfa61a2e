"""Stopping a run: SIGINT, SIGTERM and SIGHUP end Cadre the same way.

``timeout``, systemd, Docker and a closing terminal send SIGTERM or SIGHUP to Cadre's own process
only: its ffmpeg children (and a batch's workers, and theirs) would keep running, re-parented to
PID 1, and the staging folder would stay. :func:`handle_signals` (the CLI, and each batch worker) turns
each of these signals into :class:`Interrupted`, raised in the main thread once every child
process has been stopped, so the ``finally`` blocks remove the staging folder as for any failure;
the CLI then prints one line and exits ``128 + signal`` (130, 143, 129).

Children are found in ``/proc`` (Linux): no call site has to register the processes it starts.
An ffmpeg child is killed at once (its half-written file is in the staging folder, which goes); a
Cadre worker gets SIGTERM and :data:`GRACE` seconds to clean up its own job, then SIGKILL.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE = 3.0      # seconds a worker gets to remove its staging folder before it is killed


class Interrupted(KeyboardInterrupt):
    """A stop signal was received; raised in the main thread after the children were stopped."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


_received: list[int] = []


def received() -> Interrupted | None:
    """The stop signal this process received (as the exception it raised), if any: whatever
    exception a run ends with after it is the interruption (a C extension being imported turns
    the exception raised inside it into an ImportError)."""
    return Interrupted(_received[0]) if _received else None


def forget_received() -> None:
    _received.clear()


def _stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state, ppid, ...); None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def descendants(pid: int | None = None) -> list[tuple[int, str]]:
    """Every live process below ``pid`` (default: this one), as ``(pid, start time)``."""
    children: dict[int, list[tuple[int, str]]] = {}
    try:
        entries = [int(e.name) for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:   # no /proc (not Linux): nothing can be found
        return []
    for child in entries:
        fields = _stat(child)
        if fields and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append((child, fields[19]))
    out, todo = [], [pid or os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


def _alive(proc: tuple[int, str]) -> bool:
    fields = _stat(proc[0])
    return fields is not None and fields[0] != "Z" and fields[19] == proc[1]


def _kill(proc: tuple[int, str], sig: int) -> None:
    if _alive(proc):
        try:
            os.kill(proc[0], sig)
        except OSError:
            pass


def stop_children(grace: float = GRACE) -> None:
    """Stop every process below this one: Cadre's Python workers get SIGTERM and ``grace`` seconds
    to clean up, anything else (ffmpeg) is killed at once; whatever is left is killed at the end,
    including what a worker started (it may have been re-parented by then)."""
    procs = descendants()
    workers, others = [], []
    for proc in procs:
        cmd = _cmdline(proc[0])
        if "multiprocessing.resource_tracker" in cmd:
            continue          # holds no work; ends by itself when this process does
        (workers if "multiprocessing" in cmd else others).append(proc)
    for proc in others:
        _kill(proc, signal.SIGKILL)
    for proc in workers:
        _kill(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    for proc in [*workers, *others]:
        _kill(proc, signal.SIGKILL)


_before_stop: list[Callable[[], None]] = []


def when_stopping(callback: Callable[[], None]) -> Callable[[], None]:
    """Run ``callback`` when a stop signal comes, before the children are stopped (a batch tells
    its workers that it is stopping, so they end instead of waiting for another job); returns a
    function that removes it."""
    _before_stop.append(callback)
    return lambda: _before_stop.remove(callback) if callback in _before_stop else None


_deferring = [0]            # depth of :func:`uninterrupted` blocks the main thread is in
_deferred: list[tuple[Callable[[int], None], int]] = []   # what a signal in such a block still has to do


@contextlib.contextmanager
def uninterrupted():
    """A block a stop signal must not cut in half (making or removing a staging folder): a signal
    that comes inside it still stops the children at once, but raises only once the block is done.
    Signals are handled in the main thread: in any other thread the block changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring[0] += 1
    try:
        yield
    finally:
        _deferring[0] -= 1
        if not _deferring[0] and _deferred:
            on_signal, signum = _deferred.pop(0)
            _deferred.clear()
            on_signal(signum)


def _raise_once(signum: int) -> None:
    if len(_received) == 1:      # a second signal while the run unwinds changes nothing
        raise Interrupted(signum)


def _handler(on_signal: Callable[[int], None]):
    def handle(signum, frame):
        _received.append(signum)
        for callback in list(_before_stop):
            callback()
        stop_children()
        if _deferring[0]:
            _deferred.append((on_signal, signum))
        else:
            on_signal(signum)
    return handle


def handle_signals(on_signal: Callable[[int], None] | None = None) -> dict:
    """Handle SIGINT, SIGTERM and SIGHUP in this process (main thread only); returns the previous
    handlers for :func:`restore_signals`. After the children are stopped, ``on_signal(signum)``
    decides what the process does (a batch worker); by default :class:`Interrupted` is raised."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _received.clear()
    _deferred.clear()
    handler = _handler(on_signal or _raise_once)
    previous = {}
    for sig in SIGNALS:
        previous[sig] = signal.signal(sig, handler)
    return previous


def restore_signals(previous: dict, say: Callable[[str], None] | None = None) -> None:
    """Put back the handlers :func:`handle_signals` replaced. With ``say``, a SIGTERM or SIGHUP
    that comes after the run, while the process ends, still prints one line (``say(line)``) and
    exits 143 or 129, instead of killing the process silently."""
    for sig, handler in previous.items():
        if say is not None and sig != signal.SIGINT and handler == signal.SIG_DFL:
            handler = _late(say)
        signal.signal(sig, handler)


def _late(say: Callable[[str], None]):
    def handle(signum, frame):
        say(f"cadre: interrupted by {signal.Signals(signum).name}")
        os._exit(128 + signum)
    return handle
