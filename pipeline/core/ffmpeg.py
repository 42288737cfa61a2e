"""The ffmpeg binary and how Cadre runs it.

Graphs are built with ffmpeg-python (paths and text are escaped there, in one place); this module
only locates the binary shipped in the ``imageio-ffmpeg`` wheel and runs compiled command lines.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from ffmpeg.nodes import InputNode

from pipeline.core.errors import CadreError
from pipeline.core.threads import ffmpeg_global_args

BASE_ARGS = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]


# What every Cadre job needs from the binary: ``-encoders`` / ``-filters`` name -> why.
REQUIRED_ENCODERS = {"libx264": "the H.264 master encode", "aac": "the AAC audio track"}
REQUIRED_FILTERS = {"ass": "burning captions (libass)", "loudnorm": "loudness normalisation"}
FFMPEG_FIX = ("unset CADRE_FFMPEG to use the ffmpeg of the imageio-ffmpeg wheel, or point it at an ffmpeg "
              "built with libx264 and libass")


def locate() -> str:
    """The ffmpeg binary, without checking what it can do: ``CADRE_FFMPEG``, else the
    imageio-ffmpeg wheel, else PATH. A ``CADRE_FFMPEG`` that names no executable is an error."""
    explicit = os.environ.get("CADRE_FFMPEG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            what = "does not exist" if not path.exists() else "is not an executable file"
            raise CadreError(explicit, f"the ffmpeg named by CADRE_FFMPEG {what}; point CADRE_FFMPEG at an ffmpeg "
                                       "binary, or unset it to use the one from the imageio-ffmpeg wheel")
        return str(path)
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # pragma: no cover - wheel missing
        found = shutil.which("ffmpeg")
        if found:
            return found
    raise CadreError("ffmpeg", "no ffmpeg binary found; run `pip install imageio-ffmpeg`")


def _listing(exe: str, flag: str) -> set[str]:
    """Names in ``ffmpeg -filters`` or ``-encoders`` (second column of the rows after ``------``)."""
    try:
        proc = subprocess.run([exe, "-hide_banner", "-nostdin", flag], capture_output=True, text=True,
                              errors="replace", timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CadreError(exe, f"ffmpeg cannot be run ({exc.__class__.__name__}: {exc}); {FFMPEG_FIX}") from None
    names, body = set(), False
    for line in proc.stdout.splitlines():
        if line.strip().startswith("------"):
            body = True
            continue
        parts = line.split()
        if body and len(parts) >= 2:
            names.add(parts[1])
    return names


@lru_cache(maxsize=8)
def features(exe: str) -> tuple[frozenset, frozenset]:
    """(encoders, filters) the binary offers, asked once per binary and process."""
    return frozenset(_listing(exe, "-encoders")), frozenset(_listing(exe, "-filters"))


def missing_features(exe: str) -> list[str]:
    """What Cadre needs that ``exe`` lacks, one readable item each (empty when complete)."""
    encoders, filters = features(exe)
    lacks = [f"the {name} encoder ({why})" for name, why in REQUIRED_ENCODERS.items() if name not in encoders]
    lacks += [f"the `{name}` filter ({why})" for name, why in REQUIRED_FILTERS.items() if name not in filters]
    return lacks


@lru_cache(maxsize=8)
def _checked(exe: str) -> str:
    lacks = missing_features(exe)
    if lacks:
        raise CadreError(exe, f"this ffmpeg lacks {', '.join(lacks)}; {FFMPEG_FIX}")
    return exe


def ffmpeg_exe() -> str:
    """The ffmpeg binary (see :func:`locate`), refused at first use if it lacks what Cadre needs
    (libx264, libass, loudnorm): a render must not fail, or draw no captions, halfway through."""
    return _checked(locate())


def command(*args: str) -> list[str]:
    """The full command line: binary, quiet global flags, this job's thread budget, then ``args``."""

    last = str(args[-1]).removeprefix("file:") if args else ""
    _LAST.output = last if last.startswith("/") else None   # named if the disk fills up
    return [ffmpeg_exe(), *BASE_ARGS, *ffmpeg_global_args(), *literal_paths([str(a) for a in args])]


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}


def literal_paths(args: list[str]) -> list[str]:
    """``args`` with every file name made literal, whatever it is called: input and output files get
    the ``file:`` protocol (a name starting with ``-`` is not an option, a ``name:`` is not a
    protocol), image inputs ``-pattern_type none`` and image outputs ``-update 1`` (``%d`` in a
    folder name is not an image-sequence pattern). Pipes, ``-`` and lavfi sources are left alone."""
    out: list[str] = []
    for i, arg in enumerate(args):
        is_input = i > 0 and args[i - 1] == "-i"
        is_output = i == len(args) - 1 and i > 0 and args[i - 1] != "-i" and ("/" in arg or bool(Path(arg).suffix))
        if (is_input or is_output) and _is_file_name(arg, is_input, args[:i]):
            suffix = Path(arg).suffix.lower()
            if is_input and suffix in IMAGE_SUFFIXES and not _has_format(args[:i]):
                out[-1:] = ["-f", "image2", "-pattern_type", "none", "-i"]
            if is_output and suffix in IMAGE_SUFFIXES:
                out += ["-update", "1"]
            arg = "file:" + arg
        out.append(arg)
    return out


