"""ASR benchmark: WER per language and speed of both engines on the same weights, in one run.

    python benchmarks/bench_asr.py [--media ../shared/media/audio] [--threads 2] [--repeat 2]

Reports, on the real speech in ``../shared/media/audio`` (references in ``references.tsv``):
- WER per language, both sides normalised (case, punctuation, apostrophes, hyphens);
- real-time factor (processing time / audio duration) of faster-whisper int8 and openai-whisper
  (checkpoint converted from the same CT2 base weights), and the speed ratio;
- silence: words placed inside the ~29 s gap of the LINTO file (must be 0);
- the wall time of a cached re-run of ``cadre transcribe`` on a transcribed clip (must be < 1 s).

Timings are the best of ``--repeat`` runs after a warm-up (model load, JIT), so a busy machine
disturbs them less; CPU time (this process, all threads) is shown too, as it is steadier than wall
time when other jobs share the cores (``--threads 1`` steadier still: no spinning thread pools). Transcripts bypass the cache (``pipeline.transcribe.run``).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LINTO = "fr/fr_linto_bonjour_vous_allez_bien_long_silence.wav"
GAP = (4.0, 32.5)  # seconds: the near-silent stretch of the LINTO file


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"(?<=\d)[ .,\u00a0\u202f](?=\d{3}\b)", "", text)  # 3 061 / 3.061 -> 3061 (French thousands)
    text = re.sub(r"[’'`´]", " ", text)          # l'accident -> l accident
    text = re.sub(r"[-‐‑–—]", " ", text)          # états-unis -> états unis
    text = re.sub(r"[^\w\s]", " ", text)          # punctuation, « », ...
    return " ".join(text.split())


def references(media: Path) -> list[dict]:
    with open(media / "references.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def transcribe(path: Path, options, repeat: int):
    from pipeline.transcribe import run

    best, cpu, transcript = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        transcript = run(path, options)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return transcript, best, cpu


def cached_rerun_seconds(media: Path, env: dict) -> float:
    from pipeline.ffmpeg import ffmpeg_exe

    folder = Path(tempfile.mkdtemp(prefix="cadre-bench-asr-"))
    try:
        clip = folder / "episode" / "1.mp4"
        clip.parent.mkdir()
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "color=c=gray:s=320x240:r=30", "-i", str(media / "fr/fr_fleurs_001.wav"), "-shortest",
                        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(clip)], check=True)
        cadre = Path(sys.executable).with_name("cadre")
        cmd = [str(cadre)] if cadre.is_file() else [sys.executable, "-c", "from pipeline.cli import main; main()"]
        cmd += ["transcribe", str(clip.parent)]
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
            best = min(best, time.perf_counter() - t0)
            assert "[cached]" in out.stdout, out.stdout
        return best
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media" / "audio")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--float32", action="store_true", help="also time faster-whisper float32")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    if not args.media.is_dir():
        print(f"bench_asr: {args.media} not found (the shared real media)", file=sys.stderr)
        return 2

    env = dict(os.environ)
    env.setdefault("CADRE_CACHE_DIR", tempfile.mkdtemp(prefix="cadre-bench-cache-"))
    os.environ.update(env)

    import jiwer

    from pipeline.asr import load_engine
    from pipeline.asr.base import TranscribeOptions
    from pipeline.transcript import Transcript

    refs = references(args.media)
    engines = [("faster-whisper int8", dict(engine="faster-whisper", compute_type="int8")),
               ("faster-whisper int16", dict(engine="faster-whisper", compute_type="int16"))]  # Cadre's default
    if args.float32:
        engines.append(("faster-whisper float32", dict(engine="faster-whisper", compute_type="float32")))
    try:
        import whisper  # noqa: F401
        engines.append(("openai-whisper", dict(engine="openai-whisper")))
    except ImportError:
        print("openai-whisper is not installed: its row is skipped", file=sys.stderr)

    results, cpu_seconds = {}, {}
    for label, kw in engines:
        warm = TranscribeOptions(language="en", threads=args.threads, **kw)
        load_engine(warm)
        transcribe(args.media / "en/en_whisper_jfk.wav", warm, 1)  # warm-up: JIT, allocators
        rows, cpu = [], 0.0
        for ref in refs:
            options = TranscribeOptions(language=ref["lang"], threads=args.threads, **kw)
            transcript, seconds, cpu_s = transcribe(args.media / ref["file"], options, args.repeat)
            rows.append((ref, transcript, seconds))
            cpu += cpu_s
        results[label] = rows
        cpu_seconds[label] = cpu

    figures = {"engines": {}, "threads": args.threads, "repeat": args.repeat}
    languages = sorted({r["lang"] for r in refs})
    load = os.getloadavg()
    figures["load_average"] = load
    print(f"\nASR benchmark: Whisper base, same weights, beam 5, word timestamps, VAD, {args.threads} threads "
          f"(machine load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores)")
    print(f"{'engine':<24}" + "".join(f"{'WER ' + lang:>10}" for lang in languages)
          + f"{'RTF':>8}{'CPU RTF':>9}{'audio s':>9}{'time s':>8}{'silence':>9}")
    for label, rows in results.items():
        wers = {}
        for lang in languages:
            pairs = [(normalise(r["reference"]), normalise(t.text)) for r, t, _ in rows
                     if r["lang"] == lang and r["file"] != LINTO]
            wers[lang] = jiwer.wer([p[0] for p in pairs], [p[1] for p in pairs]) * 100
        audio = sum(float(r["duration_s"]) for r, _, _ in rows)
        spent = sum(s for _, _, s in rows)
        linto: Transcript = next(t for r, t, _ in rows if r["file"] == LINTO)
        in_gap = [w.word for w in linto.words if w.end > GAP[0] and w.start < GAP[1]]
        figures["engines"][label] = {"wer": wers, "rtf": spent / audio, "cpu_rtf": cpu_seconds[label] / audio,
                                     "audio_s": audio, "time_s": spent,
                                     "words_in_gap": len(in_gap),
                                     "linto_text": linto.text,
                                     "texts": {r["file"]: t.text for r, t, _ in rows}}
        print(f"{label:<24}" + "".join(f"{wers[lang]:>9.1f}%" for lang in languages)
              + f"{spent / audio:>8.3f}{cpu_seconds[label] / audio:>9.3f}{audio:>9.1f}{spent:>8.1f}{len(in_gap):>9d}")

    eng = figures["engines"]
    if "openai-whisper" in eng:
        slow = eng["openai-whisper"]
        for label in [k for k in eng if k.startswith("faster-whisper")]:
            fast = eng[label]
            ratio = slow["rtf"] / fast["rtf"]
            cpu_ratio = slow["cpu_rtf"] / fast["cpu_rtf"]
            worse = max(fast["wer"][lang] - slow["wer"][lang] for lang in languages)
            figures.setdefault("comparisons", {})[label] = dict(speed_ratio=ratio, cpu_ratio=cpu_ratio,
                                                                wer_points_worse=worse)
            print(f"\n{label}: {ratio:.2f}x openai-whisper in wall time, {cpu_ratio:.2f}x in CPU time "
                  f"(target >= 3.5x) {'OK' if min(ratio, cpu_ratio) >= 3.5 else 'MISSED'}; "
                  f"WER at most {worse:+.1f} points vs openai-whisper (target <= +1) {'OK' if worse <= 1.0 else 'MISSED'}")
    silent = all(e["words_in_gap"] == 0 for e in eng.values())
    print(f"silence ({LINTO}): words inside {GAP[0]}-{GAP[1]} s: "
          + ", ".join(f"{k} {v['words_in_gap']}" for k, v in eng.items()) + (" OK" if silent else " FAILED"))
    rerun = cached_rerun_seconds(args.media, env)
    figures["cached_rerun_s"] = rerun
    print(f"cached re-run of `cadre transcribe` (one clip, wall time incl. start-up): {rerun:.2f} s "
          f"(target < 1 s) {'OK' if rerun < 1.0 else 'MISSED'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
