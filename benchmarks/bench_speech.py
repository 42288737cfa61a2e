"""French transcription: Cadre against faster-whisper run as its users run it, on a checking half.

    python -m benchmarks speech [--repeats 3] [--threads 2] [--bootstrap 10000]

Rows (Whisper base, the same CTranslate2 weights, int8, beam 5, language fr):
- **faster-whisper, vad_filter=False** and **vad_filter=True** (every other argument left at its
  default: what a user of faster-whisper gets);
- **Cadre** (``pipeline.speech.transcribe.run``, no cache), as it is on disk;
- **candidate stages**, each one added alone to faster-whisper with ``vad_filter=True`` and the word
  timestamps captions need (``benchmarks/speech_stages.py``): Cadre's blocked VAD, no conditioning
  on previous text, the silence-hallucination skip; and the hallucination guards, which only delete
  credit and loop text (not a decoding stage: measured, kept whatever their verdict).

The French speech of ``../shared/media/audio`` (``references.tsv``) is split once, by a fixed rule
written before any figure was read: the files sorted by path, the 1st, 3rd, 5th... are the
**checking** half, the others the **tuning** half (:data:`CHECKING`, :data:`TUNING`). A stage is
kept in Cadre only if it beats ``vad_filter=True`` on the checking half by more than the paired
bootstrap 95 % interval (clips resampled with replacement; the interval of the WER difference must
lie above 0); otherwise Cadre uses faster-whisper's own behaviour. The record lists each stage's
verdict; ``pipeline/speech`` follows it (see ``docs/BENCHMARKS.md``).

Reported: per-clip WER (both sides normalised: case, punctuation, apostrophes, hyphens) and
real-time factor (wall seconds / audio seconds, median of ``--repeats`` interleaved passes over all
the French clips, audio decode included). Targets (issue 29): Cadre's WER on the checking half
<= faster-whisper ``vad_filter=True``'s, at RTF <= 0.15 (int8).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import re
import statistics
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED_MEDIA, Benchmark, check, info, interleaved, table  # noqa: E402

AUDIO = SHARED_MEDIA / "audio"
LINTO = "fr/fr_linto_bonjour_vous_allez_bien_long_silence.wav"
GAP = (4.0, 32.5)           # seconds: the near-silent stretch of the LINTO file
COMPUTE = "int8"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"(?<=\d)[ .,\u00a0\u202f](?=\d{3}\b)", "", text)  # 3 061 / 3.061 -> 3061 (French thousands)
    text = re.sub(r"[’'`´]", " ", text)          # l'accident -> l accident
    text = re.sub(r"[-‐‑–—]", " ", text)          # états-unis -> états unis
    text = re.sub(r"[^\w\s]", " ", text)          # punctuation, « », ...
    return " ".join(text.split())


def french(media: Path = AUDIO) -> list[dict]:
    with open(media / "references.tsv", newline="", encoding="utf-8") as fh:
        return sorted((r for r in csv.DictReader(fh, delimiter="\t") if r["lang"] == "fr"), key=lambda r: r["file"])


def split(refs: list[dict]) -> tuple[list[dict], list[dict]]:
    """(tuning, checking): sorted by path, even positions (1st, 3rd, ...) check, odd ones tune."""
    return refs[1::2], refs[0::2]


def errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word errors, reference words) after normalising both sides."""
    import jiwer

    ref, hyp = normalise(reference), normalise(hypothesis)
    if not hyp:
        return len(ref.split()), len(ref.split())
    out = jiwer.process_words(ref, hyp)
    return out.substitutions + out.deletions + out.insertions, len(ref.split())


def pooled(per_clip: dict[str, tuple[int, int]], files: list[str]) -> float:
    return sum(per_clip[f][0] for f in files) / max(1, sum(per_clip[f][1] for f in files))


