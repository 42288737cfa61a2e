"""Follow holds a fast subject through a run of missed detections (issue 29): the window predicts
the face from its speed at both ends of the gap and keeps it whole on every frame.

Planning level, no video: a face moved on a known path (a jogger going there and back, faster
than the window may pan), detected on every frame but for a 0.4 s burst of misses placed where the
jogger turns, speeds up or slows down; the tracks are linked by Cadre's own tracker and planned as
the render plans them; every frame's window box (the plan's placements, which the crop expression
and the masks share) must hold the exact box."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.faces.detectors.base import Detection
from pipeline.faces.tracking import link
from pipeline.reframe import follow
from pipeline.reframe.follow import FollowReframer

W, H, FPS = 1920, 1080, 30
N = 4 * FPS
BURST = int(0.5 * FPS)          # 0.4 s of misses and the odd miss each side of it


def _jogger(period: float = 2.0, reach: float = 0.3) -> np.ndarray:
    """(frames, 4) boxes of a face jogging there and back, up to 0.94 of the frame width a second
    (the window pans 0.24 a second unrepaired, 0.9 repaired)."""
    t = np.arange(N) / FPS
    cx = 0.5 + reach * np.sin(2 * np.pi * t / period)
    w = 0.2 * 0.8 * H / W                      # 20 % of the frame tall, 4:5 wide
    return np.stack([cx - w / 2, np.full(N, 0.32), cx + w / 2, np.full(N, 0.52)], axis=1)


def _bystander() -> Detection:
    return Detection(0.92, 0.27, 0.94, 0.33, 0.9)


def _plan(truth: np.ndarray, missed: set[int]) -> FollowReframer:
    dets = {i: ([] if i in missed else [Detection(*truth[i], 0.9)]) + [_bystander()] for i in range(N)}
    tracks = link(dets, 10)
    sections = follow.sections([(0, N)], N, "follow", (0.5, 0.5), [])
    return FollowReframer((W, H), plan=follow.plan_clip(sections, tracks, None, (W, H)))


def _outside(reframer: FollowReframer, truth: np.ndarray) -> list[int]:
    out = []
    for i, box in enumerate(truth):
        windows = [p.src for p in reframer.placements(i) if not p.holes]
        if not any(box[0] >= s[0] - 1e-9 and box[2] <= s[2] + 1e-9 for s in windows):
            out.append(i)
    return out


@pytest.mark.parametrize("start", range(4, 100, 6))
def test_a_jogger_stays_whole_through_a_burst_of_missed_detections(start):
    """The burst starts at ``start``: on the way out, at a turn, on the way back, cutting a short
    piece off the track at the clip's start or end. Before the window predicted the face through
    the gap, 14 of these 16 bursts left it cut, on 5 to 25 frames each."""
    truth = _jogger()
    reframer = _plan(truth, set(range(start, start + BURST)))
    assert reframer.plan.segments[0].mode == "pan"
    assert _outside(reframer, truth) == []


def test_without_misses_the_jogger_is_whole_and_the_prediction_changes_nothing():
    truth = _jogger()
    reframer = _plan(truth, set())
    assert _outside(reframer, truth) == []
    assert not {k for s in reframer.plan.segments for _, _, k in s.repairs} - {"speed"}


def test_a_still_face_through_a_burst_keeps_a_still_window():
    """Nothing moved across the gap: no prediction to follow, the window stays still."""
    still = np.tile([0.4, 0.32, 0.46, 0.52], (N, 1))
    reframer = _plan(still, set(range(40, 40 + BURST)))
    assert [s.mode for s in reframer.plan.segments] == ["still"]
    assert _outside(reframer, still) == []
