"""The labelled photos shrunk onto a textured background: a world of real faces of known boxes,
each photo's smallest face ``min_px`` tall (used by the small-face, repeated-frame and detector tests)."""
from __future__ import annotations

import json

import cv2
import numpy as np


def small_face_world(shared_media, seed: int, size: tuple[int, int], grain: tuple[int, int],
                     places: list[tuple[int, int]], min_px: float):
    """``(world, boxes)``: an RGB picture of ``size`` (w, h), blurred noise of ``grain`` cells (h, w),
    with the four labelled photos pasted at ``places``; ``boxes`` are every labelled face's corners
    ``(x0, y0, x1, y1)`` in world pixels."""
    rng = np.random.default_rng(seed)
    world = cv2.GaussianBlur(cv2.resize(rng.integers(60, 200, (*grain, 3), dtype=np.uint8), size), (0, 0), 3)
    truth = json.loads((shared_media / "images" / "faces_gt.json").read_text())["images"]
    boxes = []
    for (name, entry), (ox, oy) in zip(truth.items(), places):
        rgb = cv2.cvtColor(cv2.imread(str(shared_media / "images" / name)), cv2.COLOR_BGR2RGB)
        s = min_px / min(h for _, _, _, h in entry["faces"])
        small = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        world[oy:oy + small.shape[0], ox:ox + small.shape[1]] = small
        boxes += [(x * s + ox, y * s + oy, (x + w) * s + ox, (y + h) * s + oy) for x, y, w, h in entry["faces"]]
    return world, boxes
