"""Bleeping: terms a person must not hear or read (a victim's name, an address).

The terms come from ``bleep = [...]`` in ``episode.toml`` / ``campaign.toml`` (the review page's
"bleep" button adds the word to that same list). Every occurrence of a term in the episode's
words is replaced, in the captions and the sidecars, by :data:`PLACEHOLDER`; the audio under it
(padded by :data:`PAD` seconds, since word timings are approximate) is muted or covered by a tone
in :func:`pipeline.sound.loudness.render_audio`. A person can also bleep a single occurrence by writing
the placeholder in place of the word in the clip's SRT (or in the review page's caption editor):
every placeholder word is bleeped, whatever put it there. The redaction report lists each span,
not the term itself: the report travels with the published file.

Matching is per spoken word (:func:`pipeline.captions.words.spoken_groups`, the tokenizer every
caption surface uses), case-, accent- and edge-punctuation-insensitive; a French elision matches
on the part after the apostrophe (``d'Amélie``, ``lorsqu’Amélie`` match ``Amélie``), an English
possessive or contraction on the part before it (``Amélie's``); a phrase matches consecutive words.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace

from pipeline.captions.words import split_contraction, split_elision, spoken_groups
from pipeline.speech.transcript import Word

PLACEHOLDER = "***"
PAD = 0.15                 # seconds muted before and after the bleeped words
TONE_HZ = 1000
TONE_LEVEL = 0.25          # linear amplitude of the tone (about -12 dBFS)
SOUNDS = ("tone", "mute")
_EDGE = re.compile(r"^([\W_]*)(.*?)([\W_]*)$", re.S)


@dataclass(frozen=True)
class Bleep:
    start: float           # episode seconds, padded
    end: float
    words: int             # how many words were replaced

    def to_dict(self) -> dict:
        return asdict(self)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a word."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def split_word(token: str) -> tuple[str, str, str]:
    """(leading punctuation and elision, the word, trailing contraction and punctuation)."""
    lead, core, trail = _EDGE.match(token).groups()
    elision, core = split_elision(core)
    core, ending = split_contraction(core)
    if elision or ending:
        inner_lead, core, inner_trail = _EDGE.match(core).groups()
        lead, trail = lead + elision + inner_lead, inner_trail + ending + trail
    return lead, core, trail


def _term_tokens(term: str) -> list[str]:
    return [fold(split_word(w.word)[1]) for _, w in spoken_groups([Word(0, 0, t) for t in term.split()])
            if split_word(w.word)[1]]


def matches(spoken: list[str], terms) -> list[tuple[int, int]]:
    """Ranges ``(first, last)`` of ``spoken`` (words as :func:`spoken_groups` makes them, or a cue's
    text split at spaces) that say one of ``terms``, merged when they overlap."""
    folded = [fold(split_word(text.strip())[1]) for text in spoken]
    found: list[tuple[int, int]] = []
    for term in terms:
        want = _term_tokens(term)
        if not want:
            continue
        for k in range(len(folded) - len(want) + 1):
            if folded[k:k + len(want)] == want:
                found.append((k, k + len(want) - 1))
    found.sort()
    merged: list[tuple[int, int]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def find(words: list[Word], terms) -> list[tuple[int, int]]:
    """Spoken-word ranges ``(first, last)`` (indices into :func:`spoken_groups` of ``words``) that say one of ``terms``."""
    return matches([w.word for _, w in spoken_groups(words)], terms)


def censor(words: list[Word], terms) -> list[Word]:
    """Words with every occurrence of ``terms`` replaced by one placeholder word over the same time."""
    if not terms or not words:
        return words
    groups = spoken_groups(words)
    hits = matches([w.word for _, w in groups], terms)
    if not hits:
        return words
    drop: set[int] = set()
    out = list(words)
    for a, b in hits:
        idx = [i for g, _ in groups[a:b + 1] for i in g]
        first, last = groups[a][1], groups[b][1]
        lead, trail = split_word(first.word)[0], split_word(last.word)[2]
        out[idx[0]] = replace(words[idx[0]], word=f" {lead}{PLACEHOLDER}{trail}", start=first.start,
                              end=max(w.end for _, w in groups[a:b + 1]), probability=1.0)
        drop.update(idx[1:])
    return [w for i, w in enumerate(out) if i not in drop]


def spans(words: list[Word], duration: float | None = None) -> list[Bleep]:
    """The audio spans to bleep: each placeholder word's time, padded and merged."""
    out: list[Bleep] = []
    for w in words:
        if PLACEHOLDER not in w.word:
            continue
        start = max(0.0, round(w.start - PAD, 3))
        end = round(w.end + PAD, 3)
        if duration is not None:
            end = min(end, round(duration, 3))
        if out and start <= out[-1].end:
            out[-1] = Bleep(out[-1].start, max(end, out[-1].end), out[-1].words + 1)
        else:
            out.append(Bleep(start, end, 1))
    return out


def report(bleeps: list[Bleep], settings) -> dict:
    """The ``bleeps`` section of the redaction report (times only: the terms stay out of it)."""
    return {"terms": len(settings.bleep), "sound": settings.bleep_sound,
            "spans": [b.to_dict() for b in bleeps]}
