"""Masks no larger than a face needs, every face still covered (issue 29: the masked area over the
labelled face area, ``python -m benchmarks masking``).

Beyond a track's ends: a face of 0.2 x 0.24 of the frame walks right at 0.02 of the frame a frame
(a tenth of its width) and is lost after frame 29 (it turns away, say); ten frames later it is one
face width further on. Between sightings: tiny neighbours swapped. Joins: neighbours stay apart.
"""
from __future__ import annotations

import numpy as np

from pipeline.faces.linking import Track
from pipeline.faces.tracking import (
    GROWTH,
    HOLD_BELOW,
    MIN_ASPECT,
    FaceTracks,
    joined,
    track_boxes,
)

PAD, EXTEND = 1.5, 15


def _walker(height: float, speed: float, frames=range(30)) -> Track:
    w = height / MIN_ASPECT
    boxes = [[0.1 + speed * f, 0.4, 0.1 + speed * f + w, 0.4 + height] for f in frames]
    return Track("t", list(frames), boxes, [0.9] * len(boxes))


def _at(track: Track, frame: int) -> np.ndarray:
    frames, boxes = track_boxes(track, PAD, EXTEND, 100)
    return boxes[frames == frame]


def _holds(outer, inner) -> bool:
    return bool(outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3])


def test_a_lost_face_is_masked_where_it_walks_on():
    t = _walker(0.24, 0.02)
    for f in range(30, 30 + EXTEND):
        true = [0.1 + 0.02 * f, 0.4, 0.1 + 0.02 * f + 0.2, 0.64]
        assert any(_holds(b, true) for b in _at(t, f)), f


def test_a_lost_face_is_not_masked_all_the_way_back_to_its_last_sighting():
    """Before: the held end box and the moved box joined, 2x the face's padded width after ten
    frames (a face leaving a zooming frame was masked by a band 2000 px wide)."""
    t = _walker(0.24, 0.02)
    (box,) = _at(t, 39)
    padded = 0.2 * PAD * (1 + GROWTH * 10)
    assert box[2] - box[0] <= padded * 1.01, (box[2] - box[0], padded)
    assert box[0] > t.boxes[-1][0], "the box stayed on the spot where the face was last seen"


def test_a_small_face_is_also_held_where_it_was_last_seen():
    """A face a few detector pixels tall moves by noise: its end box is held as well as moved."""
    h = HOLD_BELOW * 0.6
    t = _walker(h, 0.002)
    end = t.boxes[-1]
    for f in range(30, 30 + EXTEND):
        (box,) = _at(t, f)
        assert _holds(box, end), f
        moved = [end[0] + 0.002 * (f - 29), end[1], end[2] + 0.002 * (f - 29), end[3]]
        assert _holds(box, moved), f


def test_a_face_faster_than_its_track_is_also_held_where_it_was_last_seen():
    """A whip pan: the face moved half its width a frame, faster than a track follows (its speed
    is capped); where it stops is unknown, so the mask spans from its last sighting on."""
    t = _walker(0.24, 0.1)
    end = t.boxes[-1]
    for f in range(30, 30 + EXTEND):
        (box,) = _at(t, f)
        assert _holds(box, end), f


def test_before_the_first_sighting_too():
    t = _walker(0.24, 0.02, range(20, 50))
    for f in range(5, 20):
        true = [0.1 + 0.02 * f, 0.4, 0.1 + 0.02 * f + 0.2, 0.64]
        (box,) = _at(t, f)
        assert _holds(box, true), f
    (box,) = _at(t, 10)
    assert box[2] < t.boxes[0][2] + 0.01, "the box reached back to where the face was first seen"


