"""Group timed words into caption events.

The same code serves two layouts:

* the burned-in social layout, whose limits come from the caption style (short lines, 1-3 lines);
* the accessibility layout of the SRT/VTT sidecars, :data:`ACCESSIBLE` (42 characters a line,
  2 lines, about 17 characters a second).

Rules, in order:

1. Tokens become display words (:mod:`pipeline.captions.words`: elisions, hyphens and split numbers
   joined, typography set); punctuation tokens stick to their word; names ("Jean de La Fontaine"), numbers ("12 000 €",
   "n° 17") and elisions ("l' arme") form *chunks* that are never split across lines or captions.
2. A pause of ``pause`` seconds or more always ends a caption; so does the end of a sentence,
   unless the caption is still nearly empty. A caption also ends before it exceeds the characters,
   lines, words or ``max_duration`` allowed; it then prefers to end after a comma, and never ends
   on an article or a preposition when it can avoid it.
3. Lines are balanced and broken after punctuation where possible.
4. A caption stays up at least ``min_duration`` and long enough to read at ``max_cps``, but it may
   only run ``linger`` seconds into a silence and never overlaps the next one: there is no caption
   during silence.

Words a person timed in their SRT carry their cue (``Word.cue``): a caption never spans two of a
person's cues, and it keeps the cue's start and end (a cue the style cuts, by rule 2, is cut into
pieces that follow each other inside the cue's time). Rule 4 applies to machine words only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from pipeline.captions.pacing import reading_time
from pipeline.captions.words import display_words
from pipeline.speech.transcript import Word


@dataclass(frozen=True)
class LayoutRules:
    max_chars_per_line: int = 42
    max_lines: int = 2
    max_cps: float = 17.0
    min_duration: float = 1.0
    max_duration: float = 7.0
    max_words: int = 0          # 0 = no limit
    pause: float = 0.6
    linger: float = 0.5


ACCESSIBLE = LayoutRules()
"""Sidecar subtitles: at most 42 characters a line, 2 lines, about 17 characters a second and 1 s
at least (DESIGN.md): the one home of the subtitles' reading speed, for the layout and the pacing."""

Chunk = tuple[Word, ...]


@dataclass
class Caption:
    start: float
    end: float
    chunks: list[Chunk]
    line_starts: list[int] = field(default_factory=lambda: [0])   # chunk index of each line's start

    @property
    def words(self) -> list[Word]:
        return [w for c in self.chunks for w in c]

    @property
    def lines(self) -> list[list[Word]]:
        bounds = [*self.line_starts, len(self.chunks)]
        return [[w for c in self.chunks[a:b] for w in c] for a, b in zip(bounds, bounds[1:])]

    @property
    def line_texts(self) -> list[str]:
        return [" ".join(w.word for w in line) for line in self.lines]

    @property
    def text(self) -> str:
        return "\n".join(self.line_texts)


# ---------------------------------------------------------------- tokens and chunks

_SENTENCE_END = re.compile(r"[.!?…]+[»\"”)]*$")
_CLAUSE_END = re.compile(r"[,;:]$")
_DIGITS = re.compile(r"\d")
_UNITS = {"%", "€", "$", "£", "°", "°c", "h", "min", "km", "km/h", "m", "cm", "kg", "g", "ans", "euros",
          "heures", "h00", "mètres", "kilomètres"}
_NUMBER_PREFIX = {"n°", "no", "nº", "numéro", "art.", "article", "page", "€", "$"}
_PARTICLES = {"de", "du", "des", "d'", "la", "le", "van", "von", "der", "di", "da", "del", "y", "el", "ben", "bin"}
# Words a line or a caption should not end on (French and English articles, prepositions, conjunctions).
WEAK = {"le", "la", "les", "l'", "un", "une", "des", "du", "de", "d'", "au", "aux", "à", "a", "et", "ou",
        "en", "pour", "par", "sur", "dans", "avec", "sans", "que", "qu'", "qui", "ce", "cette", "ces",
        "son", "sa", "ses", "mon", "ma", "mes", "ton", "ta", "tes", "leur", "leurs", "notre", "votre",
        "mais", "donc", "car", "the", "an", "of", "to", "and", "or", "in", "on", "at", "for", "with"}


