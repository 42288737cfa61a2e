"""Issue 14: ``follow`` never loses the person it follows. Planning-level checks on the synthetic
cases of ``benchmarks/bench_reframe.py`` (fast, no video), and one render checked to the pixel."""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks import bench_reframe as bench
from pipeline.analyse import _resolve_overrides, reframe_clip
from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import ffmpeg_exe
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.reframe import follow
from pipeline.reframe.follow import FollowPlan, FollowReframer
from pipeline.source.config import ReframeSpan, Settings, load_settings
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe

CASES = bench.cases()


# -- planning level ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CASES))
def test_planned_window_contains_the_main_face(name):
    case = CASES[name]
    sc = bench.score_case(bench.plan_case(case), case["truth"])
    assert sc["whole"] >= 0.99, sc
    assert sc["cuts"] <= case["fast"], sc                          # at most one cut per fast move
    assert sc["step_free"] <= 0.01, sc                             # smooth outside repaired stretches


def test_fast_crossing_is_repaired_by_speed_then_cut_and_recorded():
    slow, fast = bench.plan_case(CASES["cross 1 s"]), bench.plan_case(CASES["cross 0.6 s"])
    kinds = lambda r: {k for s in r.plan.segments for _, _, k in s.repairs}
    assert kinds(slow) == {"speed"} and kinds(fast) == {"speed", "cut"}
    seg = fast.plan.segments[0]
    assert len(seg.cuts) == 1 and seg.repair_at(seg.cuts[0]) == ["speed", "cut"]
    # the repairs are part of the cached plan
    again = FollowPlan.from_dict(fast.plan.to_dict())
    assert again.segments[0].repairs == seg.repairs and again.segments[0].cuts == seg.cuts


def test_path_starts_moving_before_the_subject_does():
    """Planned on the whole shot: the 1 s crossing starts at frame 30; the window is already moving."""
    r = bench.plan_case(CASES["cross 1 s"])
    xs = np.array([r.x_at(i) for i in range(91)])
    assert xs[30] - xs[20] > 0.01 * bench.W


def test_one_detection_jump_causes_no_repair():
    r = bench.plan_case(CASES["one-detection jump"])
    assert [s.mode for s in r.plan.segments] == ["still"] and not r.plan.segments[0].repairs


def test_two_people_who_separate_are_stacked_only_once_apart():
    r = bench.plan_case(CASES["two separate"])
    modes = [s.mode for s in r.plan.segments]
    assert modes[0] in ("still", "pan") and modes[-1] == "stack"
    assert r.plan.segments[-1].repairs == ((r.plan.segments[-1].start, r.plan.segments[-1].end, "stack"),)


def test_headroom_in_a_window_shorter_than_the_frame():
    """A tall portrait source (1080x2340): the 1080x1920 window puts the face near its upper third."""
    n = 60
    face = np.tile([0.4, 0.37, 0.6, 0.47], (n, 1))                 # face centre 42 % down the frame
    r = bench.plan_case({"truth": [face]}, size=(1080, 2340))
    y = r.y_at(30)
    assert abs((0.42 * 2340 - y) / r.ch - 1 / 3) < 0.02 and y != r.y, (y, r.y, r.ch)
    src = r.placements(30)[0].src
    assert src[1] <= 0.37 and src[3] >= 0.47                       # the face is whole vertically


def test_pinned_track_is_the_main_face():
    n = 90
    big = np.tile([0.1, 0.3, 0.2, 0.6], (n, 1))                    # largest face, at the left
    small = np.tile([0.75, 0.35, 0.82, 0.55], (n, 1))              # smaller one at the right
    tracks = bench.tracks_of([big, small])
    sec = follow.Section(0, n, 1, "follow", (0.5, 0.5), True, "t1")
    seg = follow.plan_section(sec, tracks, None, (1920, 1080))[-1]
    r = FollowReframer((1920, 1080), plan=FollowPlan((1920, 1080), follow.window((1920, 1080)), [seg]))
    src = r.placements(45)[0].src
    assert src[0] <= 0.75 and src[2] >= 0.82                       # the pinned person is in frame