def test_two_tiny_neighbours_swapped_between_sightings_stay_covered():
    """Faces 12 px tall side by side: the tracks took each other's face between two sightings 8
    frames apart. Before, each track slid across the gap between them, covering neither face
    halfway (a swap moving a face about its own size went unnoticed: under ``JUMP`` a frame)."""
    h = 0.012
    w = h / MIN_ASPECT
    x, y = (0.5, 0.5 + 1.25 * w), 0.4
    face = [(x0, y, x0 + w, y + h) for x0 in x]
    a = Track("a", [0, 8], [list(face[0]), list(face[1])], [0.6, 0.6])
    b = Track("b", [0, 8], [list(face[1]), list(face[0])], [0.6, 0.6])
    ft = FaceTracks("c.mp4", 0.0, 9, [a, b], PAD, 0)
    for f in range(9):
        boxes = ft.boxes_at(f)
        for fb in face:
            assert any(_holds(bx, fb) for bx in boxes), (f, fb, boxes)


def test_neighbours_whose_margins_touch_keep_their_own_masks():
    """Two faces side by side whose padded boxes share a strip of their margins are masked as two
    boxes, not as the box around both (before: a group photo became one box, and the join of
    every pair of neighbours took 2 of the 12x masked area on the labelled pan-and-zoom clip)."""
    left, right = (0.30, 0.40, 0.40, 0.52), (0.38, 0.44, 0.48, 0.56)
    assert sorted(joined([left, right])) == sorted([left, right])
    twice = [(0.30, 0.40, 0.40, 0.52), (0.31, 0.41, 0.41, 0.53)]      # one face found by two tracks
    assert joined(twice) == [(0.30, 0.40, 0.41, 0.53)]


def test_overlapping_masks_are_one_mosaic_on_one_grid():
    """Two neighbours' masks that overlap but are not joined: one mosaic over both shapes (each grid
    cell one colour), not a second mosaic cutting the first one's cells into finer ones."""
    from pipeline.faces.masking import coverage, mask_frame
    from pipeline.faces.settings import load_settings

    frame = np.random.default_rng(3).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    boxes = [(20.0, 20.0, 90.0, 100.0), (70.0, 40.0, 150.0, 120.0)]
    settings = load_settings("mosaic")
    mask_frame(frame, boxes, settings)
    cover = coverage(frame.shape, boxes, settings)
    assert cover.sum() == 70 * 80 + 80 * 80 - 20 * 60           # the two boxes, not the box around them
    cell = int(np.ceil(80 / settings.mosaic_blocks))
    for y in range(20, 120, cell):
        for x in range(20, 150, cell):
            inside = cover[y:y + cell, x:x + cell]
            if inside.any():
                colours = np.unique(frame[y:y + cell, x:x + cell][inside], axis=0)
                assert len(colours) == 1, (x, y, len(colours))


def _panned(steps: dict) -> FaceTracks:
    """A face 0.1 x 0.12 of the frame carried right by 0.03 of the frame a frame (a fast pan: past
    a track's speed cap) from frame 0 to 24, then lost; the camera's motion read from the pixels
    is ``steps`` (frame -> its step from the frame before)."""
    from pipeline.faces.detectors.base import Detection
    from pipeline.faces.linking import link

    dets = {f: [Detection(0.05 + 0.03 * f, 0.4, 0.15 + 0.03 * f, 0.52, 0.9)] if f < 25 else [] for f in range(60)}
    return FaceTracks("p.mp4", 0.0, 60, link(dets, max_gap=18, steps=steps), PAD, EXTEND)


def test_a_still_face_a_fast_pan_carries_is_followed_not_held():
    """The pixels say the camera panned as fast as the face moved: a still face. Its mask follows
    it (along the camera's motion, out of the picture) instead of also staying where it was last
    seen (held, it masked a band across the frame: the whole frame in the labelled crash zoom)."""
    ft = _panned({f: (1.0, 0.03, 0.0) for f in range(1, 60)})
    (track,) = ft.tracks
    assert track.last == 24 and track.still == [0, 24]
    end = track.boxes[-1]
    for f in range(25, 25 + EXTEND):
        true = [end[0] + 0.03 * (f - 24), end[1], end[2] + 0.03 * (f - 24), end[3]]
        assert any(_holds(b, true) for b in ft.boxes_at(f)) or true[0] >= 1, f
        assert f < 27 or not any(_holds(b, end) for b in ft.boxes_at(f)), f


