"""The face analysis's levers side by side, on labelled truth: recall on the labelled photos,
leaks on the pan-and-zoom and small-face clips (``benchmarks/labelled.py``) for each lever of
issue 18 against the default, and flicker on real pedestrians. (The fair comparison with deface is
``bench_masking.py``.)

    python -m benchmarks face_levers [--seconds 8] [--skip-levers] [--all-levers] [--only-video]
    python -m benchmarks face_levers --only-video --skip-levers --seconds 2 --detect-every 2

``--detect-every K`` adds, on each clip, the default analysis with the whole-frame pass on every
K-th frame only (issue 29's speed lever; measured at K = 2 and not kept: see docs/ARCHITECTURE.md).

Needs ../shared/media. "Covered" means every pixel of a labelled box lies inside a mask (the
pixels ``pipeline.faces.masking.coverage`` reports for the boxes the render would draw). Speed is
wall-clock fps and CPU seconds per frame (this process and its ffmpeg children).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pipeline.faces.revisit as revisit  # noqa: E402
import pipeline.faces.scan as scan  # noqa: E402
from benchmarks.common import Benchmark, Clock, check, table  # noqa: E402
from benchmarks.labelled import (  # noqa: E402
    MEDIA,
    H,
    W,
    covered,
    load_truth,
    make_panzoom,
    make_small,
    px,
    score_video,
)
from pipeline.faces.analysis import analyse_faces  # noqa: E402
from pipeline.faces.detectors import get_detector  # noqa: E402
from pipeline.faces.masking import coverage, mask_frame  # noqa: E402
from pipeline.faces.scan import detect_frame, scan_plan  # noqa: E402
from pipeline.faces.settings import load_settings  # noqa: E402
from pipeline.faces.tracking import FaceTracks, link  # noqa: E402
from pipeline.source.normalize import ClipSpan, read_frames  # noqa: E402
from pipeline.source.probe import probe  # noqa: E402

BENCH = Benchmark("face_levers", "Cadre's face analysis: recall on labelled photos, leaks of each lever on "
                  "labelled clips, flicker on real pedestrians", baselines=["the analysis before issue 18"])


# -- 1. recall on photos -------------------------------------------------------------------------
def bench_photos(truth) -> None:
    rows = []
    for preset, shape, pad in (("mosaic", "rect", None), ("mosaic", "ellipse", 1.9), ("blur", "ellipse", None)):
        s = load_settings(preset, shape=shape, **({"pad": pad} if pad else {}))
        det = get_detector(threshold=s.threshold)
        hit = total = 0
        for name, (rgb, boxes) in truth.items():
            h, w = rgb.shape[:2]
            plan = scan_plan(w, h, s)                  # the photo as if it were a clip of its size
            frame = cv2.resize(rgb, plan.read_size, interpolation=cv2.INTER_AREA) if plan.read_size != (w, h) else rgb
            ft = FaceTracks(name, 0.0, 1, link({0: detect_frame(det, frame, plan)}, 1), s.pad, 0)
            cover = coverage((h, w), px(ft.boxes_at(0), w, h), s)
            for b in boxes:
                total += 1
                hit += bool(covered(cover, b))
        rows.append([f"{preset} ({shape}, pad {s.pad})", f"{hit}/{total}", hit / total])
        BENCH.add(check(f"recall on labelled photos, {preset} {shape}", hit / total, ">=", 0.95))
    table("Recall on labelled photos (../shared/media/images, 14 faces; target >= 0.95)",
          ["preset", "covered", "recall"], rows)


def run_ours(span: ClipSpan, settings, runtime: str | None = None, tiles: bool = False, min_px: int | None = None,
             fine_every: int | None = None, every: int = 1):
    """Analysis (uncached) then masking of every 1080p frame: (tracks, analysis Clock, masking
    wall seconds, masking CPU seconds). ``runtime``, ``tiles``, ``min_px`` and ``fine_every`` select
    a lever (``min_px=12`` with ``tiles``: the scan as it was before issue 18; ``fine_every``: the
    fine pass on every n-th frame with no looks between, as before ``revisit.py``)."""
    saved = {k: os.environ.get(k) for k in ("CADRE_CACHE_DIR", "CADRE_FACE_RUNTIME")}
    constants = (scan.DETECT_MIN_PX, scan.MAX_DETECT_PIXELS, revisit.REVISIT_EVERY)
    fine_tiles = scan.fine_tiles
    settings = dataclasses.replace(settings, detect_every=every)
    if fine_every:
        settings = dataclasses.replace(settings, tile_every=fine_every)
        revisit.REVISIT_EVERY = 10 ** 9     # only frame 0 would be due, and it has the fine pass
    with tempfile.TemporaryDirectory() as cache_dir:
        os.environ["CADRE_CACHE_DIR"] = cache_dir
        if runtime:
            os.environ["CADRE_FACE_RUNTIME"] = runtime
        if tiles:       # the fixed 640x384 tiles used before issue 18
            scan.fine_tiles = lambda width, height, limit=0: (min(width, 640), min(height, 384))
        if min_px == 12:
            scan.DETECT_MIN_PX, scan.MAX_DETECT_PIXELS = 12, int(1.2 * 1080 * 1920)
        try:
            with Clock() as analysis:
                ft = analyse_faces(span, settings)
        finally:
            scan.fine_tiles = fine_tiles
            scan.DETECT_MIN_PX, scan.MAX_DETECT_PIXELS, revisit.REVISIT_EVERY = constants
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    masking = masking_cpu = 0.0
    for i, frame in read_frames(span, width=W):
        frame = frame.copy()
        t, c = time.perf_counter(), time.process_time()
        mask_frame(frame, px(ft.boxes_at(i), W, H), settings)
        masking += time.perf_counter() - t
        masking_cpu += time.process_time() - c
    return ft, analysis, masking, masking_cpu


# the levers of issue 18, each measured on the same clip in the same run
LEVERS = [("before issue 18: cv2.dnn, 640x384 tiles, faces >= 12 detector px, fine pass every 6th frame",
           "opencv", True, 12, 6),
          ("onnxruntime, 640x384 tiles, >= 12 px, every 6th", "onnxruntime", True, 12, 6),
          ("onnxruntime, 0.7 MP tiles, >= 12 px, every 6th", "onnxruntime", False, 12, 6),
          ("onnxruntime, 0.7 MP tiles, >= 17 px, every 6th (last round)", "onnxruntime", False, None, 6),
          ("onnxruntime, 0.7 MP tiles, >= 17 px, every 15th, no looks between", "onnxruntime", False, None, 15),
          ("onnxruntime, 0.7 MP tiles, >= 17 px, every 15th + looks every 2nd (default)", "onnxruntime", False,
           None, None)]


def bench_clip(title: str, path: Path, per_frame, presets, levers) -> None:
    span = ClipSpan(path, probe(path))
    n = min(span.frame_count, len(per_frame))
    per_frame = per_frame[:n]
    rows, speed = [], []

    def cover_of(ft, s):
        return lambda i: coverage((H, W), px(ft.boxes_at(i), W, H), s)

    for preset in presets:
        s = load_settings(preset)
        for label, runtime, tiles, min_px, fine_every, *every in levers:
            ft, analysis, masking, masking_cpu = run_ours(span, s, runtime, tiles, min_px, fine_every, *every)
            leaks, hit, total = score_video(per_frame, cover_of(ft, s), (H, W))
            name = f"Cadre {preset} ({s.shape}, pad {s.pad}), {label}"
            rows.append([name, n, leaks, f"{hit}/{total}", hit / total])
            print(f"  {name}: {leaks} leaked frames", flush=True)
            speed.append([name, n / (analysis.wall + masking), (analysis.cpu + masking_cpu) / n, n / analysis.wall,
                          analysis.cpu / n, 1000 * masking / n])
    table(f"{title}, {W}x{H}, {n} frames (leak = a frame where a labelled face is not fully covered; target 0)",
          ["pipeline", "frames", "leak frames", "covered", "recall"], rows)
    table(f"Throughput on the same clip ({os.cpu_count()} CPU cores, load {os.getloadavg()[0]:.1f}; Cadre = "
          "analysis incl. decode + mask every 1080p frame; deface = decode + detect + blur)",
          ["pipeline", "fps", "CPU s/frame", "analysis fps", "analysis CPU s/frame", "mask ms/frame"], speed)
    for name, _, leaks, *_ in rows:
        if name.endswith("(default)"):
            BENCH.add(check(f"leaked frames, {title.split(' (')[0].lower()}, default", leaks, "==", 0,
                            unit="frames"))


def bench_video(truth, seconds: float, skip_levers: bool, all_levers: bool = False,
                clips=("panzoom", "small"), detect_every: int = 1) -> None:
    sparse = [(f"default, whole-frame pass on 1 frame in {detect_every}", *LEVERS[-1][1:], detect_every)]
    default = [LEVERS[-1]] + (sparse if detect_every > 1 else [])
    levers = (LEVERS if all_levers else [LEVERS[0], LEVERS[3], LEVERS[-1]]) + default[1:]
    with tempfile.TemporaryDirectory() as tmp:
        if "panzoom" in clips:
            path = Path(tmp) / "panzoom_1080p.mp4"
            per_frame = make_panzoom(truth, path, seconds)
            bench_clip("Pan-and-zoom over the labelled photos", path, per_frame, ("mosaic",),
                       default if skip_levers else levers)
        if "small" not in clips:
            return
        path = Path(tmp) / "small_1080p.mp4"
        per_frame = make_small(truth, path, seconds)
        bench_clip("Small faces (20 to 41 px tall in the 1080x1920 output), slow pan and zoom", path, per_frame,
                   ("mosaic",), default if skip_levers else [LEVERS[0], LEVERS[3], LEVERS[-2], *default])


# -- 3. flicker on real pedestrians --------------------------------------------------------------
def bench_flicker() -> None:
    path = MEDIA / "videos" / "facenet_pytorch_video.mp4"
    span = ClipSpan(path, probe(path))
    s = load_settings("mosaic")
    ft = run_ours(span, s)[0]
    ref = get_detector(threshold=0.6)
    naive_det = get_detector(threshold=s.threshold)
    rows = {"Cadre mosaic (tracks)": [0, 0], "per-frame detection, no tracking (640 px, pad 1.3)": [0, 0]}
    ref_faces = frames = 0
    for i, frame in read_frames(span, width=960):
        h, w = frame.shape[:2]
        frames += 1
        faces = ref.detect(frame)
        # the core of each confidently detected face (inner 80%), as hand labels draw it
        core = [(d.x0 + 0.1 * (d.x1 - d.x0), d.y0 + 0.1 * (d.y1 - d.y0), d.x1 - 0.1 * (d.x1 - d.x0),
                 d.y1 - 0.1 * (d.y1 - d.y0)) for d in faces]
        ref_faces += len(core)
        naive = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
        nb = [(d.x0 * 1.5, d.y0 * 1.5, d.x1 * 1.5, d.y1 * 1.5) for d in naive_det.detect(naive)]
        nb = [((b[0] + b[2]) / 2 - (b[2] - b[0]) * 0.65, (b[1] + b[3]) / 2 - (b[3] - b[1]) * 0.65,
               (b[0] + b[2]) / 2 + (b[2] - b[0]) * 0.65, (b[1] + b[3]) / 2 + (b[3] - b[1]) * 0.65) for b in nb]
        for name, boxes in (("Cadre mosaic (tracks)", px(ft.boxes_at(i), w, h)),
                            ("per-frame detection, no tracking (640 px, pad 1.3)", nb)):
            cover = coverage((h, w), boxes, s)
            missed = [c for c in core if covered(cover, c) is False]
            rows[name][0] += bool(missed)
            rows[name][1] += len(missed)
    table(f"Flicker on facenet_pytorch_video.mp4 ({frames} frames at 30 fps, {ref_faces} confident face-frames; "
          "a leak = a face found at full size with score >= 0.6 whose core is not fully masked; target 0)",
          ["pipeline", "frames with a leak", "uncovered face-frames"], [[k, *v] for k, v in rows.items()])
    print(f"  tracks: {len(ft.tracks)}")
    BENCH.add(check("frames with a leak, real pedestrians (score >= 0.6 faces)", rows["Cadre mosaic (tracks)"][0],
                    "==", 0, baseline=rows["per-frame detection, no tracking (640 px, pad 1.3)"][0], unit="frames"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="length of the pan-and-zoom clip")
    ap.add_argument("--skip-levers", action="store_true", help="only the default settings, no before/after rows")
    ap.add_argument("--only-video", action="store_true", help="skip the photos and the flicker clip")
    ap.add_argument("--all-levers", action="store_true", help="also each lever alone on the pan-and-zoom clip")
    ap.add_argument("--clips", default="panzoom,small", help="which synthetic clips: panzoom, small or both")
    ap.add_argument("--detect-every", type=int, default=1, help="also the default with the whole-frame pass on every K-th frame")
    args = ap.parse_args()
    if not MEDIA.is_dir():
        raise SystemExit(f"{MEDIA} is absent: these benchmarks need the shared real media")
    print(f"cv2 threads: {cv2.getNumThreads()}, CPUs: {os.cpu_count()}")
    truth = load_truth()
    if not args.only_video:
        bench_photos(truth)
    bench_video(truth, args.seconds, args.skip_levers, args.all_levers, args.clips.split(","), args.detect_every)
    if not args.only_video:
        bench_flicker()
    return BENCH.finish({"seconds": args.seconds})


if __name__ == "__main__":
    sys.exit(main())
