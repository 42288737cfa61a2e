"""The publication fingerprint keys a clip's face tracks without making them all into lists at once.

``signoff/fingerprint.analysis_inputs`` hashes each clip's tracks into the fingerprint an approval
is checked against. It keyed ``FaceTracks.to_dict()``, every track as Python lists at once (a
10-minute crowd: +142 MiB at the end of a render); ``make_key(..., expand=True)`` makes each
track's dict as the encoder reaches it. The key must be the same, or every approval made before
would stop matching.
"""
from __future__ import annotations

import json

from pipeline.core.cache import make_key
from pipeline.faces.detectors.base import Detection
from pipeline.faces.tracking import FaceTracks, Track, link


def _tracks() -> FaceTracks:
    """Three faces a pan carries (the pixels' step known on every frame), one of them unseen for a
    few frames: keyframes, rows carried past the ends and across the gap, as the analysis stores them
    (``Track.from_dict(t.to_dict())``: arrays, ``core/rows.py``)."""
    dets = {f: [Detection(0.1 + 0.01 * f + 0.3 * k, 0.2, 0.16 + 0.01 * f + 0.3 * k, 0.3, 0.9 - 0.1 * k)
                for k in range(3) if 6 <= f < 30 and not (k == 1 and 12 <= f <= 16)] for f in range(40)}
    steps = {f: (1.0, 0.01, 0.0) for f in range(40)}
    tracks = link(dets, max_gap=18, finish=lambda t: Track.from_dict(t.to_dict()), steps=steps)
    return FaceTracks("a.mp4", 0.0, 40, tracks, 1.3, 10, "centerface", "ab" * 32, False,
                      {"plan": {"read_size": [640, 360]}})


def test_the_expanded_key_is_the_key_of_the_whole_dict():
    ft = _tracks()
    assert len(ft.tracks) >= 3 and any(len(t.carry_gaps) for t in ft.tracks)
    assert all(len(t.carry_before) and len(t.carry_after) for t in ft.tracks)
    whole = make_key(ft.to_dict())
    assert make_key(ft.to_dict(compact=True), expand=True) == whole
    assert make_key(json.loads(json.dumps(ft.to_dict()))) == whole          # as read back from JSON


def test_the_key_still_tells_tracks_apart():
    ft, other = _tracks(), _tracks()
    assert make_key(other.to_dict(compact=True), expand=True) == make_key(ft.to_dict(compact=True), expand=True)
    moved = other.tracks[0].to_dict()
    moved["boxes"][3][0] += 0.001
    other.tracks[0] = Track.from_dict(moved)
    assert make_key(other.to_dict(compact=True), expand=True) != make_key(ft.to_dict(compact=True), expand=True)


def test_without_expand_an_object_is_keyed_by_its_text_as_before():
    ft = _tracks()
    assert make_key(ft.to_dict(compact=True)) == make_key({**ft.to_dict(), "tracks": [str(t) for t in ft.tracks]})
