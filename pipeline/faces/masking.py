"""Apply masks to one RGB frame, in place, at any box size.

Called on every output frame (1080x1920, 30 fps) just before captions are burned in, so it only
touches the pixels of each box, with numpy/cv2. Boxes are pixel corners and may reach outside
the frame; only the visible part is drawn, but cells are laid out on the whole box so a face
half out of frame gets the same coarse cells as a whole one.

- ``mosaic``: each box becomes at most ``mosaic_blocks`` cells across its longer side (cells of
  at least 4 px), each cell its mean colour. Nothing finer than a cell survives.
- ``blur``: the same averaging with cells of ``blur_strength`` x the box size (floor 0.2), then
  smoothed; it looks like a blur but holds no detail a deblurring filter could restore.
- ``solid`` (and ``none``, for manual masks only): the preset colour.

``shape = "ellipse"`` draws the ellipse inscribed in a face's box; ``rect`` fills the box. A box
that is not a face (a drawn region, a tracked object, a whole-frame span) is a :class:`Whole` and is
always filled to its corners: an ellipse would leave a plate's characters or a frame's corners.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from pipeline.core.errors import RedactionError
from pipeline.core.geometry import Whole, same_kind

MIN_CELL = 4   # px: a cell is never finer than this, whatever the box size


def to_pixels(boxes, width: int, height: int) -> list[tuple]:
    """Normalised boxes to pixel corners of a ``width`` x ``height`` frame, keeping their kind."""
    return [same_kind(b, (b[0] * width, b[1] * height, b[2] * width, b[3] * height)) for b in boxes]


def _oval(box, settings) -> bool:
    return settings.shape == "ellipse" and not isinstance(box, Whole)


def _pixel_box(box, width: int, height: int):
    x0, y0, x1, y1 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise RedactionError(None, f"mask box {box} is not a number; rendering stopped")
    ix0, iy0, ix1, iy1 = math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)
    cx0, cy0 = min(max(ix0, 0), width), min(max(iy0, 0), height)
    cx1, cy1 = min(max(ix1, 0), width), min(max(iy1, 0), height)
    return (x0, y0, x1, y1), (ix0, iy0, ix1, iy1), (cx0, cy0, cx1, cy1)


def _edges(start: int, full_start: int, stop: int, cell: int) -> np.ndarray:
    """Cell starts inside [start, stop), relative to ``start``, on a grid anchored at ``full_start``."""
    first = full_start + ((start - full_start) // cell + 1) * cell
    inner = np.arange(first, stop, cell) - start
    return np.concatenate([[0], inner]).astype(np.intp)


def _cells(roi: np.ndarray, full: tuple, clip: tuple, cell: int) -> np.ndarray:
    """Mean colour of each grid cell, as a small (rows, cols, 3) float array and the edges. The
    sums come from an integral image (exact in float64 at any frame size)."""
    ry = _edges(clip[1], full[1], clip[3], cell)
    rx = _edges(clip[0], full[0], clip[2], cell)
    ye, xe = np.append(ry, roi.shape[0]), np.append(rx, roi.shape[1])
    depth = cv2.CV_32S if roi.shape[0] * roi.shape[1] * 255 < 2 ** 31 else cv2.CV_64F
    corners = cv2.integral(roi, sdepth=depth)[ye[:, None], xe[None, :]].astype(np.float64)
    sums = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]
    hs, ws = np.diff(ye), np.diff(xe)
    return sums / (hs[:, None, None] * ws[None, :, None]), hs, ws


def _fill(roi: np.ndarray, full: tuple, clip: tuple, settings, side: int | None = None) -> np.ndarray:
    h, w = roi.shape[:2]
    side = side or max(full[2] - full[0], full[3] - full[1])
    method = settings.method
    if method == "mosaic":
        cell = max(MIN_CELL, math.ceil(side / settings.mosaic_blocks))
        means, hs, ws = _cells(roi, full, clip, cell)
        # each cell repeated on the whole box's grid (an integer scale: exact), then the visible part
        grid = cv2.resize(np.rint(means).astype(np.uint8), (len(ws) * cell, len(hs) * cell),
                          interpolation=cv2.INTER_NEAREST_EXACT)
        oy, ox = (clip[1] - full[1]) % cell, (clip[0] - full[0]) % cell
        return grid[oy:oy + h, ox:ox + w].reshape(h, w, -1)
    if method == "blur":
        cell = max(MIN_CELL, math.ceil(side * max(settings.blur_strength, 0.2)))
        means, _, _ = _cells(roi, full, clip, cell)
        # only the cell means go on: smooth them at a quarter of the size, then scale up
        small = cv2.resize(means.astype(np.float32), (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_LINEAR)
        sigma = max(0.5, cell / 8)
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
        small = cv2.convertScaleAbs(small)     # rounds and saturates to uint8 (values are already 0-255)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)
    out = np.empty_like(roi)
    out[:] = np.asarray(settings.color, dtype=np.uint8)
    return out


def _ellipse(full_f: tuple, clip: tuple) -> np.ndarray:
    """Boolean mask, over the clipped box, of the ellipse inscribed in the (unclipped) box."""
    h, w = clip[3] - clip[1], clip[2] - clip[0]
    shift = 4
    k = 1 << shift
    cx = ((full_f[0] + full_f[2]) / 2 - clip[0]) * k
    cy = ((full_f[1] + full_f[3]) / 2 - clip[1]) * k
    ax = math.ceil((full_f[2] - full_f[0]) / 2 * k + k / 2)   # half a pixel more: never short
    ay = math.ceil((full_f[3] - full_f[1]) / 2 * k + k / 2)
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (round(cx), round(cy)), (ax, ay), 0, 0, 360, 1, thickness=-1, lineType=cv2.LINE_8, shift=shift)
    return m.astype(bool)


def _groups(boxes_px, width: int, height: int) -> list[list]:
    """The visible boxes in groups: face boxes that overlap (transitively) form one group, a
    :class:`Whole` box is a group of its own. Each member as ``(box, full_f, full, clip)``."""
    items = []
    for box in boxes_px:
        full_f, full, clip = _pixel_box(box, width, height)
        if clip[2] > clip[0] and clip[3] > clip[1]:
            items.append((box, full_f, full, clip))
    faces = [k for k, it in enumerate(items) if not isinstance(it[0], Whole)]
    root = list(range(len(items)))

    def find(k):
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k
    if len(faces) > 1:
        c = np.array([items[k][3] for k in faces], dtype=np.int64)
        touch = ((c[:, None, 0] < c[None, :, 2]) & (c[None, :, 0] < c[:, None, 2])
                 & (c[:, None, 1] < c[None, :, 3]) & (c[None, :, 1] < c[:, None, 3]))
        for i, j in zip(*np.nonzero(np.triu(touch, 1))):
            root[find(faces[i])] = find(faces[j])
    groups: dict[int, list] = {}
    for k, it in enumerate(items):
        groups.setdefault(find(k), []).append(it)
    return list(groups.values())


def _drawn(group: list, settings) -> tuple[tuple, np.ndarray | None]:
    """The clipped box around a group and the mask of its members' shapes in it (None: all of it)."""
    clip = (min(m[3][0] for m in group), min(m[3][1] for m in group),
            max(m[3][2] for m in group), max(m[3][3] for m in group))
    if len(group) == 1 and not _oval(group[0][0], settings):
        return clip, None
    where = np.zeros((clip[3] - clip[1], clip[2] - clip[0]), bool)
    for box, full_f, _, c in group:
        region = where[c[1] - clip[1]:c[3] - clip[1], c[0] - clip[0]:c[2] - clip[0]]
        region |= _ellipse(full_f, c) if _oval(box, settings) else True
    return clip, where


