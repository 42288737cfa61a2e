"""Small faces looked at again between two fine passes.

The fine pass (``scan.py``) is what finds faces too small for the whole-frame pass; on a 1080p clip
it feeds the detector about twenty times the whole-frame pass's pixels. It runs on every
``tile_every``-th frame to *discover* small faces; in between, :class:`SmallFaces` remembers where
the small faces of the last frames were, and every :data:`REVISIT_EVERY` frames the detector looks
again in a window around each of them (the windows of neighbouring faces joined), at the scale
that makes the window's smallest face :data:`LOOK_PX` tall: the fine pass's scale for the faces
only it can see, less for larger ones (a 70 px face is looked for in a quarter of the pixels).

A face seen once is then followed at close to the rate of the whole-frame pass, for a fraction of
the fine pass's cost, and a face the fine pass misses on one frame (a small face near the
detector's limit scores around the threshold) is still looked for until it has been unseen for
``hold`` frames. Around a known face the detector accepts a lower score (:data:`HYSTERESIS` of
the threshold): a box there can only add masking. A face that appears between two fine passes
is found by the next one and masked back in time by the track's extension (``extend_frames``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import cv2
import numpy as np

from pipeline.faces.camera import carried
from pipeline.faces.detectors.base import Detection, overlaps
from pipeline.faces.motion import PixelMotion
from pipeline.faces.params import PARAMS
from pipeline.faces.scan import DETECT_MIN_PX, ScanPlan, normalised

REVISIT_EVERY = PARAMS.revisit_every
REACH = PARAMS.reach
MIN_REACH_PX = PARAMS.min_reach_px
HYSTERESIS = PARAMS.hysteresis
SMALL = PARAMS.small
GRID = PARAMS.grid
LOOK_PX = SMALL * DETECT_MIN_PX    # a look enlarges its smallest face to this many detector pixels tall


class Window(NamedTuple):
    """Where to look again (read pixels), and the height of the smallest face remembered there."""

    x0: int
    y0: int
    x1: int
    y1: int
    face: float

    def scale(self, plan: ScanPlan) -> float:
        """Detector pixels per read pixel for this look: enough to make its smallest face
        ``LOOK_PX`` tall (twice what the detector needs, so it may have shrunk), never more than
        the fine pass's, never less than the whole-frame pass's."""
        coarse = plan.coarse_size[1] / plan.read_size[1]
        return min(plan.upscale, max(coarse, LOOK_PX / max(self.face, 1.0)))


@dataclass
class SmallFaces:
    """The small faces of the last ``hold`` frames: ``(normalised box, frame last seen)``."""

    hold: int
    seen: list[tuple[Detection, int]] = field(default_factory=list)
    fine_at: int = -1                  # the last frame the fine pass ran on
    motion: PixelMotion | None = None  # the camera's motion between the frames (None: faces stay put)

    def update(self, found: list[Detection], index: int, plan: ScanPlan, fine: bool = False) -> None:
        """Remember the small faces of frame ``index`` (a fine pass's, if ``fine``); forget those
        unseen for ``hold`` frames, and those found again (where the camera carried them)."""
        if fine:
            self.fine_at = index
        limit = SMALL * DETECT_MIN_PX / plan.coarse_size[1]
        small = [d for d in found if d.y1 - d.y0 < limit]
        kept = []
        for d, i in self.seen:
            at = [p for p in self.places(d, i, index) if _inside(p)]
            again = any(_touch(p, s) for p in at for s in small) or any(overlaps(p, f, iou=0.3) for p in at for f in found)
            if index - i <= self.hold and at and not again:
                kept.append((d, i))   # not found again (a zoom may have made it large), not out of the picture
        self.seen = kept + [(d, index) for d in small]
        if self.motion is not None:
            self.motion.forget(min((i for _, i in self.seen), default=index))

    def places(self, d: Detection, seen: int, index: int) -> list[Detection]:
        """Where face ``d``, seen at frame ``seen``, may be at frame ``index``: where it was and, when
        the camera's motion read from the pixels (``motion.py``) is known and moved it, where the
        camera carried it (a pan or a zoom over still people; a camera following a walker keeps
        them where they were)."""
        sim = self.motion.between(seen, index) if self.motion is not None and seen != index else None
        if sim is None or sim == (1.0, 0.0, 0.0):
            return [d]
        return [type(d)(*carried((d.x0, d.y0, d.x1, d.y1), sim), d.score), d]

    def lost(self, index: int) -> bool:
        """Whether most small faces seen since the last fine pass (two at least) were not found
        again at ``index``, a frame that was looked at around them: a zoom or a fast pan took them
        out of their windows, and the fine pass should find them again now rather than at its next
        turn. A face the last fine pass did not find either (it left the frame) does not count, nor
        one the camera's motion carried out of the picture (still looked for where it was)."""
        recent = [i for d, i in self.seen if i >= self.fine_at and _inside(self.places(d, i, index)[0])]
        missing = sum(i < index for i in recent)
        return missing >= 2 and 2 * missing > len(recent)

    def windows(self, width: int, height: int, found=(), index: int | None = None) -> list[Window]:
        """Read-pixel windows around the remembered faces that none of ``found`` (this frame's
        whole-frame detections) has found again, at each place :meth:`places` gives for frame
        ``index``, overlapping windows joined."""
        boxes, faces = [], []
        for d, i in self.seen:
            at = [d] if index is None else [p for p in self.places(d, i, index) if _inside(p)]
            if any(overlaps(p, f, iou=0.5) for p in at for f in found):     # found again
                continue
            for p in at:
                x0, y0, x1, y1 = p.x0 * width, p.y0 * height, p.x1 * width, p.y1 * height
                r = max(MIN_REACH_PX, REACH * (y1 - y0))
                boxes.append([max(0, int(x0 - r)), max(0, int(y0 - r)), min(width, int(x1 + r) + 1),
                              min(height, int(y1 + r) + 1)])
                faces.append(y1 - y0)
        return _joined(boxes, faces, width, height)


def due(index: int, windows, plan: ScanPlan, tile_every: int) -> bool:
    """Whether frame ``index`` gets a look around the small faces. Looks cost at most what the fine
    pass costs: when the windows cover a large part of the frame (a crowd), they are made less often."""
    if not windows:
        return False
    cost = sum((w.x1 - w.x0) * (w.y1 - w.y0) * w.scale(plan) ** 2 for w in windows)    # detector pixels
    budget = plan.read_size[0] * plan.read_size[1] * plan.upscale ** 2 * REVISIT_EVERY / tile_every
    every = REVISIT_EVERY * max(1, math.ceil(cost / max(1.0, budget)))
    return index % every == 0


def looks(detector, frame: np.ndarray, plan: ScanPlan, windows: list[Window]) -> list:
    """One detector run per window of ``frame`` (at ``plan.read_size``), at the window's scale;
    each returns normalised boxes. The runs are independent (``lanes.py`` runs them side by side)."""
    return [partial(_look, detector, frame, plan, window) for window in windows]


def look_again(detector, frame: np.ndarray, plan: ScanPlan, windows) -> list[Detection]:
    """Faces in ``windows`` of ``frame``, the looks one after another."""
    return [d for run in looks(detector, frame, plan, windows) for d in run()]


def _look(detector, frame: np.ndarray, plan: ScanPlan, window: Window) -> list[Detection]:
    h, w = frame.shape[:2]
    x0, y0, x1, y1, _ = window
    scale = window.scale(plan)
    crop = frame[y0:y1, x0:x1]
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    interpolation = cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA
    big = cv2.resize(crop, size, interpolation=interpolation) if size != (x1 - x0, y1 - y0) else crop
    fx, fy = (x1 - x0) / size[0], (y1 - y0) / size[1]
    return [normalised(d.scaled(fx, fy, x0, y0), w, h, scale)
            for d in detector.detect(np.ascontiguousarray(big), detector.threshold * HYSTERESIS)]


def _inside(d: Detection) -> bool:
    """Whether any of box ``d`` (normalised) is inside the frame."""
    return d.x1 > 0 and d.y1 > 0 and d.x0 < 1 and d.y0 < 1


def _touch(a: Detection, b: Detection) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _joined(boxes: list[list[int]], faces: list[float], width: int, height: int) -> list[Window]:
    """The bounding rectangles of the connected groups of ``boxes`` (one detector call per group
    of neighbouring faces), found on an occupancy grid of GRID-pixel cells: linear in the frame's
    size, however many faces a crowd holds. Each keeps the smallest of its ``faces``."""
    if not boxes:
        return []
    grid = np.zeros((-(-height // GRID), -(-width // GRID)), np.uint8)
    for x0, y0, x1, y1 in boxes:
        grid[y0 // GRID:-(-y1 // GRID), x0 // GRID:-(-x1 // GRID)] = 1
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=4)
    smallest = [math.inf] * count
    for (x0, y0, _, _), face in zip(boxes, faces):
        label = labels[y0 // GRID, x0 // GRID]
        smallest[label] = min(smallest[label], face)
    return [Window(int(x) * GRID, int(y) * GRID, min(width, int(x + w) * GRID), min(height, int(y + h) * GRID),
                   smallest[n]) for n, (x, y, w, h, _) in enumerate(stats[:count]) if n > 0]
