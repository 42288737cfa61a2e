"""Labelled faces in moving video, turned, darkened, blurred or shrunk (issue #26's fixtures).

The four dlib photos of ``../shared/media/images`` (14 hand-labelled faces) are laid on a
1920x1080 world that the camera pans across. Each labelled face is a polygon (its box, turned with
its photo), so a test can ask whether every pixel of every face is covered by the masks on every
frame. Variants:

- ``turn_faces=θ``: each photo turned θ degrees clockwise inside an upright picture (people
  lying down, a phone on its side);
- ``turn_picture=θ``: the whole picture turned (a camera mounted upside down or sideways);
- ``dark``: brightness -0.30, gamma 0.55 (ffmpeg ``eq``), as at night under street lights;
- ``motion_blur``: a 15 px horizontal streak; ``soft``: a Gaussian blur of sigma 2.5;
- ``scale``: the photos' size, so that the smallest face is ``smallest`` px tall.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.faces.masking import coverage

W, H = 1920, 1080
PLACES = [(420, 290), (1380, 300), (560, 790), (1450, 790)]    # photo centres in the world


@dataclass(frozen=True)
class Variant:
    name: str
    turn_faces: int = 0
    turned_photo: int | None = None  # turn only this photo (0-3) by turn_faces; the others stay upright
    turn_picture: int = 0
    dark: bool = False
    motion_blur: bool = False
    soft: bool = False
    smallest: float = 30.0          # px tall, the smallest labelled face in the source frame
    frames: int = 24
    speed: float = 2.0              # px per frame the world moves right


def _turn(img: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """``img`` turned ``degrees`` clockwise on a canvas that holds it whole, and the affine map."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(h * s + w * c)), int(np.ceil(h * c + w * s))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)), m


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return np.c_[pts, np.ones(len(pts))] @ m.T


def world(media: Path, v: Variant) -> tuple[np.ndarray, list[np.ndarray]]:
    """The world image and each face's polygon in world pixels."""
    truth = json.loads((media / "images" / "faces_gt.json").read_text())["images"]
    rng = np.random.default_rng(7)
    canvas = cv2.GaussianBlur(cv2.resize(rng.integers(50, 210, (120, 220, 3), dtype=np.uint8), (W + 200, H)),
                              (0, 0), 4)
    smallest = min(h for entry in truth.values() for *_, h in entry["faces"])
    polys, polys_of = [], []
    for (name, entry), (cx, cy) in zip(truth.items(), PLACES):
        rgb = cv2.cvtColor(cv2.imread(str(media / "images" / name)), cv2.COLOR_BGR2RGB)
        s = v.smallest / smallest
        photo = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        angle = v.turn_faces if v.turned_photo in (None, len(polys_of)) else 0
        polys_of.append(name)
        turned, m = _turn(photo, angle)
        inside, _ = _turn(np.full(photo.shape[:2], 255, np.uint8), angle)
        th, tw = turned.shape[:2]
        x0, y0 = int(cx - tw / 2) + 100, int(cy - th / 2)
        assert x0 >= 0 and y0 >= 0 and x0 + tw <= canvas.shape[1] and y0 + th <= H, f"{name} does not fit"
        region = canvas[y0:y0 + th, x0:x0 + tw]
        alpha = (inside[..., None] > 127)
        region[:] = np.where(alpha, turned, region)
        for x, y, w, h in entry["faces"]:
            corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], float) * s
            polys.append(_apply(m, corners) + [x0, y0])
    return canvas, polys


def _look(frame: np.ndarray, v: Variant) -> np.ndarray:
    if v.motion_blur:
        kernel = np.zeros((15, 15), np.float32)
        kernel[7, :] = 1 / 15
        frame = cv2.filter2D(frame, -1, kernel)
    if v.soft:
        frame = cv2.GaussianBlur(frame, (0, 0), 2.5)
    return frame


def build(media: Path, folder: Path, v: Variant) -> tuple[Path, list[list[np.ndarray]]]:
    """Write ``<folder>/<name>.mp4`` and return the face polygons of each frame, in the pixels of
    the file's frames (after ``turn_picture``)."""
    canvas, polys = world(media, v)
    path = folder / f"{v.name}.mp4"
    vf = ["eq=brightness=-0.30:gamma=0.55"] if v.dark else []
    if v.turn_picture == 180:
        vf.append("hflip,vflip")
    elif v.turn_picture == 90:
        vf.append("transpose=clock")
    elif v.turn_picture == 270:
        vf.append("transpose=cclock")
    cmd = [ffmpeg_exe(), *BASE_ARGS, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", "30",
           "-i", "pipe:", *(["-vf", ",".join(vf)] if vf else []), "-c:v", "libx264", "-preset", "ultrafast",
           "-crf", "14", "-pix_fmt", "yuv420p", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    per_frame = []
    for i in range(v.frames):
        dx = v.speed * i - 100
        m = np.float32([[1, 0, dx], [0, 1, 0]])
        proc.stdin.write(_look(cv2.warpAffine(canvas, m, (W, H), flags=cv2.INTER_LINEAR), v).tobytes())
        per_frame.append([_picture(p + [dx, 0], v.turn_picture) for p in polys])
    proc.stdin.close()
    assert proc.wait() == 0
    return path, per_frame


def _picture(poly: np.ndarray, degrees: int) -> np.ndarray:
    """World-frame points in the frame turned ``degrees`` clockwise."""
    x, y = poly[:, 0], poly[:, 1]
    if degrees == 180:
        return np.c_[W - x, H - y]
    if degrees == 90:
        return np.c_[H - y, x]
    if degrees == 270:
        return np.c_[y, W - x]
    return poly


def frame_size(v: Variant) -> tuple[int, int]:
    return (H, W) if v.turn_picture in (90, 270) else (W, H)


def leaks(tracks, per_frame: list[list[np.ndarray]], v: Variant, settings) -> list[tuple]:
    """``(frame, face, uncovered pixels)`` for every face not wholly covered on a frame."""
    w, h = frame_size(v)
    out = []
    for i, faces in enumerate(per_frame):
        cover = coverage((h, w), [(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in tracks.boxes_at(i)], settings)
        for n, poly in enumerate(faces):
            face = np.zeros((h, w), np.uint8)
            cv2.fillPoly(face, [np.round(poly).astype(np.int32)], 1)
            face = cv2.erode(face, np.ones((3, 3), np.uint8))   # the label's own edge is a pixel wide
            missed = int((face.astype(bool) & ~cover).sum())
            if missed:
                out.append((i, n, missed))
    return out
