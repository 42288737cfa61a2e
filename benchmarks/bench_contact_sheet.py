"""The contact sheet's cost against the face analysis it audits, on real pedestrians.

    /work/main/.venv/bin/python benchmarks/bench_contact_sheet.py [--repeat 3]

Needs ../shared/media (``videos/facenet_pytorch_video.mp4``: 4.2 s, 1080p, 8-12 moving faces).
Runs, in the same process and a fresh cache: the face analysis (real CenterFace), then the audit
list and the contact sheet with its index (``--repeat`` times, alternated with a plain decode of
the clip through the same chain at the sheet's width, the baseline). Prints seconds and ratios.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "media"

from pipeline.faces.audit import audit_items, contact_sheet  # noqa: E402
from pipeline.faces.redaction import analyse_faces, load_settings  # noqa: E402
from pipeline.source.normalize import ClipSpan, read_frames  # noqa: E402
from pipeline.source.probe import probe  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clip = MEDIA / "videos" / "facenet_pytorch_video.mp4"
    if not clip.is_file():
        raise SystemExit(f"bench_contact_sheet.py: {clip} is absent (it sits beside the checkout)")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CADRE_CACHE_DIR"] = tmp          # the analysis really runs
        span = ClipSpan(clip, probe(clip))
        settings = load_settings("mosaic")
        t0 = time.perf_counter()
        tracks = {clip.name: analyse_faces(span, settings)}
        analysis = time.perf_counter() - t0
        sheet_s, decode_s = [], []
        for n in range(args.repeat):
            t0 = time.perf_counter()
            items = audit_items(tracks, settings)
            contact_sheet(tracks, {clip.name: span}, settings, path=Path(tmp) / f"sheet{n}.jpg", items=items)
            sheet_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            frames = sum(1 for _ in read_frames(span, width=1280))
            decode_s.append(time.perf_counter() - t0)
    sheet, decode = min(sheet_s), min(decode_s)
    print(f"\n{clip.name}: {span.frame_count} frames, {len(tracks[clip.name].tracks)} face tracks, "
          f"{len(items)} tiles")
    print("  step                                  seconds   ratio")
    print("  ------------------------------------  -------   -----")
    print(f"  face analysis (CenterFace, tracking)  {analysis:7.2f}   1.000")
    print(f"  audit list + contact sheet + index    {sheet:7.2f}   {sheet / analysis:.3f} of the analysis")
    print(f"  baseline: decode {frames} frames at 1280 px  {decode:7.2f}   sheet / decode = {sheet / decode:.2f}")


if __name__ == "__main__":
    main()
