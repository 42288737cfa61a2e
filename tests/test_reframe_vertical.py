"""Issue 14, vertical framing: where the 9:16 window is shorter than the source (a phone's tall
9:19.5 footage), the window is placed so the face sits near its upper third and is never cut at
the top, checked on every planned frame and on the pixels of the published file."""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks import bench_reframe as bench
from pipeline.analyse import reframe_clip
from pipeline.core.ffmpeg import ffmpeg_exe
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.reframe import path as rpath
from pipeline.source.config import Settings
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe

W, H, N, PIC = 720, 1560, 90, 260          # 9:19.5, as phones film; the astronaut photo 260 px square
FACE = (181 / 512, 58 / 512, 270 / 512, 178 / 512)   # her face in the photo (CenterFace's box), fractions


def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.resize(data.astronaut(), (PIC, PIC), interpolation=cv2.INTER_AREA)


def _at(i: int) -> tuple[int, int]:
    """Top-left corner of the photo at frame ``i``: she walks right and bobs 120 px up and down,
    her face about half-way down the frame."""
    x = int(round(60 + 300 * i / (N - 1)))
    y = int(round(620 + 60 * np.sin(2 * np.pi * i / 30)))
    return x, y


def _face(i: int) -> tuple[float, float, float, float]:
    """Her face box at frame ``i``, normalised to the frame."""
    x, y = _at(i)
    return ((x + FACE[0] * PIC) / W, (y + FACE[1] * PIC) / H, (x + FACE[2] * PIC) / W, (y + FACE[3] * PIC) / H)


@pytest.fixture(scope="module")
def tall(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tall") / "ep" / "1.mp4"
    path.parent.mkdir(parents=True)
    bg = np.full((H, W, 3), 70, np.uint8)
    bg[::48] = 170                          # horizontal stripes: a vertical offset shows in the pixels
    face = _astronaut()
    proc = subprocess.Popen([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                             "-s", f"{W}x{H}", "-r", "30", "-i", "-", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
                             "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
                             "-c:a", "aac", str(path)], stdin=subprocess.PIPE)
    for i in range(N):
        frame = bg.copy()
        x, y = _at(i)
        frame[y:y + PIC, x:x + PIC] = face
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


@pytest.mark.slow
def test_face_near_the_upper_third_and_never_cut_at_the_top(tall, tmp_path):
    span = ClipSpan(tall, probe(tall))
    reframer = reframe_clip(span, Settings(reframe="follow"))
    assert reframer.ch < H                                       # the window is shorter than the frame
    for i in range(N):                                           # every planned frame
        src = [p for p in reframer.placements(i) if not p.holes][0].src
        x0, y0, x1, y1 = _face(i)
        assert src[1] <= y0 and y1 <= src[3], f"face cut vertically at frame {i}: {src} {_face(i)}"
        assert src[0] <= x0 and x1 <= src[2], f"face cut sideways at frame {i}"
        down = ((y0 + y1) / 2 - src[1]) / (src[3] - src[1])      # her face centre, as a share of the window
        assert 0.2 <= down <= 0.45, (i, down)                    # near the upper third, not the middle
    # the published pixels: the window's rows are where the plan says (a 24 px offset matches worse)
    out = tmp_path / "exports"
    render_episode(tall.parent, RenderOptions(networks=("tiktok",), out_dir=out, reframe="follow", redact="none",
                                              caption_style="none"))
    master = out / "ep" / "tiktok" / "ep.mp4"
    frames = list(read_frames(ClipSpan(master, probe(master)), width=1080, every=9))
    source = dict(read_frames(span, width=W))
    assert len(frames) == N // 9
    for i, frame in frames:
        src = reframer.placements(i)[0].src
        x0, y0 = int(round(src[0] * W)), int(round(src[1] * H))
        cw, ch = reframer.cw, reframer.ch

        def err(dy: int) -> float:
            want = cv2.resize(source[i][y0 + dy:y0 + dy + ch, x0:x0 + cw], (1080, 1920), interpolation=cv2.INTER_CUBIC)
            return float(np.abs(want.astype(int) - frame.astype(int)).mean())

        assert err(0) < 5 and err(0) < 0.6 * min(err(-24), err(24)), (i, err(0), err(-24), err(24))


def test_a_face_travelling_further_than_the_window_keeps_its_top():
    """Planning level: a face rising from 80 % to 15 % of a 1080x2340 frame cannot stay whole in one
    1080x1920 window all shot long; the window keeps the top of the face on every frame."""
    n = 60
    cy = np.linspace(0.8, 0.15, n)
    face = np.stack([np.full(n, 0.4), cy - 0.05, np.full(n, 0.6), cy + 0.05], axis=1)
    r = bench.plan_case({"truth": [face]}, size=(1080, 2340))
    for i in range(n):
        top = r.y_at(i) / 2340
        assert top <= face[i, 1] + 1e-9, (i, top, face[i, 1])
    assert rpath.OPT.headroom == 1 / 3
