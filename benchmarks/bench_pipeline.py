"""What a unit would otherwise chain by hand, against Cadre's cold first render, on one clip.

    python benchmarks/bench_pipeline.py [--seconds 60] [--preset fast] [--json out.json]

The clip: 1920x1080, 30 fps, ``--seconds`` long, a pan and zoom over a labelled photo of several
people (``../shared/media/images``), with real French speech (the FLEURS clips, looped).

- **By hand**: faster-whisper (the same Whisper base weights, int8, beam 5, word timestamps) writes
  an SRT; deface 1.5.0 with its CLI defaults (full-resolution CenterFace, threshold 0.2, blur,
  ellipse, mask scale 1.3) anonymises every frame, written losslessly-ish (x264 CRF 18, as a person
  would keep quality for the next step); then one ffmpeg command crops 9:16, scales to 1080x1920,
  burns the SRT (libass, the shipped font) and normalises loudness (one-pass loudnorm), x264 at
  ``--preset``.
- **Cadre**: ``cadre render EPISODE -n tiktok`` with an empty analysis cache (transcription, face
  analysis, reframe, two-pass loudness, masking, captions, checks), x264 at ``--preset``.

Each part is timed on its own (wall seconds, best of one: the cold run is the point); the ratio is
Cadre / by hand (target <= 0.5). Peak memory of each command is reported too.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import ROOT, SHARED_MEDIA, table, timed  # noqa: E402
from pipeline.ffmpeg import ffmpeg_exe, run  # noqa: E402
from pipeline.resources import font_dir  # noqa: E402
from pipeline.speech.models import resolve  # noqa: E402

W, H, FPS = 1920, 1080, 30


def make_clip(folder: Path, seconds: float) -> Path:
    """A pan and zoom over a group photo, with French speech, as H.264 + AAC."""
    from bench_masking import load_truth, make_panzoom

    truth = load_truth()
    silent = folder / "video.mp4"
    make_panzoom(truth, silent, seconds)
    speech = sorted((SHARED_MEDIA / "audio" / "fr").glob("fr_fleurs_*.wav"))
    listing = folder / "speech.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in speech * 20))
    clip = folder / "episode" / "1.mp4"
    clip.parent.mkdir(parents=True)
    run(["-i", str(silent), "-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v", "-map", "1:a",
         "-t", f"{seconds}", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k", str(clip)], source=clip, what="bench clip")
    (clip.parent / "episode.toml").write_text('language = "fr"\n', "utf-8")
    return clip


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


def deface_defaults(clip: Path, out: Path) -> None:
    """deface 1.5.0's CLI defaults, frame by frame, written with x264 CRF 18 and the source audio."""
    import imageio.v2 as iio
    from deface.centerface import CenterFace
    from deface.deface import anonymize_frame

    cf = CenterFace(in_shape=None, backend="auto")
    reader = iio.get_reader(str(clip))
    enc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo",
                            "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS), "-i", "pipe:", "-i", str(clip),
                            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-crf", "18", "-preset", "fast",
                            "-pix_fmt", "yuv420p", "-c:a", "copy", str(out)], stdin=subprocess.PIPE)
    for frame in reader:
        dets, _ = cf(frame, threshold=0.2)
        anonymize_frame(dets, frame, mask_scale=1.3, replacewith="blur", ellipse=True, draw_scores=False,
                        replaceimg=None, mosaicsize=20)
        enc.stdin.write(frame.tobytes())
    reader.close()
    enc.stdin.close()
    if enc.wait() != 0:
        sys.exit("bench_pipeline: the deface encode failed")


def final_ffmpeg(masked: Path, srt: Path, out: Path, preset: str) -> list[str]:
    style = "FontName=Roboto,Bold=1,FontSize=14,Outline=2,MarginV=60"
    vf = (f"crop=ih*9/16:ih,scale=1080:1920,setsar=1,"
          f"subtitles=filename='{srt}':fontsdir='{font_dir()}':force_style='{style}'")
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(masked), "-vf", vf,
            "-af", "loudnorm=I=-14:TP=-2:LRA=11", "-ar", "48000", "-c:v", "libx264", "-preset", preset,
            "-crf", "20", "-profile:v", "high", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k",
            "-movflags", "+faststart", str(out)]


def seconds_of(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not SHARED_MEDIA.is_dir():
        print(f"bench_pipeline: {SHARED_MEDIA} not found (the shared real media)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cadre-bench-pipeline-"))
    try:
        clip = make_clip(work, args.seconds)
        srt, masked, out = work / "hand.srt", work / "masked.mp4", work / "hand.mp4"
        t_asr = seconds_of(whisper_srt, clip, srt)
        t_face = seconds_of(deface_defaults, clip, masked)
        t_final, mem_final = timed(final_ffmpeg(masked, srt, out, args.preset))
        hand = t_asr + t_face + t_final
        cache = work / "cache"
        cadre = [sys.executable, "-m", "pipeline.cli", "render", str(clip.parent), "-n", "tiktok",
                 "-o", str(work / "exports"), "--x264-preset", args.preset]
        t_cadre, mem_cadre = timed(cadre, env={"CADRE_CACHE_DIR": str(cache)})
        load = os.getloadavg()
        rows = [["faster-whisper SRT (by hand)", f"{t_asr:.1f}", ""],
                ["deface defaults (by hand)", f"{t_face:.1f}", ""],
                ["ffmpeg crop+scale+subtitles+loudnorm (by hand)", f"{t_final:.1f}", f"{mem_final / 2**20:.0f}"],
                ["by hand, total", f"{hand:.1f}", ""],
                ["Cadre cold first render (TikTok)", f"{t_cadre:.1f}", f"{mem_cadre / 2**20:.0f}"]]
        table(f"{args.seconds:.0f} s 1080p clip with French speech and faces, x264 {args.preset} "
              f"(load {load[0]:.1f} on {os.cpu_count()} cores)", ["step", "wall s", "peak MB"], rows)
        ratio = t_cadre / hand
        print(f"Cadre / by hand: {ratio:.2f} (target <= 0.5) {'OK' if ratio <= 0.5 else 'MISSED'}")
        if args.json:
            args.json.write_text(json.dumps({"asr_s": t_asr, "deface_s": t_face, "ffmpeg_s": t_final,
                                             "hand_s": hand, "cadre_s": t_cadre, "ratio": ratio,
                                             "cadre_peak_mb": mem_cadre / 2**20}, indent=1))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
