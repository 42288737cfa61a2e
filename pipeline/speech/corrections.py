"""Human corrections: merge a person's edits of the review SRT into the machine transcript.

The SRT is the truth once a person has touched it. Cue by cue:

- a cue whose timing and text match the machine's keeps the machine words as they are;
- a cue whose text changed but whose timing did not keeps each word's timing when the number
  of words is the same, and re-times the words across the cue when it changed;
- a cue whose timing changed (or a new cue) takes the machine words under it when its text is
  unchanged, clamped into the new times, and is otherwise re-timed across the cue;
- machine words under no cue were deleted by the person and are dropped.

Re-timed words share the cue's time in proportion to their length in characters. Words a
person wrote get probability 1.0 (they are reviewed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.speech.transcript import Cue, Segment, Transcript, Word, layout_cues

TOLERANCE = 0.0015  # SRT keeps milliseconds
_PUNCT_ONLY = re.compile(r"^[?!:;»…%)\]]+$")
_OPEN_ONLY = re.compile(r"^[«(\[¿¡]+$")


@dataclass
class Token:
    text: str
    start: float
    end: float
    probability: float
    words: list[Word]


def machine_tokens(words: list[Word]) -> list[Token]:
    """Group Whisper words into space-separated tokens (" est" + "-ce" -> "est-ce")."""
    tokens: list[Token] = []
    for w in words:
        if tokens and not w.word.startswith(" "):
            t = tokens[-1]
            t.text += w.word
            t.end, t.probability = w.end, min(t.probability, w.probability)
            t.words.append(w)
        else:
            tokens.append(Token(w.word.strip(), w.start, w.end, w.probability, [w]))
    return tokens


def human_tokens(text: str) -> list[str]:
    """Split a cue's text into words; French spaced punctuation ("bien ?", "« oui »") stays attached."""
    out: list[str] = []
    pending_open = ""
    for part in text.split():
        if _OPEN_ONLY.match(part):
            pending_open += part + " "
        elif _PUNCT_ONLY.match(part) and out:
            out[-1] += " " + part
        else:
            out.append(pending_open + part)
            pending_open = ""
    if pending_open and out:
        out[-1] += " " + pending_open.strip()
    elif pending_open:
        out.append(pending_open.strip())
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _retime(tokens: list[str], start: float, end: float) -> list[Word]:
    weights = [len(t) + 1 for t in tokens]
    total = float(sum(weights))
    out, t = [], start
    for tok, wgt in zip(tokens, weights):
        d = (end - start) * wgt / total
        out.append(Word(round(t, 3), round(t + d, 3), " " + tok, 1.0))
        t += d
    return out


def _clamp(w: Word, start: float, end: float) -> Word:
    s = min(max(w.start, start), end)
    return Word(s, min(max(w.end, s), end), w.word, w.probability)


def _merge_cue(cue: Cue, match: Cue | None, under: list[Word]) -> list[Word]:
    if match is not None and _norm(cue.text) == _norm(match.text):
        return list(match.words)
    words = match.words if match is not None else under
    mtoks, htoks = machine_tokens(words), human_tokens(cue.text)
    if match is None and [t.text for t in mtoks] == htoks:
        return [_clamp(w, cue.start, cue.end) for w in words]
    if len(mtoks) == len(htoks) and mtoks:
        return [_clamp(Word(m.start, m.end, " " + h, 1.0), cue.start, cue.end) for m, h in zip(mtoks, htoks)]
    return _retime(htoks, cue.start, cue.end)


def apply_corrections(machine: Transcript, edited: list[Cue]) -> Transcript:
    """The transcript a person approved: one segment per cue of their SRT."""
    machine_cues = layout_cues(machine)
    all_words = machine.words
    used: set[int] = set()
    segments = []
    for cue in edited:
        if not cue.text.strip():
            continue
        match = next((m for m in machine_cues
                      if abs(m.start - cue.start) < TOLERANCE and abs(m.end - cue.end) < TOLERANCE), None)
        under = []
        if match is None:
            for i, w in enumerate(all_words):
                if i not in used and cue.start <= (w.start + w.end) / 2 < cue.end:
                    under.append(w)
                    used.add(i)
        words = _merge_cue(cue, match, under)
        segments.append(Segment(cue.start, cue.end, _norm(cue.text), words))
    return Transcript(machine.language, segments, list(machine.warnings))
