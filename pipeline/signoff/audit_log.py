"""The audit log of an episode: ``exports/<episode>/audit.jsonl``, appended to and never rewritten.

One JSON line per event: ``render`` (a render started, with its fingerprint), ``approval`` (who
signed off what), ``refusal`` (a render refused: unapproved, changed, or changed during the
render) and ``publication`` (the files moved into place, each with its sha256). Each line says
when, who (the approver and the OS user), the fingerprint, the networks and the masking mode.

Each line is written with a single ``os.write`` on a file opened with ``O_APPEND``, under an
exclusive ``flock``, then ``fsync``'d: appends from several processes never interleave. A write is
not atomic against ``kill -9``, though: Linux checks for a fatal signal between the pages it
copies, so a process killed mid-write can leave the start of its line at the end of the file.
That event never completed (its ``append`` did not return). The next ``append`` sees the log does
not end with a newline and ends that fragment first, so the fragment stays one line of its own and
never joins a whole event; a reader skips a line that does not parse rather than failing.
"""
from __future__ import annotations

import fcntl
import getpass
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from pipeline.core.cache import sha256_file

AUDIT = "audit.jsonl"
KINDS = ("render", "approval", "refusal", "publication")


def audit_path(episode_out: str | Path) -> Path:
    return Path(episode_out) / AUDIT


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):   # no passwd entry (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def append(episode_out: str | Path, kind: str, **data) -> dict:
    """Append one event to ``episode_out/audit.jsonl`` (created if missing) and return it."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit event {kind!r}")
    entry = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "event": kind, "os_user": os_user(),
             **data}
    line = (json.dumps(entry, ensure_ascii=False, sort_keys=False, default=str) + "\n").encode("utf-8")
    folder = Path(episode_out)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / AUDIT, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)        # released by close, or by the kernel if we are killed
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":   # a writer killed mid-line: end its fragment
            line = b"\n" + line
        written = os.write(fd, line)
        if written != len(line):       # only on a full disk; the partial tail is no valid JSON line
            raise OSError(f"audit log: short write to {folder / AUDIT}")
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def read(episode_out: str | Path) -> list[dict]:
    """Every whole event of the log, oldest first (a line that does not parse is skipped)."""
    try:
        raw = audit_path(episode_out).read_bytes()
    except OSError:
        return []
    out = []
    for line in raw.split(b"\n"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def latest(events: list[dict], kind: str, network: str | None = None) -> dict | None:
    """The most recent of ``events`` (as :func:`read` returns them) of ``kind`` (``approval``,
    ``publication``...), or of those naming ``network``; None when there is none."""
    return next((e for e in reversed(events) if e.get("event") == kind
                 and (network is None or network in (e.get("networks") or []))), None)


def published_files(ep_out: Path, networks: list[str]) -> dict[str, str]:
    """``<network>/<file>`` -> sha256 of every file published for ``networks``."""
    files = {}
    for name in networks:
        folder = Path(ep_out) / name
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                files[str(path.relative_to(ep_out))] = sha256_file(path)
    return files
