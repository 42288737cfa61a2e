"""Language typography for caption text.

French sets a narrow no-break space (U+202F) before ``? ! : ;`` and inside ``« »``, so the mark
never starts a line on its own. :func:`apply` is idempotent: it first removes whatever spacing is
already there (plain space, no-break space, thin space or nothing) and sets exactly one U+202F.
"""
from __future__ import annotations

import re

NNBSP = "\u202f"
_SPACES = "[ \u00a0\u2009\u202f]*"

# A run of ``? ! ; :`` after a non-space character. A colon counts only when it ends a word (so
# "12:30" and "https://" are left alone); "?!" gets a single space before the run.
_BEFORE = re.compile(rf"(?<=\S){_SPACES}((?:[?!;]|:(?=\s|$|[?!»]))+)")
_AFTER_OPEN = re.compile(rf"«{_SPACES}")
_BEFORE_CLOSE = re.compile(rf"{_SPACES}»")


def french(text: str) -> str:
    text = _BEFORE.sub(lambda m: NNBSP + m.group(1), text)
    text = _AFTER_OPEN.sub("«" + NNBSP, text)
    return _BEFORE_CLOSE.sub(NNBSP + "»", text)


def apply(text: str, language: str | None) -> str:
    """Typography for ``language`` (an ISO code such as ``fr`` or ``fr-CA``); other languages pass through."""
    if language and language.lower().split("-")[0].split("_")[0] == "fr":
        return french(text)
    return text
