"""Masks drawn on I420 (yuv420p) frames: only the pixels a mask changes leave the decoder's values.

The masked render streams yuv420p from the decoder to the encoder (the encoder's own format, so
neither side converts a whole frame to RGB and back). For a frame with masks, only the even-aligned
rectangle around its boxes is converted to RGB (BT.601 limited range, as ffmpeg converts untagged
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

PAD = 2   # px around the boxes' pixel bounds: the rectangle never cuts a box by a rounding


def frame_size(width: int, height: int) -> int:
    """Bytes of one I420 frame."""
    return width * height * 3 // 2


def planes(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a flat I420 frame's Y (h, w), U and V (h/2, w/2) planes."""
    y_end, q = width * height, width * height // 4
    return (frame[:y_end].reshape(height, width), frame[y_end:y_end + q].reshape(height // 2, width // 2),
            frame[y_end + q:y_end + 2 * q].reshape(height // 2, width // 2))


def touched(work, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The even-aligned rectangle (x0, y0, x1, y1) of the frame that masking ``work`` (placements
    with boxes relative to their ``dst``, as ``MaskTimeline.boxes`` gives them) can change, or None
    when no box reaches the picture. A box that is not a number gives the whole frame: the masker
    refuses it there, as it always did."""
    x0 = y0 = math.inf
    x1 = y1 = -math.inf
    for placement, boxes in work:
        dx0, dy0, dx1, dy1 = placement.dst
        for box in boxes:
            b = [float(v) for v in box]
            if not all(math.isfinite(v) for v in b):
                return 0, 0, width, height
            bx0, bx1 = (min(max(v, 0), dx1 - dx0) for v in (math.floor(b[0]), math.ceil(b[2])))
            by0, by1 = (min(max(v, 0), dy1 - dy0) for v in (math.floor(b[1]), math.ceil(b[3])))
            if bx1 > bx0 and by1 > by0:
                x0, y0 = min(x0, dx0 + bx0), min(y0, dy0 + by0)
                x1, y1 = max(x1, dx0 + bx1), max(y1, dy0 + by1)
    if x1 <= x0:
        return None
    x0, y0 = max(0, (x0 - PAD) // 2 * 2), max(0, (y0 - PAD) // 2 * 2)
    x1, y1 = min(width, -(-(x1 + PAD) // 2) * 2), min(height, -(-(y1 + PAD) // 2) * 2)
    return int(x0), int(y0), int(x1), int(y1)


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
    here only the rectangle :func:`touched` gives is filled with the frame's pixels, which is all
    the masks read or write (the rest of the RGB buffer is stale and never written back)."""

    def __init__(self, width: int, height: int, draw: Callable[[np.ndarray, list], bool]):
        self.width, self.height, self.draw = width, height, draw
        self.rgb = np.zeros((height, width, 3), np.uint8)

    def __call__(self, frame: np.ndarray, work) -> bool:
        """Mask ``work`` on the flat I420 ``frame`` in place; True when a pixel changed."""
        if not work:
            return False
        rect = touched(work, self.width, self.height)
        if rect is None:
            return False
        x0, y0, x1, y1 = rect
        y, u, v = planes(frame, self.width, self.height)
        cy, cx = slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2)
        before = to_rgb(y[y0:y1, x0:x1], u[cy, cx], v[cy, cx])
        region = self.rgb[y0:y1, x0:x1]
        region[...] = before
        self.draw(self.rgb, work)
        changed = (region != before).any(axis=2)
        if not changed.any():
            return False
        new_y, new_u, new_v = from_rgb(np.ascontiguousarray(region))
        np.copyto(y[y0:y1, x0:x1], new_y, where=changed)
        h, w = changed.shape
        cells = changed.reshape(h // 2, 2, w // 2, 2).any(axis=(1, 3))
        np.copyto(u[cy, cx], new_u, where=cells)
        np.copyto(v[cy, cx], new_v, where=cells)
        return True
