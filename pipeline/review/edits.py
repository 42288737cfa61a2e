"""Saving a reviewer's edits to the files a person edits by hand, and nowhere else.

- captions: the clip's ``<stem>.<lang>.srt`` (what render merges over the machine words);
- face tracks and manual regions: ``<episode>/masks.toml`` ([[keep]] / [[mask]]);
- bleeped terms: the ``bleep`` list of ``<episode>/episode.toml``.

TOML files are edited with tomlkit, so a person's comments and layout survive. Every write is
checked by the same loader render uses, and the file is left as it was if the check fails.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from pipeline.captions.sidecars import srt_of
from pipeline.core.cache import atomic_write_text
from pipeline.core.errors import CadreError
from pipeline.core.textfile import read_text
from pipeline.core.values import number, wrong
from pipeline.sound.bleep import fold

MAX_TEXT = 500          # characters in one cue


@dataclass
class CueEdit:
    start: float
    end: float
    text: str


MAX_SECONDS = 24 * 3600   # no clip is longer: a time beyond it is a typo or an attack


def _seconds(path, key: str, value) -> float:
    """A time the page sent, in seconds of the clip (worded as every setting: core/values.py)."""
    return number(path, key, value, 0, MAX_SECONDS)


def parse_cues(items, source: str) -> list[CueEdit]:
    """Cues sent by the page, checked: times in order, text of reasonable length."""
    if not isinstance(items, list):
        raise CadreError(source, "cues must be a list")
    cues = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise CadreError(source, f"cue {n} must be an object with start, end and text")
        start, end = _seconds(source, f"cues #{n}.start", item.get("start")), _seconds(source, f"cues #{n}.end", item.get("end"))
        text = item.get("text")
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise CadreError(source, f"cue {n}: text must be a string of at most {MAX_TEXT} characters")
        text = "\n".join(" ".join(line.split()) for line in text.replace("\r", "").split("\n") if line.strip())
        if not text:
            continue            # an emptied cue is deleted
        if end <= start:
            raise CadreError(source, wrong(f"cues #{n}.end", f"{end:g} must be after start {start:g}"))
        cues.append(CueEdit(round(start, 3), round(end, 3), text))
    return sorted(cues, key=lambda c: (c.start, c.end))


def srt_document(cues: list[CueEdit]) -> str:
    """SRT text of ``cues``, by the one SRT writer (``captions/sidecars.srt_of``), as the person typed it."""
    return srt_of(cues, protect=False)


def write_srt(path: Path, cues: list[CueEdit]) -> bool:
    """Write the clip's SRT; False when nothing changed (the file is not touched)."""
    text = srt_document(cues)
    if path.is_file() and path.read_text("utf-8", errors="replace").replace("\r\n", "\n") == text:
        return False
    atomic_write_text(path, text)
    return True


def replace_in(cues: list[CueEdit], find: str, replace: str, whole_word: bool, case: bool) -> tuple[list[CueEdit], int]:
    """``cues`` with every match of ``find`` replaced, and how many were replaced."""
    if not isinstance(find, str) or not find.strip() or not isinstance(replace, str):
        raise CadreError("find", "give the text to find (and the replacement, possibly empty)")
    pattern = re.escape(find)
    if whole_word:
        pattern = rf"(?<!\w){pattern}(?!\w)"
    rx = re.compile(pattern, 0 if case else re.IGNORECASE)
    out, total = [], 0
    for cue in cues:
        text, n = rx.subn(lambda _m: replace, cue.text)
        out.append(CueEdit(cue.start, cue.end, text))
        total += n
    return out, total


# -- masks.toml ---------------------------------------------------------------------------------
def load_doc(path: Path):
    return tomlkit.parse(read_text(path)) if path.is_file() else tomlkit.document()


def save_checked(path: Path, doc, check) -> None:
    """Write ``doc`` to ``path``, run ``check()``, and put the old file back if it fails."""
    old = read_text(path) if path.is_file() else None
    atomic_write_text(path, tomlkit.dumps(doc))
    try:
        check()
    except Exception:
        if old is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_text(path, old)
        raise


def _aot(doc, key: str):
    if key not in doc:
        doc.append(key, tomlkit.aot())
    return doc[key]


def set_track_kept(masks: Path, clip: str, track: str, keep: bool, check) -> None:
    """One click on a face track: keep it visible (a [[keep]] entry) or mask it (no keep entry)."""
    doc = load_doc(masks)
    keeps = _aot(doc, "keep")
    mine = [i for i, e in enumerate(keeps) if e.get("clip") == clip and e.get("track") == track]
    if keep and not mine:
        entry = tomlkit.table()
        entry.add("clip", clip)
        entry.add("track", track)
        entry.add("note", "kept visible in cadre review")
        keeps.append(entry)
    elif not keep:
        for i in reversed(mine):
            del keeps[i]
    if not len(keeps):
        del doc["keep"]
    save_checked(masks, doc, check)