def test_reframe_spans_track_is_parsed_and_checked(tmp_path):
    ep = tmp_path / "ep"
    ep.mkdir()
    (ep / "1.mp4").write_bytes(b"")
    (ep / "episode.toml").write_text('[[reframe_spans]]\nclip = "1.mp4"\nshot = 1\ntrack = "t2"\n')
    span = load_settings(ep).reframe_spans[0]
    assert span.track == "t2" and span.effective_strategy == "follow"

    class Shots:
        def ranges(self):
            return [(0, 30)]

    class Span:
        path, start, frame_count = ep / "1.mp4", 0.0, 30

    tracks = bench.tracks_of([np.tile([0.1, 0.3, 0.2, 0.6], (30, 1))] * 2)
    with pytest.raises(CadreError) as err:
        _resolve_overrides(Span(), [span], Shots(), tracks)
    msg = str(err.value)
    assert "track = 't2'" in msg and "t0, t1" in msg and "\n" not in msg
    ok = ReframeSpan("1.mp4", 0.0, None, 1, None, None, "t1")
    assert _resolve_overrides(Span(), [ok], Shots(), tracks) == [(0, 30, "follow", None, "t1")]
    (ep / "episode.toml").write_text('[[reframe_spans]]\nclip = "1.mp4"\nstrategy = "fit"\ntrack = "t2"\n')
    with pytest.raises(CadreError, match="only works with strategy"):
        load_settings(ep)


# -- one render, checked to the pixel ------------------------------------------------------------
W, H, FACE, TOP = 1280, 720, 200, 220


def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.resize(data.astronaut(), (FACE, FACE), interpolation=cv2.INTER_AREA)


def _xs() -> list[int]:
    """1 s still at the left, a 1 s run to the right edge (31 px a frame), 1 s still."""
    return [40] * 30 + [int(round(40 + (W - FACE - 80) * i / 29)) for i in range(30)] + [W - FACE - 40] * 30


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("runner") / "ep" / "1.mp4"
    path.parent.mkdir(parents=True)
    proc = subprocess.Popen([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                             "-s", f"{W}x{H}", "-r", "30", "-i", "-", "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000",
                             "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
                             "-c:a", "aac", str(path)], stdin=subprocess.PIPE)
    face = _astronaut()
    bg = np.full((H, W, 3), 70, np.uint8)
    bg[:, ::64] = 160
    for x in _xs():
        frame = bg.copy()
        frame[TOP:TOP + FACE, x:x + FACE] = face
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


@pytest.mark.slow
def test_render_shows_the_whole_face_of_a_fast_runner(runner, tmp_path):
    """Masking off: on every third published frame, the true face box maps inside the 1080x1920
    frame, and the pixels there are the face."""
    out = tmp_path / "exports"
    render_episode(runner.parent, RenderOptions(networks=("tiktok",), out_dir=out, reframe="follow",
                                                redact="none", caption_style="none"))
    span = ClipSpan(runner, probe(runner))
    reframer = reframe_clip(span, Settings(reframe="follow"))
    assert any(s.repairs for s in reframer.plan.segments)          # it needed a repair ...
    face, xs = _astronaut().astype(int), _xs()
    master = out / "ep" / "tiktok" / "ep.mp4"
    frames = list(read_frames(ClipSpan(master, probe(master)), width=1080, every=3))
    assert len(frames) == 30
    for i, frame in frames:
        box = (xs[i] / W, TOP / H, (xs[i] + FACE) / W, (TOP + FACE) / H)
        p = [p for p in reframer.placements(i) if not p.holes][0]      # the sharp picture
        x0, y0, x1, y1 = p.map_box(box)
        assert x0 >= 0 and x1 <= 1080 and y0 >= 0 and y1 <= 1920, (i, x0, x1)     # ... and got it
        shown = cv2.resize(frame[int(round(y0)):int(round(y1)), int(round(x0)):int(round(x1))], (FACE, FACE),
                           interpolation=cv2.INTER_AREA).astype(int)
        assert np.abs(shown - face).mean() < 12, (i, np.abs(shown - face).mean())
