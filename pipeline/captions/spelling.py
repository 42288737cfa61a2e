"""The spelling and wording check: every caption word, before anything is published.

Captions are where Cadre writes words in public, and a police account's typo gets screenshotted.
:func:`check` reads the plan's words as a reader sees them (:func:`words.display_words`, after a
person's SRT corrections and the bleeps) and reports, each with the clip, the time in that clip and
the word:

- ``unknown``: a word in neither the French nor the English dictionary shipped in the
  ``pyspellchecker`` wheel (MIT; frequency lists, read offline), nor the episode's ``[asr] glossary``,
  nor the unit's word list ``$CADRE_PRESETS/words.txt`` (one word or term per line, UTF-8; ``#``
  starts a comment). Elisions (``d'``, ``qu'``...) and hyphenated words are checked part by part.
- ``doubled``: the same word twice in a row (``le le``); ``nous nous`` and ``vous vous`` are French.
- ``numbers``: one number written two ways in one episode (``12 000`` and ``douze mille``, ``3`` and
  ``trois``, ``12000`` and ``12 000``); ``un``/``une``/``one`` alone are articles, not numbers.
- ``low_confidence``: words Whisper gave a probability under
  :data:`~pipeline.speech.transcript.LOW_CONFIDENCE` (a person's corrections have 1.0).
- ``names``: unknown capitalised words that do not start a sentence (names, acronyms); listed to
  check, never an error, so that names do not flood the list.

``spellcheck`` in ``episode.toml``/``campaign.toml``: ``off``, ``warn`` (default: warnings and
``report.json``) or ``block`` (a render with unknown, doubled or two-way numbers stops with one line
naming them and where they are). Adding the word to the glossary or ``words.txt``, or correcting
the clip's SRT, resolves it.
"""
from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Callable, Iterable, Sequence

from pipeline.captions.words import display_words, split_elision
from pipeline.core.cache import atomic_write_text, cache_dir
from pipeline.core.errors import CadreError
from pipeline.core.textfile import read_text
from pipeline.source.normalize import FPS
from pipeline.speech.transcript import LOW_CONFIDENCE, Word

MODES = ("off", "warn", "block")
BLOCKING = ("unknown", "doubled", "numbers")        # what "block" stops on; names and low confidence only warn
WORDS_FILE = "words.txt"
PLACEHOLDER = "***"                                  # a bleeped word (sound/bleep.py)
DOUBLES_OK = {"nous", "vous", "that", "had", "is"}   # "nous nous sommes", "that that", "had had"
_EDGE = "«»\"“”„'’()[]{}.,;:!?…¿¡\u202f\u00a0 -–—/"
_END = ".!?…"
_HYPHEN_TAILS = {"t", "je", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "ce", "là", "ci", "moi",
                 "toi", "lui", "leur", "y", "en", "le", "la", "les"}
_DIGITS = re.compile(r"^\d{1,3}(?:[ \u202f\u00a0]\d{3})+$|^\d+$")


@dataclass(frozen=True)
class Finding:
    kind: str           # unknown | doubled | numbers | low_confidence | names
    word: str
    clip: str           # the clip file (or "intro"/"outro" bumper)
    time: float         # seconds in that clip's file
    at: float           # seconds on the episode timeline
    note: str = ""

    def where(self) -> str:
        return f"{self.clip} at {_clock(self.time)}"


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


# ---- word lists ------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return text.lower().replace("’", "'").replace("œ", "oe").replace("æ", "ae")


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str]:
    """The French and English words of pyspellchecker's wheel, lower case; kept in the cache as a
    plain list (reading it is ~20x faster than the wheel's gzipped JSON)."""
    try:
        version = metadata.version("pyspellchecker")
        folder = resources.files("spellchecker") / "resources"
    except (metadata.PackageNotFoundError, ModuleNotFoundError):
        raise CadreError("pyspellchecker", "the spelling dictionaries are missing; reinstall Cadre "
                                           "(pip install pyspellchecker) or set spellcheck = \"off\"") from None
    path = cache_dir() / "spelling" / f"fr-en-{version}.txt"
    if path.is_file():
        return frozenset(path.read_text("utf-8").split("\n"))
    words: set[str] = set()
    for lang in ("fr", "en"):
        with gzip.open(folder / f"{lang}.json.gz", "rt", encoding="utf-8") as f:
            words.update(_norm(w) for w in json.load(f))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(words))
    return frozenset(words)


def unit_words_path() -> Path | None:
    own = os.environ.get("CADRE_PRESETS", "").strip()
    return Path(own).expanduser() / WORDS_FILE if own else None


def read_word_list(path: Path) -> set[str]:
    """``words.txt``: one word or term per line, UTF-8 (anything else: one line naming the file and line)."""
    out: set[str] = set()
    for line in read_text(path).removeprefix("\ufeff").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out |= _term_words(line)
    return out


def _term_words(term: str) -> set[str]:
    """A glossary term and its words, normalised: "Brigade de recherches" -> the whole and each word."""
    whole = _norm(term.strip())
    return {whole, *(_norm(p.strip(_EDGE)) for p in term.split())} - {""}


