"""Hallucination guards applied to every engine's output.

Whisper invents text where there is none: credits on silence ("Sous-titres réalisés par la
communauté d'Amara.org"), and loops that repeat a phrase until the window ends. The engines'
own thresholds (no-speech probability, compression ratio, silence skipping, VAD) catch most of
it; these checks catch the rest on the words themselves.
"""
from __future__ import annotations

import logging
import re

import numpy as np

from pipeline.speech.transcript import Segment, Word

log = logging.getLogger(__name__)

SILENCE_PEAK = 10 ** (-60 / 20)   # a block whose loudest sample is under -60 dBFS is silence
MAX_REPEATS = 3                    # an n-gram repeated more often than this in a row is a loop
MAX_NGRAM = 8

# Credits that Whisper learnt from subtitle files and writes on silence or music. No one says these.
_CREDITS = re.compile(
    r"sous-titr(es|age)\s+(réalisés?\s+)?(par|st)|amara\.org|subtitles\s+by",
    re.IGNORECASE)


def is_silent(audio: np.ndarray) -> bool:
    return audio.size == 0 or float(np.max(np.abs(audio))) < SILENCE_PEAK


def _key(word: Word) -> str:
    return re.sub(r"[^\w]", "", word.word.lower())


def collapse_loops(words: list[Word]) -> list[Word]:
    """Cut any run of the same 1..8-word phrase repeated more than MAX_REPEATS times to one copy."""
    keys = [_key(w) for w in words]
    keep = [True] * len(words)
    i = 0
    while i < len(words):
        jumped = False
        for n in range(1, MAX_NGRAM + 1):
            phrase = keys[i:i + n]
            if len(phrase) < n or not any(phrase):
                break
            reps = 1
            while keys[i + reps * n:i + (reps + 1) * n] == phrase:
                reps += 1
            if reps > MAX_REPEATS:
                for j in range(i + n, i + reps * n):
                    keep[j] = False
                log.warning("dropped a repetition loop: %r x%d", " ".join(w.word.strip() for w in words[i:i + n]), reps)
                i += reps * n
                jumped = True
                break
        if not jumped:
            i += 1
    return [w for w, k in zip(words, keep) if k]


def clean(segments: list[Segment]) -> list[Segment]:
    """Drop credit hallucinations and repetition loops; drop segments left without words."""
    out = []
    for seg in segments:
        if _CREDITS.search(seg.text):
            log.warning("dropped a subtitle-credit hallucination at %.1f s: %r", seg.start, seg.text.strip())
            continue
        words = collapse_loops(seg.words)
        if not words:
            continue
        if len(words) != len(seg.words):
            seg = Segment(words[0].start, words[-1].end, "".join(w.word for w in words).strip(), words)
        out.append(seg)
    # a whole segment repeated back to back is the same loop at segment level
    deduped: list[Segment] = []
    for seg in out:
        if len(deduped) >= MAX_REPEATS and all(_norm(s.text) == _norm(seg.text) for s in deduped[-MAX_REPEATS:]):
            log.warning("dropped a repeated segment at %.1f s: %r", seg.start, seg.text.strip())
            continue
        deduped.append(seg)
    return deduped


def _norm(text: str) -> str:
    return re.sub(r"[^\w]", "", text.lower())
