"""The reframe interface: how a normalised clip becomes a 1080x1920 picture.

A strategy does two things for one clip:

* ``graph(stream)`` adds its ffmpeg filters (crop, scale, overlay...) to the render graph;
* ``placements(frame_index)`` says where each part of the source lands in the output, so masks
  computed on the source follow the reframing exactly (a face in a ``fit`` frame is masked both in
  the sharp foreground and in the blurred background).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from pipeline.core.geometry import OUT_H, OUT_W, same_kind

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Placement:
    """A source rectangle (normalised 0..1) shown in an output rectangle ``dst`` (pixels).

    ``holes`` are output rectangles drawn over this placement by a later one (the sharp
    foreground of ``fit`` over its blurred background): masks of this placement must not touch them.
    """

    src: Box
    dst: tuple[int, int, int, int]
    holes: tuple[tuple[int, int, int, int], ...] = ()

    def map_box(self, box: Box) -> Box | None:
        """A normalised source ``box`` in pixels relative to ``dst``'s corner, unclipped (the mask
        keeps its full shape; the masker clips it), or None when it does not reach ``dst``."""
        sx0, sy0, sx1, sy1 = self.src
        dx0, dy0, dx1, dy1 = self.dst
        kx = (dx1 - dx0) / (sx1 - sx0)
        ky = (dy1 - dy0) / (sy1 - sy0)
        x0, x1 = (box[0] - sx0) * kx, (box[2] - sx0) * kx
        y0, y1 = (box[1] - sy0) * ky, (box[3] - sy0) * ky
        if x1 <= 0 or y1 <= 0 or x0 >= dx1 - dx0 or y0 >= dy1 - dy0:
            return None
        # a box's kind survives the mapping (a drawn region is masked to its corners: faces.masking.Whole)
        return same_kind(box, (x0, y0, x1, y1))


class Reframer(ABC):
    """One strategy bound to one clip of working size ``size`` (width, height)."""

    name = "base"

    def __init__(self, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.5)):
        self.width, self.height = size
        self.focus = focus

    @abstractmethod
    def graph(self, stream):
        """Return ``stream`` reframed to OUT_W x OUT_H (ffmpeg-python)."""

    @abstractmethod
    def placements(self, frame_index: int) -> list[Placement]:
        """Where the source shows in output frame ``frame_index`` of this clip."""

    def describe(self) -> dict:
        return {"strategy": self.name, "focus": list(self.focus)}


def crop_window(width: int, height: int, focus_x: float) -> tuple[int, int, int]:
    """Largest 9:16 window of a ``width`` x ``height`` frame centred on ``focus_x``: (x, w, h)."""
    cw = min(width, int(round(height * OUT_W / OUT_H)))
    ch = min(height, int(round(cw * OUT_H / OUT_W)))
    cw -= cw % 2
    ch -= ch % 2
    x = int(round(focus_x * width - cw / 2))
    return max(0, min(width - cw, x)), cw, ch
