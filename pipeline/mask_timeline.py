"""Which pixels each output frame masks: face boxes of the clip under that frame, mapped through
the clip's reframe placements into 1080x1920 output pixels. The pixels themselves are changed in
:mod:`pipeline.masking`.
"""
from __future__ import annotations

from bisect import bisect_right

import numpy as np

from .analyse import ClipAnalysis


class MaskTimeline:
    def __init__(self, analyses: list[ClipAnalysis], settings, overrides=None):
        self.analyses = analyses
        self.settings = settings
        self.overrides = overrides
        self.starts = []
        total = 0
        for a in analyses:
            self.starts.append(total)
            total += a.span.frame_count
        self.total = total

    def boxes(self, n: int) -> list[tuple[float, float, float, float]]:
        """Output-pixel boxes to mask in episode frame ``n``."""
        i = bisect_right(self.starts, n) - 1
        a = self.analyses[i]
        j = n - self.starts[i]
        if a.faces is None:
            return []
        out = []
        for box in a.faces.boxes_at(j, self._clip_overrides(a)):
            for placement in a.reframer.placements(j):
                mapped = placement.map_box(box)
                if mapped:
                    out.append(mapped)
        return out

    def _clip_overrides(self, a: ClipAnalysis):
        if self.overrides is None:
            return None
        return self.overrides.for_clip(a.span.path.name) if hasattr(self.overrides, "for_clip") else self.overrides

    def any_masks(self) -> bool:
        return any(self.boxes(n) for n in range(self.total))

    def __call__(self, n: int, frame: np.ndarray) -> bool:
        from .masking import mask_frame

        boxes = self.boxes(n)
        if boxes:
            mask_frame(frame, boxes, self.settings)
        return bool(boxes)
