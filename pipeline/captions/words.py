"""Words as a reader sees them: the one place transcript tokens become display words.

Whisper's word timestamps follow its tokenizer, not the spelling: faster-whisper gives
``d'accord`` as `` d`` + ``'accord``, ``États-Unis`` as `` États`` + ``-Unis``, ``3,360`` as
`` 3`` + ``,360``; openai-whisper or a person's edit may give `` d'`` + `` accord``. Every caption
surface (burned captions, SRT/VTT sidecars, the review page, the ``cadre transcribe`` SRT) goes
through :func:`display_words`, which:

1. joins a token that carries no leading space to the word before it when it continues that word
   (an apostrophe, a hyphen, a digit group);
2. joins elisions (``d' l' j' qu' n' s' m' t' c' jusqu' lorsqu' puisqu'`` ...) to the next word,
   straight or curly apostrophe, however the space fell; ``aujourd'hui`` stays whole; English
   contractions (`` don`` + ``'t``) are joined too; so never a space before an apostrophe;
3. joins hyphen pieces (`` Jean`` + ``-Pierre``, ``Jean-`` + `` Pierre``);
4. sticks punctuation-only tokens to their word (``?`` to the word before, ``«`` to the word after);
5. sets the typography of the language (French: U+202F before ``? ! ; :`` and inside ``« »``).

A merged word spans its first start to its last end; its probability is the lowest of its parts.
The function is idempotent: display words given back come out unchanged.
"""
from __future__ import annotations

import re
from typing import Sequence

from pipeline.captions import typography
from pipeline.speech.transcript import Word

APOSTROPHES = "'’"
# French elided words (the part before the apostrophe), lower case
ELISIONS = {"d", "l", "j", "qu", "n", "s", "m", "t", "c", "ç", "jusqu", "lorsqu", "puisqu", "quoiqu",
            "presqu", "quelqu", "aujourd"}
# English contraction endings (after the apostrophe), lower case
CONTRACTIONS = {"t", "s", "re", "ve", "ll", "d", "m"}

_CLOSING = re.compile(r"^[.,;:!?…»)\]\"”%]+$")
_OPENING = re.compile(r"^[«(\[\"“¿¡]+$")
_LEAD = "«\"“([¿¡ \u202f\u00a0"
AUTO = {"", "auto", None}


def caption_language(language: str | None, detected: str | None = None) -> str | None:
    """The language whose typography captions use: the setting, or what Whisper detected for ``auto``."""
    if language in AUTO or language == "und":
        return detected if detected not in AUTO and detected != "und" else None
    return language


def _stem(text: str) -> str:
    """``text`` without its opening punctuation and final apostrophe, lower case: « D' -> d."""
    return text.lstrip(_LEAD).rstrip(APOSTROPHES).lower()


def _is_elision(text: str) -> bool:
    return len(text) > 1 and text[-1] in APOSTROPHES and _stem(text) in ELISIONS


def _continues(prev: str, text: str, spaced: bool) -> bool:
    """True when token ``text`` belongs to the word ``prev`` (no space between them on screen)."""
    if not prev or _CLOSING.match(text) or _OPENING.match(text):
        return False
    first, last = text[0], prev[-1]
    if _is_elision(prev):                                            # d' + étudier, jusqu' + à
        return True
    if text in APOSTROPHES:                                          # l + ' (+ accident), boys + '
        return last.isalpha()
    if first in APOSTROPHES and len(text) > 1:                       # d + 'étudier, don + 't
        if not spaced or _stem(prev) in ELISIONS:
            return last.isalpha()
        return last.isalpha() and text[1:].lower().rstrip(".,;:!?…»\"”)") in CONTRACTIONS
    if first == "-" and len(text) > 1 and text[1].isalnum():        # Jean + -Pierre, est + -ce
        return last.isalnum()
    if last == "-" and len(prev) > 1 and first.isalnum():           # Jean- + Pierre
        return prev[-2].isalnum()
    if not spaced:
        if first in ",." and len(text) > 1 and text[1].isdigit():    # 3 + ,360
            return last.isdigit()
        if first.isdigit():                                          # 3 + 061 (one number, split)
            return last.isdigit()
    return False


def _merge(a: Word, b: Word, text: str) -> Word:
    return Word(min(a.start, b.start), max(a.end, b.end), text, min(a.probability, b.probability))


def display_words(words: Sequence[Word], language: str | None = None) -> list[Word]:
    """Transcript tokens as the words a reader sees, with ``language``'s typography (see module doc)."""
    out: list[Word] = []
    pending: Word | None = None               # opening punctuation waiting for its word
    # Whisper starts every word with its space; text without that convention (typed words, display
    # words given back) has no glue to read, so only its apostrophes and hyphens are joined
    marked = any(str(w.word)[:1].isspace() for w in words)
    for w in sorted(words, key=lambda w: (w.start, w.end)):
        raw = str(w.word)
        text = " ".join(raw.split())
        if not text:
            continue
        spaced = raw[:1].isspace() or not out or not marked
        start, end = float(w.start), max(float(w.end), float(w.start))
        w = Word(start, end, text, float(w.probability))
        if _CLOSING.match(text) and (out or pending):
            if pending is not None:                               # « » with nothing inside
                pending = _merge(pending, w, pending.word + " " + text)
                continue
            prev = out[-1]
            sep = " " if text[0] in "?!;:»" else ""
            out[-1] = _merge(prev, w, prev.word + sep + text)
            continue
        if _OPENING.match(text):
            if pending is None:
                pending = w
            else:
                pending = _merge(pending, w, pending.word + (" " if pending.word.endswith("«") else "") + text)
            continue
        if pending is not None:
            sep = " " if pending.word.endswith("«") else ""
            w = _merge(pending, w, pending.word + sep + text)
            pending = None
            if out and _is_elision(out[-1].word):                  # qu'« on
                out[-1] = _merge(out[-1], w, out[-1].word + w.word)
            else:
                out.append(w)
            continue
        if out and _continues(out[-1].word, text, spaced):
            out[-1] = _merge(out[-1], w, out[-1].word + text)
            continue
        out.append(w)
    if pending is not None:
        if out:
            last = out[-1]
            out[-1] = _merge(last, pending, last.word + " " + pending.word)
        else:
            out.append(pending)
    return [Word(w.start, w.end, typography.apply(w.word, language), w.probability) for w in out]


def display_text(words: Sequence[Word], language: str | None = None) -> str:
    """One line of display text for ``words``."""
    return " ".join(w.word for w in display_words(words, language))
