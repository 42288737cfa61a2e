"""Labelled test clips for the masking benchmarks: the hand-labelled photos of
``../shared/media/images`` (``faces_gt.json``) filmed by a virtual camera, so every face's box is
known on every frame without asking a detector; and the scoring of masks against those boxes.

- :func:`make_panzoom`: the four photos on a 2x2 grid, a camera that zooms into each and pans;
- :func:`make_small`: the photos shrunk so faces are 11.5 to 23 px tall in the 1080p frame
  (20 to 41 px in the 1080x1920 output), slow pan and zoom, textured background.

"Covered" means every pixel of a labelled box's visible part lies inside the mask.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import SHARED_MEDIA as MEDIA
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe

W, H, FPS = 1920, 1080, 30


def covered(cover: np.ndarray, box) -> bool | None:
    """All pixels of the visible part of ``box``; None if less than half of it is in the frame."""
    h, w = cover.shape
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0))), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
    if cx1 <= cx0 or cy1 <= cy0 or (cx1 - cx0) * (cy1 - cy0) < 0.5 * (x1 - x0) * (y1 - y0):
        return None
    return bool(cover[cy0:cy1, cx0:cx1].all())


def leaked(per_frame_truth, tracks, settings, shape=(1080, 1920)) -> list:
    """``(frame, box)`` of every labelled face not wholly inside the masks the render draws on
    that frame from ``tracks`` (a ``FaceTracks``) with ``settings``."""
    from pipeline.faces.masking import coverage

    h, w = shape
    out = []
    for i, boxes in enumerate(per_frame_truth):
        cover = coverage(shape, px(tracks.boxes_at(i), w, h), settings)
        out += [(i, [round(v) for v in b]) for b in boxes if covered(cover, b) is False]
    return out


def darkened(img: np.ndarray) -> np.ndarray:
    """``img`` (uint8) as at night under street lights: brightness -0.30, then gamma 0.55, as ffmpeg's
    ``eq`` filter in ``tests/turned_world.py`` darkens the clips."""
    return (np.clip(img / 255.0 - 0.30, 0, 1) ** (1 / 0.55) * 255).astype(np.uint8)


def px(boxes, w, h):
    return [(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in boxes]


def load_truth():
    data = json.loads((MEDIA / "images" / "faces_gt.json").read_text())["images"]
    out = {}
    for name, entry in data.items():
        rgb = cv2.cvtColor(cv2.imread(str(MEDIA / "images" / name)), cv2.COLOR_BGR2RGB)
        out[name] = (rgb, [(x, y, x + w, y + h) for x, y, w, h in entry["faces"]])
    return out


# -- 2. pan-and-zoom video with known truth ------------------------------------------------------
def world(truth):
    """The four photos on a 2x2 grid of 560x560 cells (grey), with their boxes in world pixels."""
    cell = 560
    img = np.full((2 * cell, 2 * cell, 3), 120, np.uint8)
    boxes = []
    for k, (rgb, bs) in enumerate(truth.values()):
        h, w = rgb.shape[:2]
        ox, oy = (k % 2) * cell + (cell - w) // 2, (k // 2) * cell + (cell - h) // 2
        img[oy:oy + h, ox:ox + w] = rgb
        boxes += [(x0 + ox, y0 + oy, x1 + ox, y1 + oy) for x0, y0, x1, y1 in bs]
    return img, np.array(boxes, float)


def camera(t: float, seconds: float):
    """Viewport centre and height in world pixels: wide, zoom into each photo, pan, zoom out."""
    keys = [(0.00, 560, 560, 1120), (0.15, 280, 280, 420), (0.35, 840, 280, 380), (0.55, 840, 840, 470),
            (0.75, 280, 840, 400), (0.90, 560, 700, 900), (1.00, 560, 560, 1120)]
    u = t / seconds
    for (u0, *a), (u1, *b) in zip(keys, keys[1:]):
        if u <= u1:
            s = (u - u0) / (u1 - u0)
            s = s * s * (3 - 2 * s)
            return [p + (q - p) * s for p, q in zip(a, b)]
    return keys[-1][1:]


def _encode_camera(img, boxes, path: Path, n: int, move, what: str, **warp):
    """Film ``img`` with a camera ``move(i) -> (zoom, cx, cy)`` for ``n`` frames; the true boxes per frame."""
    per_frame = []
    cmd = [ffmpeg_exe(), *BASE_ARGS, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS),
           "-i", "pipe:", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for i in range(n):
        z, cx, cy = move(i)
        m = np.array([[z, 0, W / 2 - z * cx], [0, z, H / 2 - z * cy]])
        proc.stdin.write(cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_LINEAR, **warp).tobytes())
        per_frame.append(np.stack([boxes[:, 0] * z + m[0, 2], boxes[:, 1] * z + m[1, 2],
                                   boxes[:, 2] * z + m[0, 2], boxes[:, 3] * z + m[1, 2]], axis=1))
    proc.stdin.close()
    if proc.wait():
        raise SystemExit(f"ffmpeg failed to encode the {what} clip")
    return per_frame


def make_panzoom(truth, path: Path, seconds: float):
    img, boxes = world(truth)

    def move(i):
        cx, cy, vh = camera(i / FPS, seconds)
        return H / vh, cx, cy                            # output px per world px
    return _encode_camera(img, boxes, path, int(seconds * FPS), move, "pan-and-zoom", borderValue=(120, 120, 120))


def score_video(per_frame_truth, boxes_at, shape) -> tuple[int, int, int]:
    """(frames with a leak, covered face-frames, counted face-frames)."""
    leaks = hit = total = 0
    for i, truth in enumerate(per_frame_truth):
        cover = boxes_at(i)
        leak = False
        for b in truth:
            c = covered(cover, b)
            if c is None:
                continue
            total += 1
            hit += c
            leak |= not c
        leaks += leak
    return leaks, hit, total


def small_world(truth):
    """The four photos shrunk so every labelled face is 11.5 px tall at least (the smallest
    face of each photo), twice each, on a textured background; boxes in world pixels."""
    rng = np.random.default_rng(7)
    noise = rng.integers(60, 200, (H // 8, W // 8, 3), dtype=np.uint8)
    img = cv2.GaussianBlur(cv2.resize(noise, (W, H), interpolation=cv2.INTER_CUBIC), (0, 0), 3)
    boxes = []
    spots = [(150, 120), (700, 150), (1350, 110), (300, 620), (900, 700), (1500, 640), (1000, 420), (80, 880)]
    items = list(truth.values()) * 2
    for (rgb, bs), (ox, oy) in zip(items, spots):
        s = 11.5 / min(b[3] - b[1] for b in bs)
        small = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        h, w = small.shape[:2]
        img[oy:oy + h, ox:ox + w] = small
        boxes += [(x0 * s + ox, y0 * s + oy, x1 * s + ox, y1 * s + oy) for x0, y0, x1, y1 in bs]
    return img, np.array(boxes, float)


def make_small(truth, path: Path, seconds: float):
    """A slow pan and a zoom from 1x to 1.4x over ``small_world``: faces 11.5 to 23 px tall in the
    1080p frame, i.e. 20 to 41 px in the 1080x1920 output (a 1080p source fills it at 1.78x)."""
    img, boxes = small_world(truth)
    n = int(seconds * FPS)

    def move(i):
        u = i / max(n - 1, 1)
        z = 1.0 + 0.4 * (0.5 - 0.5 * np.cos(np.pi * u))
        return z, W / 2 + 60 * np.sin(2 * np.pi * u), H / 2 + 30 * np.sin(np.pi * u)
    return _encode_camera(img, boxes, path, n, move, "small-face", borderMode=cv2.BORDER_REFLECT)


def face_area(per_frame_truth, shape=(H, W)) -> float:
    """Pixels of the labelled boxes' visible parts, summed over the frames (boxes whose visible
    part is under half of them are left out, as :func:`score_video` leaves them out)."""
    h, w = shape
    total = 0.0
    for truth in per_frame_truth:
        cover = np.zeros((h, w), bool)
        for x0, y0, x1, y1 in truth:
            cx0, cy0, cx1, cy1 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0))), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
            if cx1 > cx0 and cy1 > cy0 and (cx1 - cx0) * (cy1 - cy0) >= 0.5 * (x1 - x0) * (y1 - y0):
                cover[cy0:cy1, cx0:cx1] = True
        total += cover.sum()
    return float(total)


CLIPS = {"panzoom": make_panzoom, "small": make_small}
