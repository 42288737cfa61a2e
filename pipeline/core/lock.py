"""One batch at a time per campaign output folder.

The lock is an advisory ``flock`` on ``<out>/.cadre-batch.lock``. The kernel drops it when the
process holding it ends, however it ends (``kill -9`` included), so a stale lock never blocks:
the file may stay behind, but it is free. The file also holds who took the lock (pid, host,
start time, command), only to write a useful message for the batch that has to wait.

Worker processes do not inherit the lock (file descriptors are not inheritable, and workers are
spawned); they are tied to the batch's life instead (see ``executors/local.py``).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.core.errors import CadreError

LOCK_NAME = ".cadre-batch.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def try_lock(fd: int) -> bool:
    """Take the exclusive flock on ``fd`` without waiting; False when another holder has it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@dataclass
class CampaignLock:
    folder: Path                 # the campaign's output folder (what the lock protects)
    campaign: Path | None = None
    wait: float = 0.0            # seconds to wait for another batch before giving up
    _fd: int | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        return Path(self.folder) / LOCK_NAME

    def acquire(self) -> "CampaignLock":
        try:
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CadreError(self.folder, f"cannot create the batch lock ({exc.strerror}); check that the output "
                                          "folder is writable, or choose another with -o") from None
        deadline = time.monotonic() + self.wait
        while not try_lock(fd):
            if time.monotonic() >= deadline:
                holder = self.holder(fd)
                os.close(fd)
                raise CadreError(self.campaign or self.folder, f"another cadre batch is already running on this "
                                 f"campaign ({holder}); wait for it to finish or stop it, then run again. "
                                 f"A lock left by a killed batch frees itself: no file to delete")
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        self._fd = fd
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now().isoformat(timespec="seconds"),
                "command": " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        return self

    @staticmethod
    def holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            return f"pid {info['pid']} on {info['host']}, started {info['started']}: {info.get('command', '')}".strip()
        except (OSError, ValueError, KeyError):
            return "holder unknown"

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            os.close(self._fd)   # closing drops the flock
            self._fd = None

    def __enter__(self) -> "CampaignLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# -- staging folders in use ----------------------------------------------------------------------
# A render (``cadre render`` or a batch job) holds a lock inside its staging folder while it runs,
# so a batch cleaning up after a killed run never deletes the staging folder of a live render.
STAGING_LOCK = ".cadre-live.lock"
STAGING_PREFIX = ".cadre-staging-"
UNLOCKED_GRACE = 60.0   # s: a staging folder this young without its lock file may be a run starting now


def hold_staging(staging: Path) -> int | None:
    """Mark ``staging`` as in use until the returned descriptor is closed (or the process dies)."""
    if fcntl is None:
        return None
    fd = os.open(Path(staging) / STAGING_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def staging_in_use(staging: Path) -> bool:
    """Whether a live process holds ``staging`` (a folder with no lock file is a killed run's)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(Path(staging) / STAGING_LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        return not try_lock(fd)
    finally:
        os.close(fd)


def remove_stale_staging(folder: Path) -> int:
    """Remove the staging folders a killed run left in ``folder`` (an episode's output folder);
    one a live run holds, or one just made (its lock not taken yet), is kept. How many went."""
    removed = 0
    try:
        items = [p for p in Path(folder).iterdir() if p.name.startswith(STAGING_PREFIX) and p.is_dir()]
    except OSError:
        return 0
    for item in items:
        try:
            young = not (item / STAGING_LOCK).exists() and time.time() - item.stat().st_mtime < UNLOCKED_GRACE
        except OSError:
            continue
        if young or staging_in_use(item):
            continue
        shutil.rmtree(item, ignore_errors=True)
        removed += 1
    return removed
