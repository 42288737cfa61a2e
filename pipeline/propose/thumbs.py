"""The pictures of ``proposals.html``: a few frames per proposal, every face masked.

Each frame is decoded at 640 px on its longer side, the face detector runs on exactly that frame,
whole and enlarged twice (small faces: a face 10 px tall in a thumbnail is found at 2x, at a
lower threshold than the render's, since masking more costs nothing here), every face it finds
is padded and masked as the render masks it (:func:`pipeline.faces.masking.mask_frame`,
the campaign's redaction preset, mosaic if masking is off: the page is never unmasked), and only
then is the frame shrunk to a thumbnail. A detector that cannot load or run stops the page
(``RedactionError``): no thumbnail is ever made without it. The faces found (score 0.5 and more)
are counted for the proposal's reasons.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from pipeline.core.errors import RedactionError
from pipeline.core.ffmpeg import run
from pipeline.faces.detectors import get_detector
from pipeline.faces.detectors.tiling import detect_tiled
from pipeline.faces.masking import mask_frame
from pipeline.faces.settings import RedactionSettings

SIDE = 640          # detection size (longer side)
THUMB = 200         # thumbnail size (longer side)
PERSON = 0.5        # a face counted as a person from this score
QUALITY = 72        # JPEG quality of the thumbnails
THRESHOLD = 0.2     # at most this score masks a face on the page (the render's presets use 0.3)


@dataclass(frozen=True)
class Thumb:
    at: float            # seconds in the rush
    faces: int           # faces counted (score >= PERSON)
    masked: int          # boxes masked (every face found, at the preset's threshold)
    uri: str             # data: URI of the masked JPEG

    def to_dict(self) -> dict:
        return {"at": round(self.at, 2), "faces": self.faces, "masked": self.masked}


def size_for(width: int, height: int) -> tuple[int, int]:
    """Detection size of a ``width`` x ``height`` picture (640 px on its longer side, even)."""
    scale = SIDE / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def frame_at(path, at: float, size: tuple[int, int]) -> np.ndarray:
    """The rush's picture at ``at`` seconds, ``size`` pixels, RGB (unmasked: only for detection)."""
    w, h = size
    out = run(["-threads", "1", "-ss", f"{at:.3f}", "-i", str(path), "-map", "0:v:0", "-frames:v", "1", "-vf", f"scale={w}:{h},setsar=1",
               "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:"], source=path, what="thumbnail decoding",
              capture_stdout=True)
    if len(out.stdout) < w * h * 3:
        raise RedactionError(path, f"no picture at {at:.1f} s for the proposals page; export the rush again")
    return np.frombuffer(out.stdout[:w * h * 3], np.uint8).reshape(h, w, 3).copy()


def _padded(box, pad: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * pad / 2, (y1 - y0) * pad / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)


class Thumbnailer:
    """One detector for the whole page (loaded at once: a missing model stops before any work)."""

    def __init__(self, redaction: RedactionSettings):
        self.redaction = redaction
        self.threshold = min(THRESHOLD, redaction.threshold)
        self.detector = get_detector(redaction.detector, self.threshold)

    def faces(self, frame: np.ndarray) -> tuple[list, list]:
        """Every face found in ``frame`` (whole, then enlarged 2x in tiles, so the detector's memory
        stays that of a 640 px frame), and those found whole."""
        whole = self.detector.detect(frame)
        return whole + detect_tiled(self.detector, frame, upscale=2.0), whole

    def take(self, path, at: float, width: int, height: int) -> Thumb:
        frame = frame_at(path, at, size_for(width, height))
        found, whole = self.faces(frame)
        mask_frame(frame, [_padded(d.box, self.redaction.pad) for d in found], self.redaction)
        im = shrink(frame)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=QUALITY)
        uri = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
        return Thumb(at, sum(d.score >= PERSON for d in whole), len(found), uri)


def shrink(frame: np.ndarray) -> Image.Image:
    """A detection-size frame as the page shows it."""
    im = Image.fromarray(frame)
    im.thumbnail((THUMB, THUMB), Image.Resampling.LANCZOS)
    return im


def times(start: float, end: float, count: int) -> list[float]:
    """``count`` moments spread over ``[start, end]``."""
    step = (end - start) / count
    return [start + step * (k + 0.5) for k in range(count)]
