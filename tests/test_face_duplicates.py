"""A 25 fps clip brought to 30 fps repeats every sixth frame: the face analysis scans each picture
once, gives a repeat the faces of the frame it repeats, and never loses a fine pass to a repeat.
Real detector, real small faces (20 px tall in the output) panning; every labelled face must be
covered on every output frame."""
from __future__ import annotations

import collections
import subprocess
from itertools import pairwise

import cv2
import numpy as np
import pytest

from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.faces import lanes
from pipeline.faces.analysis import analyse_faces
from pipeline.faces.detectors.centerface import CenterFace
from pipeline.faces.detectors.tiling import tiles
from pipeline.faces.masking import coverage
from pipeline.faces.scan import FrameScan, fine_tiles, scan_plan
from pipeline.faces.settings import load_settings
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe
from tests.small_faces import small_face_world

W, H, SOURCE_FRAMES, SPEED = 1920, 1080, 40, 2.0     # 25 fps, the camera pans 2 px per frame


@pytest.fixture(scope="module")
def clip_25fps(shared_media, tmp_path_factory):
    world, boxes = small_face_world(shared_media, 5, (W + 100, H), (135, 250),
                                    [(250, 150), (1000, 300), (350, 650), (1400, 600)], 12.0)
    path = tmp_path_factory.mktemp("dup") / "pal.mp4"
    proc = subprocess.Popen([ffmpeg_exe(), *BASE_ARGS, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
                             "-r", "25", "-i", "pipe:", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "14",
                             "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    thumbs, per_frame = [], []
    for i in range(SOURCE_FRAMES):
        dx = SPEED * i - 50
        frame = cv2.warpAffine(world, np.float32([[1, 0, dx], [0, 1, 0]]), (W, H), flags=cv2.INTER_LINEAR)
        proc.stdin.write(frame.tobytes())
        thumbs.append(cv2.resize(frame, (96, 54), interpolation=cv2.INTER_AREA).astype(np.float32))
        per_frame.append([(x0 + dx, y0, x1 + dx, y1) for x0, y0, x1, y1 in boxes])
    proc.stdin.close()
    assert proc.wait() == 0
    return path, thumbs, per_frame


def test_repeated_frames_are_scanned_once_and_every_face_stays_covered(clip_25fps, tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    path, thumbs, per_frame = clip_25fps
    span = ClipSpan(path, probe(path))
    settings = load_settings("mosaic")
    plan = scan_plan(span.info.width, span.info.height, settings)
    calls: collections.Counter = collections.Counter()
    real = CenterFace.detect

    def counted(self, frame, threshold=None):
        calls[frame.shape[1], frame.shape[0]] += 1
        return real(self, frame, threshold)

    scanned = []

    class Counted(FrameScan):
        def __init__(self, detector, frame, *args, **kwargs):
            scanned.append(frame)
            super().__init__(detector, frame, *args, **kwargs)

    monkeypatch.setattr(CenterFace, "detect", counted)
    monkeypatch.setattr(lanes, "FrameScan", Counted)
    tracks = analyse_faces(span, settings)

    # which source picture each 30 fps frame shows, read from the decoded frames themselves
    shown = []
    for _, frame in read_frames(span, width=W):
        t = cv2.resize(frame, (96, 54), interpolation=cv2.INTER_AREA).astype(np.float32)
        shown.append(int(np.argmin([np.abs(t - s).mean() for s in thumbs])))
    repeats = sum(1 for a, b in pairwise(shown) if a == b)
    assert len(shown) == span.frame_count and repeats >= span.frame_count // 7

    # each new picture was scanned once; a repeat was not scanned again
    assert len(scanned) == len(shown) - repeats
    # a fine pass still ran at least once every tile_every frames (one that fell on a repeat moved on)
    w, h = plan.read_size
    grid = tiles(w, h, plan.upscale, fine_tiles(round(w * plan.upscale), round(h * plan.upscale)))
    assert calls[grid[0].size] % len(grid) == 0
    assert calls[grid[0].size] // len(grid) >= -(-span.frame_count // settings.tile_every)

    leaks = []
    for i, source in enumerate(shown):
        cover = coverage((H, W), [(b[0] * W, b[1] * H, b[2] * W, b[3] * H) for b in tracks.boxes_at(i)], settings)
        for x0, y0, x1, y1 in per_frame[source]:
            if not cover[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))].all():
                leaks.append((i, round(x0), round(y0)))
    assert len(per_frame[0]) == 14 and leaks == []
