"""Following a drawn region through one shot: template matching with prediction, occlusion re-finding
and shot cuts. :mod:`pipeline.faces.moving` turns the path into fail-closed mask boxes.

Each frame, the drawn patch and the last patch that matched well are searched (normalised
cross-correlation) in a window around the position the motion so far predicts. A plate, a
screen or a document is rigid and textured, which is what matching follows best; OpenCV's own
model-free tracker in opencv-headless 5 (MIL; CSRT and KCF are only in the contrib build) left a
synthetic plate uncovered on up to 81 of 90 frames where matching left none, at about ten times
the cost per frame (``benchmarks/bench_moving.py`` compares them).

* **Drift and occlusion.** The drawn patch is searched first: where it matches at
  :data:`SEED_SIMILARITY` or better, that is the position (anchored to what was drawn, so small
  steps never add up to a drift) and the running patch is refreshed from it. Otherwise the running
  patch (the object as last confirmed) gives the position, and the frame is *weak*: flagged,
  never used to refresh anything (a passing occluder must not become the template). Below
  :data:`MIN_SIMILARITY` for both, the frame is *lost*: the search goes on around the position
  predicted at the last speed, in a window that widens by :data:`WIDEN` of its radius for each
  lost frame, and resumes on a match of at least :data:`REFIND_SIMILARITY` (stricter, so an
  occluder's edge or a look-alike is not taken for the object).
* **Shot cuts** come from :func:`pipeline.source.shots.detect_shots`. At a cut the object is
  searched in the whole new frame: found at :data:`CUT_SIMILARITY` or better, the cut does not
  separate it from its shot (a flash, a false cut) and tracking goes on; otherwise the path ends
  before the cut and the mask never moves onto the unrelated content of the next shot.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.core.threads import apply_opencv
from pipeline.source.normalize import ClipSpan, analysis_size, read_frames

ANALYSIS_WIDTH = 640
MIN_SIMILARITY = 0.5        # best normalised correlation below this: the object is lost
REFIND_SIMILARITY = 0.6     # after a loss, a match must be at least this good to resume
SEED_SIMILARITY = 0.7       # the drawn patch matching this well: a confident frame
CUT_SIMILARITY = 0.8        # at a shot cut, the object found this well in the new frame: same shot
SEARCH_PX = 48              # search radius around the predicted position (analysis px), at least
WIDEN = 0.25                # the radius grows by this share per lost frame (re-finding)

Box = tuple[float, float, float, float]


@dataclass
class RegionPath:
    """Per frame ``first ..``: the object's box (normalised, unpadded) or None where it was lost,
    and whether the frame was weak (found by the running patch only); ``cut``: the clip frame of
    the shot cut that ended the path (None: it ran to the span's end)."""

    boxes: list[Box | None] = field(default_factory=list)
    weak: list[bool] = field(default_factory=list)
    cut: int | None = None


def match(gray: np.ndarray, templates: list[np.ndarray], centre: tuple[float, float] | None,
          size: tuple[int, int], radius: float) -> tuple[float, float, float]:
    """Best normalised cross-correlation of ``templates`` around ``centre`` (None: the whole frame):
    ``(x, y, score)`` with ``x, y`` the top-left corner; score -1 when the window is too small."""
    H, W = gray.shape
    tw, th = size
    if centre is None:
        x0, y0, x1, y1 = 0, 0, W, H
    else:
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


def follow(span: ClipSpan, region: Box, first: int, last: int, cuts: list[int]) -> RegionPath:
    """The object's path from clip frame ``first`` (where it is ``region``) to ``last`` or the next cut."""
    apply_opencv()
    w, h = analysis_size(span.info, ANALYSIS_WIDTH)
    x, y = region[0] * w, region[1] * h
    tw, th = max(4, int(round((region[2] - region[0]) * w))), max(4, int(round((region[3] - region[1]) * h)))
    cuts = sorted(c for c in cuts if first < c <= last)
    seed = running = None
    velocity = (0.0, 0.0)
    missing = 0
    path = RegionPath()
    for index, frame in read_frames(span, width=ANALYSIS_WIDTH):
        if index < first:
            continue
        if index > last:
            break
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if seed is None:
            xi, yi = int(round(x)), int(round(y))
            seed = running = gray[yi:yi + th, xi:xi + tw].copy()
            if seed.shape != (th, tw):      # the drawn box leaves the picture: fail closed
                path.boxes, path.weak = [None] * (last - first + 1), [False] * (last - first + 1)
                return path
            path.boxes.append(region)
            path.weak.append(False)
            continue
        if cuts and index == cuts[0]:
            cuts.pop(0)
            mx, my, score = match(gray, [seed], None, (tw, th), 0)
            if score < CUT_SIMILARITY:
                path.cut = index
                return path
            x, y, velocity, missing = mx, my, (0.0, 0.0), 0
            path.boxes.append((x / w, y / h, (x + tw) / w, (y + th) / h))
            path.weak.append(False)
            continue
        ahead = missing + 1
        centre = (x + tw / 2 + velocity[0] * ahead, y + th / 2 + velocity[1] * ahead)
        radius = max(SEARCH_PX, 2.0 * max(abs(velocity[0]), abs(velocity[1]))) * (1 + WIDEN * missing)
        need = REFIND_SIMILARITY if missing else MIN_SIMILARITY
        mx, my, score = match(gray, [seed], centre, (tw, th), radius)
        weak = score < max(SEED_SIMILARITY, need)
        if weak:
            mx, my, score = match(gray, [running], centre, (tw, th), radius)
        if score >= need:
            velocity = ((mx - x) / ahead, (my - y) / ahead)
            x, y, missing = mx, my, 0
            if not weak:
                running = gray[int(y):int(y) + th, int(x):int(x) + tw].copy()
            path.boxes.append((x / w, y / h, (x + tw) / w, (y + th) / h))
            path.weak.append(weak)
        else:
            missing += 1
            path.boxes.append(None)
            path.weak.append(False)
    want = last - first + 1
    path.boxes += [None] * (want - len(path.boxes))      # frames that could not be read count as lost
    path.weak += [False] * (want - len(path.weak))
    path.boxes, path.weak = path.boxes[:want], path.weak[:want]
    return path
