"""Tracked regions (``[[mask]] moving = true``) on synthetic moving plates with a known path:
frames where the plate is not fully covered by its mask, at speeds up to one frame width a
second, and with a bar passing in front of the plate; Cadre's tracker against OpenCV's own
model-free tracker (MIL: the only one in opencv-python-headless 5 that needs no model file; CSRT
and KCF exist only in the contrib build), run on the same frames with the same margins.

    python benchmarks/bench_moving.py [--seconds 3]

"Covered" means every pixel of the plate lies inside the mask box the render draws for that
frame (whole-frame masks are counted apart: they cover, but hide everything). "flagged" counts
the frames the report asks a person to check. ms/frame: Cadre's is the whole ``track_region``
(shot detection included, empty cache), MIL's the tracker alone.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Benchmark, check, table  # noqa: E402
from pipeline.core.ffmpeg import ffmpeg_exe  # noqa: E402
from pipeline.faces.moving import WHOLE, _masks, track_region  # noqa: E402
from pipeline.source.normalize import ClipSpan, read_frames  # noqa: E402
from pipeline.source.probe import probe  # noqa: E402

W, H, FPS = 640, 360, 30
PW, PH = 80, 28
BAR = 160


def plate_path(n: int, speed: float) -> tuple[int, int]:
    """Left to right and back across the picture; ``speed``: peak speed in frame widths a second."""
    amp = (W - PW - 40) / 2
    period = 2 * np.pi * amp / (speed * W)            # seconds for a full sweep at that peak speed
    t = n / FPS
    return int(20 + amp * (1 - np.cos(2 * np.pi * t / period))), int(150 + 40 * np.sin(2 * np.pi * t / period))


def make_clip(path: Path, seconds: float, speed: float, bar: bool) -> Path:
    rng = np.random.default_rng(7)
    plate = rng.integers(0, 255, (PH, PW, 3), dtype=np.uint8)
    plate[:, :4] = plate[:, -4:] = plate[:4] = plate[-4:] = 255
    bg = rng.integers(60, 90, (H // 8, W // 8, 1), dtype=np.uint8).repeat(8, 0).repeat(8, 1).repeat(3, 2)
    proc = subprocess.Popen([ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
                             "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10",
                             "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    for n in range(int(seconds * FPS)):
        f = bg.copy()
        x, y = plate_path(n, speed)
        f[y:y + PH, x:x + PW] = plate
        if bar:
            b = bar_at(n, seconds)
            f[:, max(0, b):max(0, min(W, b + BAR))] = (200, 40, 40)
        proc.stdin.write(f.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


def bar_at(n: int, seconds: float) -> int:
    """A full-height bar crossing right to left at 12 px a frame, in the middle of the clip."""
    return int(W / 2 + 12 * (seconds * FPS / 2 - n))


def mil_track(span: ClipSpan, region) -> list:
    """OpenCV's TrackerMIL on the same frames (640 px), as boxes for the same fail-closed masks."""
    tracker, out = None, []
    for _, frame in read_frames(span, width=W):
        bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        if tracker is None:
            tracker = cv2.TrackerMIL.create()
            tracker.init(bgr, tuple(int(round(v)) for v in (region[0] * W, region[1] * H, PW, PH)))
            out.append(region)
            continue
        ok, (x, y, w, h) = tracker.update(bgr)
        out.append((x / W, y / H, (x + w) / W, (y + h) / H) if ok else None)
    return out


def score(boxes, speed: float, frames: int) -> tuple[int, int]:
    uncovered = whole = 0
    for n in range(frames):
        box = boxes[min(n, len(boxes) - 1)]
        x, y = plate_path(n, speed)
        whole += box == WHOLE
        if not (box[0] * W <= x and box[1] * H <= y and box[2] * W >= x + PW and box[3] * H >= y + PH):
            uncovered += 1
    return uncovered, whole


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    cases = [(s, False) for s in (0.25, 0.5, 0.75, 1.0)] + [(0.5, True)]
    rows, data = [], []
    with tempfile.TemporaryDirectory(prefix="bench-moving-") as tmp:
        os.environ["CADRE_CACHE_DIR"] = str(Path(tmp) / "cache")     # time the tracking, not a cache hit
        for speed, bar in cases:
            clip = make_clip(Path(tmp) / f"{speed}-{bar}.mp4", args.seconds, speed, bar)
            span = ClipSpan(clip, probe(clip))
            x, y = plate_path(0, speed)
            region = (x / W, y / H, (x + PW) / W, (y + PH) / H)
            frames = span.frame_count
            name = f"{speed:g} widths/s" + (", bar passes" if bar else "")
            start = time.perf_counter()
            tracked = track_region(span, region, 0.0, None)
            cadre_ms = (time.perf_counter() - start) * 1000 / frames
            start = time.perf_counter()
            mil = _masks(mil_track(span, region), region, 0)
            mil_ms = (time.perf_counter() - start) * 1000 / frames
            for who, result, ms in (("cadre", tracked, cadre_ms), ("opencv MIL", mil, mil_ms)):
                uncovered, whole = score(result.boxes, speed, frames)
                flagged = sum(b - a + 1 for a, b in result.lost)
                area = max((b[2] - b[0]) * (b[3] - b[1]) for b in result.boxes if b != WHOLE) if whole < frames else 1.0
                rows.append([name, who, frames, uncovered, whole, flagged, f"{area:.3f}", f"{ms:.1f}"])
                data.append({"case": name, "tracker": who, "frames": frames, "uncovered": uncovered,
                             "whole_frame": whole, "flagged": flagged, "max_mask_area": round(area, 4),
                             "ms_per_frame": round(ms, 2)})
    table("Moving plate, known path: frames not fully covered (target 0), whole-frame masks, flagged frames",
          ["case", "tracker", "frames", "uncovered", "whole frame", "flagged", "max mask area", "ms/frame"], rows)
    bench = Benchmark("moving", "tracked regions on moving plates with a known path: frames not fully covered",
                      baselines=["OpenCV MIL tracker"])
    for case in sorted({d["case"] for d in data}):
        ours = next(d for d in data if d["case"] == case and d["tracker"] == "cadre")
        mil = next(d for d in data if d["case"] == case and d["tracker"] != "cadre")
        bench.add(check(f"frames not fully covered, {case}", ours["uncovered"], "==", 0, baseline=mil["uncovered"],
                        unit="frames", note=f"{ours['whole_frame']} whole-frame masks, {ours['flagged']} flagged"))
    return bench.finish({"seconds": args.seconds, "cases": data})


if __name__ == "__main__":
    sys.exit(main())
