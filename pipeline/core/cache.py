"""Analysis cache, keyed by content hash and settings.

Analysis (transcripts, face tracks, crop paths) runs once per clip and is shared by every network,
every episode that uses the clip and every re-render. Entries are JSON files written atomically.
The cache lives in ``$CADRE_CACHE_DIR`` (default ``~/.cache/cadre``).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.errors import CadreError


def cache_dir() -> Path:
    """The cache folder, created if missing; a CadreError if it is a file or cannot be written."""
    root = os.environ.get("CADRE_CACHE_DIR")
    if root:
        path = Path(root).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "cadre"
    if str(path) not in _USABLE:
        check_writable_dir(path, "cache folder", "CADRE_CACHE_DIR" if root else "CADRE_CACHE_DIR (or XDG_CACHE_HOME)")
        _USABLE.add(str(path))
    return path


_USABLE: set[str] = set()   # folders already checked in this process


def check_writable_dir(path: Path, what: str, variable: str) -> None:
    """Create ``path`` if missing; raise CadreError if it is not a folder Cadre can write to."""
    fix = f"point {variable} at a writable folder"
    if path.exists() and not path.is_dir():
        raise CadreError(path, f"the {what} is a file, not a folder; {fix}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CadreError(path, f"the {what} cannot be created ({exc.strerror}); {fix}") from None
    # os.access honours read-only mounts even for root; a real write also catches ACLs and full disks
    try:
        if not os.access(path, os.W_OK | os.X_OK):
            read_only = os.statvfs(path).f_flag & os.ST_RDONLY
            raise OSError(errno.EROFS if read_only else errno.EACCES, "permission denied")
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = "read-only file system" if exc.errno == errno.EROFS else (exc.strerror or "not writable")
        raise CadreError(path, f"the {what} is not writable ({reason}); {fix}") from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes 0600; published files get the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def read_json_dict(path: Path) -> dict:
    """A JSON object read from ``path``; {} when it is missing, unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_shared_json(path: Path, data) -> None:
    """``data`` as indented UTF-8 JSON, written atomically and readable as a report is (:func:`readable`)."""
    atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False))
    readable(path)


def sha256_file(path: str | Path) -> str:
    """sha256 of a file's content, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def memo_path(kind: str, path: str | Path) -> Path:
    """Where a per-file result is remembered: keyed by (path, inode, size, mtime), like git's index."""
    path = Path(path)
    st = path.stat()
    return cache_dir() / kind / hashlib.sha256(
        f"{path.resolve()}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()


def file_hash(path: str | Path) -> str:
    """sha256 of a file's content. Remembered per (inode, size, mtime) so big clips hash once."""
    memo = memo_path("hashes", path)
    if memo.is_file():
        return memo.read_text().strip()
    value = sha256_file(path)
    atomic_write_text(memo, value)
    return value


def make_key(*parts, expand: bool = False) -> str:
    """Stable key from JSON-serialisable parts (content hashes, settings dicts, versions). With
    ``expand``, an object with a ``to_dict`` is keyed as that dict, made when the encoder reaches
    it: the same key as the dicts', without all of them at once (``FaceTracks.to_dict(compact=True)``
    leaves the tracks as objects; a 10-minute crowd's, as lists all at once, added 142 MiB)."""
    blob = json.dumps(parts, sort_keys=True, default=_expanded if expand else str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _expanded(value):
    return value.to_dict() if hasattr(value, "to_dict") else str(value)


def _entry(kind: str, key: str) -> Path:
    return cache_dir() / kind / key[:2] / f"{key}.json"


# analysis results (``--reanalyse`` recomputes them and replaces the entries)
ANALYSIS_KINDS = frozenset({"transcripts", "faces", "follow", "shots"})
_REFRESH: list[bool] = [False]
_SERVED: list[list[tuple[str, bool]]] = []   # open recordings of (kind, hit)


@contextmanager
def reanalysing(on: bool = True):
    """Within this block, analysis entries count as missing: Whisper and the face detector run
    again and their results replace the cached ones (``--reanalyse``)."""
    before = _REFRESH[0]
    _REFRESH[0] = bool(on) or before
    try:
        yield
    finally:
        _REFRESH[0] = before


def refreshing(kind: str) -> bool:
    return _REFRESH[0] and kind in ANALYSIS_KINDS


@contextmanager
def recording():
    """Collect ``(kind, hit)`` for each analysis entry looked up within this block."""
    served: list[tuple[str, bool]] = []
    _SERVED.append(served)
    try:
        yield served
    finally:
        _SERVED.remove(served)


def load(kind: str, key: str) -> dict | None:
    """Return the cached JSON for ``kind``/``key``, or None (a damaged entry counts as missing)."""
    data = None
    if not refreshing(kind):
        try:
            data = json.loads(_entry(kind, key).read_text("utf-8"))
        except (OSError, ValueError):
            data = None
    if kind in ANALYSIS_KINDS:
        for served in _SERVED:
            served.append((kind, data is not None))
    return data


def store(kind: str, key: str, data: dict) -> None:
    """Write ``data`` as JSON; an object in it with a ``to_dict`` is written as that dict, made
    when the encoder reaches it (a long clip's face tracks never exist twice as Python lists)."""
    atomic_write_text(_entry(kind, key), json.dumps(data, ensure_ascii=False, default=_as_dict))


def _as_dict(value) -> dict:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"{type(value).__name__} cannot be stored in the cache")


def readable(path: Path) -> None:
    """Temporary files are private (0600); a report on shared storage is for everyone the umask allows."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