def _has_format(before: list[str]) -> bool:
    """Whether the input about to be named already has ``-f`` (back to the previous ``-i``)."""
    j = len(before) - 1
    while j > 0 and before[j - 1] != "-i":
        if before[j - 1] == "-f":
            return True
        j -= 1
    return False


def _is_file_name(arg: str, is_input: bool, before: list[str]) -> bool:
    if arg in ("-", "pipe:") or arg.startswith(("pipe:", "file:")):
        return False
    if is_input:
        j = len(before) - 1   # the options of this input, back to the previous -i
        while j > 0 and before[j - 1] != "-i":
            if before[j - 1] == "-f" and before[j] == "lavfi":
                return False
            j -= 1
        return Path(arg).exists()
    return Path(arg).parent.is_dir()


DISK_FULL = "No space left on device"
_LAST = threading.local()   # the output file of the last command built in this thread


def _nearly_full(folder: Path) -> bool:
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < max(16 << 20, st.f_blocks * st.f_frsize // 100)


def last_error_line(stderr: str) -> str:
    """The line of ffmpeg's error output that says what went wrong; a full disk is said plainly,
    naming the folder ffmpeg was writing to when its message gives it."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if any(DISK_FULL in ln for ln in lines):
        return disk_full_message(stderr)
    return lines[-1] if lines else "ffmpeg failed without a message"


def disk_full_message(text: str = "", folder: str | Path | None = None) -> str:
    """One readable sentence for ENOSPC, naming the output folder (not the hidden staging folder)."""
    if folder is None:
        for match in re.finditer(r"(/[^\s:'\"]+)", text):
            candidate = match.group(1)
            if ".cadre-staging-" in candidate:
                folder = candidate.split("/.cadre-staging-")[0]
                break
            if folder is None and "/" in candidate.strip("/"):
                folder = str(Path(candidate).parent)
    if folder is None and getattr(_LAST, "output", None) and _nearly_full(Path(_LAST.output).parent):
        folder = str(Path(_LAST.output).parent)   # ffmpeg's message did not say; its last output did
    if folder is not None and ".cadre-staging-" in str(folder):
        folder = str(folder).split("/.cadre-staging-")[0]
    where = f"the disk holding {folder}" if folder else "the disk of the output folder"
    return (f"{where} is full (No space left on device); nothing was published - free some space "
            "or choose an output folder on a disk with room (-o)")


def run(args: list[str], *, source: str | Path, what: str, capture_stdout: bool = False) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args`` (without the binary); raise CadreError naming ``source`` on failure."""
    cmd = command(*args)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=not capture_stdout)
    if proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
        raise CadreError(source, f"{what} failed: {last_error_line(err)}")
    return proc


def media_input(filename: str, take: int = 0, **kwargs):
    """``ffmpeg.input(filename, **kwargs)`` that stays its own ``-i`` when an identical input is
    already in the graph: ffmpeg-python merges equal nodes, so a clip listed twice in an episode
    would feed two chains from one stream (``multiple outgoing edges``). ``take`` (the n-th use of
    the same clip) tells them apart; an input node's ``args`` are hashed but never written to the
    command line."""
    kwargs["filename"] = filename
    if "f" in kwargs:
        kwargs["format"] = kwargs.pop("f")
    return InputNode("input", args=[take] if take else [], kwargs=kwargs).stream()


LONG_GRAPH = 8000  # characters; longer filter graphs go through a file (argv is capped at 128 KiB)


def compile_graph(stream, workdir: str | Path | None = None) -> list[str]:
    """Compile an ffmpeg-python output node to arguments (without the binary and global flags).

    With ``workdir``, a long ``-filter_complex`` (a panning crop path, many clips) is written to a
    file there and passed as ``-/filter_complex FILE``.
    """
    args = literal_paths(stream.compile(cmd="ffmpeg")[1:])
    if workdir is not None and "-filter_complex" in args:
        i = args.index("-filter_complex")
        if len(args[i + 1]) > LONG_GRAPH:
            script = Path(tempfile.mkstemp(prefix="graph-", suffix=".txt", dir=workdir)[1])
            script.write_text(args[i + 1], "utf-8")
            args[i:i + 2] = ["-/filter_complex", str(script)]
    return args


class PipeFailed(Exception):
    """ffmpeg writing to a pipe exited with an error; ``args[0]`` is its last error line."""


def pipe_chunks(args: list[str], nbytes: int, partial: bool = False) -> Iterator[bytes]:
    """Run ffmpeg ``args`` (its output ``pipe:``) and yield what it writes, ``nbytes`` at a time (the
    last, shorter piece too when ``partial``). Nothing is held beyond one piece, so memory does not
    grow with the media's length. When the consumer stops early, ffmpeg is stopped; when ffmpeg
    fails, :class:`PipeFailed` carries its last error line (the caller names the file and the fix)."""
    proc = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finished = False
    try:
        while True:
            buf = proc.stdout.read(nbytes)
            if len(buf) == nbytes or (partial and buf):
                yield buf
            if len(buf) < nbytes:
                break
        finished = True
    finally:
        proc.stdout.close()
        if not finished and proc.poll() is None:
            proc.kill()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        code = proc.wait()
    if code != 0:
        raise PipeFailed(last_error_line(err))
