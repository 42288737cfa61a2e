"""Shot boundaries of one clip, and where its motion is, from one small decode of the normalised clip.

Cuts come from PySceneDetect's ``AdaptiveDetector`` (content change against a rolling average, so
a fast camera pan is not taken for a cut), fed with the frames of :func:`pipeline.source.normalize.read_frames`:
frame ``i`` here is frame ``i`` of the render and of the face analysis. The same pass records, per
frame, the horizontal centre of the change from the previous frame and how much changed; ``follow``
uses it to place the crop of a shot in which no face is found. Cached by content hash and span.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline.core import cache
from pipeline.source.normalize import FPS, ClipSpan, read_frames

SHOTS_VERSION = 1


@dataclass(frozen=True)
class ShotOptions:
    """Cut detection (PySceneDetect's ``AdaptiveDetector``) and the motion cue of faceless shots."""

    width: int = 320                # decode width: cut detection needs colour and layout, not detail
    min_shot_frames: int = 15       # PySceneDetect's default minimum scene length (0.5 s)
    adaptive_threshold: float = 3.0
    min_content: float = 15.0
    motion_floor: int = 8           # luma change (0-255) below which a pixel counts as still (noise, grain)


OPT = ShotOptions()   # decode width, detector thresholds, motion floor: all in the cache key


@dataclass
class Shots:
    """Cuts of one clip (the first frame of every shot after the first) and its motion cue."""

    frame_count: int
    cuts: list[int] = field(default_factory=list)
    motion_x: list[float] = field(default_factory=list)       # per frame: centre of change, 0..1
    motion_share: list[float] = field(default_factory=list)   # per frame: share of pixels that changed

    def ranges(self) -> list[tuple[int, int]]:
        """``[start, end)`` frame ranges of the shots, covering the whole clip."""
        edges = [0, *[c for c in self.cuts if 0 < c < self.frame_count], self.frame_count]
        return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]

    def to_dict(self) -> dict:
        return {"frame_count": self.frame_count, "cuts": self.cuts,
                "motion_x": [round(v, 4) for v in self.motion_x],
                "motion_share": [round(v, 4) for v in self.motion_share]}

    @classmethod
    def from_dict(cls, d: dict) -> "Shots":
        return cls(int(d["frame_count"]), [int(c) for c in d["cuts"]], list(d.get("motion_x", [])),
                   list(d.get("motion_share", [])))


def _motion(prev: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """Horizontal centre (0..1) and share of the pixels whose luma changed between two frames."""
    moved = np.abs(cur.astype(np.int16) - prev.astype(np.int16)) > OPT.motion_floor
    cols = moved.sum(axis=0).astype(np.float64)
    total = cols.sum()
    if total == 0:
        return 0.5, 0.0
    x = (np.arange(cols.size) + 0.5) / cols.size
    return float((cols * x).sum() / total), float(total / moved.size)


def detect_shots(span: ClipSpan, width: int | None = None) -> Shots:
    """Shots of the normalised clip ``span`` (decoded ``width`` px wide, by default the options');
    cached by clip content, span and every shot option."""
    width = OPT.width if width is None else width
    key = cache.make_key("shots", SHOTS_VERSION, *span.content_key(), width, asdict(OPT))
    cached = cache.load("shots", key)
    if cached is not None:
        return Shots.from_dict(cached)
    import cv2
    from scenedetect import AdaptiveDetector, FrameTimecode

    detector = AdaptiveDetector(adaptive_threshold=OPT.adaptive_threshold, min_scene_len=OPT.min_shot_frames,
                                min_content_val=OPT.min_content)
    cuts: list[int] = []
    mx, ms = [], []
    prev = None
    last = None
    for index, rgb in read_frames(span, width=width):
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        last = FrameTimecode(index, fps=float(FPS))
        cuts += [c.frame_num for c in detector.process_frame(last, bgr)]
        luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        x, share = _motion(prev, luma) if prev is not None else (0.5, 0.0)
        mx.append(x)
        ms.append(share)
        prev = luma
    if last is not None:
        cuts += [c.frame_num for c in detector.post_process(last)]
    frame_count = span.frame_count
    # a frame beyond the decoded ones (rounding of the last frame) repeats the last cue
    while mx and len(mx) < frame_count:
        mx.append(mx[-1])
        ms.append(ms[-1])
    shots = Shots(frame_count, sorted({c for c in cuts if 0 < c < frame_count}), mx[:frame_count], ms[:frame_count])
    data = shots.to_dict()
    cache.store("shots", key, data)
    return Shots.from_dict(data)   # as a later run reads it back (rounded), so both plan the same