def test_a_runner_past_a_still_camera_is_still_held():
    """The same motion with the camera still (the pixels say so): a runner, who may stop anywhere
    after his last sighting, so the mask spans from there on, as before."""
    ft = _panned({f: (1.0, 0.0, 0.0) for f in range(1, 60)})
    (track,) = ft.tracks
    assert track.still == []
    for f in range(25, 25 + EXTEND):
        assert any(_holds(b, track.boxes[-1]) for b in ft.boxes_at(f)), f


def test_without_the_camera_s_motion_a_fast_face_is_still_held():
    """A blur: no step is known, so the fast face is held as before."""
    ft = _panned({f: None for f in range(1, 60)})
    (track,) = ft.tracks
    assert track.still == []
    for f in range(25, 25 + EXTEND):
        assert any(_holds(b, track.boxes[-1]) for b in ft.boxes_at(f)), f


def _camera(f: int) -> tuple[float, float]:
    """Where the camera carried the scene by frame ``f``: up 0.05 a frame for 10 frames, left 0.05 a
    frame for 6, then down 0.05 a frame: faces near the top leave it and come back 0.3 further left."""
    up, left = min(f, 10), min(max(f - 10, 0), 6)
    down = max(f - 16, 0)
    return -0.05 * left, -0.05 * up + 0.05 * down


def test_a_still_face_the_camera_carries_out_and_back_is_masked_along_the_camera_s_path(monkeypatch):
    """Four still faces the pan carries out of the picture at the top and back in further left,
    each linked across the gap: between its two sightings its mask follows the camera out of the
    picture (every frame it is in the picture covered), instead of the straight line between the
    two sightings, which runs along the top of the frame where no face is."""
    from pipeline.faces.detectors.base import Detection
    from pipeline.faces.linking import link
    from pipeline.faces.masking import coverage
    from pipeline.faces.settings import load_settings

    xs = (0.45, 0.6, 0.75, 0.9)

    def true(f, x):
        dx, dy = _camera(f)
        return (x + dx, 0.3 + dy, x + dx + 0.08, 0.3 + dy + 0.1)

    def seen(b):
        return (min(b[3], 1) - max(b[1], 0)) >= 0.9 * (b[3] - b[1]) and (min(b[2], 1) - max(b[0], 0)) >= 0.9 * (b[2] - b[0])

    dets = {f: [Detection(*true(f, x), 0.9) for x in xs if seen(true(f, x))] for f in range(30)}
    steps = {f: (1.0, *(np.subtract(_camera(f), _camera(f - 1)))) for f in range(1, 30)}
    ft = FaceTracks("u.mp4", 0.0, 30, link(dets, max_gap=18, steps=steps), PAD, EXTEND)
    assert len(ft.tracks) == len(xs) and all(len(t.frames) < 30 for t in ft.tracks)    # one track each, across
    settings = load_settings("mosaic")
    for f in range(30):
        for x in xs:
            b = true(f, x)
            if b[1] >= 0 and b[3] <= 1 and b[0] >= 0 and b[2] <= 1:
                assert any(_holds(m, b) for m in ft.boxes_at(f)), (f, x)
    cover = coverage((1000, 1000), [[v * 1000 for v in b] for b in ft.boxes_at(13)], settings)
    assert cover.sum() == 0, "a mask was drawn in the picture while every face was out of it"
    import pipeline.faces.tracking as tracking

    monkeypatch.setattr(tracking, "gap_path", lambda *args: [])
    straight = FaceTracks("u.mp4", 0.0, 30, ft.tracks, PAD, EXTEND)
    lined = coverage((1000, 1000), [[v * 1000 for v in b] for b in straight.boxes_at(13)], settings)
    assert lined.sum() > 0, "the straight line between the sightings runs through the picture"