def region(value) -> list[float]:
    if (not isinstance(value, list) or len(value) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise CadreError("region", f"{value!r} must be [x0, y0, x1, y1], fractions of the frame")
    x0, y0, x1, y1 = (round(min(1.0, max(0.0, float(v))), 4) for v in value)
    if x1 - x0 < 0.005 or y1 - y0 < 0.005:
        raise CadreError("region", "the box is empty; drag a larger box on the frame")
    return [x0, y0, x1, y1]


def add_mask(masks: Path, clip: str, box: list[float] | None, start: float, end: float | None, label: str, check,
             whole_frame: bool = False, moving: bool = False) -> None:
    """A manual [[mask]] over a time span (seconds of the clip file): a region, or the whole frame;
    ``moving``: the region follows what it covers (drawn where the object is at ``start``)."""
    start = _seconds(masks, "start", start)
    if end is not None:
        end = _seconds(masks, "end", end)
        if end <= start:
            raise CadreError(masks, wrong("end", f"{end:g} must be after start {start:g}"))
    doc = load_doc(masks)
    entry = tomlkit.table()
    entry.add("clip", clip)
    if whole_frame:
        entry.add("whole_frame", True)
    else:
        entry.add("region", region(box))
    entry.add("start", round(start, 3))
    if end is not None:
        entry.add("end", round(end, 3))
    if label:
        entry.add("label", str(label)[:80])
    if moving and not whole_frame:
        entry.add("moving", True)
    entry.add("note", "drawn in cadre review")       # who asked: the audit credits the review page
    _aot(doc, "mask").append(entry)
    save_checked(masks, doc, check)


def fix_moving(masks: Path, index: int, at: float, box: list[float], check, frame: float) -> str:
    """Correct moving [[mask]] number ``index`` at clip second ``at``: the region is where the object
    really is then. At the entry's start the region itself is replaced; later, the entry is split:
    it ends at ``at`` and a new moving entry starts there from the corrected region (the tracker
    starts again from it). Both cover the frame at ``at``, so no frame is left between them.
    ``frame``: one frame's duration. Returns "replaced" or "split"."""
    at, box = _seconds(masks, "at", at), region(box)
    doc = load_doc(masks)
    items = _entries(doc, masks, "mask", index)
    entry = items[index]
    if not entry.get("moving"):
        raise CadreError(masks, f"[[mask]] #{index + 1} does not follow what it covers (moving = true); "
                                "draw a new mask instead")
    start, end = float(entry.get("start", 0.0)), entry.get("end")
    if at < start - frame / 2 or (end is not None and at >= float(end)):
        raise CadreError("at", f"{at:g} s is outside [[mask]] #{index + 1} ({start:g}-"
                               f"{'end' if end is None else f'{float(end):g}'} s); show a frame inside its span")
    if at < start + frame / 2:
        entry["region"] = box
        how = "replaced"
    else:
        fixed = tomlkit.table()
        fixed.add("clip", str(entry["clip"]))
        fixed.add("region", box)
        fixed.add("start", round(at, 3))
        if end is not None:
            fixed.add("end", float(end))
        if entry.get("label"):
            fixed.add("label", str(entry["label"]))
        fixed.add("moving", True)
        fixed.add("note", f"corrected at {at:g} s in cadre review")
        entry["end"] = round(at, 3)
        items.insert(index + 1, fixed)
        how = "split"
    save_checked(masks, doc, check)
    return how


def add_voice(masks: Path, clip: str, start: float, end: float | None, preset: str, label: str, check) -> None:
    """A [[voice]] span (seconds of the clip file) disguised with ``preset``; the loader checks the rest
    (preset name, overlaps, inside the clip, audio present)."""
    start = _seconds(masks, "start", start)
    if end is not None:
        end = _seconds(masks, "end", end)
    doc = load_doc(masks)
    entry = tomlkit.table()
    entry.add("clip", clip)
    entry.add("start", round(start, 3))
    if end is not None:
        entry.add("end", round(end, 3))
    entry.add("preset", str(preset))
    if label:
        entry.add("label", str(label)[:80])
    entry.add("note", "marked in cadre review")      # who asked: the audit credits the review page
    _aot(doc, "voice").append(entry)
    save_checked(masks, doc, check)


def _entries(doc, masks: Path, section: str, index) -> list:
    """The ``[[section]]`` entries of ``doc``, which must hold number ``index`` (from 0)."""
    items = doc.get(section)
    if items is None or isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(items):
        raise CadreError(masks, f"there is no [[{section}]] number {index}")
    return items


def _remove(masks: Path, section: str, index: int, check) -> None:
    doc = load_doc(masks)
    items = _entries(doc, masks, section, index)
    del items[index]
    if not len(items):
        del doc[section]
    save_checked(masks, doc, check)


def remove_voice(masks: Path, index: int, check) -> None:
    _remove(masks, "voice", index, check)


def remove_mask(masks: Path, index: int, check) -> None:
    _remove(masks, "mask", index, check)


# -- episode.toml -------------------------------------------------------------------------------
def add_bleep(episode_toml: Path, term: str, check) -> bool:
    """Add ``term`` to ``bleep = [...]``; False if it is already there."""

    term = " ".join(str(term or "").split())
    if not term or len(term) > 200:
        raise CadreError("bleep", "give the word or phrase to bleep")
    doc = load_doc(episode_toml)
    if "bleep" not in doc:
        doc["bleep"] = tomlkit.array()
    if any(fold(str(t)) == fold(term) for t in doc["bleep"]):
        return False
    doc["bleep"].append(term)
    save_checked(episode_toml, doc, check)
    return True


def remove_bleep(episode_toml: Path, term: str, check) -> bool:
    doc = load_doc(episode_toml)
    terms = doc.get("bleep")
    if terms is None:
        return False
    keep = [t for t in terms if fold(str(t)) != fold(str(term))]
    if len(keep) == len(terms):
        return False
    if keep:
        array = tomlkit.array()
        array.extend(keep)
        doc["bleep"] = array
    else:
        del doc["bleep"]
    save_checked(episode_toml, doc, check)
    return True
