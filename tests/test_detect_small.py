"""End to end on video with small real faces: 20 to 29 px tall in the 1080x1920 output, moving.
Real detector, real decoded frames; every labelled face must be covered on every frame."""
from __future__ import annotations

import json
import subprocess

import cv2
import numpy as np
import pytest

from pipeline.faces.masking import coverage
from pipeline.faces.redaction import analyse_faces, load_settings
from pipeline.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe

W, H, FRAMES, SPEED = 1920, 1080, 45, 1.5     # 1.5 px per frame to the right


@pytest.fixture(scope="module")
def small_faces(shared_media, tmp_path_factory):
    rng = np.random.default_rng(3)
    world = cv2.GaussianBlur(cv2.resize(rng.integers(60, 200, (135, 250, 3), dtype=np.uint8), (W + 100, H)), (0, 0), 3)
    truth = json.loads((shared_media / "images" / "faces_gt.json").read_text())["images"]
    boxes = []
    for (name, entry), (ox, oy) in zip(truth.items(), [(200, 150), (1000, 250), (400, 700), (1450, 620)]):
        rgb = cv2.cvtColor(cv2.imread(str(shared_media / "images" / name)), cv2.COLOR_BGR2RGB)
        s = 11.5 / min(h for _, _, _, h in entry["faces"])      # smallest face 11.5 px: 20 px in the output
        small = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        world[oy:oy + small.shape[0], ox:ox + small.shape[1]] = small
        boxes += [(x * s + ox, y * s + oy, (x + w) * s + ox, (y + h) * s + oy) for x, y, w, h in entry["faces"]]
    path = tmp_path_factory.mktemp("small") / "small.mp4"
    proc = subprocess.Popen([ffmpeg_exe(), *BASE_ARGS, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
                             "-r", "30", "-i", "pipe:", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16",
                             "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    per_frame = []
    for i in range(FRAMES):
        dx = SPEED * i                                   # the camera pans left: the world moves right
        m = np.float32([[1, 0, dx - 50], [0, 1, 0]])
        proc.stdin.write(cv2.warpAffine(world, m, (W, H), flags=cv2.INTER_LINEAR).tobytes())
        per_frame.append([(x0 + dx - 50, y0, x1 + dx - 50, y1) for x0, y0, x1, y1 in boxes])
    proc.stdin.close()
    assert proc.wait() == 0
    return path, per_frame


def test_every_small_face_is_covered_on_every_frame(small_faces, tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    path, per_frame = small_faces
    settings = load_settings("mosaic")
    tracks = analyse_faces(ClipSpan(path, probe(path)), settings)
    assert tracks.analysis["plan"]["tiled"]
    leaks = []
    for i, truth in enumerate(per_frame):
        cover = coverage((H, W), [(b[0] * W, b[1] * H, b[2] * W, b[3] * H) for b in tracks.boxes_at(i)], settings)
        for x0, y0, x1, y1 in truth:
            if not cover[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))].all():
                leaks.append((i, round(x0), round(y0), round(y1 - y0)))
    assert len(per_frame[0]) == 14 and leaks == []