def paste(dst: np.ndarray, src: np.ndarray, where: np.ndarray) -> None:
    """``dst[where] = src[where]`` in place (``where`` boolean, ``dst`` a view of a frame): OpenCV's
    masked copy, 20x faster than numpy's on a face-sized box. OpenCV writes into a view of a frame
    (rows apart in memory) where it lies, nothing copied; should it ever hand back a new array
    instead, or refuse the view's layout, numpy's copy is made, so a box is never left unmasked."""
    try:
        done = cv2.copyTo(src, np.ascontiguousarray(where).view(np.uint8), dst) is dst
    except cv2.error:   # a layout OpenCV cannot write into (rows in reverse order...)
        done = False
    if not done:
        np.copyto(dst, src, where=where if where.ndim == dst.ndim else where[..., None])


def coverage(shape: tuple[int, int], boxes_px, settings) -> np.ndarray:
    """Boolean (H, W) array of the pixels ``mask_frame`` replaces for ``boxes_px``."""
    height, width = shape[:2]
    cover = np.zeros((height, width), bool)
    for group in _groups(boxes_px, width, height):
        clip, where = _drawn(group, settings)
        region = cover[clip[1]:clip[3], clip[0]:clip[2]]
        region |= True if where is None else where
    return cover


def mask_frame(frame: np.ndarray, boxes_px, settings) -> None:
    """Mask every box of ``boxes_px`` (pixel corners, may reach outside) in ``frame``, in place.

    Face boxes that overlap are drawn as one mosaic (or blur) over their shapes together, on one
    grid of the coarsest member's cells: a second mosaic drawn over the first cut its cells into
    finer ones, and joining them into the box around them masked the corners between neighbours."""
    if frame.ndim != 3 or frame.dtype != np.uint8:
        raise RedactionError(None, f"mask_frame needs an (H, W, 3) uint8 frame, got {frame.shape} {frame.dtype}")
    height, width = frame.shape[:2]
    for group in _groups(boxes_px, width, height):
        clip, where = _drawn(group, settings)
        full = group[0][2] if len(group) == 1 else clip
        side = max(max(m[2][2] - m[2][0], m[2][3] - m[2][1]) for m in group)
        roi = frame[clip[1]:clip[3], clip[0]:clip[2]]
        filled = _fill(roi, full, clip, settings, side)
        if where is None:
            roi[...] = filled
        else:
            paste(roi, filled, where)
