"""Still pictures for the review: a source frame of a clip (to draw a mask on) and one thumbnail
per face track, either as the footage shows it (local page) or masked as published (export)."""
from __future__ import annotations

import io
import subprocess

import numpy as np
from PIL import Image, ImageDraw

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import command, compile_graph, last_error_line
from pipeline.faces.masking import mask_frame, to_pixels
from pipeline.published import frame_window
from pipeline.source.normalize import FPS, ClipSpan, analysis_size, video_input

THUMB = 160


def frame_index(span: ClipSpan, t: float) -> int:
    """Frame of the used part of the clip shown at ``t`` seconds of the clip file."""
    return int(min(max(0, round((t - span.start) * FPS)), span.frame_count - 1))


def grab(span: ClipSpan, j: int, width: int = 640) -> np.ndarray:
    """Frame ``j`` of the normalised clip (as analysis and masks see it), RGB, ``width`` wide."""
    w, h = analysis_size(span.info, width)
    # a few frames before j are decoded too: the clip's last frame alone is a window so short at
    # the end of the file that the fps filter gives nothing; frame j is the last one read, at most
    back = min(j, 3)
    one = frame_window(span, j - back, j)     # a start rounded up to the millisecond would skip a frame
    args = compile_graph(video_input(one, (w, h)).output("pipe:", format="rawvideo", pix_fmt="rgb24",
                                                         vframes=back + 1))
    proc = subprocess.run(command(*args), capture_output=True)
    size = w * h * 3
    got = len(proc.stdout) // size
    if proc.returncode != 0 or got < 1:
        raise CadreError(span.path, f"no frame could be decoded at frame {j}: "
                                    f"{last_error_line(proc.stderr.decode('utf-8', 'replace'))}")
    k = min(back, got - 1)
    return np.frombuffer(proc.stdout[k * size:(k + 1) * size], np.uint8).reshape(h, w, 3).copy()


def jpeg(image: Image.Image | np.ndarray, quality: int = 85) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def track_thumbnail(span: ClipSpan, faces, track, settings=None, overrides=None, size: int = THUMB) -> bytes:
    """The track's best frame around its face, outlined. With ``settings``, masked as published."""
    j = track.frames[track.best()]
    frame = grab(span, j, min(960, span.info.width))
    h, w = frame.shape[:2]
    if settings is not None:
        boxes = faces.boxes_at(j, overrides)
        mask_frame(frame, to_pixels(boxes, w, h), settings)
    b = track.boxes[track.best()]
    cx, cy = (b[0] + b[2]) / 2 * w, (b[1] + b[3]) / 2 * h
    side = max((b[2] - b[0]) * w, (b[3] - b[1]) * h) * faces.pad * 2.2 + 24
    x0, y0 = int(np.clip(cx - side / 2, 0, max(0, w - side))), int(np.clip(cy - side / 2, 0, max(0, h - side)))
    crop = Image.fromarray(frame[y0:min(h, int(y0 + side)), x0:min(w, int(x0 + side))])
    scale = size / max(crop.size)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.LANCZOS)
    px, py = (b[2] - b[0]) * w * faces.pad / 2, (b[3] - b[1]) * h * faces.pad / 2
    ImageDraw.Draw(crop).rectangle([(cx - px - x0) * scale, (cy - py - y0) * scale,
                                    (cx + px - x0) * scale, (cy + py - y0) * scale], outline=(255, 200, 0), width=2)
    return jpeg(crop)