def paired_bootstrap(base: dict, variant: dict, files: list[str], rounds: int, seed: int = 29) -> tuple[float, float, float]:
    """WER(base) - WER(variant) on ``files`` and its 95 % interval, clips resampled with replacement
    (both rows resampled alike). Positive: the variant makes fewer errors."""
    rng = random.Random(seed)
    diffs = []
    for _ in range(rounds):
        pick = [rng.choice(files) for _ in files]
        words = sum(base[f][1] for f in pick) or 1
        diffs.append((sum(base[f][0] for f in pick) - sum(variant[f][0] for f in pick)) / words)
    diffs.sort()
    return pooled(base, files) - pooled(variant, files), diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds) - 1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="interleaved timed passes of each main row")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bootstrap", type=int, default=10000, help="bootstrap resamples")
    args = ap.parse_args(argv)
    if not AUDIO.is_dir():
        raise SystemExit(f"{AUDIO} is absent: this benchmark needs the shared real French speech")
    os.environ["CADRE_CACHE_DIR"] = tempfile.mkdtemp(prefix="cadre-bench-speech-")
    from benchmarks import speech_stages as st

    refs = french()
    tuning, checking = split(refs)
    files = [r["file"] for r in refs]
    check_files, tune_files = [r["file"] for r in checking], [r["file"] for r in tuning]
    audio_s = sum(float(r["duration_s"]) for r in refs)
    bench = Benchmark("speech", "French WER on a held-back checking half and RTF (int8), Cadre against "
                      "faster-whisper base with vad_filter=True / False",
                      baselines=["faster-whisper vad_filter=True", "faster-whisper vad_filter=False"])
    model = st.load_model(COMPUTE, args.threads)
    st.warm_up(model, AUDIO / files[0])

    def pass_over(row):
        return {r["file"]: row(AUDIO / r["file"]) for r in refs}

    main_rows = {"faster-whisper vad_filter=False": lambda p: st.plain(model, p, vad_filter=False),
                 "faster-whisper vad_filter=True": lambda p: st.plain(model, p, vad_filter=True),
                 "Cadre": lambda p: st.cadre(p, COMPUTE, args.threads)}
    samples = interleaved({k: (lambda row=row: pass_over(row)) for k, row in main_rows.items()}, args.repeats)
    texts = {k: v[-1]["result"] for k, v in samples.items()}
    rtf = {k: statistics.median(s["wall"] for s in v) / audio_s for k, v in samples.items()}
    cpu_rtf = {k: statistics.median(s["cpu"] for s in v) / audio_s for k, v in samples.items()}
    texts["vad_filter=True + word timestamps"] = pass_over(lambda p: st.reference(model, p))
    for name, stage in st.STAGES.items():
        print(f"  stage: {name}", flush=True)
        texts[f"+ {name}"] = pass_over(lambda p, stage=stage: stage(model, p))

    per_clip = {k: {r["file"]: errors(r["reference"], t[r["file"]][0]) for r in refs} for k, t in texts.items()}
    base, ref = "faster-whisper vad_filter=True", "vad_filter=True + word timestamps"
    rows = []
    for r in refs:
        f = r["file"]
        rows.append([f, "check" if f in check_files else "tune", per_clip[base][f][1],
                     *[f"{per_clip[k][f][0] / per_clip[k][f][1]:.3f}" for k in texts]])
    for label, fs in (("checking half", check_files), ("tuning half", tune_files)):
        rows.append([label, "", sum(per_clip[base][f][1] for f in fs), *[f"{pooled(per_clip[k], fs):.3f}" for k in texts]])
    rows.append(["RTF (wall, int8, median)", "", "", *[f"{rtf[k]:.3f}" if k in rtf else "" for k in texts]])
    table(f"French WER per clip (Whisper base, int8, beam 5, {args.threads} threads; load average "
          f"{os.getloadavg()[0]:.1f}); columns: the rows, then each candidate stage added alone to "
          "vad_filter=True with word timestamps",
          ["clip", "half", "words", *texts], rows)

    verdicts = {}
    for name in st.STAGES:
        diff, lo, hi = paired_bootstrap(per_clip[ref], per_clip[f"+ {name}"], check_files, args.bootstrap)
        tune_diff = pooled(per_clip[ref], tune_files) - pooled(per_clip[f"+ {name}"], tune_files)
        verdicts[name] = {"checking_wer_gain": diff, "ci95": [lo, hi], "tuning_wer_gain": tune_diff, "keep": lo > 0}
        bench.add(info(f"stage '{name}': WER gain over vad_filter=True (+ word timestamps), checking half",
                       round(diff, 4),
                       note=f"95 % paired bootstrap interval [{lo:.3f}, {hi:.3f}] over {len(check_files)} clips; "
                            f"tuning half gain {tune_diff:.3f}; "
                            + ("not a decoding stage: kept in Cadre whatever the verdict" if name in st.NOT_DECODING
                               else f"{'KEPT' if lo > 0 else 'dropped'} by the rule")))
    cadre_check, base_check = pooled(per_clip["Cadre"], check_files), pooled(per_clip[base], check_files)
    bench.checks.insert(0, check("French WER, checking half, Cadre", round(cadre_check, 4), "<=", round(base_check, 4),
                                 baseline=round(base_check, 4),
                                 note=f"baseline: faster-whisper base vad_filter=True; vad_filter=False "
                                      f"{pooled(per_clip['faster-whisper vad_filter=False'], check_files):.3f}; "
                                      f"checking half: {', '.join(Path(f).stem for f in check_files)}"))
    bench.checks.insert(1, check("RTF (wall / audio), Cadre, int8", round(rtf["Cadre"], 4), "<=", 0.15,
                                 baseline=round(rtf[base], 4),
                                 note=f"median of {args.repeats} interleaved passes over {audio_s:.0f} s of French; "
                                      f"CPU-time RTF Cadre {cpu_rtf['Cadre']:.3f}, vad_filter=True {cpu_rtf[base]:.3f}, "
                                      f"vad_filter=False {cpu_rtf['faster-whisper vad_filter=False']:.3f}"))
    gap = {k: sum(1 for s, e, _ in t[LINTO][1] if e > GAP[0] and s < GAP[1]) for k, t in texts.items() if LINTO in t}
    bench.checks.insert(2, check("words placed in the 29 s near-silence of the LINTO file, Cadre", gap.get("Cadre"),
                                 "==", 0, baseline=gap.get(base), unit="words"))
    bench.add(info("French WER, all clips, Cadre", round(pooled(per_clip["Cadre"], files), 4),
                   baseline=round(pooled(per_clip[base], files), 4)))
    details = {"tuning": tune_files, "checking": check_files, "rtf": rtf, "cpu_rtf": cpu_rtf, "verdicts": verdicts,
               "per_clip": {k: {f: {"errors": e, "words": n, "wer": e / n} for f, (e, n) in v.items()}
                            for k, v in per_clip.items()},
               "texts": {k: {f: t[f][0] for f in t} for k, t in texts.items()}, "compute_type": COMPUTE,
               "threads": args.threads, "repeats": args.repeats, "audio_s": audio_s}
    return bench.finish(details)


if __name__ == "__main__":
    sys.exit(main())
