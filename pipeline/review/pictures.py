"""The published pictures of the review page: the player's poster (a frame as published: reframed,
masked, captioned, branded) and the strip of evenly spaced published frames with every mask
outlined (the contact sheet's strip), so a face no mask covers is in sight before sign-off.

Both come from one master job (:func:`pipeline.master.plan_master`, as ``cadre preview`` and the
proxy build it) and are made again only when a file of the episode has changed since (a mask or
caption saved, ``episode.toml`` edited, a clip replaced).
"""
from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from pipeline.faces.sheet import draw_strip
from pipeline.master import plan_master
from pipeline.orchestrator import RenderOptions, prepare
from pipeline.published import published_frames, strip_frames
from pipeline.review.frames import jpeg
from pipeline.review.proxy import PROXY_SIZE

STRIP_CELL, STRIP_COLUMNS = 240, 4


@dataclass(frozen=True)
class Pictures:
    key: str
    poster: bytes                 # JPEG, PROXY_SIZE: the first strip frame as published, no outline
    strip: bytes                  # JPEG: the strip, masks outlined
    frames: list[dict]            # per strip frame: episode frame and seconds, clip, place, masks' outlines


def inputs_key(folder: Path, clips=()) -> str:
    """A short digest of what the published picture is made from: the episode folder's files (clips,
    captions, ``masks.toml``, ``episode.toml``), the clips wherever they are, and ``campaign.toml``."""
    paths = {p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
    paths |= {Path(c) for c in clips} | {folder.parent / "campaign.toml"}
    digest = hashlib.sha256()
    for p in sorted(paths):
        try:
            st = p.stat()
        except OSError:
            continue
        digest.update(f"{p}\0{st.st_mtime_ns}\0{st.st_size}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def episode_frames(folder: Path, options: RenderOptions | None = None) -> list:
    """The strip's frames of the episode in ``folder`` (``PublishedFrame``), from the master the render builds."""
    options = replace(options or RenderOptions(), require_approval=False)   # reviewing comes before approval
    prepared = prepare(Path(folder), options)
    with tempfile.TemporaryDirectory(prefix="cadre-pictures-") as tmp:
        setup = plan_master(prepared, Path(tmp), parts=False)
        return published_frames(setup, strip_frames(setup))


def make_pictures(folder: Path, options: RenderOptions | None = None, key: str = "") -> Pictures:
    """The poster and the strip of the episode in ``folder``."""
    frames = episode_frames(folder, options)
    if not frames:
        blank = Image.new("RGB", PROXY_SIZE)
        return Pictures(key, jpeg(blank), jpeg(blank), [])
    poster = Image.fromarray(frames[0].image).resize(PROXY_SIZE, Image.LANCZOS)
    strip, placed = draw_strip(frames, STRIP_CELL, STRIP_COLUMNS)
    return Pictures(key, jpeg(poster, 88), jpeg(strip, 85), placed)


class PublishedPictures:
    """The pictures of one review session, made on first request and again after a change."""

    def __init__(self, session):
        self.session = session
        self._lock = threading.Lock()
        self._last: Pictures | None = None

    def key(self) -> str:
        s = self.session
        return inputs_key(s.folder, [c.span.path for c in s.clips.values()])

    def get(self) -> Pictures:
        with self._lock:                       # one master job at a time; the next request reuses it
            key = self.key()
            if self._last is None or self._last.key != key:
                self._last = make_pictures(self.session.folder, self.session.options, key)
            return self._last
