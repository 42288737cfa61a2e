"""``handles.toml`` at the campaign: the accounts a post may mention, and the contacts it may give.

::

    [unit]                          # the unit's own account on each network, declared once
    tiktok = "gendarmerie"
    instagram-reels = "gendarmerienationale"

    [contacts]                      # what a post or a caption may give (17 and 112 always may)
    phones = ["0 800 00 17 17"]
    domains = ["gendarmerie.interieur.gouv.fr"]   # and its subdomains

    [[handle]]                      # a vetted account
    handle = "@prefet35"
    network = "all"                 # or a network name, or a list of them
    vetted_by = "Adj. Martin"
    vetted_on = 2026-11-02

A mention that is not vetted blocks the post; so does one that looks like the unit's own handle
without being it (one edit away, or a look-alike character: :func:`lookalike`), vetted or not,
since impostors copy the official account's name.
"""
from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from confusable_homoglyphs import confusables
from rapidfuzz.distance import OSA

from pipeline.core.errors import CadreError
from pipeline.core.resources import load_toml

HANDLES = "handles.toml"
ALWAYS_PHONES = ("17", "112")          # police and the European emergency number
# ASCII look-alikes (Unicode's confusables data for ASCII: 1, I and | read as l; 0 as o; rn as m)
_ASCII_LOOKALIKES = (("rn", "m"), ("|", "l"), ("1", "l"), ("i", "l"), ("0", "o"))


@dataclass(frozen=True)
class Vetted:
    handle: str
    networks: tuple[str, ...]           # () : every network
    vetted_by: str
    vetted_on: str


@dataclass(frozen=True)
class Handles:
    path: Path | None = None
    unit: dict = field(default_factory=dict)          # network -> the unit's own handle (no @)
    vetted: tuple[Vetted, ...] = ()
    phones: tuple[str, ...] = ALWAYS_PHONES
    domains: tuple[str, ...] = ()

    def own(self, network: str) -> str | None:
        return self.unit.get(network)

    def find(self, handle: str, network: str) -> Vetted | None:
        key = handle.lstrip("@").casefold()
        for v in self.vetted:
            if v.handle.casefold() == key and (not v.networks or network in v.networks):
                return v
        return None

    def known_elsewhere(self, handle: str) -> list[str]:
        key = handle.lstrip("@").casefold()
        return sorted({n for v in self.vetted if v.handle.casefold() == key for n in v.networks})


def _fail(path: Path, key: str, problem: str):
    raise CadreError(path, f"key '{key}': {problem}")


def _text(path, key, value) -> str:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        _fail(path, key, f"{value!r} must be non-empty text")
    return value.strip()


def read_handles(campaign_dir: Path, networks: tuple[str, ...]) -> Handles:
    """The campaign's ``handles.toml`` (none: no mention is vetted, only 17 and 112 may be given)."""
    path = Path(campaign_dir) / HANDLES
    if not path.is_file():
        return Handles()
    data = load_toml(path)
    unknown = set(data) - {"unit", "contacts", "handle"}
    if unknown:
        _fail(path, sorted(unknown)[0], "unknown key; allowed: [unit], [contacts], [[handle]]")
    unit = data.get("unit", {})
    if not isinstance(unit, dict):
        _fail(path, "unit", "must be a table: network = \"handle\"")
    for net, handle in unit.items():
        if net not in networks:
            _fail(path, f"unit.{net}", f"unknown network; choose from: {', '.join(networks)}")
        _text(path, f"unit.{net}", handle)
    contacts = data.get("contacts", {})
    if not isinstance(contacts, dict) or set(contacts) - {"phones", "domains"}:
        _fail(path, "contacts", "must be a table with phones = [...] and domains = [...]")
    lists = {}
    for key in ("phones", "domains"):
        value = contacts.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            _fail(path, f"contacts.{key}", f"{value!r} must be a list of text")
        lists[key] = tuple(v.strip() for v in value)
    vetted = []
    entries = data.get("handle", [])
    if not isinstance(entries, list):
        _fail(path, "handle", "must be a list of tables: write [[handle]]")
    for n, item in enumerate(entries, 1):
        key = f"handle #{n}"
        if not isinstance(item, dict):
            _fail(path, key, "must be a table with handle, network, vetted_by, vetted_on")
        missing = [k for k in ("handle", "network", "vetted_by", "vetted_on") if k not in item]
        if missing or set(item) - {"handle", "network", "vetted_by", "vetted_on", "note"}:
            _fail(path, key, f"needs handle, network, vetted_by and vetted_on (missing: {', '.join(missing) or 'none'}; "
                             f"unknown: {', '.join(sorted(set(item) - {'handle', 'network', 'vetted_by', 'vetted_on', 'note'})) or 'none'})")
        nets = item["network"]
        nets = [nets] if isinstance(nets, str) else nets
        if not isinstance(nets, list) or not nets or any(n not in (*networks, "all") for n in nets):
            _fail(path, f"{key}.network", f"{item['network']!r}: use \"all\" or network names: {', '.join(networks)}")
        handle = _text(path, f"{key}.handle", item["handle"]).lstrip("@")
        vetted.append(Vetted(handle, () if "all" in nets else tuple(nets), _text(path, f"{key}.vetted_by", item["vetted_by"]),
                             _text(path, f"{key}.vetted_on", item["vetted_on"])))
    return Handles(path, {k: str(v).strip().lstrip("@") for k, v in unit.items()}, tuple(vetted),
                   tuple(dict.fromkeys(ALWAYS_PHONES + lists["phones"])), lists["domains"])


def skeleton(handle: str) -> str:
    """What ``handle`` looks like: every character replaced by the plain letter it is confusable
    with (Unicode's confusables data, via ``confusable_homoglyphs``), then case and the ASCII
    look-alikes folded (``rn`` reads as ``m``, ``1`` and ``I`` as ``l``, ``0`` as ``o``)."""
    text = unicodedata.normalize("NFKC", handle.lstrip("@"))
    out = []
    for ch in text:
        if not ch.isascii():
            found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True) or []
            glyphs = [h["c"] for f in found for h in f["homoglyphs"] if h["c"].isascii()]
            ch = glyphs[0] if glyphs else ch
        out.append("l" if ch == "I" else ch)
    text = "".join(out).casefold()
    for seq, plain in _ASCII_LOOKALIKES:
        text = text.replace(seq, plain)
    return text


def foreign_characters(handle: str) -> list[str]:
    """Characters outside plain ASCII letters, digits, ``_`` and ``.`` (what handles are made of)."""
    return [ch for ch in handle.lstrip("@") if not (ch.isascii() and (ch.isalnum() or ch in "_."))]


def lookalike(handle: str, own: str) -> str | None:
    """Why ``handle`` passes for ``own`` without being it, or None: one edit away (a letter
    added, dropped, changed or two swapped), or the same once look-alike characters are folded."""
    a, b = handle.lstrip("@"), own.lstrip("@")
    if a.casefold() == b.casefold() and not foreign_characters(a):
        return None
    if skeleton(a) == skeleton(b):
        odd = foreign_characters(a)
        if odd:
            names = ", ".join(f"'{c}' ({unicodedata.name(c, 'U+%04X' % ord(c))})" for c in odd)
            return f"uses look-alike character(s) {names}"
        return "differs only by look-alike characters"
    if OSA.distance(a.casefold(), b.casefold()) <= 1:
        return "is one letter away"
    return None
