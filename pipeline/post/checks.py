"""Every check of a network's post, before sign-off; a ``block`` finding publishes nothing for it.

- ``limit``: the network's published limits (:func:`pipeline.post.model.load_limits`): length in
  the network's own unit, number of hashtags and mentions, title length where there is a title;
- ``spelling``: the text's words and each hashtag's words (``#AppelÀTémoins`` -> appel, à, témoins;
  an all-lower-case hashtag is split into dictionary words), with the caption checker's dictionary,
  the episode's glossary and ``words.txt`` (:mod:`pipeline.captions.spelling`); warn or block as
  ``spellcheck`` says, like captions;
- ``mention``: every ``@handle`` vetted in ``handles.toml`` for this network; a look-alike of the
  unit's own handle blocks even when vetted (:func:`pipeline.post.handles.lookalike`);
- ``phone`` / ``link``: numbers and links in the post (and in the captions: :func:`caption_findings`)
  from the campaign's allowed list (:mod:`pipeline.post.contacts`);
- ``character``: control characters, bidi overrides and isolates, invisible formatting characters,
  unassigned and private-use code points, and what the network refuses (``<>`` on YouTube).

Each finding names its line of ``post.txt`` (or ``title``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Iterable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

from pipeline.captions import spelling
from pipeline.captions.words import display_words
from pipeline.core.geometry import FPS
from pipeline.post.contacts import LINK, check_contacts
from pipeline.post.handles import Handles, foreign_characters, lookalike
from pipeline.post.model import Limits, Post
from pipeline.speech.transcript import Word

MENTION = re.compile(r"(?<![\w@])@([\w.]+)")
HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
_EMAIL = re.compile(r"\S+@\S+\.\S+")
_ALLOWED_FORMAT = {"\u200d"}                       # zero-width joiner: emoji sequences
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@dataclass(frozen=True)
class Finding:
    kind: str           # limit | spelling | mention | phone | link | character
    severity: str       # block | warn
    line: str           # "3" (line of post.txt), "title", or "captions at 0:12.4"
    message: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line.isdigit() else self.line
        return f"{where}: {self.message}"


# ---- characters ------------------------------------------------------------------------------

def _bad_character(ch: str, forbidden: str) -> str | None:
    if ch == "\n":
        return None
    if ch in forbidden:
        return "which the network refuses"
    if ch in _BIDI:
        return "a bidirectional override that can reverse the text shown"
    cat = unicodedata.category(ch)
    if cat == "Cc":
        return "a control character"
    if cat == "Cf" and ch not in _ALLOWED_FORMAT and not 0xE0020 <= ord(ch) <= 0xE007F:
        return "an invisible formatting character"
    if cat in ("Co", "Cn", "Cs"):
        return "a code point no font shows"
    return None


def character_findings(lines: Sequence[tuple[str, str]], forbidden: str) -> list[Finding]:
    out = []
    for where, text in lines:
        for ch in dict.fromkeys(text):
            why = _bad_character(ch, forbidden)
            if why:
                name = unicodedata.name(ch, f"U+{ord(ch):04X}")
                out.append(Finding("character", "block", where, f"U+{ord(ch):04X} {name} is {why}; remove it"))
    return out


# ---- limits ----------------------------------------------------------------------------------

def limit_findings(network_title: str, text: str, title: str, limits: Limits, hashtags: list, mentions: list) -> list[Finding]:
    out = []
    body = text.rstrip("\n")
    unit = {"chars": "characters", "utf16": "UTF-16 units", "bytes": "bytes"}[limits.text_unit]
    if limits.max_text is not None and limits.measure(body) > limits.max_text:
        out.append(Finding("limit", "block", "1", f"the post is {limits.measure(body)} {unit} long; {network_title} "
                                                  f"takes at most {limits.max_text}"))
    if limits.max_hashtags is not None and len(hashtags) > limits.max_hashtags:
        out.append(Finding("limit", "block", "1", f"{len(hashtags)} hashtags; {network_title} takes at most "
                                                  f"{limits.max_hashtags}"))
    if limits.max_mentions is not None and len(mentions) > limits.max_mentions:
        out.append(Finding("limit", "block", "1", f"{len(mentions)} mentions; {network_title} takes at most "
                                                  f"{limits.max_mentions}"))
    if limits.has_title:
        if not title:
            out.append(Finding("limit", "warn", "title", f"no title; {network_title} shows one: add post.title"))
        elif limits.max_title is not None and len(title) > limits.max_title:
            out.append(Finding("limit", "block", "title", f"the title is {len(title)} characters long; "
                                                          f"{network_title} takes at most {limits.max_title}"))
    return out


# ---- spelling --------------------------------------------------------------------------------

def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


@lru_cache(maxsize=1)
def _plain_dictionary() -> frozenset[str]:
    """The dictionary without accents: hashtags often drop them (#SecuriteRoutiere)."""
    return frozenset(_strip_accents(w) for w in spelling.dictionary())


def _known_piece(piece: str, allowed: set[str], plain_ok: bool = True) -> bool:
    """``piece`` in the dictionary or ``allowed``; without its accents too when ``plain_ok`` (a
    hashtag written without any accent; one that has some must have them all right)."""
    low = piece.casefold()
    if not any(c.isalpha() for c in low) or low in spelling.dictionary() or low in allowed:
        return True
    if not plain_ok:
        return False
    plain = _strip_accents(low)
    return plain in _plain_dictionary() or any(plain == _strip_accents(a) for a in allowed)


_SHORT_WORDS = {"a", "à", "y", "de", "du", "la", "le", "en", "et", "au", "un", "ma", "ta", "sa", "on", "ne", "se", "ce"}


def _segment(word: str, allowed: set[str], plain_ok: bool = True) -> bool:
    """True when a lower-case run of letters is a chain of known words (#appelatemoins)."""
    n = len(word)
    ok = [True] + [False] * n
    for end in range(1, n + 1):
        for start in range(max(0, end - 25), end):
            piece = word[start:end]
            if ok[start] and (len(piece) > 2 or piece in _SHORT_WORDS) and _known_piece(piece, allowed, plain_ok):
                ok[end] = True
                break
    return ok[n]


def hashtag_words(tag: str) -> list[str]:
    """``AppelÀTémoins`` -> [Appel, À, Témoins]; ``JO2024`` -> [JO, 2024]; ``gendarmerie`` -> [gendarmerie]."""
    return re.findall(r"[A-ZÀ-ÖØ-Þ]+(?![a-zß-öø-ÿ])|[A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]+|\d+|[^\W\d_]+", tag)


def _squeezed(term: str) -> str:
    return _strip_accents(re.sub(r"[\W_]", "", term.casefold()))


def hashtag_findings(tags: Iterable[str], allowed: set[str], severity: str) -> list[Finding]:
    out = []
    terms = {_squeezed(a) for a in allowed}                  # #IlleEtVilaine is the term Ille-et-Vilaine
    allowed = allowed | {p for a in allowed for p in re.split(r"[-\s]+", a) if p}
    for tag in dict.fromkeys(tags):
        if _squeezed(tag) in terms:
            continue
        plain_ok = tag.isascii()                              # #SecuriteRoutiere, not #SécuritéRoutiere
        bad = [p for p in hashtag_words(tag) if not _known_piece(p, allowed, plain_ok)
               and not (p.islower() and _segment(p, allowed, plain_ok)) and not (p.isupper() and len(p) <= 5)]
        if bad:
            out.append(Finding("spelling", severity, "hashtags", f"#{tag}: unknown word(s) {', '.join(bad)}; correct "
                                                                 "it or add the word to [asr] glossary or words.txt"))
    return out


def text_findings(lines: Sequence[str], language: str | None, glossary: Iterable[str], severity: str) -> list[Finding]:
    """The caption checker run on the post's lines (one pseudo-clip per line, so a line starts a sentence)."""
    words, clips = [], []
    for n, line in enumerate(lines):
        clean = re.sub(r"[<>]", " ", LINK.sub(" ", _EMAIL.sub(" ", MENTION.sub(" ", HASHTAG.sub(" ", line)))))
        tokens = clean.split()
        clips.append(SimpleNamespace(file=str(n + 1), kind="clip", frames=1000 * FPS, offset=n * 1000.0, start=0.0))
        words += [Word(n * 1000.0 + i, n * 1000.0 + i + 0.5, t, 1.0) for i, t in enumerate(tokens)]
    if not words:
        return []
    found = spelling.check(words, clips, language, glossary)
    out = []
    for kind in spelling.BLOCKING:
        for f in found.get(kind, []):
            what = {"unknown": "unknown word", "doubled": "doubled word", "numbers": "number written two ways"}[kind]
            out.append(Finding("spelling", severity, f["clip"], f"{what} '{f['word']}'"
                               + (f" ({f['note']})" if f.get("note") else "")
                               + "; correct it or add the word to [asr] glossary or words.txt"))
    for f in found.get("names", []):       # a capitalised word one letter off a common word: a typo, or a name
        near = near_word(f["word"])
        if near:
            out.append(Finding("spelling", "warn", f["clip"], f"'{f['word']}' is one letter off '{near}': a typo? "
                                                              "(a name: add it to [asr] glossary or words.txt)"))
    return out


@lru_cache(maxsize=1)
def _by_length() -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for w in spelling.dictionary():
        out.setdefault(len(w), []).append(w)
    return out


def near_word(word: str) -> str | None:
    """The dictionary word ``word`` (seven letters or more) is one edit away from, if any (Gendarmrie)."""
    low = word.casefold()
    if len(low) < 7 or not low.isalpha():
        return None
    pool = _by_length()
    candidates = [w for n in (len(low) - 1, len(low), len(low) + 1) for w in pool.get(n, ())]
    hit = process.extractOne(low, candidates, scorer=OSA.distance, score_cutoff=1)
    return hit[0] if hit and hit[0] != low else None


# ---- mentions --------------------------------------------------------------------------------

def mention_findings(network: str, network_title: str, lines: Sequence[str], handles: Handles) -> list[Finding]:
    out = []
    owns = dict.fromkeys(h for h in [handles.own(network), *handles.unit.values()] if h)
    for n, line in enumerate(lines, 1):
        for m in MENTION.finditer(line):
            handle = m.group(1).rstrip(".")
            where = str(n)
            near = next(((own, why) for own in owns if (why := lookalike(handle, own))), None)
            if near:
                out.append(Finding("mention", "block", where, f"@{handle} {near[1]} from the unit's own @{near[0]}: "
                                                              "an impostor's name; write the unit's handle exactly"))
                continue
            if any(handle.casefold() == own.casefold() for own in owns):
                continue
            odd = foreign_characters(handle)
            if odd:
                out.append(Finding("mention", "block", where, f"@{handle} holds character(s) no handle has: "
                                                              + ", ".join(unicodedata.name(c, hex(ord(c))) for c in odd)))
                continue
            if handles.find(handle, network):
                continue
            elsewhere = handles.known_elsewhere(handle)
            hint = (f" (vetted for {', '.join(elsewhere)} only)" if elsewhere else
                    "" if handles.path else " (the campaign has no handles.toml)")
            out.append(Finding("mention", "block", where, f"@{handle} is not a vetted {network_title} account{hint}; "
                                                          "check it and add it to handles.toml with who vetted it and when"))
    return out


# ---- the whole post --------------------------------------------------------------------------

def check_post(post: Post, network_title: str, limits: Limits, handles: Handles, language: str | None = "fr",
               glossary: Iterable[str] = (), spellcheck: str = "warn") -> list[Finding]:
    text = post.render()
    title = post.rendered_title() if limits.has_title else ""
    lines = text.rstrip("\n").split("\n") if text else []
    everything = "\n".join(lines + [title])
    hashtags = [m.group(1) for m in HASHTAG.finditer(everything)]
    mentions = [m.group(1) for m in MENTION.finditer(everything)]
    out = character_findings([(str(n), l) for n, l in enumerate(lines, 1)] + [("title", title)],
                             limits.forbidden)
    out += limit_findings(network_title, text, title, limits, hashtags, mentions)
    if spellcheck != "off":
        severity = "block" if spellcheck == "block" else "warn"
        out += text_findings(lines + ([title] if title else []), language, glossary, severity)
        out = [replace_line(f, len(lines), title) for f in out]
        out += hashtag_findings(hashtags, spelling.allowed_words(glossary), severity)
    out += mention_findings(post.network, network_title, lines + ([title] if title else []), handles)
    for n, problem in check_contacts(everything, handles.phones, handles.domains):
        where = "title" if title and n == len(lines) + 1 else str(n)
        out.append(Finding("phone" if "phone" in problem else "link", "block", where, problem))
    return out


def replace_line(f: Finding, count: int, title: str) -> Finding:
    """The title checked as one more line: name it ``title``."""
    if title and f.line == str(count + 1):
        return Finding(f.kind, f.severity, "title", f.message)
    return f


def caption_findings(words: Sequence[Word], language: str | None, handles: Handles) -> list[Finding]:
    """Phone numbers and links said in the captions, from the allowed list (one sentence a line)."""
    shown = display_words(list(words), language)
    sentences, starts, current = [], [], []
    for w in shown:
        if not current:
            starts.append(w.start)
        current.append(w.word)
        if w.word.rstrip("»\"” \u202f\u00a0")[-1:] in ".!?…":
            sentences.append(" ".join(current))
            current = []
    if current:
        sentences.append(" ".join(current))
    out = []
    for n, problem in check_contacts("\n".join(sentences), handles.phones, handles.domains):
        m, s = divmod(starts[n - 1], 60)
        out.append(Finding("phone" if "phone" in problem else "link", "block", f"captions at {int(m)}:{s:04.1f}", problem))
    return out


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "block"]
