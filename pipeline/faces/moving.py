"""Regions that follow what they cover: a ``[[mask]]`` with ``moving = true`` (a plate, a screen,
a document) is followed through its span by :mod:`pipeline.faces.region_track` (template
matching at analysis resolution, re-found after an occlusion, ended at a shot cut), and cached
like face tracks (clip content, span, region, shots, settings).

Privacy fails closed:

* each frame's box is the union of the tracked boxes of the frame and its two neighbours (the
  tracker can lag a fast object by a frame), grown by :data:`MARGIN` of its size per side;
* a *weak* frame (only the object as last confirmed matched, not the drawn patch: partly hidden,
  turned) keeps its box grown by :data:`LOST_GROW` per side;
* a *lost* frame (the object is hidden, has turned or left the picture) masks the last good box
  grown by :data:`LOST_GROW` of its size per side for each lost frame, joined with where the
  object went: the straight line to where it was re-found, or, if it never was, where its last
  speed takes it; after :data:`LOST_WHOLE_FRAME` lost frames in a row the whole frame is masked
  until it is found again;
* a tracker that loses the region at once masks the whole span at the drawn position, grown
  by :data:`FIRST_LOST_GROW`;
* every weak or lost stretch is flagged in the report for a person to check, and so is the rest of a
  span after the shot cut that ended the region (nothing is masked there: the next shot shows
  other things, and the region must be drawn again in it if the object is still in the picture).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.core import cache
from pipeline.core.errors import CadreError
from pipeline.faces import region_track
from pipeline.source.normalize import FPS, ClipSpan
from pipeline.source.shots import detect_shots

VERSION = 3   # 3: re-found after occlusions, ended at shot cuts
MIN_PX = 8                  # smallest region side, in source pixels
MARGIN = 0.25               # box growth per side, as a share of the box size
LOST_GROW = 0.05            # extra growth per side for each lost frame
LOST_WHOLE_FRAME = 30       # lost this many frames in a row: mask the whole frame
FIRST_LOST_GROW = 1.0       # the tracker lost it at once: drawn box grown this much per side
WHOLE = (0.0, 0.0, 1.0, 1.0)

Box = tuple[float, float, float, float]


@dataclass
class TrackedRegion:
    """Mask box (normalised, grown) for each frame ``first .. first + len(boxes) - 1`` of a clip.

    ``cut``: the clip frame of the shot cut that ended the region (no box from there on) and
    ``until`` the last frame the span asked for; ``path``: the tracked box (unpadded) per frame,
    None where lost."""

    first: int
    boxes: list[Box]
    lost: list[tuple[int, int]] = field(default_factory=list)   # flagged stretches of clip frames
    t0: float = 0.0                                              # clip second of frame 0
    cut: int | None = None
    path: list[Box | None] = field(default_factory=list)
    until: int | None = None

    def box_at(self, frame_index: int) -> Box | None:
        if self.cut is not None and frame_index >= self.cut:
            return None
        return self.boxes[min(max(frame_index - self.first, 0), len(self.boxes) - 1)]

    def to_dict(self) -> dict:
        return {"first": self.first, "boxes": [list(b) for b in self.boxes], "lost": [list(x) for x in self.lost],
                "t0": self.t0, "cut": self.cut, "path": [None if b is None else list(b) for b in self.path], "until": self.until}

    @classmethod
    def from_dict(cls, d: dict) -> "TrackedRegion":
        return cls(d["first"], [tuple(b) for b in d["boxes"]], [tuple(x) for x in d["lost"]], d["t0"],
                   d.get("cut"), [None if b is None else tuple(b) for b in d.get("path", [])], d.get("until"))


def _grow(box: Box, share: float) -> Box:
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * share, (y1 - y0) * share
    return (max(0.0, x0 - dx), max(0.0, y0 - dy), min(1.0, x1 + dx), min(1.0, y1 + dy))


def _union(boxes) -> Box:
    b = np.array(boxes)
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))


def _shift(box: Box, dx: float, dy: float) -> Box:
    return (min(1.0, max(0.0, box[0] + dx)), min(1.0, max(0.0, box[1] + dy)),
            max(0.0, min(1.0, box[2] + dx)), max(0.0, min(1.0, box[3] + dy)))


def frame_range(span: ClipSpan, start: float, end: float | None) -> tuple[int, int]:
    first = max(0, int(round((start - span.start) * FPS)))
    last = span.frame_count - 1 if end is None else int(np.ceil((end - span.start) * FPS))
    return min(first, span.frame_count - 1), max(min(last, span.frame_count - 1), 0)


def track_region(span: ClipSpan, region: Box, start: float, end: float | None, where: str = "[[mask]]",
                 source=None) -> TrackedRegion:
    """Follow ``region`` (normalised, where the object is at clip second ``start``) to ``end``
    or to the next shot cut, whichever comes first."""
    W, H = span.info.width, span.info.height
    if (region[2] - region[0]) * W < MIN_PX or (region[3] - region[1]) * H < MIN_PX:
        raise CadreError(source, f"{where}: moving region {list(region)} is smaller than {MIN_PX} px in the picture; "
                                 "draw it around the whole object")
    first, last = frame_range(span, start, end)
    cuts = [c for c in detect_shots(span).cuts if first < c <= last]
    key = cache.make_key("moving", VERSION, *span.content_key(), list(region),
                         first, last, cuts, region_track.ANALYSIS_WIDTH, MARGIN, region_track.MIN_SIMILARITY,
                         region_track.REFIND_SIMILARITY, region_track.SEED_SIMILARITY, region_track.CUT_SIMILARITY,
                         LOST_GROW)
    cached = cache.load("moving", key)
    if cached is not None:
        return TrackedRegion.from_dict(cached)
    path = region_track.follow(span, region, first, last, cuts)
    result = _masks(path.boxes, region, first, path.weak)
    result.t0, result.cut, result.path, result.until = span.start, path.cut, path.boxes, last
    cache.store("moving", key, result.to_dict())
    return result


def _lost_box(raw: list[Box | None], i: int, j: int, k: int) -> Box:
    """Mask for lost frame ``k`` of the stretch ``i..j`` (indices of ``raw``; ``raw[i - 1]`` is known)."""
    before = raw[i - 1]
    m = k - i + 1
    if j + 1 < len(raw):                     # re-found: the object went along the line between
        after, share = raw[j + 1], m / (j - i + 2)
        went = tuple(b + (a - b) * share for b, a in zip(before, after))
    elif i >= 2 and raw[i - 2] is not None:  # never re-found: where its last speed takes it
        dx, dy = before[0] - raw[i - 2][0], before[1] - raw[i - 2][1]
        went = _shift(before, dx * m, dy * m)
    else:
        went = before
    return _grow(_union([before, went]), LOST_GROW * m)


def _masks(raw: list[Box | None], region: Box, first: int, weak: list[bool] | None = None) -> TrackedRegion:
    """Mask boxes from the tracker's boxes: neighbours joined, margins, fail-closed holds.

    A weak frame (found by the running patch only) keeps its box grown by :data:`LOST_GROW`; a
    lost one gets :func:`_lost_box`; both are flagged."""
    if len(raw) > 1 and raw[1] is None:
        whole = _grow(region, FIRST_LOST_GROW)
        return TrackedRegion(first, [whole] * len(raw), [(first, first + len(raw) - 1)])
    raw = list(raw)
    raw[0] = raw[0] or region
    weak = weak or [False] * len(raw)
    held: list[Box] = []
    flagged = [raw[i] is None or weak[i] for i in range(len(raw))]
    i = 0
    while i < len(raw):
        if raw[i] is not None:
            held.append(_grow(raw[i], LOST_GROW) if weak[i] else raw[i])
            i += 1
            continue
        j = i
        while j + 1 < len(raw) and raw[j + 1] is None:
            j += 1
        held += [WHOLE if k - i + 1 >= LOST_WHOLE_FRAME else _lost_box(raw, i, j, k) for k in range(i, j + 1)]
        i = j + 1
    lost: list[tuple[int, int]] = []
    for i, f in enumerate(flagged):
        if f and lost and lost[-1][1] == first + i - 1:
            lost[-1] = (lost[-1][0], first + i)
        elif f:
            lost.append((first + i, first + i))
    boxes = [_grow(_union(held[max(0, i - 1):i + 2]), MARGIN) for i in range(len(held))]
    return TrackedRegion(first, boxes, lost)


def follow_overrides(overrides, spans: list[ClipSpan]) -> None:
    """Track every moving region of ``overrides`` (a MaskOverrides) on its clip's span."""
    if overrides is None:
        return
    by_name = {s.path.name: s for s in spans}
    count = 0
    for e in overrides.entries:
        if e.kind == "mask_region" and e.moving:
            count += 1
            if e in overrides.paths or e.clip not in by_name:
                continue
            overrides.paths[e] = track_region(by_name[e.clip], e.region, e.start, e.end,
                                              f"[[mask]] moving region of clip '{e.clip}'", overrides.path)


