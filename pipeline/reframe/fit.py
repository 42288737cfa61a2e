"""``fit``: the whole frame, sharp, over a blurred and darkened copy that fills 9:16."""
from __future__ import annotations

import ffmpeg

from pipeline.reframe.base import OUT_H, OUT_W, Placement, Reframer

BLUR_SCALE = 4  # blur a quarter-size copy: same look, a sixteenth of the work


class FitReframer(Reframer):
    name = "fit"

    def _foreground(self) -> tuple[int, int]:
        scale = min(OUT_W / self.width, OUT_H / self.height)
        fw = min(OUT_W, int(round(self.width * scale / 2)) * 2)
        fh = min(OUT_H, int(round(self.height * scale / 2)) * 2)
        return fw, fh

    def _background_src(self) -> tuple[float, float, float, float]:
        """Normalised part of the source that the cover-scaled background shows."""
        scale = max(OUT_W / self.width, OUT_H / self.height)
        vis_w = OUT_W / (self.width * scale)
        vis_h = OUT_H / (self.height * scale)
        return (0.5 - vis_w / 2, 0.5 - vis_h / 2, 0.5 + vis_w / 2, 0.5 + vis_h / 2)

    def graph(self, stream):
        fw, fh = self._foreground()
        if (fw, fh) == (OUT_W, OUT_H):
            return stream.filter("scale", OUT_W, OUT_H, flags="bicubic").filter("setsar", 1)
        split = stream.filter_multi_output("split")
        bw, bh = OUT_W // BLUR_SCALE, OUT_H // BLUR_SCALE
        bg = (split[0].filter("scale", bw, bh, force_original_aspect_ratio="increase")
              .filter("crop", bw, bh).filter("boxblur", 12, 2)
              .filter("eq", brightness=-0.08).filter("scale", OUT_W, OUT_H, flags="bilinear"))
        fg = split[1].filter("scale", fw, fh, flags="bicubic")
        return ffmpeg.overlay(bg, fg, x=(OUT_W - fw) // 2, y=(OUT_H - fh) // 2).filter("setsar", 1)

    def placements(self, frame_index: int) -> list[Placement]:
        fw, fh = self._foreground()
        x0, y0 = (OUT_W - fw) // 2, (OUT_H - fh) // 2
        fg = Placement((0.0, 0.0, 1.0, 1.0), (x0, y0, x0 + fw, y0 + fh))
        if (fw, fh) == (OUT_W, OUT_H):
            return [fg]
        return [Placement(self._background_src(), (0, 0, OUT_W, OUT_H), holes=(fg.dst,)), fg]
