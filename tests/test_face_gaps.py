"""A face that leaves the frame and comes back is masked on the frames it was not found.

A gap of :data:`unseen.GAP` or more analysed frames between two keyframes of a track is an end
followed by a start (``pipeline/faces/unseen.py``): the box after the gap is carried back along the
camera's motion, the box before it carried forward, on top of the straight interpolation, which
put the mask of a face re-entering a fast zoom 200 px beside it.
"""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.faces import tracking
from pipeline.faces.detectors.base import Detection
from pipeline.faces.tracking import FaceTracks, Track, link
from pipeline.faces.unseen import GAP, gaps

SIZE = (0.06, 0.1)                       # a face's width and height, share of the frame
SPOTS = [(0.1, 0.2), (0.3, 0.6), (0.45, 0.25), (0.6, 0.55), (0.85, 0.3)]   # left edges and tops at rest


def _shift(f: int) -> float:
    """The camera pans: the scene moves right 0.02 a frame for 9 frames, stays, then comes back
    0.06 a frame (a face width) from frame 16: the face at the right leaves and re-enters."""
    if f <= 9:
        return 0.02 * f
    if f <= 15:
        return 0.18
    return max(0.18 - 0.06 * (f - 15), 0.0)


def _true(f: int, k: int) -> tuple[float, float, float, float]:
    x, y = SPOTS[k]
    return (x + _shift(f), y, x + _shift(f) + SIZE[0], y + SIZE[1])


def _seen(box) -> bool:
    """The detector finds a face 90 % inside the frame (half faces are missed)."""
    return (min(box[2], 1.0) - max(box[0], 0.0)) >= 0.9 * (box[2] - box[0])


def _panning(frames=range(30)) -> dict[int, list[Detection]]:
    return {f: [Detection(*_true(f, k), 0.9) for k in range(len(SPOTS)) if _seen(_true(f, k))] for f in frames}


def _covers(boxes, face) -> bool:
    """Every point of ``face`` inside the frame lies in one of ``boxes``."""
    inner = (max(face[0], 0.0), max(face[1], 0.0), min(face[2], 1.0), min(face[3], 1.0))
    return any(b[0] <= inner[0] and b[1] <= inner[1] and b[2] >= inner[2] and b[3] >= inner[3] for b in boxes)


def test_a_face_re_entering_a_pan_is_masked_where_it_is(monkeypatch):
    dets = _panning()
    ft = FaceTracks("a.mp4", 0.0, 30, link(dets, max_gap=18), 1.3, 10)
    right = [t for t in ft.tracks if t.boxes[0][0] > 0.8]
    assert len(right) == 1 and len(right[0].frames) < 30            # one track across the gap
    (t,) = right
    assert gaps(t.frames, 1) and t.carry_gaps
    for f in range(30):
        for k in range(len(SPOTS)):
            face = _true(f, k)
            if face[0] < 1.0:
                assert _covers(ft.boxes_at(f), face), (f, k)
    # the straight interpolation alone (what a gap had before) left the re-entry frame uncovered;
    # the camera's path through the gap (the face is still on both sides) covers it on its own
    monkeypatch.setattr(tracking, "across_gaps", lambda *args: [])
    ft._chunks.clear()
    assert _covers(ft.boxes_at(16), _true(16, 4))
    monkeypatch.setattr(tracking, "gap_path", lambda *args: [])
    ft._chunks.clear()
    assert not _covers(ft.boxes_at(16), _true(16, 4))


def test_keyframes_every_few_analysed_frames_are_no_gap():
    assert gaps([0, 2, 4, 6], 2) == []                       # detect_every 2: every analysed frame
    assert gaps([0, 2, 4, 6], 1) == []                       # one frame missed at a time (small faces' looks)
    assert gaps([0, GAP, 2 * GAP + 1], 1) == [1]             # GAP frames looked at and missed
    assert gaps([0, 2 * GAP, 4 * GAP + 2], 2) == [1]


def _gap_track(carry=True) -> Track:
    """Keyframes 0-10 at rest, then the face is lost until frame 30, found 0.2 to the right of where
    it was; the camera's rows say it came back from the right, 0.02 a frame."""
    box = [0.4, 0.4, 0.46, 0.5]
    after = [0.6, 0.4, 0.66, 0.5]
    frames = list(range(11)) + list(range(30, 36))
    boxes = [box] * 11 + [after] * 6
    rows = [[30, f, 1.0, 0.02 * (30 - f), 0.0] for f in range(20, 30)] if carry else []
    return Track("t", frames, boxes, [0.9] * len(frames), carry_gaps=rows)


