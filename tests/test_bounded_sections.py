"""A long single shot full of passers-by is planned in bounded memory (issue 29).

The subjects table of a section holds 7 values per person and frame: for one long shot it grows as
the square of its length (a 10-minute crowd shot: about 1.8 GB). ``reframe/bounded.py`` plans such a
section in halves. Real planning code (``subjects``, ``follow.plan_clip``), real linking of the
people's boxes; the memory is read with ``tracemalloc`` (numpy reports its arrays to it).
"""
from __future__ import annotations

import itertools
import tracemalloc

import numpy as np

from pipeline.faces.linking import Track
from pipeline.reframe import follow
from pipeline.reframe.bounded import MIN_FRAMES, bounded, table_bytes
from pipeline.reframe.follow import FollowReframer
from pipeline.reframe.options import FRAMING
from pipeline.reframe.subjects import chained

W, H = 1920, 1080
MAIN = (0.30, 0.30, 0.40, 0.48)         # the person the shot is about: big, standing left of centre


def _street(n: int, every: int = 25, stay: int = 120) -> list[Track]:
    """The main person on every 3rd frame for the whole shot, and a passer-by every ``every`` frames,
    each walking across for ``stay`` frames (a track each: a new person), smaller than the main one."""
    rng = np.random.default_rng(3)
    main = list(range(0, n, 3))
    tracks = [Track("main", main, [list(MAIN) for _ in main], [0.9] * len(main))]
    for k, first in enumerate(range(0, n - stay, every)):
        frames = list(range(first, first + stay, 3))
        y, h, x0 = rng.uniform(0.2, 0.6), rng.uniform(0.05, 0.09), rng.uniform(0.0, 0.3)
        boxes = [[x0 + 0.004 * (f - first), y, x0 + 0.004 * (f - first) + h * 0.56, y + h] for f in frames]
        tracks.append(Track(f"p{k}", frames, boxes, [0.8] * len(frames)))
    return tracks


def _peak_mib(fn) -> tuple[object, float]:
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def test_a_long_crowd_shot_is_cut_into_parts_whose_tables_fit():
    n = 12000                                           # 400 s, one shot
    tracks = _street(n)
    hold = FRAMING.subjects.hold
    spans = np.array([(c.frames[0] - hold, c.frames[-1] + hold) for c in chained(tracks)])
    whole = follow.sections([(0, n)], n, "follow", (0.5, 0.5), [])
    assert table_bytes(spans, 0, n) > 4 * 32 * 2 ** 20    # planned whole: over 4 times the limit
    parts = bounded(whole, tracks, limit_mib=32)
    assert len(parts) > 1
    assert parts[0].start == 0 and parts[-1].end == n
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))      # in order, no frame lost
    assert all(p.shot == 1 and p.strategy == "follow" for p in parts)
    for p in parts:
        assert table_bytes(spans, p.start, p.end) <= 32 * 2 ** 20 or p.end - p.start < 2 * MIN_FRAMES


def test_the_parts_are_planned_in_bounded_memory_and_keep_the_main_face_whole():
    n = 9000                                            # 300 s, one shot
    tracks = _street(n)
    sections = bounded(follow.sections([(0, n)], n, "follow", (0.5, 0.5), []), tracks, limit_mib=32)
    plan, peak = _peak_mib(lambda: follow.plan_clip(sections, tracks, None, (W, H)))
    assert peak < 80, f"planning held {peak:.0f} MiB"     # planned whole: 137 MiB
    reframer = FollowReframer((W, H), plan=plan)
    inside = 0
    for i in range(0, n, 7):
        windows = [p.src for p in reframer.placements(i) if not p.holes]
        inside += any(MAIN[0] >= s[0] - 1e-9 and MAIN[2] <= s[2] + 1e-9 for s in windows)
    assert inside / len(range(0, n, 7)) >= 0.99


def test_ordinary_shots_are_planned_whole():
    """A minute of a few people, and many short shots of a crowd: nothing is cut."""
    n = 1800
    tracks = _street(n, every=200)
    sections = follow.sections([(0, n)], n, "follow", (0.5, 0.5), [])
    assert bounded(sections, tracks) == sections
    shots = [(a, min(a + 120, 12000)) for a in range(0, 12000, 120)]
    crowd = _street(12000)
    many = follow.sections(shots, 12000, "follow", (0.5, 0.5), [])
    assert bounded(many, crowd) == many


def test_the_default_limit_bounds_a_ten_minute_crowd_shot():
    """``SubjectOptions.max_table_mib`` applied to 10 minutes of one shot with a new passer-by
    every 25 frames, each leaving as the next arrives (720 people, never taken for one another)."""
    n = 18000
    tracks = _street(n, every=25, stay=151)
    hold = FRAMING.subjects.hold
    spans = np.array([(c.frames[0] - hold, c.frames[-1] + hold) for c in chained(tracks)])
    limit = FRAMING.subjects.max_table_mib * 2 ** 20
    assert len(spans) > 700 and table_bytes(spans, 0, n) > 2 * limit
    sections = bounded(follow.sections([(0, n)], n, "follow", (0.5, 0.5), []), tracks)
    assert all(table_bytes(spans, s.start, s.end) <= limit for s in sections)
    assert sections[0].start == 0 and sections[-1].end == n
