"""Which pixels each output frame masks: face boxes of the clip under that frame, mapped through
the clip's reframe placements into 1080x1920 output pixels. The pixels themselves are changed in
:mod:`pipeline.faces.masking`.
"""
from __future__ import annotations

from bisect import bisect_right

import numpy as np

from pipeline.analyse import ClipAnalysis
from pipeline.faces.masking import mask_frame
from pipeline.faces.moving import follow_overrides
from pipeline.reframe import Placement

Box = tuple[float, float, float, float]


class MaskTimeline:
    def __init__(self, analyses: list[ClipAnalysis], settings, overrides=None):
        self.analyses = analyses
        self.settings = settings
        self.overrides = overrides
        # moving regions are tracked once here (cached), before any frame asks for its boxes
        follow_overrides(overrides, [a.span for a in analyses if a.kind == "clip"])
        self.starts = []
        total = 0
        for a in analyses:
            self.starts.append(total)
            total += a.span.frame_count
        self.total = total

    def locate(self, n: int) -> tuple[int, int]:
        """Episode frame ``n`` as (clip index, frame index within that clip)."""
        i = bisect_right(self.starts, n) - 1
        return i, n - self.starts[i]

    def boxes(self, n: int) -> list[tuple[Placement, list[Box]]]:
        """For episode frame ``n``: each placement with the boxes to mask, relative to its ``dst``."""
        i, j = self.locate(n)
        a = self.analyses[i]
        if a.faces is None:
            return []
        faces = a.faces.boxes_at(j, self.overrides)
        if not faces:
            return []
        out = []
        for placement in a.reframer.placements(j):
            mapped = [m for m in (placement.map_box(b) for b in faces) if m]
            if mapped:
                out.append((placement, mapped))
        return out

    def any_masks(self) -> bool:
        return any(self.boxes(n) for n in range(self.total))

    def __call__(self, n: int, frame: np.ndarray) -> bool:
        """Mask output frame ``n`` in place; placements in drawing order, holes left untouched."""

        work = self.boxes(n)
        for placement, boxes in work:
            x0, y0, x1, y1 = placement.dst
            kept = [(h, frame[h[1]:h[3], h[0]:h[2]].copy()) for h in placement.holes]
            mask_frame(frame[y0:y1, x0:x1], boxes, self.settings)
            for (hx0, hy0, hx1, hy1), pixels in kept:
                frame[hy0:hy1, hx0:hx1] = pixels
        return bool(work)
