"""What a unit would otherwise chain by hand, against Cadre's cold first render, on one file.

    python -m benchmarks pipeline [--seconds 60] [--preset PRESET] [--repeats 3]

The clip: 1920x1080, 30 fps, ``--seconds`` long, a pan and zoom over the labelled photos
(``benchmarks/labelled.py``: every face's box known), with real French speech (FLEURS, looped).

- **By hand**, each tool as its CLI, each in its own process: faster-whisper (the same Whisper base
  weights, int8, beam 5, word timestamps) writes an SRT; deface 1.5.0's CLI (its onnxruntime path;
  defaults, or ``--scale 640x360``; audio kept) anonymises the file; one ffmpeg command crops 9:16,
  scales to 1080x1920, burns the SRT and normalises loudness (one-pass loudnorm), x264 ``--preset``
  (default: the one ``presets/master.toml`` gives Cadre, so both sides encode alike).
- **Cadre**: ``cadre render EPISODE -n tiktok`` from an empty analysis cache, x264 ``--preset``.

Rows are run ``--repeats`` times interleaved; medians of wall and CPU time (children's getrusage).
Targets (issue 29): Cadre <= 0.5x the chain with deface's defaults, <= 1.0x the chain with deface
``--scale 640x360``; that chain's leaked frames (labelled faces not fully masked) are quoted.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import (  # noqa: E402
    ROOT,
    SHARED_MEDIA,
    Benchmark,
    check,
    interleaved,
    medians,
    table,
)
from pipeline.core.ffmpeg import ffmpeg_exe, run  # noqa: E402
from pipeline.core.networks import master_profile  # noqa: E402
from pipeline.core.resources import font_dir  # noqa: E402
from pipeline.speech.models import resolve  # noqa: E402

W, H, FPS = 1920, 1080, 30


def make_clip(folder: Path, seconds: float) -> Path:
    """A pan and zoom over a group photo, with French speech, as H.264 + AAC."""
    from benchmarks.labelled import load_truth, make_panzoom

    truth = load_truth()
    silent = folder / "video.mp4"
    per_frame = make_panzoom(truth, silent, seconds)
    speech = sorted((SHARED_MEDIA / "audio" / "fr").glob("fr_fleurs_*.wav"))
    listing = folder / "speech.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in speech * 20))
    clip = folder / "episode" / "1.mp4"
    clip.parent.mkdir(parents=True)
    run(["-i", str(silent), "-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v", "-map", "1:a",
         "-t", f"{seconds}", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", str(clip)], source=clip, what="bench clip")
    (clip.parent / "episode.toml").write_text('language = "fr"\n', "utf-8")
    return clip, per_frame


def whisper_srt(clip: Path, srt: Path) -> None:
    """faster-whisper on the same weights, its SRT written the plain way."""
    from faster_whisper import WhisperModel

    model = WhisperModel(str(resolve("base").path), device="cpu", compute_type="int8", cpu_threads=os.cpu_count())
    segments, _ = model.transcribe(str(clip), language="fr", beam_size=5, word_timestamps=True)

    def stamp(t: float) -> str:
        ms = int(round(t * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    lines = []
    for i, seg in enumerate(segments, 1):
        lines += [str(i), f"{stamp(seg.start)} --> {stamp(seg.end)}", seg.text.strip(), ""]
    srt.write_text("\n".join(lines), "utf-8")


def final_ffmpeg(masked: Path, srt: Path, out: Path, preset: str) -> list[str]:
    style = "FontName=Roboto,Bold=1,FontSize=14,Outline=2,MarginV=60"
    vf = (f"crop=ih*9/16:ih,scale=1080:1920,setsar=1,"
          f"subtitles=filename='{srt}':fontsdir='{font_dir()}':force_style='{style}'")
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(masked), "-vf", vf,
            "-af", "loudnorm=I=-14:TP=-2:LRA=11", "-ar", "48000", "-c:v", "libx264", "-preset", preset,
            "-crf", "20", "-profile:v", "high", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k",
            "-movflags", "+faststart", str(out)]


def chain(clip: Path, work: Path, preset: str, scale: list[str], tag: str) -> list[list[str]]:
    """The hand-chained tools as commands: faster-whisper's SRT, deface's CLI (``scale``: its
    ``--scale`` argument or nothing; audio kept), one ffmpeg for the rest."""
    srt, masked, out = work / f"{tag}.srt", work / f"{tag}-masked.mp4", work / f"{tag}.mp4"
    return [[sys.executable, "-m", "benchmarks.bench_pipeline", "--srt", str(clip), str(srt)],
            [sys.executable, "-m", "benchmarks.deface_run", str(work / f"{tag}-deface.json"), "--", str(clip),
             "-o", str(masked), "--keep-audio", *scale],
            final_ffmpeg(masked, srt, out, preset)]


def run_all(commands: list[list[str]], env: dict | None = None):
    def go():
        for cmd in commands:
            done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
            if done.returncode:
                raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return go


def leaks(per_frame, facts: Path) -> int:
    from benchmarks.bench_masking import score
    from pipeline.faces.settings import load_settings

    return score(per_frame, json.loads(facts.read_text()), load_settings("blur", shape="ellipse"))["leaked_frames"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--preset", default=master_profile()["x264_preset"])
    ap.add_argument("--repeats", type=int, default=3, help="interleaved runs of each row (medians)")
    ap.add_argument("--srt", nargs=2, type=Path, metavar=("CLIP", "SRT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.srt:
        whisper_srt(*args.srt)
        return 0
    if not SHARED_MEDIA.is_dir():
        print(f"bench_pipeline: {SHARED_MEDIA} not found (the shared real media)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cadre-bench-pipeline-"))
    try:
        clip, per_frame = make_clip(work, args.seconds)
        cache = work / "cache"
        cadre = [sys.executable, "-m", "pipeline.cli", "render", str(clip.parent), "-n", "tiktok",
                 "-o", str(work / "exports"), "--x264-preset", args.preset]
        rows = {"by hand, deface defaults": run_all(chain(clip, work, args.preset, [], "defaults")),
                "by hand, deface --scale 640x360": run_all(chain(clip, work, args.preset, ["--scale", "640x360"],
                                                                 "fast")),
                "Cadre cold first render (TikTok)": lambda: (shutil.rmtree(cache, ignore_errors=True),
                                                             run_all([cadre], {"CADRE_CACHE_DIR": str(cache)})())}
        samples = interleaved(rows, args.repeats)
        med = {k: medians(v) for k, v in samples.items()}
        table(f"{args.seconds:.0f} s 1080p clip with French speech and faces, x264 {args.preset}, medians of "
              f"{args.repeats} interleaved runs (load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
              ["row", "wall s", "CPU s"], [[k, f"{w:.1f}", f"{c:.1f}"] for k, (w, c) in med.items()])
        cad, slow, fast = med["Cadre cold first render (TikTok)"], med["by hand, deface defaults"], \
            med["by hand, deface --scale 640x360"]
        leaked = {k: leaks(per_frame, work / f"{k}-deface.json") for k in ("defaults", "fast")}
        bench = Benchmark("pipeline", "Cadre's cold first render against the hand-chained tools on one file",
                          baselines=["faster-whisper SRT + deface CLI + ffmpeg"])
        bench.add(check("Cadre cold render / chain with deface defaults, wall", round(cad[0] / slow[0], 3), "<=", 0.5,
                        baseline="deface defaults chain", unit="x",
                        note=f"CPU {cad[1] / slow[1]:.2f}x; the chain's deface leaked {leaked['defaults']} frames"))
        bench.add(check("Cadre cold render / chain with deface --scale 640x360, wall", round(cad[0] / fast[0], 3), "<=",
                        1.0, baseline="deface --scale 640x360 chain", unit="x",
                        note=f"CPU {cad[1] / fast[1]:.2f}x; that chain's deface leaked {leaked['fast']} frames"))
        return bench.finish({"seconds": args.seconds, "preset": args.preset, "repeats": args.repeats,
                             "medians": med, "leaked_frames": leaked,
                             "samples": {k: [{"wall": x["wall"], "cpu": x["cpu"]} for x in v]
                                         for k, v in samples.items()}})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
