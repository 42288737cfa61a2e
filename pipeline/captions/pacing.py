"""Reading speed: every caption stays up long enough to be read.

:func:`pace` runs after the layout, over the captions in order. A caption needs
``max(min_duration, characters / max_cps)`` seconds on screen (characters as the reader sees them,
lines joined by one space). When its spoken time is shorter it is, in order:

1. extended into the silence that follows it (up to the next caption);
2. started a little earlier, into the silence before it (at most :data:`LEAD` s, never over the
   previous caption);
3. otherwise the following captions start later: the lag is carried until a pause absorbs it,
   but a caption never starts more than :data:`MAX_LAG` s after its first word is spoken (words
   shown long after they are heard read as a mistake): past that, the caption keeps its moment
   and is reported as ``"fast"``, read a little quicker than the rule.

Captions never overlap, and times are whole milliseconds (what SRT, VTT and ASS keep), rounded so
that the reading speed still holds once written. Returns the captions that moved, for the report.
"""
from __future__ import annotations

import math
from typing import Protocol, Sequence

LEAD = 0.3       # seconds a caption may appear before its first word
MAX_LAG = 1.5    # seconds a caption may appear after its first word, at most


class Timed(Protocol):
    start: float
    end: float


def reading_time(text: str, max_cps: float, min_duration: float) -> float:
    """The reading-speed rule, the one place it is written: seconds ``text`` (one line, as the
    reader sees it) needs on screen."""
    return max(min_duration, len(text) / max_cps)


def _ms_floor(t: float) -> float:
    return math.floor(t * 1000 + 1e-6) / 1000


def _ms_ceil(t: float) -> float:
    return math.ceil(t * 1000 - 1e-6) / 1000


def pace(caps: Sequence[Timed], texts: Sequence[str], max_cps: float, min_duration: float,
         fixed: Sequence[bool] = ()) -> list[dict]:
    """Set ``start``/``end`` of ``caps`` (in order) so each meets ``max_cps`` and ``min_duration``.

    ``texts`` are the captions' display texts (one line each). ``fixed`` marks the captions a
    person timed: they keep their start (never delayed, so a dense file cannot drift), may only
    be extended into the silence before the next caption, and are reported ``"short"`` when even
    that is not long enough; the captions before them end in time. Returns one entry per caption
    that was extended past its layout end or moved: ``{"start", "end", "text", "was": [start, end],
    "change": "extended" | "delayed" | "early" | "fast" | "short"}``.
    """
    changes: dict[int, dict] = {}
    prev_end = -math.inf
    originals = [(c.start, c.end) for c in caps]
    fixed = list(fixed) or [False] * len(caps)

    def note(k: int, change: str) -> None:
        cap = caps[k]
        changes[k] = {"start": round(cap.start, 3), "end": round(cap.end, 3), "text": texts[k],
                      "was": [round(originals[k][0], 3), round(originals[k][1], 3)], "change": change}

    for i, (cap, text) in enumerate(zip(caps, texts)):
        start0, end0 = originals[i]
        need = reading_time(text, max_cps, min_duration)
        nxt = originals[i + 1][0] if i + 1 < len(caps) else math.inf
        if fixed[i]:
            start = round(start0, 3)
            end = min(max(round(end0, 3), _ms_floor(min(start + need, nxt))), nxt)
            cap.start, cap.end = start, max(end, start)
            prev_end = cap.end
            if cap.end - start < need - 1e-9:
                note(i, "short")
            elif cap.end > end0 + 0.0015:
                note(i, "extended")
            continue
        start = max(_ms_floor(start0), _ms_ceil(prev_end) if prev_end > -math.inf else -math.inf)
        if nxt - start < need and start0 > prev_end:          # not enough room before the next one
            start = max(start0 - LEAD, nxt - need, prev_end if prev_end > -math.inf else 0.0, 0.0)
            start = min(_ms_ceil(start), _ms_floor(start0)) if start < start0 else _ms_floor(start0)
            start = max(start, _ms_ceil(prev_end) if prev_end > -math.inf else 0.0)
        if i and start > start0 + MAX_LAG:       # too far behind the speech: the previous caption
            start = _ms_ceil(start0 + MAX_LAG)   # gives way, and is read a little faster
            prev = caps[i - 1]
            prev.end = max(prev.start + 0.001, start)
            note(i - 1, "fast")
        end = max(_ms_ceil(end0), _ms_ceil(start + need))
        if end - start < need - 1e-9:
            end = _ms_ceil(end + 0.001)
        if i + 1 < len(caps) and fixed[i + 1] and end > nxt:     # a person's caption comes next: it
            start, end = min(start, max(_ms_floor(nxt) - 0.001, 0.0)), _ms_floor(nxt)   # is never delayed
            note(i, "fast")
        cap.start, cap.end = start, end
        prev_end = end
        if start > start0 + 0.0015:
            note(i, "delayed")
        elif start < start0 - 0.0015:
            note(i, "early")
        elif end > end0 + 0.0015:
            note(i, "extended")
    return [changes[k] for k in sorted(changes)]


def cps(text: str, start: float, end: float) -> float:
    """Characters per second of ``text`` shown from ``start`` to ``end``."""
    return len(text) / max(end - start, 1e-9)


def clip_to(caps: list, duration: float | None) -> list:
    """``caps`` cut at the video's end (``duration`` seconds; None: no limit): none ends after it,
    and one that would start in the video's last millisecond or later is left out."""
    if duration is None:
        return caps
    end = _ms_floor(duration)
    out = [c for c in caps if c.start < end - 0.0005]
    for c in out:
        c.start, c.end = max(c.start, 0.0), min(c.end, end)    # a part of a split episode starts at 0
    return out


def person_cue_warnings(words: Sequence, duration: float, max_cps: float, min_duration: float,
                        frame: float, limit: int = 6) -> list[str]:
    """One warning per SRT file whose cues (``words`` timed by a person, ``word.cue``) cannot be
    shown long enough: under ``min_duration`` or ``max_cps`` even when extended to the next cue,
    or not at all (less than a ``frame``, or after the video's end at ``duration``). Such a cue is
    still shown for the time it has; nothing is dropped in silence."""
    texts: dict = {}
    for w in words:
        if w.cue is not None:
            texts.setdefault(w.cue, []).append(w.word.strip())
    marks = sorted(texts, key=lambda m: (m.start, m.end))
    short: dict[str, list[str]] = {}
    for k, m in enumerate(marks):
        nxt = marks[k + 1].start if k + 1 < len(marks) else math.inf
        room = min(nxt, duration) - m.start
        need = reading_time(" ".join(texts[m]), max_cps, min_duration)
        if room >= need - 1e-6:
            continue
        what = "not shown" if room < frame else f"{room:.2f} s of {need:.1f} s"
        short.setdefault(m.file, []).append(f"line {m.line} ({what})")
    out = []
    for file, items in short.items():
        more = f" and {len(items) - limit} more" if len(items) > limit else ""
        out.append(f"{file}: {len(items)} cue(s) too short to read at {max_cps:g} characters a second and "
                   f"{min_duration:g} s at least, shown for the time they have: {', '.join(items[:limit])}{more}; "
                   "lengthen or merge them")
    return out
