"""``crop``: a still 9:16 window around a focus point (centre by default), scaled to 1080x1920."""
from __future__ import annotations

from pipeline.reframe.base import OUT_H, OUT_W, Placement, Reframer, crop_window


class CropReframer(Reframer):
    name = "crop"

    def _window(self) -> tuple[int, int, int, int]:
        x, cw, ch = crop_window(self.width, self.height, self.focus[0])
        y = int(round(self.focus[1] * self.height - ch / 2))
        y = max(0, min(self.height - ch, y))
        return x, y, cw, ch

    def graph(self, stream):
        x, y, cw, ch = self._window()
        return stream.filter("crop", cw, ch, x, y).filter("scale", OUT_W, OUT_H, flags="bicubic").filter("setsar", 1)

    def placements(self, frame_index: int) -> list[Placement]:
        x, y, cw, ch = self._window()
        src = (x / self.width, y / self.height, (x + cw) / self.width, (y + ch) / self.height)
        return [Placement(src, (0, 0, OUT_W, OUT_H))]