def allowed_words(glossary: Iterable[str] = ()) -> set[str]:
    """The episode's glossary and the unit's ``words.txt``, normalised."""
    out: set[str] = set()
    for term in glossary:
        out |= _term_words(str(term))
    path = unit_words_path()
    if path is not None and path.is_file():
        out |= read_word_list(path)
    return out


# ---- one word --------------------------------------------------------------------------------

def _core(text: str) -> str:
    """A display word without its punctuation: « C'est ! -> C'est."""
    return text.strip(_EDGE)


def _known(word: str, known: Callable[[str], bool]) -> bool:
    w = _norm(word)
    if not w or known(w):
        return True
    head, rest = split_elision(w)                    # d'étudier, jusqu'à, lorsqu'il
    if head:
        return _known(rest, known)
    if "-" in w:                                     # vingt-deux, a-t-il, Jean-Pierre
        parts = [p for p in w.split("-") if p]
        return bool(parts) and all(known(p) or p in _HYPHEN_TAILS or _known(p, known) for p in parts)
    return False


def _is_checkable(core: str) -> bool:
    return bool(core) and PLACEHOLDER not in core and any(c.isalpha() for c in core)   # d'*** is bleeped


def is_unknown(text: str, allowed: set[str]) -> bool:
    """True when the display word ``text`` is in no dictionary nor ``allowed`` (:func:`allowed_words`);
    capitalised words (names) are not reported here (the review page marks them otherwise)."""
    core = _core(text)
    base = dictionary()
    return _is_checkable(core) and not core[:1].isupper() and not _known(core, lambda w: w in base or w in allowed)


# ---- numbers ---------------------------------------------------------------------------------

_UNITS = {"zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
          "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
          "seize": 16, "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
          "septante": 70, "huitante": 80, "nonante": 90,
          "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
          "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"cent": 100, "cents": 100, "hundred": 100, "mille": 1000, "thousand": 1000,
           "million": 10**6, "millions": 10**6}
_GLUE = {"et", "and"}
_ARTICLES = {"un", "une", "one"}


def _number_word(piece: str) -> bool:
    return piece in _UNITS or piece in _SCALES


def _word_value(pieces: list[str]) -> int | None:
    """``["vingt", "deux", "mille"]`` -> 22000; None when the pieces are not one number."""
    total, current = 0, 0
    for p in pieces:
        if p in _GLUE:
            continue
        if p in _UNITS:
            current += _UNITS[p]
        elif p in ("cent", "cents", "hundred"):
            current = max(current, 1) * 100
        elif p in _SCALES:
            total += max(current, 1) * _SCALES[p]
            current = 0
        else:
            return None
    return total + current


def _numbers(words: list[Word]) -> list[tuple[int, str, int, str]]:
    """(value, how it is written, index of its first word, its text) for every number in the words."""
    out: list[tuple[int, str, int, str]] = []
    i = 0
    cores = [_norm(_core(w.word)) for w in words]
    while i < len(words):
        c = cores[i]
        if _DIGITS.match(c):                              # 12, 12000, "12 000" (one display word)
            j, text = i + 1, c
            while j < len(words) and re.fullmatch(r"\d{3}", cores[j]) and not words[j - 1].word.rstrip().endswith(","):
                text, j = f"{text} {cores[j]}", j + 1     # " 12" + " 000": Whisper's tokens
            value = int(re.sub(r"\D", "", text))
            form = "digits" if not re.search(r"\D", text) else "grouped digits"
            out.append((value, form, i, text))
            i = j
            continue
        pieces = c.split("-")
        if c and all(_number_word(p) or p in _GLUE for p in pieces) and not c in _GLUE:
            j, allp = i + 1, list(pieces)
            while j < len(words):
                nxt = cores[j].split("-")
                if cores[j] and all(_number_word(p) or p in _GLUE for p in nxt) and not (
                        cores[j] in _GLUE and (j + 1 >= len(words) or not _number_word(cores[j + 1].split("-")[0]))):
                    allp += nxt
                    j += 1
                else:
                    break
            value = _word_value(allp)
            if value is not None and not (j == i + 1 and c in _ARTICLES):
                out.append((value, "words", i, " ".join(_core(w.word) for w in words[i:j])))
            i = j
            continue
        i += 1
    return out


# ---- the check -------------------------------------------------------------------------------

def _locate(clips: Sequence, at: float) -> tuple[str, float]:
    """The clip under episode time ``at`` and the time in that clip's file (clips: plan.clips)."""
    for c in clips:
        length = c.frames / FPS
        if c.offset <= at < c.offset + length or c is clips[-1]:
            name = c.file if getattr(c, "kind", "clip") == "clip" else c.kind
            return name, round(at - c.offset + c.start, 2)
    return "", round(at, 2)


