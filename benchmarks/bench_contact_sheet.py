"""The contact sheet's cost against the face analysis it audits, on real pedestrians.

    /work/main/.venv/bin/python benchmarks/bench_contact_sheet.py [--repeat 3]

Needs ../shared/media (``videos/facenet_pytorch_video.mp4``: 4.2 s, 1080p, 8-12 moving faces).
Runs, in the same process and a fresh cache: the face analysis (real CenterFace), then the audit
list and the contact sheet with its index (``--repeat`` times, alternated with a plain decode of
the clip through the same chain at the sheet's width, the baseline). Then the sheet's strip of
published frames (issue 26) on an episode of that clip, planned as the render plans it: the strip
(``--repeat`` times: each chosen frame decoded, reframed and masked alone, the captions burned over
all in one ffmpeg run) against one master encode of the episode. Prints seconds and ratios.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "media"

from pipeline.faces.analysis import analyse_faces  # noqa: E402
from pipeline.faces.audit import audit_items, contact_sheet  # noqa: E402
from pipeline.faces.settings import load_settings  # noqa: E402
from pipeline.master import plan_master  # noqa: E402
from pipeline.orchestrator import RenderOptions, prepare  # noqa: E402
from pipeline.published import published_frames, strip_frames  # noqa: E402
from pipeline.render import encode_master  # noqa: E402
from pipeline.source.normalize import ClipSpan, read_frames  # noqa: E402
from pipeline.source.probe import probe  # noqa: E402
from pipeline.speech.models import store_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clip = MEDIA / "videos" / "facenet_pytorch_video.mp4"
    if not clip.is_file():
        raise SystemExit(f"bench_contact_sheet.py: {clip} is absent (it sits beside the checkout)")
    os.environ.setdefault("CADRE_MODELS_DIR", str(store_dir()))   # Whisper's weights, for the strip's episode
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
        strip_rows = strip(clip, args.repeat)        # the same cache: the analysis above is reused
    sheet, decode = min(sheet_s), min(decode_s)
    print(f"\n{clip.name}: {span.frame_count} frames, {len(tracks[clip.name].tracks)} face tracks, "
          f"{len(items)} tiles")
    print("  step                                  seconds   ratio")
    print("  ------------------------------------  -------   -----")
    print(f"  face analysis (CenterFace, tracking)  {analysis:7.2f}   1.000")
    print(f"  audit list + contact sheet + index    {sheet:7.2f}   {sheet / analysis:.3f} of the analysis")
    print(f"  baseline: decode {frames} frames at 1280 px  {decode:7.2f}   sheet / decode = {sheet / decode:.2f}")
    print(strip_rows)


def strip(clip: Path, repeat: int) -> str:
    """The strip of published frames against the master encode of an episode of ``clip``: the rows to print."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ep"
        folder.mkdir()
        shutil.copyfile(clip, folder / "1.mp4")
        (folder / "episode.toml").write_text('networks = ["youtube-shorts"]\n', "utf-8")
        prepared = prepare(folder, RenderOptions(require_approval=False))
        setup = plan_master(prepared, Path(tmp), parts=False)
        strip_s = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            shown = published_frames(setup, strip_frames(setup))
            strip_s.append(time.perf_counter() - t0)
        audio = Path(tmp) / "audio.m4a"
        setup.audio(prepared, audio)
        t0 = time.perf_counter()
        encode_master(setup.job(audio, Path(tmp) / "master.mp4", prepared.profile, 8000))
        encode = time.perf_counter() - t0
    best = min(strip_s)
    return (f"\n  strip: {len(shown)} published frames of {setup.plan.frames}, "
            f"{sum(len(f.masks) for f in shown)} masks outlined\n"
            f"  master encode (1080x1920, captions)   {encode:7.2f}   1.000\n"
            f"  strip of published frames             {best:7.2f}   {best / encode:.3f} of the encode "
            f"({best / len(shown):.2f} s a frame)")


if __name__ == "__main__":
    main()
