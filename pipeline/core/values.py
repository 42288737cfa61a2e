"""The one wording of a setting that is wrong: ``<file>: key 'K': <value> <what is wrong>: <what is allowed>``.

Every file Cadre reads settings from (``campaign.toml`` and ``episode.toml``, the caption, redaction
and branding presets, ``masks.toml``, ``presets/master.toml``) and the review page's requests check
their numbers and choices here, so a range error reads the same way everywhere and names the
file, the key and the values allowed. The table of the episode's keys is
:data:`pipeline.source.schema.SCHEMA`; each preset's ranges sit beside its dataclass.
"""
from __future__ import annotations

import math
import re

from pipeline.core.errors import CadreError

COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$")   # "#RRGGBB" or "#RRGGBBAA" (AA = opacity)


def span(lo: float | None, hi: float | None, whole: bool = False) -> str:
    """The allowed range in words: ``0 or more``, ``1 or less``, ``between 0 and 1``."""
    text = (f"{lo:g} or more" if hi is None else f"{hi:g} or less" if lo is None else f"between {lo:g} and {hi:g}")
    return f"a whole number, {text}" if whole else text


def out_of_range(key: str, value, lo: float | None, hi: float | None, whole: bool = False) -> str:
    return f"key '{key}': {value!r} is out of range: it must be {span(lo, hi, whole)}"


def not_a_number(key: str, value, lo: float | None, hi: float | None, whole: bool = False) -> str:
    return f"key '{key}': {value!r} is not a {'whole ' if whole else ''}number: it must be {span(lo, hi, whole)}"


def not_allowed(key: str, value, choices) -> str:
    return f"key '{key}': {value!r} is not allowed; choose one of: {', '.join(map(str, choices))}"


def wrong(key: str, problem: str) -> str:
    return f"key '{key}': {problem}"


def number(path, key: str, value, lo: float | None = None, hi: float | None = None, whole: bool = False) -> float:
    """``value`` as a finite number in ``[lo, hi]`` (an int when ``whole``); else a CadreError on
    ``path`` worded as above."""
    kinds = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise CadreError(path, not_a_number(key, value, lo, hi, whole))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise CadreError(path, out_of_range(key, value, lo, hi, whole))
    return value if whole else float(value)


def choice(path, key: str, value, allowed) -> str:
    """``value`` if it is one of ``allowed``; else a CadreError on ``path`` naming them."""
    if not isinstance(value, str) or value not in allowed:
        raise CadreError(path, not_allowed(key, value, allowed))
    return value


def flag(path, key: str, value) -> bool:
    if not isinstance(value, bool):
        raise CadreError(path, wrong(key, f"{value!r} must be true or false"))
    return value


def colour(path, key: str, value) -> str:
    if not isinstance(value, str) or not COLOUR.match(value):
        raise CadreError(path, wrong(key, f"{value!r} is not a colour; write \"#RRGGBB\" or \"#RRGGBBAA\""))
    return value
