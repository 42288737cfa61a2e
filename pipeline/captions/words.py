"""Words as a reader sees them: the one place transcript tokens become display words.

Whisper's word timestamps follow its tokenizer, not the spelling: faster-whisper gives
``d'accord`` as `` d`` + ``'accord``, ``États-Unis`` as `` États`` + ``-Unis``, ``3,360`` as
`` 3`` + ``,360``; openai-whisper or a person's edit may give `` d'`` + `` accord``. Every caption
surface (burned captions, SRT/VTT sidecars, the review page, the ``cadre transcribe`` SRT) goes
through :func:`display_words`, which:

1. joins a token that carries no leading space to the word before it when it continues that word
   (letters or digits after a letter or digit, an apostrophe, a hyphen, a digit group; not a word
   glued after a full stop);
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
            return last.isalnum()
        if first.isalpha():                                          # Du + pont, 3 + e: one word
            return last.isalnum()
    return False


def _merge(a: Word, b: Word, text: str) -> Word:
    return Word(min(a.start, b.start), max(a.end, b.end), text, min(a.probability, b.probability), a.cue or b.cue)


def split_elision(text: str) -> tuple[str, str]:
    """``(elision, rest)`` of one spoken word: ``lorsqu'Amélie`` -> ``("lorsqu'", "Amélie")``,
    ``d’accord`` -> ``("d’", "accord")``; a word without a leading elision -> ``("", text)``."""
    for i, ch in enumerate(text):
        if ch in APOSTROPHES:
            if i + 1 < len(text) and text[:i].lower() in ELISIONS:
                return text[:i + 1], text[i + 1:]
            break
    return "", text


def split_contraction(text: str) -> tuple[str, str]:
    """``(word, ending)`` of an English contraction or possessive: ``Amélie's`` -> ``("Amélie", "'s")``."""
    for i in range(len(text) - 1, 0, -1):
        if text[i] in APOSTROPHES:
            if text[i + 1:].lower() in CONTRACTIONS and text[i - 1].isalpha():
                return text[:i], text[i:]
            break
    return text, ""


def _same_cue(a: Word, b: Word) -> bool:
    """A person's cue is never merged with another one (its timing is kept, ``layout.py``)."""
    return a.cue == b.cue


def spoken_groups(words: Sequence[Word]) -> list[tuple[list[int], Word]]:
    """The one tokenizer: ``words`` (Whisper pieces, a person's words, or display words) grouped
    into the words a reader sees and a listener hears. Each group is the indices of its pieces in
    ``words`` and the merged word (first start to last end, lowest probability, no typography).

    Captions (:func:`display_words`), corrections, bleeping, spelling and the review page all
    group words here (see the module doc for the rules)."""
    out: list[tuple[list[int], Word]] = []
    pending: tuple[list[int], Word] | None = None    # opening punctuation waiting for its word
    # Whisper starts every word with its space; text without that convention (typed words, display
    # words given back) has no glue to read, so only its apostrophes and hyphens are joined
    marked = any(str(w.word)[:1].isspace() for w in words)
    order = sorted(range(len(words)), key=lambda i: (words[i].start, words[i].end))
    for i in order:
        w = words[i]
        raw = str(w.word)
        text = " ".join(raw.split())
        if not text:
            continue
        spaced = raw[:1].isspace() or not out or not marked
        start, end = float(w.start), max(float(w.end), float(w.start))
        w = Word(start, end, text, float(w.probability), w.cue)
        if pending is not None and not _same_cue(pending[1], w):
            out.append(pending)
            pending = None
        last = out[-1][1] if out else None
        if _CLOSING.match(text) and (last is not None and _same_cue(last, w) or pending):
            if pending is not None:                               # « » with nothing inside
                pending = (pending[0] + [i], _merge(pending[1], w, pending[1].word + " " + text))
                continue
            sep = " " if text[0] in "?!;:»" else ""
            out[-1] = (out[-1][0] + [i], _merge(last, w, last.word + sep + text))
            continue
        if _OPENING.match(text):
            if pending is None:
                pending = ([i], w)
            else:
                pw = pending[1]
                pending = (pending[0] + [i], _merge(pw, w, pw.word + (" " if pw.word.endswith("«") else "") + text))
            continue
        if pending is not None:
            sep = " " if pending[1].word.endswith("«") else ""
            idx, w = pending[0] + [i], _merge(pending[1], w, pending[1].word + sep + text)
            pending = None
            if last is not None and _same_cue(last, w) and _is_elision(last.word):   # qu'« on
                out[-1] = (out[-1][0] + idx, _merge(last, w, last.word + w.word))
            else:
                out.append((idx, w))
            continue
        if last is not None and _same_cue(last, w) and _continues(last.word, text, spaced):
            out[-1] = (out[-1][0] + [i], _merge(last, w, last.word + text))
            continue
        out.append(([i], w))
    if pending is not None:
        if out and _same_cue(out[-1][1], pending[1]):
            idx, last = out[-1]
            out[-1] = (idx + pending[0], _merge(last, pending[1], last.word + " " + pending[1].word))
        else:
            out.append(pending)
    return out


def display_words(words: Sequence[Word], language: str | None = None) -> list[Word]:
    """Transcript tokens as the words a reader sees, with ``language``'s typography (see module doc)."""
    return [Word(w.start, w.end, typography.apply(w.word, language), w.probability, w.cue)
            for _, w in spoken_groups(words)]


def display_text(words: Sequence[Word], language: str | None = None) -> str:
    """One line of display text for ``words``."""
    return " ".join(w.word for w in display_words(words, language))
