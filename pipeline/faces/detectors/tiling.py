"""Find small faces in big frames: run a detector on overlapping tiles, upscaled when needed.

A face 20 px tall in the 1080x1920 output may be a few pixels tall in a 640 px analysis frame,
below what CenterFace sees (about 10-12 px). ``detect_tiled`` cuts the frame into overlapping
tiles of at most ``tile`` pixels (after upscaling by ``upscale``), detects on each, and maps the
boxes back. A box touching an inner tile edge, or larger than the overlap, is dropped: a face
smaller than the overlap lies whole in some tile, and a larger one is found by the whole-frame pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.faces.detectors.base import Detection, FaceDetector, nms
from pipeline.faces.params import PARAMS

TILE = PARAMS.tile           # largest tile fed to the detector (w, h), in detector pixels
OVERLAP = PARAMS.overlap     # detector pixels shared by neighbouring tiles
EDGE = PARAMS.tile_edge      # a box this close to an inner tile edge is a cut face: the neighbour has it whole


def tile_origins(length: int, tile: int, overlap: int) -> tuple[list[int], int]:
    """Start offsets of equal tiles of ``tile`` pixels covering ``length``, sharing >= ``overlap``."""
    if length <= tile:
        return [0], length
    n = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (n - 1)) for i in range(n)], tile


@dataclass(frozen=True)
class Tile:
    """One tile: its place in the frame (frame pixels) and the size it is fed to the detector at."""

    x: int
    y: int
    w: int
    h: int
    size: tuple[int, int]


def tiles(width: int, height: int, upscale: float = 1.0, tile: tuple[int, int] = TILE,
          overlap: int = OVERLAP) -> list[Tile]:
    """The overlapping tiles over a ``width`` x ``height`` frame enlarged by ``upscale``."""
    tw, th = tile[0] / upscale, tile[1] / upscale       # tile geometry in frame pixels
    ov = overlap / upscale
    xs, sw = tile_origins(width, round(tw), round(ov))
    ys, sh = tile_origins(height, round(th), round(ov))
    # every tile is fed at the same size, so the detector keeps one input shape
    size = (min(tile[0], round(sw * upscale)), min(tile[1], round(sh * upscale)))
    return [Tile(x, y, sw, sh, size) for y in ys for x in xs]


def detect_tile(detector: FaceDetector, frame: np.ndarray, t: Tile, overlap: int = OVERLAP) -> list[Detection]:
    """Faces whole in tile ``t`` of ``frame``, in frame pixels. Tiles are independent: they may be
    run side by side (``faces/lanes.py``); ``nms`` over all of them gives the frame's faces."""
    h, w = frame.shape[:2]
    crop = frame[t.y:t.y + t.h, t.x:t.x + t.w]
    if (t.w, t.h) != t.size:
        crop = cv2.resize(crop, t.size, interpolation=cv2.INTER_LINEAR)
    fy, fx = t.h / crop.shape[0], t.w / crop.shape[1]
    ch, cw = crop.shape[:2]
    out = []
    for d in detector.detect(np.ascontiguousarray(crop)):
        cut = ((t.x > 0 and d.x0 <= EDGE) or (t.y > 0 and d.y0 <= EDGE)
               or (t.x + t.w < w and d.x1 >= cw - EDGE) or (t.y + t.h < h and d.y1 >= ch - EDGE))
        big = max(d.x1 - d.x0, d.y1 - d.y0) > overlap   # may be cut anywhere: the whole frame has it
        if not cut and not big:
            out.append(d.scaled(fx, fy, t.x, t.y))
    return out


def detect_tiled(detector: FaceDetector, frame: np.ndarray, upscale: float = 1.0,
                 tile: tuple[int, int] = TILE, overlap: int = OVERLAP) -> list[Detection]:
    """Detections in ``frame`` pixels, from tiles of ``frame`` enlarged by ``upscale``."""
    h, w = frame.shape[:2]
    return nms([d for t in tiles(w, h, upscale, tile, overlap) for d in detect_tile(detector, frame, t, overlap)])
