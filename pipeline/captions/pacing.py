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


def _ms_floor(t: float) -> float:
    return math.floor(t * 1000 + 1e-6) / 1000


def _ms_ceil(t: float) -> float:
    return math.ceil(t * 1000 - 1e-6) / 1000


def pace(caps: Sequence[Timed], texts: Sequence[str], max_cps: float, min_duration: float) -> list[dict]:
    """Set ``start``/``end`` of ``caps`` (in order) so each meets ``max_cps`` and ``min_duration``.

    ``texts`` are the captions' display texts (one line each). Returns one entry per caption that
    was extended past its layout end or moved: ``{"start", "end", "text", "was": [start, end],
    "change": "extended" | "delayed" | "early" | "fast"}``.
    """
    changes: dict[int, dict] = {}
    prev_end = -math.inf
    originals = [(c.start, c.end) for c in caps]

    def note(k: int, change: str) -> None:
        cap = caps[k]
        changes[k] = {"start": round(cap.start, 3), "end": round(cap.end, 3), "text": texts[k],
                      "was": [round(originals[k][0], 3), round(originals[k][1], 3)], "change": change}

    for i, (cap, text) in enumerate(zip(caps, texts)):
        start0, end0 = originals[i]
        need = max(min_duration, len(text) / max_cps)
        nxt = originals[i + 1][0] if i + 1 < len(caps) else math.inf
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
