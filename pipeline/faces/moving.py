"""Regions that follow what they cover: a ``[[mask]]`` with ``moving = true`` (a plate, a screen,
a document) is followed through its span by template matching (normalised cross-correlation of
the drawn patch and the last matched one, around the predicted position), at analysis resolution, and cached like face tracks (clip content, span, region, settings).

Privacy fails closed:

* each frame's box is the union of the tracked boxes of the frame and its two neighbours (the
  tracker can lag a fast object by a frame), grown by :data:`MARGIN` of its size per side;
* a frame where the best match is weaker than :data:`MIN_SIMILARITY` (the object is hidden, has
  turned or left the picture) counts as *lost*: the mask holds the last good box and grows by
  :data:`LOST_GROW` of its size per side for each lost frame, and after :data:`LOST_WHOLE_FRAME`
  lost frames it covers the whole frame until the tracker finds the object again;
* a tracker that loses the region at once masks the whole span at the drawn position, grown
  by :data:`FIRST_LOST_GROW`;
* every lost stretch is flagged in the report for a person to check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline import cache
from pipeline.errors import CadreError
from pipeline.source.normalize import FPS, ClipSpan, analysis_size, read_frames
from pipeline.threads import apply_opencv

VERSION = 2   # 2: template matching instead of the MIL tracker
ANALYSIS_WIDTH = 640
MIN_PX = 8                  # smallest region side, in source pixels
MARGIN = 0.25               # box growth per side, as a share of the box size
MIN_SIMILARITY = 0.5        # best normalised correlation below this: the object is lost
LOST_GROW = 0.05            # extra growth per side for each lost frame
LOST_WHOLE_FRAME = 30       # lost this many frames in a row: mask the whole frame
FIRST_LOST_GROW = 1.0       # the tracker lost it at once: drawn box grown this much per side
SEARCH_PX = 48              # search radius around the predicted position (analysis px), at least

Box = tuple[float, float, float, float]


@dataclass
class TrackedRegion:
    """Mask box (normalised, grown) for each frame ``first .. first + len(boxes) - 1`` of a clip."""

    first: int
    boxes: list[Box]
    lost: list[tuple[int, int]] = field(default_factory=list)   # flagged stretches of clip frames
    t0: float = 0.0                                              # clip second of frame 0

    def box_at(self, frame_index: int) -> Box:
        return self.boxes[min(max(frame_index - self.first, 0), len(self.boxes) - 1)]

    def to_dict(self) -> dict:
        return {"first": self.first, "boxes": [list(b) for b in self.boxes], "lost": [list(x) for x in self.lost],
                "t0": self.t0}

    @classmethod
    def from_dict(cls, d: dict) -> "TrackedRegion":
        return cls(d["first"], [tuple(b) for b in d["boxes"]], [tuple(x) for x in d["lost"]], d["t0"])


def _grow(box: Box, share: float) -> Box:
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * share, (y1 - y0) * share
    return (max(0.0, x0 - dx), max(0.0, y0 - dy), min(1.0, x1 + dx), min(1.0, y1 + dy))


def _union(boxes) -> Box:
    b = np.array(boxes)
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))


def frame_range(span: ClipSpan, start: float, end: float | None) -> tuple[int, int]:
    first = max(0, int(round((start - span.start) * FPS)))
    last = span.frame_count - 1 if end is None else int(np.ceil((end - span.start) * FPS))
    return min(first, span.frame_count - 1), max(min(last, span.frame_count - 1), 0)


def track_region(span: ClipSpan, region: Box, start: float, end: float | None, where: str = "[[mask]]",
                 source=None) -> TrackedRegion:
    """Follow ``region`` (normalised, where the object is at clip second ``start``) to ``end``."""
    W, H = span.info.width, span.info.height
    if (region[2] - region[0]) * W < MIN_PX or (region[3] - region[1]) * H < MIN_PX:
        raise CadreError(source, f"{where}: moving region {list(region)} is smaller than {MIN_PX} px in the picture; "
                                 "draw it around the whole object")
    first, last = frame_range(span, start, end)
    key = cache.make_key("moving", VERSION, cache.file_hash(span.path), span.start, span.end, list(region),
                         first, last, ANALYSIS_WIDTH, MARGIN, MIN_SIMILARITY)
    cached = cache.load("moving", key)
    if cached is not None:
        return TrackedRegion.from_dict(cached)
    raw = _follow(span, region, first, last)
    result = _masks(raw, region, first)
    result.t0 = span.start
    cache.store("moving", key, result.to_dict())
    return result


def _match(gray: np.ndarray, templates: list[np.ndarray], centre: tuple[float, float], size: tuple[int, int],
           radius: float) -> tuple[float, float, float]:
    """Best normalised cross-correlation of ``templates`` around ``centre``: (x, y, score), top-left."""
    import cv2

    H, W = gray.shape
    tw, th = size
    x0 = int(max(0, centre[0] - tw / 2 - radius))
    y0 = int(max(0, centre[1] - th / 2 - radius))
    x1 = int(min(W, centre[0] + tw / 2 + radius))
    y1 = int(min(H, centre[1] + th / 2 + radius))
    if x1 - x0 < tw or y1 - y0 < th:
        return 0.0, 0.0, -1.0
    window = gray[y0:y1, x0:x1]
    best = (0.0, 0.0, -1.0)
    for t in templates:
        scores = cv2.matchTemplate(window, t, cv2.TM_CCOEFF_NORMED)
        _, score, _, (mx, my) = cv2.minMaxLoc(scores)
        if score > best[2]:
            best = (float(x0 + mx), float(y0 + my), float(score))
    return best


def _follow(span: ClipSpan, region: Box, first: int, last: int) -> list[Box | None]:
    """The object's box per frame (normalised), None where it is lost.

    Template matching (normalised cross-correlation) of the drawn patch and of the last patch
    that matched, in a window around the position the last two frames predict: a plate, a screen
    or a document is rigid and textured, which is what matching follows best (OpenCV's MIL tracker
    drifted off a fast plate within a frame)."""
    import cv2

    apply_opencv()
    w, h = analysis_size(span.info, ANALYSIS_WIDTH)
    x, y = region[0] * w, region[1] * h
    tw, th = max(4, int(round((region[2] - region[0]) * w))), max(4, int(round((region[3] - region[1]) * h)))
    seed = last_good = None
    velocity = (0.0, 0.0)
    out: list[Box | None] = []
    for index, frame in read_frames(span, width=ANALYSIS_WIDTH):
        if index < first:
            continue
        if index > last:
            break
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if seed is None:
            xi, yi = int(round(x)), int(round(y))
            seed = last_good = gray[yi:yi + th, xi:xi + tw].copy()
            if seed.shape != (th, tw):
                return [None] * (last - first + 1)     # the drawn box leaves the picture: fail closed
            out.append(region)
            continue
        centre = (x + tw / 2 + velocity[0], y + th / 2 + velocity[1])
        radius = max(SEARCH_PX, 2.0 * max(abs(velocity[0]), abs(velocity[1])))
        mx, my, score = _match(gray, [seed, last_good], centre, (tw, th), radius)
        if score >= MIN_SIMILARITY:
            velocity = (mx - x, my - y)
            x, y = mx, my
            last_good = gray[int(y):int(y) + th, int(x):int(x) + tw].copy()
            out.append((x / w, y / h, (x + tw) / w, (y + th) / h))
        else:
            out.append(None)
    want = last - first + 1
    out += [None] * (want - len(out))      # frames that could not be read count as lost
    return out[:want]


def _masks(raw: list[Box | None], region: Box, first: int) -> TrackedRegion:
    """Mask boxes from the tracker's boxes: neighbours joined, margins, fail-closed holds."""
    if len(raw) > 1 and raw[1] is None:
        whole = _grow(region, FIRST_LOST_GROW)
        return TrackedRegion(first, [whole] * len(raw), [(first, first + len(raw) - 1)])
    held: list[Box] = []
    lost: list[tuple[int, int]] = []
    last_good, missing = region, 0
    for i, box in enumerate(raw):
        if box is not None:
            last_good, missing = box, 0
            held.append(box)
            continue
        missing += 1
        if missing == 1:
            lost.append((first + i, first + i))
        else:
            lost[-1] = (lost[-1][0], first + i)
        held.append((0.0, 0.0, 1.0, 1.0) if missing >= LOST_WHOLE_FRAME else _grow(last_good, LOST_GROW * missing))
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


def report(overrides) -> list[dict]:
    """Tracked regions for ``report.json``: time span, label and the stretches a person must check."""
    rows = []
    for e, tracked in getattr(overrides, "paths", {}).items():
        rows.append({"clip": e.clip, "start": e.start, "end": e.end, "region": list(e.region), "label": e.label,
                     "frames": [tracked.first, tracked.first + len(tracked.boxes) - 1],
                     "check": [{"frames": list(x), "seconds": [round(tracked.t0 + x[0] / FPS, 3),
                                                             round(tracked.t0 + (x[1] + 1) / FPS, 3)]}
                               for x in tracked.lost]})
    return rows
