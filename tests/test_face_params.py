"""Issue #27: every tunable of the face analysis is declared in ``FaceParams`` and is part of the
face cache key, so changing any one of them analyses the clip again instead of serving stale
tracks."""
from __future__ import annotations

import dataclasses

import pytest

from pipeline.faces import analysis
from pipeline.faces.params import PARAMS, FaceParams
from pipeline.faces.settings import load_settings
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe


class _Key(Exception):
    pass


def _changed(value):
    if isinstance(value, tuple):
        return tuple(v + 1 for v in value)
    if isinstance(value, bool):
        return not value
    return value * 2 + 1


def _cache_key(monkeypatch, span, params: FaceParams) -> str:
    """The key analyse_faces looks its cached tracks up by, with ``params`` in force."""
    def spy(kind, key):
        raise _Key(key)
    monkeypatch.setattr(analysis, "PARAMS", params)
    monkeypatch.setattr(analysis.cache, "load", spy)
    with pytest.raises(_Key) as caught:
        analysis.analyse_faces(span, load_settings("mosaic"))
    return str(caught.value)


def test_each_face_tunable_changes_the_cache_key(clip_factory, monkeypatch):
    path = clip_factory(duration=1.0, audio=False)
    span = ClipSpan(path, probe(path))
    base = _cache_key(monkeypatch, span, PARAMS)
    assert base == _cache_key(monkeypatch, span, FaceParams())       # the same values, the same key
    fields = dataclasses.fields(FaceParams)
    assert len(fields) >= 25
    for f in fields:
        other = dataclasses.replace(PARAMS, **{f.name: _changed(getattr(PARAMS, f.name))})
        assert _cache_key(monkeypatch, span, other) != base, f.name


def test_the_modules_read_their_tunables_from_the_declaration():
    """No second copy of a value: the module constants are the declared ones."""
    from pipeline.faces import revisit, scan, tracking, turns
    from pipeline.faces.detectors import centerface, tiling

    assert (scan.DETECT_MIN_PX, scan.FINE_TILE_PIXELS, scan.MAX_DETECT_PIXELS) == \
        (PARAMS.detect_min_px, PARAMS.fine_tile_pixels, PARAMS.max_detect_pixels)
    assert (revisit.REVISIT_EVERY, revisit.REACH, revisit.HYSTERESIS) == \
        (PARAMS.revisit_every, PARAMS.reach, PARAMS.hysteresis)
    assert not [n for n in vars(turns) if n.isupper() and n not in ("TURNS", "PARAMS")]   # turns.py reads PARAMS itself
    assert (tiling.TILE, tiling.OVERLAP, centerface.TILT_SLACK) == (PARAMS.tile, PARAMS.overlap, PARAMS.tilt_slack)
    assert (tracking.MATCH_DISTANCE, tracking.SIZE_RATIO) == (PARAMS.match_distance, PARAMS.size_ratio)
    from pipeline.faces import camera, linking

    assert (linking.MAX_SPEED, camera.MOST, camera.SEEDS) == (PARAMS.max_speed, PARAMS.camera_most, PARAMS.camera_seeds)
    from pipeline.faces import motion

    assert (motion.WIDTH, motion.CORNERS, motion.MIN_POINTS, motion.AGREE, motion.MAX_TURN, motion.MAX_ZOOM) == \
        (PARAMS.motion_width, PARAMS.motion_corners, PARAMS.motion_points, PARAMS.motion_agree, PARAMS.motion_max_turn, PARAMS.camera_max_zoom)
