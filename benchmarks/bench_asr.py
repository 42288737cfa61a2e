"""ASR benchmark: WER per language and speed of both engines on the same weights, in one run.

    python -m benchmarks asr [--media ../shared/media/audio] [--threads 2] [--repeat 2]

(Cadre against faster-whisper run as its users run it, on a held-back half: ``bench_speech.py``.)

Reports, on the real speech in ``../shared/media/audio`` (references in ``references.tsv``):
- WER per language, both sides normalised (case, punctuation, apostrophes, hyphens);
- real-time factor (processing time / audio duration) of faster-whisper with every compute type
  this CPU's CTranslate2 offers (``--types`` to choose), and of openai-whisper (checkpoint
  converted from the same CT2 base weights) when installed, and the speed ratios; which type
  ``compute_type = "auto"`` picks here (``pipeline.speech.precision``);
- silence: words placed inside the ~29 s gap of the LINTO file (must be 0);
- the wall time of a cached re-run of ``cadre transcribe`` on a transcribed clip (must be < 1 s).

Timings are the best of ``--repeat`` runs after a warm-up (model load, JIT), so a busy machine
disturbs them less; CPU time (this process, all threads) is shown too, as it is steadier than wall
time when other jobs share the cores (``--threads 1`` steadier still: no spinning thread pools). Transcripts bypass the cache (``pipeline.speech.transcribe.run``).
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_speech import normalise  # noqa: E402  (one normalisation for every WER)

LINTO = "fr/fr_linto_bonjour_vous_allez_bien_long_silence.wav"
GAP = (4.0, 32.5)  # seconds: the near-silent stretch of the LINTO file


def references(media: Path) -> list[dict]:
    with open(media / "references.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def transcribe(path: Path, options, repeat: int):
    from pipeline.speech.transcribe import run

    best, cpu, transcript = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        transcript = run(path, options)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return transcript, best, cpu


def cached_rerun_seconds(media: Path, env: dict) -> float:
    from pipeline.core.ffmpeg import ffmpeg_exe

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


def wer_by_language(refs: list[dict], texts: dict[str, str]) -> dict[str, float]:
    import jiwer

    out = {}
    for lang in sorted({r["lang"] for r in refs}):
        pairs = [(normalise(r["reference"]), normalise(texts[r["file"]])) for r in refs
                 if r["lang"] == lang and r["file"] != LINTO]
        out[lang] = jiwer.wer([p[0] for p in pairs], [p[1] for p in pairs]) * 100
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media" / "audio")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--types", help="comma-separated compute types to time (default: all this CPU offers)")
    ap.add_argument("--float32", action="store_true", help=argparse.SUPPRESS)  # float32 is always timed now
    args = ap.parse_args()
    if not args.media.is_dir():
        print(f"bench_asr: {args.media} not found (the shared real media)", file=sys.stderr)
        return 2

    env = dict(os.environ)
    env.setdefault("CADRE_CACHE_DIR", tempfile.mkdtemp(prefix="cadre-bench-cache-"))
    os.environ.update(env)

    import jiwer

    from pipeline.speech.engines import load_engine
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.precision import resolve_compute_type, supported_types
    from pipeline.speech.transcript import Transcript

    refs = references(args.media)
    offered = supported_types()
    types = [t.strip() for t in args.types.split(",")] if args.types else list(offered)
    auto = resolve_compute_type("auto")
    print(f"this CPU's CTranslate2 offers: {', '.join(offered)}; compute_type = \"auto\" picks {auto}")
    engines = [(f"faster-whisper {t}" + (" (auto)" if t == auto else ""), dict(engine="faster-whisper", compute_type=t))
               for t in types]
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

    figures = {"engines": {}, "threads": args.threads, "repeat": args.repeat, "offered": list(offered), "auto": auto}
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
    from benchmarks.common import Benchmark, check

    bench = Benchmark("asr", "the two engines on the same weights: speed, WER per language, silence, cached re-run",
                      baselines=["openai-whisper"])
    for label, c in figures.get("comparisons", {}).items():
        bench.add(check(f"{label}: speed against openai-whisper, min of wall and CPU", round(min(c["speed_ratio"],
                        c["cpu_ratio"]), 3), ">=", 3.5, baseline="openai-whisper", unit="x"))
        bench.add(check(f"{label}: WER points worse than openai-whisper, worst language",
                        round(c["wer_points_worse"], 2), "<=", 1.0, baseline="openai-whisper", unit="points"))
    for label, e in eng.items():
        bench.add(check(f"{label}: words inside the LINTO gap", e["words_in_gap"], "==", 0, unit="words"))
    bench.add(check("cached re-run of cadre transcribe, wall", round(rerun, 3), "<", 1.0, unit="s"))
    for e in figures["engines"].values():
        e.pop("texts", None)
    return bench.finish(figures)


if __name__ == "__main__":
    sys.exit(main())
