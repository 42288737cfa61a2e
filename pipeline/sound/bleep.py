"""Bleeping: terms a person must not hear or read (a victim's name, an address).

The terms come from ``bleep = [...]`` in ``episode.toml`` / ``campaign.toml`` (the review page's
"bleep" button adds the word to that same list). Every occurrence of a term in the episode's
words is replaced, in the captions and the sidecars, by :data:`PLACEHOLDER`; the audio under it
(padded by :data:`PAD` seconds, since word timings are approximate) is muted or covered by a tone
in :func:`pipeline.sound.loudness.render_audio`. A person can also bleep a single occurrence by writing
the placeholder in place of the word in the clip's SRT (or in the review page's caption editor):
every placeholder word is bleeped, whatever put it there. The redaction report lists each span,
not the term itself: the report travels with the published file.

Matching is per spoken token (Whisper words joined until the next leading space), case-,
accent- and edge-punctuation-insensitive; French elisions match on the part after the
apostrophe (``d'Amélie`` matches ``Amélie``); a phrase matches consecutive tokens.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

PLACEHOLDER = "***"
PAD = 0.15                 # seconds muted before and after the bleeped words
TONE_HZ = 1000
TONE_LEVEL = 0.25          # linear amplitude of the tone (about -12 dBFS)
SOUNDS = ("tone", "mute")
_EDGE = re.compile(r"^([\W_]*)(.*?)([\W_]*)$", re.S)
_ELISION = re.compile(r"^(\w{1,2}['’])(.+)$")


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
    """(leading punctuation and elision, the word, trailing punctuation)."""
    lead, core, trail = _EDGE.match(token).groups()
    m = _ELISION.match(core)
    if m:
        lead, core = lead + m.group(1), m.group(2)
    return lead, core, trail


def _tokens(words: list[dict]) -> list[list[int]]:
    """Indices of ``words`` grouped into spoken tokens (a word without leading space joins the last)."""
    groups: list[list[int]] = []
    for i, w in enumerate(words):
        if groups and not w["word"].startswith(" "):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _term_tokens(term: str) -> list[str]:
    return [fold(split_word(t)[1]) for t in term.split() if split_word(t)[1]]


def find(words: list[dict], terms) -> list[tuple[int, int]]:
    """Token ranges ``(first, last)`` (indices into the token groups) that say one of ``terms``."""
    groups = _tokens(words)
    folded = [fold(split_word("".join(words[i]["word"] for i in g).strip())[1]) for g in groups]
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


def censor(words: list[dict], terms) -> list[dict]:
    """Words with every occurrence of ``terms`` replaced by one placeholder word over the same time."""
    if not terms or not words:
        return words
    groups = _tokens(words)
    hits = find(words, terms)
    if not hits:
        return words
    drop: set[int] = set()
    out = [dict(w) for w in words]
    for a, b in hits:
        idx = [i for g in groups[a:b + 1] for i in g]
        first_text = "".join(words[i]["word"] for i in groups[a]).strip()
        last_text = "".join(words[i]["word"] for i in groups[b]).strip()
        lead, trail = split_word(first_text)[0], split_word(last_text)[2]
        out[idx[0]] = {**out[idx[0]], "word": f" {lead}{PLACEHOLDER}{trail}", "end": words[idx[-1]]["end"],
                       "probability": 1.0}
        drop.update(idx[1:])
    return [w for i, w in enumerate(out) if i not in drop]


def spans(words: list[dict], duration: float | None = None) -> list[Bleep]:
    """The audio spans to bleep: each placeholder word's time, padded and merged."""
    out: list[Bleep] = []
    for w in words:
        if PLACEHOLDER not in w["word"]:
            continue
        start = max(0.0, round(w["start"] - PAD, 3))
        end = round(w["end"] + PAD, 3)
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