def _seconds(tracked: TrackedRegion, a: int, b: int) -> list[float]:
    return [round(tracked.t0 + a / FPS, 3), round(tracked.t0 + (b + 1) / FPS, 3)]


def report(overrides) -> list[dict]:
    """Tracked regions for ``report.json``: time span, label, where tracking ended (a shot cut or
    the span's end) and the stretches a person must check (lost, or after the cut)."""
    rows = []
    for e, tracked in getattr(overrides, "paths", {}).items():
        last = tracked.first + len(tracked.boxes) - 1
        check = [{"frames": list(x), "seconds": _seconds(tracked, *x), "why": "lost: mask grown and held"}
                 for x in tracked.lost]
        ended = {"at": "span end", "frame": last, "seconds": _seconds(tracked, last, last)[1]}
        if tracked.cut is not None:
            ended = {"at": "shot cut", "frame": tracked.cut, "seconds": _seconds(tracked, tracked.cut, tracked.cut)[0]}
            until = tracked.until if tracked.until is not None else tracked.cut
            check.append({"frames": [tracked.cut, until], "seconds": _seconds(tracked, tracked.cut, until),
                          "why": "after a shot cut: not tracked, not masked; draw the region again if the object "
                                 "is still in the picture"})
        rows.append({"clip": e.clip, "start": e.start, "end": e.end, "region": list(e.region), "label": e.label,
                     "frames": [tracked.first, last], "ended": ended, "check": check})
    return rows
