"""Errors a user can act on. The CLI prints them as one line and exits with ``exit_code``."""
from __future__ import annotations

import errno
from pathlib import Path


class CadreError(Exception):
    """Bad input or configuration: names the file, says what is wrong and what to do."""

    exit_code = 1
    http_status = 400    # what the review server answers when a request raises it

    def __init__(self, path: str | Path | None, message: str):
        self.path = str(path) if path is not None else None
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return printable(text)


def printable(text: str) -> str:
    """``text`` on one line: newlines and other control characters escaped (``\\n``, ``\\x1b``), so a
    crafted file name can neither split an error line nor forge a ``cadre:`` line of its own."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class RedactionError(CadreError):
    """Face masking could not run. Rendering stops: privacy fails closed."""


class BatchFailed(CadreError):
    """Some jobs of a batch failed; the others completed."""

    exit_code = 3


class NotFound(CadreError):
    """A path or a clip the caller asked for is not part of the episode (the review server: 404)."""

    http_status = 404


STAGING_MARK = "/.cadre-staging-"


def write_failed(exc: OSError, where: str | Path) -> CadreError:
    """One line for a write that failed (disk full, permission lost, a vanished folder), naming the
    output folder rather than Cadre's hidden staging folder: nothing partial was published."""
    path = str(exc.filename or where)
    if STAGING_MARK in path:
        path = path.split(STAGING_MARK)[0]
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return CadreError(path, "the disk is full (No space left on device); nothing was published - free some "
                                "space or choose an output folder on a disk with room (-o)")
    return CadreError(path, f"cannot write ({exc.strerror or exc}); nothing was published - check that the folder "
                            "exists and is writable, then run again")
