"""Masks drawn on I420 (yuv420p) frames: only the pixels a mask changes leave the decoder's values.

The masked render streams yuv420p from the decoder to the encoder (the encoder's own format, so
neither side converts a whole frame to RGB and back). For a frame with masks, only even-aligned
rectangles around its boxes (one around each set of overlapping boxes) are converted to RGB (BT.601 limited range, as ffmpeg converts untagged
yuv420p), masked there by the usual RGB masking, and converted back; then only the pixels the mask
changed get a new luma, and only the 2x2 cells holding a changed pixel a new chroma: every other
pixel stays bit-exact as decoded. A changed cell's chroma is that of the mean of its four pixels
(OpenCV's own RGB -> I420 takes the top-left pixel's, which could keep an unmasked neighbour's
colour over three masked pixels).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from pipeline.faces.masking import paste

PAD = 2   # px around the boxes' pixel bounds: a rectangle never cuts a box by a rounding
CHANNEL_SUM = np.ones((1, 3), np.float32)


def frame_size(width: int, height: int) -> int:
    """Bytes of one I420 frame."""
    return width * height * 3 // 2


def planes(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a flat I420 frame's Y (h, w), U and V (h/2, w/2) planes."""
    y_end, q = width * height, width * height // 4
    return (frame[:y_end].reshape(height, width), frame[y_end:y_end + q].reshape(height // 2, width // 2),
            frame[y_end + q:y_end + 2 * q].reshape(height // 2, width // 2))


def _pixels(work, width: int, height: int) -> list[list[int]] | None:
    """Each box of ``work`` as the frame pixels it can change, padded; None for a box that is not a
    number (the whole frame is handed over: the masker refuses such a box there, as it always did)."""
    rects = []
    for placement, boxes in work:
        dx0, dy0, dx1, dy1 = placement.dst
        for box in boxes:
            b = [float(v) for v in box]
            if not all(math.isfinite(v) for v in b):
                return None
            bx0, bx1 = (min(max(v, 0), dx1 - dx0) for v in (math.floor(b[0]), math.ceil(b[2])))
            by0, by1 = (min(max(v, 0), dy1 - dy0) for v in (math.floor(b[1]), math.ceil(b[3])))
            if bx1 > bx0 and by1 > by0:
                rects.append([max(0, dx0 + bx0 - PAD), max(0, dy0 + by0 - PAD),
                              min(width, dx0 + bx1 + PAD), min(height, dy0 + by1 + PAD)])
    return rects


def touched(work, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The even-aligned rectangles (x0, y0, x1, y1) of the frame that masking ``work`` (placements
    with boxes relative to their ``dst``, as ``MaskTimeline.boxes`` gives them) can read or change,
    none overlapping another: boxes that overlap share one rectangle around them (the masker
    draws overlapping faces as one mosaic over the box around them). Empty when no box reaches the
    picture; the whole frame when a box is not a number."""
    rects = _pixels(work, width, height)
    if rects is None:
        return [(0, 0, width, height)]
    rects = [[r[0] // 2 * 2, r[1] // 2 * 2, -(-r[2] // 2) * 2, -(-r[3] // 2) * 2] for r in rects]
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    a[:] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    rects.remove(b)
                    merged = True
                    break
            if merged:
                break
    return [tuple(int(v) for v in r) for r in rects]


def to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """RGB of I420 planes (any even size), as ffmpeg converts untagged yuv420p (BT.601, limited)."""
    h, w = y.shape
    packed = np.empty((h * 3 // 2, w), np.uint8)
    flat = packed.reshape(-1)
    q = h * w // 4
    packed[:h] = y
    flat[h * w:h * w + q] = u.reshape(-1)
    flat[h * w + q:] = v.reshape(-1)
    return cv2.cvtColor(packed, cv2.COLOR_YUV2RGB_I420)


def from_rgb(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """I420 planes of an RGB image (even size): each pixel's luma, each 2x2 cell's chroma from the
    mean of its four pixels."""
    h, w = rgb.shape[:2]
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)[:h]
    means = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)   # exact 2x2 means
    cells = cv2.resize(means, (w, h), interpolation=cv2.INTER_NEAREST)
    flat = cv2.cvtColor(cells, cv2.COLOR_RGB2YUV_I420).reshape(-1)
    q = h * w // 4
    return luma, flat[h * w:h * w + q].reshape(h // 2, w // 2), flat[h * w + q:].reshape(h // 2, w // 2)


class I420Masker:
    """Masks I420 frames of ``width`` x ``height`` in place with an RGB drawing function.

    ``draw(rgb, work)`` masks ``work`` on a full-size RGB frame in place (``MaskTimeline.draw``);
    here only the rectangles :func:`touched` gives are filled with the frame's pixels, which is
    all the masks read or write (the rest of the RGB buffer is stale and never written back)."""

    def __init__(self, width: int, height: int, draw: Callable[[np.ndarray, list], bool]):
        self.width, self.height, self.draw = width, height, draw
        self.rgb = np.zeros((height, width, 3), np.uint8)

    def __call__(self, frame: np.ndarray, work) -> bool:
        """Mask ``work`` on the flat I420 ``frame`` in place; True when a pixel changed."""
        rects = touched(work, self.width, self.height) if work else []
        if not rects:
            return False
        y, u, v = planes(frame, self.width, self.height)
        before = []
        for x0, y0, x1, y1 in rects:
            cy, cx = slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2)
            before.append(to_rgb(y[y0:y1, x0:x1], u[cy, cx], v[cy, cx]))
            self.rgb[y0:y1, x0:x1] = before[-1]
        self.draw(self.rgb, work)
        changed_any = False
        for (x0, y0, x1, y1), old in zip(rects, before):
            region = np.ascontiguousarray(self.rgb[y0:y1, x0:x1])
            # any channel changed: the channels' absolute differences summed (saturating), non-zero
            changed = cv2.transform(cv2.absdiff(region, old), CHANNEL_SUM) > 0
            if not changed.any():
                continue
            changed_any = True
            new_y, new_u, new_v = from_rgb(region)
            paste(y[y0:y1, x0:x1], new_y, changed)
            cells = (changed[0::2, 0::2] | changed[0::2, 1::2]) | (changed[1::2, 0::2] | changed[1::2, 1::2])
            cy, cx = slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2)
            paste(u[cy, cx], new_u, cells)
            paste(v[cy, cx], new_v, cells)
        return changed_any