def clean_words(words: Sequence[Word], language: str | None = None) -> list[Word]:
    """Display words (:func:`pipeline.captions.words.display_words`): tokens joined as a reader sees
    them, punctuation attached, ``language``'s typography set, empty tokens dropped, sorted."""
    return display_words(words, language)


def _bare(word: str) -> str:
    return word.strip("«»\"“”()[]").lower()


def _capitalised(word: str) -> bool:
    core = word.lstrip("«\"“([")
    return bool(core) and core[0].isupper()


def _ends_phrase(word: str) -> bool:
    return bool(_SENTENCE_END.search(word) or _CLAUSE_END.search(word))


def _glued(words: list[Word], i: int) -> bool:
    """True when words[i] and words[i+1] belong to one name or number."""
    a, b = words[i].word, words[i + 1].word
    if _ends_phrase(a):
        return False
    if a.endswith(("'", "’")):                                      # elision: l' arme
        return True
    if _DIGITS.search(a) and (b[0].isdigit() or _bare(b) in _UNITS):  # 12 000, 3 h, 10 %
        return True
    if _bare(a) in _NUMBER_PREFIX and b[0].isdigit():               # n° 17
        return True
    if _capitalised(a) and _capitalised(b):                         # Jean Dupont, M. Martin
        return True
    if _bare(a) in _PARTICLES and not _capitalised(a) and i > 0 and _capitalised(words[i - 1].word) \
            and not _ends_phrase(words[i - 1].word) and _capitalised(b):
        return True                                                 # de in "Charles de Gaulle"
    if _bare(b) in _PARTICLES and not _capitalised(b) and _capitalised(a) and i + 2 < len(words) \
            and _capitalised(words[i + 2].word) and not _ends_phrase(b):
        return True
    return False


def chunk_words(words: list[Word]) -> list[Chunk]:
    """Split cleaned words into unbreakable chunks (names, numbers, elisions stay whole)."""
    chunks: list[list[Word]] = []
    for i, w in enumerate(words):
        if chunks and words[i - 1].cue == w.cue and _glued(words, i - 1):
            chunks[-1].append(w)
        else:
            chunks.append([w])
    return [tuple(c) for c in chunks]


def chunk_text(chunk: Chunk) -> str:
    return " ".join(w.word for w in chunk)


# ---------------------------------------------------------------- line breaking

def wrap(items: Sequence[str], measure: Callable[[str], float], limit: float, max_lines: int) -> list[int] | None:
    """Best line starts for ``items`` (joined by spaces) in at most ``max_lines`` lines of ``limit``.

    ``measure`` gives a line's width (characters for layout, pixels for placement). Uses the fewest
    lines that fit, then prefers balanced lines, breaks after punctuation and no line ending on a
    weak word (dynamic programming, so long texts stay cheap). An item wider than ``limit`` may sit
    alone on its line. None if nothing fits.
    """
    n = len(items)
    if n == 0:
        return [0]
    widths: dict[tuple[int, int], float] = {}

    def width(a: int, b: int) -> float:
        if (a, b) not in widths:
            widths[(a, b)] = measure(" ".join(items[a:b]))
        return widths[(a, b)]

    def break_cost(a: int) -> float:            # a line ends after items[a - 1]
        last = items[a - 1].split()[-1]
        return (-0.1 if _ends_phrase(last) else 0.0) + (0.5 if _bare(last) in WEAK else 0.0)

    inf = float("inf")
    for lines in range(1, min(max_lines, n) + 1):
        target = width(0, n) / lines
        cost = [[inf] * (n + 1) for _ in range(lines + 1)]
        back = [[0] * (n + 1) for _ in range(lines + 1)]
        cost[0][0] = 0.0
        for j in range(1, lines + 1):
            for i in range(j, n - (lines - j) + 1):
                for a in range(j - 1, i):
                    if cost[j - 1][a] == inf:
                        continue
                    w = width(a, i)
                    if w > limit and i - a > 1:
                        continue
                    c = cost[j - 1][a] + 4 * ((w - target) / max(limit, 1)) ** 2 + (break_cost(a) if a else 0.0)
                    if c < cost[j][i]:
                        cost[j][i], back[j][i] = c, a
        if cost[lines][n] < inf:
            starts, i = [], n
            for j in range(lines, 0, -1):
                i = back[j][i]
                starts.append(i)
            return starts[::-1]
    return None


