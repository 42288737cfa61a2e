"""Issue 14: ``follow.motion_centre``, the framing cue of a shot in which no face is used, on real
footage (``../shared/media/videos/facenet_pytorch_video.mp4``: pedestrians walking towards the
camera). Two checks: against a reference computed another way (dense optical flow instead of frame
differencing), and on composites where the real footage fills one side of a still frame, so where
the motion is is known."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.core.ffmpeg import run
from pipeline.reframe import follow
from pipeline.reframe.follow import FollowReframer
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe
from pipeline.source.shots import detect_shots

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "media" / "videos" / "facenet_pytorch_video.mp4"
pytestmark = pytest.mark.skipif(not VIDEO.is_file(), reason=f"{VIDEO} (real footage from the shared media) is absent")


def _span(path: Path) -> ClipSpan:
    return ClipSpan(path, probe(path))


def _flow_median_x(span: ClipSpan, width: int = 320) -> float:
    """Where the picture moves, computed differently: Farneback optical flow magnitude, summed per
    column over the clip; the column that splits it in half (fraction of the width)."""
    acc, prev = np.zeros(0), None
    for _, rgb in read_frames(span, width=width):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if prev is not None:
            flow = cv2.calcOpticalFlowFarneback(prev, gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
            cols = np.hypot(flow[..., 0], flow[..., 1]).sum(axis=0)
            acc = cols if acc.size == 0 else acc + cols
        prev = gray
    cum = np.cumsum(acc)
    return (int(np.searchsorted(cum, cum[-1] / 2)) + 0.5) / acc.size


def _faceless_plan(span: ClipSpan) -> FollowReframer:
    """``follow`` for the clip with its faces not used: the motion cue places the window."""
    size = (span.info.width, span.info.height)
    shots = detect_shots(span)
    sections = follow.sections(shots.ranges(), span.frame_count, "follow", (0.5, 0.5), [])
    return FollowReframer(size, plan=follow.plan_clip(sections, [], shots, size))


def test_motion_centre_agrees_with_optical_flow_on_real_footage():
    span = _span(VIDEO)
    shots = detect_shots(span)
    centre = follow.motion_centre(shots, 0, span.frame_count)
    assert centre is not None, "the pedestrians' motion is local: a cue is expected"
    reference = _flow_median_x(span)
    assert abs(centre - reference) < 0.08, (centre, reference)
    r = _faceless_plan(span)
    seg = r.plan.segments[0]
    assert seg.source == "motion" and seg.mode == "still"
    src = r.placements(0)[0].src
    assert src[0] < reference < src[2]                             # the window is where things move


@pytest.fixture(scope="module", params=["left", "right"])
def inset(request, tmp_path_factory) -> tuple[Path, float]:
    """4 s at 1280x720: a still grey frame with the real footage, scaled to 640x360, on one side."""
    x = 40 if request.param == "left" else 1280 - 640 - 40
    path = tmp_path_factory.mktemp("inset") / f"{request.param}.mp4"
    run(["-f", "lavfi", "-i", "color=c=0x505050:s=1280x720:r=30:d=4", "-i", str(VIDEO), "-filter_complex",
         f"[1:v]fps=30,scale=640:360,setsar=1[v];[0:v][v]overlay={x}:180:shortest=1,format=yuv420p",
         "-an", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", str(path)], source=path, what="fixture")
    return path, (x + 320) / 1280


def test_the_faceless_window_goes_where_the_real_motion_is(inset):
    path, middle = inset
    span = _span(path)
    centre = follow.motion_centre(detect_shots(span), 0, span.frame_count)
    assert centre is not None and abs(centre - middle) < 0.1, (centre, middle)
    r = _faceless_plan(span)
    assert [s.source for s in r.plan.segments] == ["motion"]
    src = r.placements(30)[0].src
    assert src[0] < middle < src[2], (src, middle)                 # the window is over the moving footage
