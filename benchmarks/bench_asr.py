"""ASR benchmark: WER per language and speed of both engines on the same weights, in one run.

    python benchmarks/bench_asr.py [--media ../shared/media/audio] [--threads 2] [--repeat 2]
    python benchmarks/bench_asr.py --ablation [--repeat 1]      # decoding settings, stage by stage

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
    from pipeline.speech.transcribe import run

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


PROMPTS = {"fr": "Bonjour, voici ce qui a été dit.", "en": "Hello, here is what was said."}  # a neutral prompt


def wer_by_language(refs: list[dict], texts: dict[str, str]) -> dict[str, float]:
    import jiwer

    out = {}
    for lang in sorted({r["lang"] for r in refs}):
        pairs = [(normalise(r["reference"]), normalise(texts[r["file"]])) for r in refs
                 if r["lang"] == lang and r["file"] != LINTO]
        out[lang] = jiwer.wer([p[0] for p in pairs], [p[1] for p in pairs]) * 100
    return out


class patched:
    """Set module attributes for the length of a ``with`` block (a stage turned off or changed)."""

    def __init__(self, *changes):
        self.changes = changes  # (module, name, value)

    def __enter__(self):
        self.saved = [(m, n, getattr(m, n)) for m, n, _ in self.changes]
        for m, n, v in self.changes:
            setattr(m, n, v)

    def __exit__(self, *exc):
        for m, n, v in self.saved:
            setattr(m, n, v)


def plain_faster_whisper(refs: list[dict], media: Path, compute_type: str, threads: int):
    """faster-whisper as a newcomer would call it: same weights, beam 5, every other setting default
    (temperature fallback, conditioning on previous text, no VAD, no word timestamps)."""
    import numpy as np
    from faster_whisper import WhisperModel

    from pipeline.speech.audio import stream_audio
    from pipeline.speech.models import resolve

    model = WhisperModel(str(resolve("base").path), device="cpu", compute_type=compute_type, cpu_threads=threads,
                         local_files_only=True)
    texts, gap_words, spent = {}, 0, 0.0
    for ref in refs:
        audio = np.concatenate(list(stream_audio(media / ref["file"], 30.0)))
        t0 = time.perf_counter()
        segments, _ = model.transcribe(audio, language=ref["lang"], beam_size=5)
        segments = list(segments)
        spent += time.perf_counter() - t0
        texts[ref["file"]] = " ".join(seg.text.strip() for seg in segments)
        if ref["file"] == LINTO:  # no word times by default: a segment whose middle lies in the gap
            gap_words += sum(len(seg.text.split()) for seg in segments if GAP[0] < (seg.start + seg.end) / 2 < GAP[1])
    return texts, gap_words, spent


def print_ablation(table: dict, types: list[str], languages: list[str]) -> None:
    """One row per stage; per compute type: WER per language, 'sil' = words inside the LINTO gap
    (must be 0), 'bj' = "bonjour"s heard in the LINTO file (2 are spoken: the second comes after
    29 s of near-silence), RTF = wall time / audio duration."""
    print(f"WER in %; sil = words inside {GAP[0]}-{GAP[1]} s of the LINTO file (must be 0); bj = 'bonjour' "
          "heard in it (2 spoken)")
    width = 9 * len(languages) + 16
    print(f"{'stage':<34}" + "".join(f"| {t:<{width}}" for t in types))
    print(f"{'':<34}" + "".join("| " + "".join(f"{'WER ' + lang:>9}" for lang in languages)
                                + f"{'sil':>5}{'bj':>4}{'RTF':>7} " for _ in types))
    for label, cells in table.items():
        print(f"{label:<34}" + "".join(
            "| " + "".join(f"{cells[t]['wer'][lang]:>8.1f}%" for lang in languages)
            + f"{cells[t]['gap_words']:>5d}{normalise(cells[t]['texts'][LINTO]).split().count('bonjour'):>4d}"
            + f"{cells[t]['rtf']:>7.3f} " for t in types))


def ablation(args, refs: list[dict], types: list[str], auto: str) -> int:
    """WER of Cadre's decoding with each stage turned off or changed, per compute type."""
    from pipeline.speech import guards, vad
    from pipeline.speech.engines import faster_whisper as fw
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.transcribe import run

    def cadre(compute_type, **options):
        def go():
            texts, gap, spent = {}, 0, 0.0
            for ref in refs:
                opts = TranscribeOptions(language=ref["lang"], threads=args.threads, compute_type=compute_type,
                                         **{k: (v[ref["lang"]] if isinstance(v, dict) else v) for k, v in options.items()})
                t0 = time.perf_counter()
                transcript = run(args.media / ref["file"], opts)
                spent += time.perf_counter() - t0
                texts[ref["file"]] = transcript.text
                if ref["file"] == LINTO:
                    gap = sum(1 for w in transcript.words if w.end > GAP[0] and w.start < GAP[1])
            return texts, gap, spent
        return go

    configs = [
        ("plain faster-whisper (defaults)", None, lambda t: (lambda: plain_faster_whisper(refs, args.media, t, args.threads))),
        ("Cadre, all stages", (), lambda t: cadre(t)),
        ("- Cadre's VAD (vad=False)", (), lambda t: cadre(t, vad=False)),
        (f"  VAD block 30 s (not {vad.BLOCK:g})", ((vad, "BLOCK", 30.0),), lambda t: cadre(t)),
        ("  VAD in one pass (no blocks)", ((vad, "BLOCK", 1e6),), lambda t: cadre(t)),
        ("- guards (credits, loops)", ((guards, "clean", lambda segments: segments),), lambda t: cadre(t)),
        ("- temperature fallback (0 only)", ((fw, "TEMPERATURES", (0.0,)),), lambda t: cadre(t)),
        ("- silence-hallucination skip", ((fw, "HALLUCINATION_SILENCE_THRESHOLD", None),), lambda t: cadre(t)),
        ("+ initial prompt", (), lambda t: cadre(t, initial_prompt=PROMPTS)),
    ]
    audio = sum(float(r["duration_s"]) for r in refs)
    languages = sorted({r["lang"] for r in refs})
    table: dict[str, dict[str, dict]] = {}
    for t in types:
        from pipeline.speech.engines import load_engine
        load_engine(TranscribeOptions(language="en", threads=args.threads, compute_type=t))
        transcribe(args.media / "en/en_whisper_jfk.wav", TranscribeOptions(language="en", threads=args.threads,
                                                                            compute_type=t), 1)  # warm-up
        for label, changes, make in configs:
            with patched(*(changes or ())):
                best = None
                for _ in range(args.repeat):
                    texts, gap, spent = make(t)()
                    best = spent if best is None else min(best, spent)
            table.setdefault(label, {})[t] = {"wer": wer_by_language(refs, texts), "gap_words": gap,
                                              "rtf": best / audio, "texts": texts}
            cell = table[label][t]
            print(f"  [{t}] {label}: " + ", ".join(f"WER {k} {v:.1f}%" for k, v in cell["wer"].items())
                  + f", silence {gap}, RTF {cell['rtf']:.3f}", file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(f"\nAblation: Whisper base, beam 5, {args.threads} threads, best of {args.repeat} "
          f"(load average {load[0]:.1f}); auto = {auto}")
    print_ablation(table, types, languages)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"ablation": table, "threads": args.threads, "auto": auto},
                                        ensure_ascii=False, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media" / "audio")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--types", help="comma-separated compute types to time (default: all this CPU offers)")
    ap.add_argument("--float32", action="store_true", help=argparse.SUPPRESS)  # float32 is always timed now
    ap.add_argument("--ablation", action="store_true",
                    help="WER of each of Cadre's decoding stages on and off, per compute type, against plain faster-whisper")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
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
    if args.ablation:
        return ablation(args, refs, types, auto)
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
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