# ---------------------------------------------------------------- grouping

def _fits(chunks: list[Chunk], rules: LayoutRules) -> bool:
    if rules.max_words and sum(len(c) for c in chunks) > rules.max_words and len(chunks) > 1:
        return False
    if len(chunks) > 1 and chunks[-1][-1].end - chunks[0][0].start > rules.max_duration:
        return False
    return wrap([chunk_text(c) for c in chunks], len, rules.max_chars_per_line, rules.max_lines) is not None


def _chars(chunks: Sequence[Chunk]) -> int:
    return len(" ".join(chunk_text(c) for c in chunks))


def _split_point(cur: list[Chunk]) -> int:
    """Where to end a full caption: after the last comma past its middle, and never on a weak word."""
    total = _chars(cur)
    for k in range(len(cur) - 1, 0, -1):
        if _ends_phrase(cur[k - 1][-1].word) and _chars(cur[:k]) >= 0.5 * total:
            return k
    k = len(cur)
    while k > 1 and _bare(cur[k - 1][-1].word) in WEAK and _chars(cur[:k - 1]) >= 0.4 * total:
        k -= 1
    return k


def group(words: Sequence[Word], rules: LayoutRules, language: str | None = None) -> list[list[Chunk]]:
    chunks = chunk_words(clean_words(words, language))
    groups: list[list[Chunk]] = []
    cur: list[Chunk] = []
    for chunk in chunks:
        if cur:
            prev = cur[-1][-1]
            gap = chunk[0].start - prev.end
            sentence_done = bool(_SENTENCE_END.search(prev.word)) and _chars(cur) >= rules.max_chars_per_line // 2
            if prev.cue != chunk[0].cue or gap >= rules.pause or sentence_done:
                groups.append(cur)
                cur = []
        cur.append(chunk)
        while len(cur) > 1 and not _fits(cur, rules):
            k = _split_point(cur[:-1])
            groups.append(cur[:k])
            cur = cur[k:]
    if cur:
        groups.append(cur)
    return groups


def person_timed(cap: Caption) -> bool:
    """True when a person's SRT timed this caption (its words carry their cue)."""
    return cap.chunks[0][0].cue is not None


def _timed(groups: list[list[Chunk]], rules: LayoutRules) -> list[Caption]:
    caps = [Caption(g[0][0].start, g[-1][-1].end, g) for g in groups]
    cues = [c.chunks[0][0].cue for c in caps]
    for i, cap in enumerate(caps):                  # a person's cue: its own start, and its end
        if cues[i] is not None:                     # (a cue too long for one caption is cut in
            if i == 0 or cues[i - 1] != cues[i]:    # pieces that follow each other inside it)
                cap.start = cues[i].start
            if i + 1 == len(caps) or cues[i + 1] != cues[i]:
                cap.end = max(cues[i].end, cap.start)
    for i, cap in enumerate(caps):
        nxt = caps[i + 1].start if i + 1 < len(caps) else float("inf")
        if cues[i] is not None:
            if i + 1 < len(caps) and cues[i + 1] == cues[i]:
                cap.end = nxt
            cap.end = min(cap.end, nxt)
            continue
        spoken_end = cap.end
        want = reading_time(cap.text.replace("\n", " "), rules.max_cps, rules.min_duration)
        if cap.end - cap.start < want:
            cap.end = min(cap.start + want, spoken_end + rules.linger)
        if nxt - cap.end < 0.25 and nxt - spoken_end < rules.pause:
            cap.end = nxt                                           # chain captions: no flicker
        cap.end = min(cap.end, nxt)
    return caps


def layout(words: Sequence[Word], rules: LayoutRules = ACCESSIBLE, language: str | None = None) -> list[Caption]:
    """Caption events for ``words`` (seconds on one timeline) under ``rules``; text is display words
    with ``language``'s typography, so every length is counted as the reader will see it."""
    caps = _timed(group(words, rules, language), rules)
    for cap in caps:
        cap.line_starts = wrap([chunk_text(c) for c in cap.chunks], len, rules.max_chars_per_line,
                               rules.max_lines) or [0]
    return caps
