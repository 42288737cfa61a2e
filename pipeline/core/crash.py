"""Unexpected errors (bugs): one line for the person, the full traceback in a log file.

A ``CadreError`` is something the person can fix and is printed as it is. Anything else is a bug:
the CLI, a batch job and the review server all turn it into
``internal error: <class>: <message> (details: <log file>)`` and write the traceback to
``<cache>/logs/<timestamp>-<pid>.log`` (the temporary folder when the cache cannot be written).
``CADRE_DEBUG=1`` also shows the traceback on the terminal.
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

from pipeline.core.cache import cache_dir
from pipeline.core.version import __version__

DEBUG_ENV = "CADRE_DEBUG"


def debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def describe(exc: BaseException) -> str:
    """``Class: message`` on one line (newlines and runs of spaces collapsed)."""
    message = " ".join(str(exc).split())
    name = exc.__class__.__name__
    return f"{name}: {message}" if message else name


def _log_dirs() -> list[Path]:
    dirs = []
    try:
        dirs.append(cache_dir() / "logs")
    except Exception:   # noqa: BLE001 - a broken environment must not hide the original error
        pass
    dirs.append(Path(tempfile.gettempdir()))
    return dirs


def _text(exc: BaseException, context: str) -> str:
    head = [f"cadre {__version__}, Python {platform.python_version()} on {platform.platform()}",
            f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}, pid {os.getpid()}",
            f"command: {' '.join(sys.argv)}"]
    if context:
        head.append(f"while: {context}")
    return "\n".join(head) + "\n\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def write_log(exc: BaseException, context: str = "") -> Path | None:
    """Write ``exc``'s traceback to a new log file; its path, or None when nowhere is writable."""
    text = _text(exc, context)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for folder in _log_dirs():
        prefix = "" if folder.name == "logs" else "cadre-"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for n in range(1, 1000):   # several errors in one process and second: -2, -3...
                path = folder / f"{prefix}{stamp}-{os.getpid()}{'' if n == 1 else f'-{n}'}.log"
                try:
                    with open(path, "x", encoding="utf-8") as fh:
                        fh.write(text)
                    return path
                except FileExistsError:
                    continue
        except OSError:
            continue
    return None


def internal_error(exc: BaseException, context: str = "") -> str:
    """Log ``exc`` and return ``internal error: <class: message> (details: <log>)``. With
    ``CADRE_DEBUG=1`` the traceback is also printed on stderr."""
    path = write_log(exc, context)
    if debug():
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    where = str(path) if path is not None else "no log file could be written"
    return f"internal error: {describe(exc)} (details: {where})"
