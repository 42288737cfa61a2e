"""The ffmpeg binary and how Cadre runs it.

Graphs are built with ffmpeg-python (paths and text are escaped there, in one place); this module
only locates the binary shipped in the ``imageio-ffmpeg`` wheel and runs compiled command lines.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from .errors import CadreError

BASE_ARGS = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]


@lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    """ffmpeg from ``CADRE_FFMPEG``, else the imageio-ffmpeg wheel, else PATH."""
    explicit = os.environ.get("CADRE_FFMPEG")
    if explicit:
        return explicit
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # pragma: no cover - wheel missing
        found = shutil.which("ffmpeg")
        if found:
            return found
    raise CadreError("ffmpeg", "no ffmpeg binary found; run `pip install imageio-ffmpeg`")


def command(*args: str) -> list[str]:
    """The full command line: binary, quiet global flags, this job's thread budget, then ``args``."""
    from .threads import ffmpeg_global_args

    return [ffmpeg_exe(), *BASE_ARGS, *ffmpeg_global_args(), *args]


def last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else "ffmpeg failed without a message"


def run(args: list[str], *, source: str | Path, what: str, capture_stdout: bool = False) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args`` (without the binary); raise CadreError naming ``source`` on failure."""
    cmd = command(*args)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=not capture_stdout)
    if proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
        raise CadreError(source, f"{what} failed: {last_error_line(err)}")
    return proc


LONG_GRAPH = 8000  # characters; longer filter graphs go through a file (argv is capped at 128 KiB)


def compile_graph(stream, workdir: str | Path | None = None) -> list[str]:
    """Compile an ffmpeg-python output node to arguments (without the binary and global flags).

    With ``workdir``, a long ``-filter_complex`` (a panning crop path, many clips) is written to a
    file there and passed as ``-/filter_complex FILE``.
    """
    args = stream.compile(cmd="ffmpeg")[1:]
    if workdir is not None and "-filter_complex" in args:
        i = args.index("-filter_complex")
        if len(args[i + 1]) > LONG_GRAPH:
            script = Path(tempfile.mkstemp(prefix="graph-", suffix=".txt", dir=workdir)[1])
            script.write_text(args[i + 1], "utf-8")
            args[i:i + 2] = ["-/filter_complex", str(script)]
    return args