def check(words: Sequence[Word], clips: Sequence, language: str | None = None,
          glossary: Iterable[str] = ()) -> dict:
    """Findings for the episode's caption ``words`` (episode timeline) over ``clips`` (plan.clips):
    ``{"unknown": [...], "doubled": [...], "numbers": [...], "low_confidence": [...], "names": [...]}``,
    each a list of :class:`Finding` as dicts."""
    shown = display_words(list(words), language)
    extra = allowed_words(glossary)
    base = dictionary()
    known = lambda w: w in base or w in extra          # noqa: E731
    found: dict[str, list[Finding]] = {k: [] for k in ("unknown", "doubled", "numbers", "low_confidence", "names")}

    def add(kind: str, w: Word, text: str, note: str = "") -> None:
        clip, time = _locate(clips, w.start)
        found[kind].append(Finding(kind, text, clip, time, round(w.start, 2), note))

    sentence_start, prev_clip, prev = True, None, None
    for w in shown:
        core = _core(w.word)
        clip = _locate(clips, w.start)[0]
        if clip != prev_clip:
            sentence_start, prev = True, None
        prev_clip = clip
        if _is_checkable(core):
            if not _known(core, known):
                capital = core[0].isupper()
                acronym = len(core) > 1 and core.isupper()
                add("names" if (capital and not sentence_start) or acronym else "unknown", w, core)
            if prev is not None and _norm(core) == _norm(_core(prev.word)) and _norm(core) not in DOUBLES_OK \
                    and not prev.word.rstrip().endswith((",", ".", "!", "?", "…", ";", ":")):
                add("doubled", prev, f"{_core(prev.word)} {core}")
        if w.probability < LOW_CONFIDENCE and _is_checkable(core) or (w.probability < LOW_CONFIDENCE and core.isdigit()):
            add("low_confidence", w, core, f"probability {w.probability:.2f}")
        prev = w if core else prev
        sentence_start = w.word.rstrip("»\"”) \u202f\u00a0")[-1:] in _END if w.word.strip() else sentence_start

    # a capitalised word seen mid-sentence elsewhere is a name at a sentence start too
    named = {_norm(f.word) for f in found["names"]}
    moved = [f for f in found["unknown"] if f.word[:1].isupper() and _norm(f.word) in named]
    found["unknown"] = [f for f in found["unknown"] if f not in moved]
    found["names"] = sorted(found["names"] + [replace(f, kind="names") for f in moved], key=lambda f: f.at)
    forms: dict[int, dict[str, list[tuple[int, str]]]] = {}
    for value, form, i, text in _numbers(shown):
        forms.setdefault(value, {}).setdefault(form, []).append((i, text))
    two_ways = []
    for value, by_form in forms.items():
        if len(by_form) > 1:
            ways = " and ".join(sorted(by_form))
            two_ways += [(i, text, f"{value} written as {ways}") for hits in by_form.values() for i, text in hits[:1]]
    for i, text, note in sorted(two_ways):
        add("numbers", shown[i], text, note)
    return {k: [asdict(f) for f in v] for k, v in found.items()}


def blocking(findings: dict) -> list[dict]:
    return [f for k in BLOCKING for f in findings.get(k, [])]


def _item(f: dict) -> str:
    return f"'{f['word']}' ({f['clip']} at {_clock(f['time'])})"


def summary_lines(findings: dict | None, limit: int = 8) -> list[str]:
    """One warning line per kind of finding (for render/batch warnings and campaign.html)."""
    if not findings:
        return []
    titles = {"unknown": "unknown words", "doubled": "doubled words", "numbers": "numbers written two ways",
              "low_confidence": "words Whisper was unsure of", "names": "names to check"}
    out = []
    for kind, title in titles.items():
        items = findings.get(kind) or []
        if items:
            more = f" and {len(items) - limit} more" if len(items) > limit else ""
            out.append(f"spelling: {len(items)} {title}: " + ", ".join(_item(f) for f in items[:limit]) + more)
    return out


def check_plan(plan, settings, source, warn: Callable[[str], None]) -> dict | None:
    """The render's gate: check ``plan``'s words as ``settings.spellcheck`` says; warnings go to
    ``warn``; with ``block``, unresolved words stop the render with one line. Returns the findings
    for ``report.json`` (None when the check is off or there are no captions)."""
    mode = getattr(settings, "spellcheck", "warn")
    if mode == "off" or not plan.words:
        return None
    findings = check(plan.words, plan.clips, plan.language, (settings.asr or {}).get("glossary", ()))
    findings["mode"] = mode
    bad = blocking(findings)
    if mode == "block" and bad:
        raise CadreError(source, f"spellcheck = \"block\": {len(bad)} unresolved caption word(s): "
                         + ", ".join(_item(f) + (f" [{f['kind']}]" if f["kind"] != "unknown" else "") for f in bad[:12])
                         + (f" and {len(bad) - 12} more" if len(bad) > 12 else "")
                         + f"; correct the clip's SRT, or add the word to [asr] glossary or $CADRE_PRESETS/{WORDS_FILE}")
    for line in summary_lines(findings):
        warn(line)
    return findings
