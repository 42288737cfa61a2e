"""Sections small enough to plan in bounded memory.

``subjects.subjects`` lays a section's people out as a table of 7 values per person and frame, so
its size grows with the section's length times the people met in it: as the square of the length
of one long shot. A 10-minute single shot of a street, where a new face passes every few seconds,
would hold about 1.8 GB (measured on the crowd clip taken as one shot: 179 people a minute). A
section whose table would pass ``SubjectOptions.max_table_mib`` is planned as two halves, each
halved again until it fits; the frame may move where two halves meet, as it does at an override's
edge. Shorter sections, and every shot of ordinary footage, are planned whole as before.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipeline.reframe.options import FRAMING
from pipeline.reframe.subjects import chained, on_screen

VALUES = 7          # x0, x1, h, y0, rx0, rx1, slack (subjects.subjects)
MIN_FRAMES = 300    # a half is never shorter than 10 s: a planned shot needs time to show its people


def table_bytes(spans: np.ndarray, start: int, end: int) -> int:
    """Bytes of the subjects table of frames ``[start, end)``: the people whose span meets them."""
    rows = int(((spans[:, 1] >= start) & (spans[:, 0] < end)).sum()) if len(spans) else 0   # subjects.meets, for all
    return rows * (end - start) * VALUES * 8


def bounded(sections: list, tracks, limit_mib: int | None = None) -> list:
    """``sections`` with each one whose subjects table would pass ``limit_mib`` cut in halves."""
    limit = (FRAMING.subjects.max_table_mib if limit_mib is None else limit_mib) * 2 ** 20
    spans = np.array([on_screen(c) for c in chained(tracks)], dtype=np.int64).reshape(-1, 2)
    out = []
    todo = list(reversed(sections))
    while todo:
        sec = todo.pop()
        n = sec.end - sec.start
        if n < 2 * MIN_FRAMES or table_bytes(spans, sec.start, sec.end) <= limit:
            out.append(sec)
            continue
        mid = sec.start + n // 2
        todo += [replace(sec, start=mid), replace(sec, end=mid)]     # the first half is planned first
    return out
