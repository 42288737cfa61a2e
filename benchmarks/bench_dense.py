"""Real footage with no labels: the faces a dense scan finds that Cadre's masks leave uncovered.

    python -m benchmarks dense [--clip PATH]

The scheduled analysis (whole-frame pass on every frame, the fine pass every 15th, looks around
the small faces between, ``faces/lanes.py``) is checked against a *dense* scan of the same clip:
the whole-frame pass and the fine pass on every frame, no schedule, no tracking. Each box the dense
scan finds (CenterFace, threshold 0.3) is a face as far as the detector can tell; the count of those
not wholly inside the masks Cadre's render draws (``FaceTracks.boxes_at``, the default preset) is
what the schedule costs in privacy on footage nobody labelled. Every speed lever of the face analysis
should leave it where it is. Default clip: the real 1080p pedestrians of ``../shared/media``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED_MEDIA, Benchmark, info, table  # noqa: E402
from benchmarks.labelled import px  # noqa: E402

CLIP = SHARED_MEDIA / "videos" / "facenet_pytorch_video.mp4"


def dense(span, settings) -> list[list[tuple]]:
    """Boxes (pixels, score) of the whole-frame and fine passes on every frame."""
    from pipeline.faces.detectors import get_detector
    from pipeline.faces.scan import detect_frame, scan_plan
    from pipeline.source.normalize import read_frames

    info_ = span.info
    detector = get_detector(settings.detector, settings.threshold)
    plan = scan_plan(info_.width, info_.height, settings)

    def one(item):
        _, frame = item
        return [(d.x0 * info_.width, d.y0 * info_.height, d.x1 * info_.width, d.y1 * info_.height, d.score)
                for d in detect_frame(detector, frame, plan, True)]
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, read_frames(span, width=plan.read_size[0])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=CLIP, help="a real clip (default: the shared pedestrians)")
    args = ap.parse_args(argv)
    if not args.clip.is_file():
        print(f"bench_dense: {args.clip} is missing (the shared real media sits beside the checkout)", file=sys.stderr)
        return 1
    os.environ["CADRE_CACHE_DIR"] = tempfile.mkdtemp(prefix="cadre-bench-dense-")
    from pipeline.faces.analysis import analyse_faces
    from pipeline.faces.masking import coverage
    from pipeline.faces.settings import load_settings
    from pipeline.source.normalize import ClipSpan
    from pipeline.source.probe import probe

    bench = Benchmark("dense", "faces a dense every-frame scan finds that Cadre's scheduled analysis leaves "
                               "unmasked, on real footage with no labels", baselines=["dense scan (every frame)"])
    span = ClipSpan(args.clip, probe(args.clip))
    settings = load_settings("mosaic")
    tracks = analyse_faces(span, settings)
    reference = dense(span, settings)
    w, h = span.info.width, span.info.height
    missed, partly, total, frames = [], 0, 0, set()
    for i, boxes in enumerate(reference):
        cover = coverage((h, w), px(tracks.boxes_at(i), w, h), settings)
        for x0, y0, x1, y1, score in boxes:
            total += 1
            part = cover[int(max(0, y0)):int(min(h, np.ceil(y1))), int(max(0, x0)):int(min(w, np.ceil(x1)))]
            if part.size and not part.all():
                share = 1 - float(part.mean())
                partly += share < 1
                frames.add(i)
                missed.append([i, round(y1 - y0), round(score, 2), round(share, 2)])
    bench.add(info("dense-scan faces not wholly masked", len(missed), total, "faces",
                   note=f"on {len(frames)} of {len(reference)} frames; {partly} partly masked; "
                        f"scores {sorted(m[2] for m in missed)}"))
    table(f"{args.clip.name}: {total} faces found by the dense scan, {len(missed)} not wholly masked",
          ["frame", "height px", "score", "share unmasked"], missed)
    return bench.finish({"clip": args.clip.name, "frames": len(reference), "faces": total, "missed": missed})


if __name__ == "__main__":
    sys.exit(main())