def _came_back(f: int) -> tuple[float, float, float, float]:
    return (0.6 + 0.02 * (30 - f), 0.4, 0.66 + 0.02 * (30 - f), 0.5)


def test_the_box_after_a_gap_is_carried_back_up_to_extend_frames_and_not_across_a_cut():
    ft = FaceTracks("a.mp4", 0.0, 40, [_gap_track()], 1.3, 5)
    for f in range(25, 30):                                   # within extend (5) of the keyframe at 30
        assert _covers(ft.boxes_at(f), _came_back(f)), f
    assert not _covers(ft.boxes_at(24), _came_back(24))       # beyond extend: only the interpolation
    cut = FaceTracks("a.mp4", 0.0, 40, [_gap_track()], 1.3, 5,
                     analysis={"detect_every": 1, "turns": {"cut_frames": [28]}})
    assert _covers(cut.boxes_at(28), _came_back(28))
    assert not _covers(cut.boxes_at(27), _came_back(27))      # the shot before the cut keeps its own boxes
    plain = FaceTracks("a.mp4", 0.0, 40, [_gap_track(carry=False)], 1.3, 5)
    assert not _covers(plain.boxes_at(27), _came_back(27))


def test_gap_rows_are_stored_and_old_analyses_still_load():
    t = _gap_track()
    back = Track.from_dict(t.to_dict())
    assert back.carry_gaps == [[r[0], r[1], *(round(v, 6) for v in r[2:])] for r in t.carry_gaps]
    old = t.to_dict()
    del old["carry_gaps"]
    assert Track.from_dict(old).carry_gaps == []
    assert "carry_gaps" not in _gap_track(carry=False).to_dict()


def _panzoom_window(path, frames: list[int]):
    """The benchmark's labelled pan-and-zoom (its 2 s camera path) filmed on ``frames`` only: a
    fast zoom-out takes a face 112 px tall out at the right edge for 9 frames; it comes back half
    visible on the 20th frame of the window (frame 49 of the path), too cut to be detected."""
    from benchmarks import labelled

    img, boxes = labelled.world(labelled.load_truth())

    def move(i):
        cx, cy, height = labelled.camera(frames[i] / labelled.FPS, 2.0)
        return labelled.H / height, cx, cy
    return labelled._encode_camera(img, boxes, path, len(frames), move, "pan-and-zoom window",
                                   borderValue=(120, 120, 120))


@pytest.mark.slow
@pytest.mark.parametrize("order", ["re-enters", "leaves"])
def test_a_real_face_leaving_and_re_entering_a_fast_zoom_is_masked(order, shared_media, tmp_path, monkeypatch):
    """Real photos, encoded, analysed by CenterFace: every labelled face at least half in the
    frame is wholly masked on every frame, the frame the face re-enters on (``re-enters``; the
    same frames backwards: the frame it leaves on, ``leaves``) included. The straight
    interpolation between the keyframes around the gap masked it 200 px beside itself."""
    from benchmarks.labelled import covered, px
    from pipeline.faces.analysis import analyse_faces
    from pipeline.faces.masking import coverage
    from pipeline.faces.settings import load_settings
    from pipeline.source.normalize import ClipSpan
    from pipeline.source.probe import probe

    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    frames = list(range(30, 60)) if order == "re-enters" else list(range(59, 29, -1))
    path = tmp_path / "window.mp4"
    truth = _panzoom_window(path, frames)
    lost = frames.index(49)
    face = truth[lost][np.argmin(np.abs(truth[lost][:, 0] - 1864))]
    assert 1850 < face[0] < 1920 < face[2] and face[3] - face[1] > 100       # half in, at the right edge
    settings = load_settings("mosaic")
    tracks = analyse_faces(ClipSpan(path, probe(path)), settings)
    masked = [coverage((1080, 1920), px(tracks.boxes_at(i), 1920, 1080), settings) for i in range(len(frames))]
    assert [(frames[i], [round(v) for v in b]) for i, boxes in enumerate(truth) for b in boxes
            if covered(masked[i], b) is False] == []
