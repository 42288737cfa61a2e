"""An episode: a folder of clips taken in natural name order, plus its settings."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from natsort import natsorted, ns

from pipeline.core.errors import CadreError
from pipeline.source.config import ClipRef, Settings, load_settings, rush_path
from pipeline.source.normalize import FPS, ClipSpan
from pipeline.source.probe import probe

VIDEO_EXTS = {".mp4", ".mov", ".m4v", ".mkv", ".avi", ".mts", ".m2ts", ".webm", ".3gp", ".mxf"}
# Files that look like media but cannot be clips: reported, never silently skipped.
NOT_CLIPS = {".jpg", ".jpeg", ".png", ".heic", ".webp", ".gif", ".bmp", ".tif", ".tiff",
             ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus"}


@dataclass(frozen=True)
class Episode:
    name: str
    folder: Path
    settings: Settings
    spans: tuple[ClipSpan, ...]
    notes: tuple[str, ...] = ()     # warnings found while loading (a trim past the clip's end)

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.spans)


def clip_files(folder: Path) -> list[Path]:
    """Clip files of an episode folder in natural order (``2.mp4`` before ``10.mp4``)."""
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    for p in files:
        if p.suffix.lower() in NOT_CLIPS:
            kind = "an image" if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".heic", ".webp", ".gif",
                                                       ".bmp", ".tif", ".tiff"} else "audio-only"
            raise CadreError(p, f"is {kind}, not a video clip; move it out of the episode folder")
    return natsorted((p for p in files if p.suffix.lower() in VIDEO_EXTS), alg=ns.PATH | ns.IGNORECASE)


def holds_clips(folder: Path) -> bool:
    """Whether ``folder`` holds video clips directly (footage, not exports)."""
    try:
        return any(p.suffix.lower() in VIDEO_EXTS and p.is_file() for p in Path(folder).iterdir())
    except OSError:
        return False


def _streams(n: int) -> str:
    return "no audio stream" if n == 0 else "1 audio stream" if n == 1 else f"{n} audio streams"


def load_episode(folder: str | Path, overrides: dict | None = None) -> Episode:
    folder = Path(folder)
    if not folder.exists():
        raise CadreError(folder, "episode folder not found; check the path")
    if not folder.is_dir():
        raise CadreError(folder, "is a file; pass the episode folder that holds the clips")
    settings = load_settings(folder, overrides)
    refs = settings.clips or tuple(ClipRef(p.name) for p in clip_files(folder))
    if not refs:
        raise CadreError(folder, "no video clips found; drop .mp4 or .mov clips into the episode folder")
    spans, notes = [], []
    for ref in refs:
        path = rush_path(settings, ref) if ref.rush else folder / ref.file
        info = probe(path)
        if ref.rotate:
            info = info.turned(ref.rotate)
        if ref.start >= info.duration:
            raise CadreError(folder / "episode.toml", f"clip '{ref.file}': start {ref.start} s is past its end "
                                                      f"({info.duration:.2f} s); lower the trim")
        if ref.end is not None and ref.end > info.duration + 0.5 / FPS:
            notes.append(f"clip '{ref.file}': trim end {ref.end:g} s is past the clip's end ({info.duration:.2f} s); "
                         f"the clip is used to its end - lower end in episode.toml to {info.duration:.2f} or less")
        if ref.audio_stream not in (None, "mix") and ref.audio_stream > info.audio_streams:
            raise CadreError(folder / "episode.toml", f"clip '{ref.file}': audio_stream = {ref.audio_stream}, but the "
                                                      f"clip has {_streams(info.audio_streams)}; give a number from 1 "
                                                      f"to {max(1, info.audio_streams)}, or \"mix\"")
        # the same clip and trim listed again is its own input in every ffmpeg graph
        take = sum(1 for s in spans if s.path == path and (s.start, s.end) == (ref.start, ref.end))
        span = ClipSpan(path, info, ref.start, ref.end, take, ref.audio_stream)
        if span.frame_count < 1:
            raise CadreError(path, "trimmed clip is shorter than one frame; widen the trim")
        spans.append(span)
    return Episode(folder.resolve().name, folder, settings, tuple(spans), tuple(notes))
