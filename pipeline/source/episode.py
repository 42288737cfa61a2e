"""An episode: a folder of clips taken in natural name order, plus its settings."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from natsort import natsorted, ns

from pipeline.errors import CadreError
from pipeline.source.config import ClipRef, Settings, load_settings
from pipeline.source.normalize import ClipSpan
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
    spans = []
    for ref in refs:
        path = folder / ref.file
        info = probe(path)
        if ref.rotate:
            info = info.turned(ref.rotate)
        if ref.start >= info.duration:
            raise CadreError(folder / "episode.toml", f"clip '{ref.file}': start {ref.start} s is past its end "
                                                      f"({info.duration:.2f} s); lower the trim")
        span = ClipSpan(path, info, ref.start, ref.end)
        if span.frame_count < 1:
            raise CadreError(path, "trimmed clip is shorter than one frame; widen the trim")
        spans.append(span)
    return Episode(folder.resolve().name, folder, settings, tuple(spans))
