"""Cadre's side of ``bench_masking.py``, run as its own process so it is timed as deface's CLI is:
Python start-up, the face analysis (decode at analysis size, detector, tracks; an empty cache),
a second decode at full size, masking every frame, and the encode through the same writer deface
uses (imageio-ffmpeg, libx264, its default quality).

    python -m benchmarks.cadre_mask IN.mp4 OUT.mp4 FACTS.json [--preset mosaic]

FACTS.json receives the pixels the detector was given (its padded input, summed over every call),
the boxes the render masks on each frame, in pixels of the full frame, for the scoring, and the
tracks they were shaped from (``mask_area.py`` shapes them again, one stage at a time).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def count_detector_pixels() -> dict:
    """Wrap the CenterFace detector so every call adds its padded input size to a counter."""
    from pipeline.faces.detectors import centerface

    counter = {"pixels": 0, "calls": 0}
    lock = threading.Lock()
    detect = centerface.CenterFace.detect

    def counted(self, frame, *args, **kwargs):
        h, w = frame.shape[:2]
        with lock:
            counter["pixels"] += (-(-h // 32) * 32) * (-(-w // 32) * 32)
            counter["calls"] += 1
        return detect(self, frame, *args, **kwargs)

    centerface.CenterFace.detect = counted
    return counter


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("facts", type=Path)
    ap.add_argument("--preset", default="mosaic", help="redaction preset (Cadre's default: mosaic)")
    args = ap.parse_args(argv)
    os.environ["CADRE_CACHE_DIR"] = tempfile.mkdtemp(prefix="cadre-bench-mask-")   # cold: nothing cached

    import imageio_ffmpeg

    from pipeline.faces.analysis import analyse_faces
    from pipeline.faces.masking import mask_frame
    from pipeline.faces.settings import load_settings
    from pipeline.source.normalize import ClipSpan, read_frames
    from pipeline.source.probe import probe

    counter = count_detector_pixels()
    info = probe(args.src)
    span = ClipSpan(args.src, info)
    settings = load_settings(args.preset)
    tracks = analyse_faces(span, settings)
    w, h = info.width, info.height
    writer = imageio_ffmpeg.write_frames(str(args.out), (w, h), fps=info.fps, codec="libx264", quality=5,
                                         macro_block_size=16)   # deface's writer, as it calls it
    writer.send(None)
    boxes = []
    for i, frame in read_frames(span, width=w):
        frame = frame.copy()
        px = [(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in tracks.boxes_at(i)]
        mask_frame(frame, px, settings)
        writer.send(frame)
        boxes.append(px)
    writer.close()
    args.facts.write_text(json.dumps({"detector_pixels": counter["pixels"], "detector_calls": counter["calls"],
                                      "frames": len(boxes), "boxes": boxes, "preset": args.preset,
                                      "shape": settings.shape, "pad": settings.pad, "tracks": tracks.to_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
