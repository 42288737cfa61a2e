"""``follow`` and ``auto`` reframing: real ffmpeg, real CenterFace, decoded output frames."""
from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.analyse import reframe_clip
from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import ffmpeg_exe
from pipeline.faces.detectors import get_detector
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.reframe import follow
from pipeline.reframe import path as rpath
from pipeline.reframe import subjects as rsubjects
from pipeline.reframe.follow import FollowReframer
from pipeline.reframe.path import Piece
from pipeline.reframe.subjects import Subjects
from pipeline.source.config import ReframeSpan, Settings, load_settings
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe

W, H = 1280, 720
FACE = 300           # the astronaut image, scaled to 300x300; CenterFace finds her face in it


def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.resize(data.astronaut(), (FACE, FACE), interpolation=cv2.INTER_AREA)


def _background(colour, stripes) -> np.ndarray:
    bg = np.empty((H, W, 3), np.uint8)
    bg[:] = colour
    bg[:, ::stripes] = 160
    return bg


def write_clip(path: Path, xs: list[int], backgrounds: list[np.ndarray]) -> Path:
    """One frame per entry of ``xs``: the astronaut at left edge ``x`` over its background, 30 fps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                             "-s", f"{W}x{H}", "-r", "30", "-i", "-", "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000",
                             "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p",
                             "-c:a", "aac", str(path)], stdin=subprocess.PIPE)
    face = _astronaut()
    for x, bg in zip(xs, backgrounds):
        frame = bg.copy()
        if x is not None:
            frame[200:200 + FACE, x:x + FACE] = face
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


@pytest.fixture(scope="module")
def moving(tmp_path_factory) -> Path:
    """5 s: the astronaut crosses the 16:9 frame from the left edge to the right edge."""
    n = 150
    xs = [int(round(20 + (W - FACE - 40) * i / (n - 1))) for i in range(n)]
    return write_clip(tmp_path_factory.mktemp("moving") / "ep" / "1.mp4", xs, [_background(70, 64)] * n)


@pytest.fixture(scope="module")
def cut(tmp_path_factory) -> Path:
    """2 s with her still at the left, a hard cut, 2 s with her still at the right."""
    a, b = _background((70, 70, 70), 64), _background((40, 60, 140), 48)
    return write_clip(tmp_path_factory.mktemp("cut") / "ep" / "1.mp4", [60] * 60 + [900] * 60, [a] * 60 + [b] * 60)


def _span(path: Path) -> ClipSpan:
    return ClipSpan(path, probe(path))


def _decode(path: Path, every: int) -> list[tuple[int, np.ndarray]]:
    return list(read_frames(ClipSpan(path, probe(path)), width=1080, every=every))


def _faces(detector, frame: np.ndarray):
    return [d for d in detector.detect(frame) if d.score > 0.5]


# -- the path ------------------------------------------------------------------------------------
def test_taut_path_stays_in_its_corridor_and_holds_when_it_can():
    n = 200
    lo = np.where(np.arange(n) < 100, 0.1, 0.5)
    hi = lo + 0.05
    x = rpath.taut(lo, hi)
    assert np.all(x >= lo - 1e-9) and np.all(x <= hi + 1e-9)
    assert np.ptp(x[:90]) < 1e-9 and np.ptp(x[110:]) < 1e-9        # still, then one straight move


def test_pan_path_speed_and_pieces_are_bounded():
    n = 300
    centre = 0.2 + 0.6 * np.arange(n) / n                            # subject crossing the frame
    lo, hi = rpath.corridor(centre - 0.03, centre + 0.03, 0.32, follow.OPT.band_pan)
    path = rpath.pan_path(lo, hi, 0.32) * 1920
    assert np.abs(np.diff(path)).max() <= rpath.OPT.max_speed * 1920 + 1e-6
    pieces = rpath.pieces(path, 1000)
    xs = np.array([next(p for p in pieces if p.n0 <= i < p.n1).at(i) for i in range(1000, 1000 + n)])
    assert np.abs(xs - path).max() <= rpath.OPT.tolerance + 1e-9
    assert np.abs(np.diff(xs)).max() <= 0.01 * 1920
    assert pieces[0].n0 == 1000 and pieces[-1].n1 == 1000 + n


def test_two_people_far_apart_are_shown_whole():
    n = 60
    x0 = np.array([[0.05] * n, [0.85] * n])
    subj = Subjects(x0, x0 + 0.08, np.full((2, n), 0.15))
    _, _, fit = rsubjects.required(subj, 0.32)
    assert fit
    # a small face in the background does not matter
    subj = Subjects(x0, x0 + np.array([[0.08], [0.02]]), np.array([[0.15] * n, [0.04] * n]))
    lo, hi, fit = rsubjects.required(subj, 0.32)
    assert not fit and hi.max() < 0.3


def test_crop_expression_matches_placements():
    plan = follow.FollowPlan((1920, 1080), (606, 1080, 0), [
        follow.PathSegment(0, 40, "pan", 1, "faces", (Piece(0, 17, 100, 33, 17), Piece(17, 40, 133, -7, 23))),
        follow.PathSegment(40, 60, "fit", 2, "faces"),
        follow.PathSegment(60, 90, "still", 3, "faces", (Piece(60, 90, 1300),))])
    r = FollowReframer((1920, 1080), plan=plan)
    assert r.x_at(0) == 100 and r.x_at(17) == 133 and r.x_at(39) == 133 + (22 * -7) // 23
    assert r.x_at(50) is None and len(r.placements(50)) == 2 and r.x_at(75) == 1300
    # ffmpeg sees the same pieces: a balanced if(lt(n,k),...) tree, offsets relative to the run
    expr = follow._tree(list(plan.segments[0].pieces), 0)
    assert expr == "if(lt(n,17),100+floor((n-0)*33/17),133+floor((n-17)*-7/23))"
    assert follow._tree(list(plan.segments[0].pieces), 10).startswith("if(lt(n,7),100+floor((n--10)*33/17)")


# -- settings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, message", [
    ('[[reframe_spans]]\nclip = "1.mp4"\nstrategy = "zoom"\n', "choose one of: fit, crop, follow"),
    ('[[reframe_spans]]\nclip = "1.mp4"\nstrategy = "fit"\nfocus = [0.2, 0.5]\n', "does nothing with strategy"),
    ('[[reframe_spans]]\nclip = "1.mp4"\nshot = 2\nstart = 1.0\n', "either shot = N or start/end"),
    ('[[reframe_spans]]\nclip = "9.mp4"\nstrategy = "fit"\n', "'9.mp4' is not a clip"),
    ('[[reframe_spans]]\nclip = "1.mp4"\n', "says nothing"),
    ('[[reframe_spans]]\nclip = "1.mp4"\nstart = 3.0\nend = 2.0\nstrategy = "fit"\n', "must be after start"),
    ('[[reframe_spans]]\nclip = "1.mp4"\nfocus = [1.5, 0.5]\n', "out of range"),
    ('reframe = "folow"\n', "choose one of: fit, crop, follow, auto"),
])
def test_reframe_spans_are_validated(tmp_path, body, message):
    ep = tmp_path / "ep"
    ep.mkdir()
    (ep / "1.mp4").write_bytes(b"")
    (ep / "episode.toml").write_text(body)
    with pytest.raises(CadreError) as err:
        load_settings(ep)
    assert message in str(err.value) and "episode.toml" in str(err.value)


def test_reframe_spans_are_episode_only(tmp_path):
    ep = tmp_path / "ep"
    ep.mkdir()
    (tmp_path / "campaign.toml").write_text('[[reframe_spans]]\nclip = "1.mp4"\nstrategy = "fit"\n')
    with pytest.raises(CadreError, match="unknown key"):
        load_settings(ep)


# -- on video ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_follow_keeps_a_moving_face_in_the_published_frames(moving, tmp_path):
    """Rendered with masking off (faces still detected to aim the window): every sampled output
    frame shows her whole face, and the picture is the source cropped where placements() says."""
    out = tmp_path / "exports"
    result = render_episode(moving.parent, RenderOptions(networks=("tiktok",), out_dir=out, reframe="follow",
                                                         redact="none", caption_style="none"))
    clip = result["plan"]["clips"][0]["reframe"]
    assert clip["strategy"] == "follow" and [s["mode"] for s in clip["shots"]] == ["pan"]
    master = out / "ep" / "tiktok" / "ep.mp4"
    detector = get_detector("centerface", 0.3)
    frames = _decode(master, every=15)
    assert len(frames) == 10
    for i, frame in frames:
        small = cv2.resize(frame, (540, 960), interpolation=cv2.INTER_AREA)
        found = _faces(detector, small)
        assert found, f"no face in output frame {i}"
        d = max(found, key=lambda d: d.score)
        assert d.x0 > 2 and d.x1 < 538, f"face cut at frame {i}: {d}"
    # the render crops exactly the placements' window (a window 16 px off matches worse)
    reframer = reframe_clip(_span(moving), Settings(reframe="follow"))
    source = dict(read_frames(_span(moving), width=W))
    steps = np.abs(np.diff([reframer.x_at(i) for i in range(150)]))
    assert steps.max() <= 0.01 * W and steps.sum() > 300            # it panned, smoothly
    for i, frame in frames[1:-1]:
        x0, _, x1, _ = reframer.placements(i)[0].src

        def err(dx):
            a, b = int(round(x0 * W)) + dx, int(round(x1 * W)) + dx
            want = cv2.resize(source[i][:, a:b], (1080, 1920), interpolation=cv2.INTER_CUBIC)
            return np.abs(want.astype(int) - frame.astype(int)).mean()

        assert err(0) < 4 and err(0) < 0.6 * min(err(-16), err(16)), (i, err(0), err(-16), err(16))


@pytest.mark.slow
def test_masks_follow_the_moving_window(moving, tmp_path):
    out = tmp_path / "exports"
    render_episode(moving.parent, RenderOptions(networks=("tiktok",), out_dir=out, reframe="follow",
                                                redact="mosaic", caption_style="none"))
    detector = get_detector("centerface", 0.3)
    for i, frame in _decode(out / "ep" / "tiktok" / "ep.mp4", every=10):
        small = cv2.resize(frame, (540, 960), interpolation=cv2.INTER_AREA)
        assert not _faces(detector, small), f"face visible in masked output frame {i}"


def test_no_pan_across_a_cut(cut, tmp_path):
    reframer = reframe_clip(_span(cut), Settings(reframe="follow"))
    shots = reframer.describe()["shots"]
    assert [s["mode"] for s in shots] == ["still", "still"] and abs(shots[1]["start"] - 60) <= 1
    c = shots[1]["start"]
    xs = [reframer.x_at(i) for i in range(120)]
    assert len(set(xs[:c])) == 1 and len(set(xs[c:])) == 1 and xs[c] - xs[0] > 500
    out = tmp_path / "exports"
    render_episode(cut.parent, RenderOptions(networks=("tiktok",), out_dir=out, reframe="follow",
                                             redact="none", caption_style="none"))
    detector = get_detector("centerface", 0.3)
    for i, frame in _decode(out / "ep" / "tiktok" / "ep.mp4", every=1):
        if i in (0, c - 1, c, 119):
            found = _faces(detector, cv2.resize(frame, (540, 960), interpolation=cv2.INTER_AREA))
            assert found and 2 < found[0].x0 and found[0].x1 < 538, f"face not whole at frame {i}"


def test_overrides_and_auto(moving, tmp_path):
    settings = Settings(reframe="auto", reframe_spans=(
        ReframeSpan("1.mp4", 1.0, 2.0, None, "fit"),
        ReframeSpan("1.mp4", 3.0, None, None, None, (0.2, 0.5))))
    r = reframe_clip(_span(moving), settings)
    assert r.name == "auto"
    modes = [(s["start"], s["end"], s["mode"], s["source"]) for s in r.describe()["shots"]]
    assert modes[1] == (30, 60, "fit", "override") and modes[-1][1:] == (150, "still", "override")
    assert len(r.placements(45)) == 2 and r.x_at(100) == max(0, round(0.2 * W - r.cw / 2))
    assert modes[0][2] in ("still", "pan") and modes[0][1] == 30
    # the render switches between moving crop, fit and still crop in one graph, frame-exact
    (moving.parent / "episode.toml").write_text(
        'reframe = "auto"\n[[reframe_spans]]\nclip = "1.mp4"\nstart = 1.0\nend = 2.0\nstrategy = "fit"\n')
    try:
        render_episode(moving.parent, RenderOptions(networks=("tiktok",), out_dir=tmp_path / "x", redact="none",
                                                    caption_style="none"))
    finally:
        (moving.parent / "episode.toml").unlink()
    frames = dict(_decode(tmp_path / "x" / "ep" / "tiktok" / "ep.mp4", every=1))
    assert len(frames) == 150
    stripes = lambda f: np.abs(np.diff(f[100:300, :, 1].astype(int), axis=1)).mean()
    assert stripes(frames[45]) < 0.3 * stripes(frames[20]) and stripes(frames[75]) > 0.5 * stripes(frames[20])
    # auto without people: plain fit
    blank = write_clip(tmp_path / "blank" / "1.mp4", [None] * 30, [_background(90, 32)] * 30)
    assert reframe_clip(_span(blank), Settings(reframe="auto")).name == "fit"


def test_preview_draws_the_window_over_the_source(moving, tmp_path):
    out = tmp_path / "window.png"
    result = CliRunner().invoke(main, ["preview", str(moving.parent), "--at", "2.5", "--crop-window",
                                       "--reframe", "follow", "--redact", "none", "-o", str(out)])
    assert result.exit_code == 0, result.output
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (H, W, 3)
    x = reframe_clip(_span(moving), Settings(reframe="follow")).x_at(75)
    yellow = (img[:, :, 0] > 200) & (img[:, :, 1] > 170) & (img[:, :, 2] < 80)
    cols = np.flatnonzero(yellow[H // 2])
    assert cols.size and abs(cols.min() - x) <= 3, (cols[:4], x)


@pytest.fixture(scope="module")
def interview(tmp_path_factory) -> Path:
    """3 s of a wide two-shot: one face at the left edge, one at the right edge, both still."""
    right = _background((70, 70, 70), 64)
    right[200:200 + FACE, W - FACE - 20:W - 20] = _astronaut()[:, ::-1]    # the second person, mirrored
    return write_clip(tmp_path_factory.mktemp("interview") / "ep" / "1.mp4", [20] * 90, [right] * 90)


@pytest.mark.slow
@pytest.mark.parametrize("redact", ["none", "mosaic"])
def test_two_people_far_apart_are_stacked_one_per_panel(interview, tmp_path, redact):
    """No 9:16 window holds both: each gets a 1080x960 panel, big and whole; masked in both when
    masking is on."""
    out = tmp_path / "exports"
    result = render_episode(interview.parent, RenderOptions(networks=("tiktok",), out_dir=out, reframe="follow",
                                                            redact=redact, caption_style="none"))
    shots = result["plan"]["clips"][0]["reframe"]["shots"]
    assert [s["mode"] for s in shots] == ["stack"]
    detector = get_detector("centerface", 0.3)
    _, frame = _decode(out / "ep" / "tiktok" / "ep.mp4", every=45)[-1]    # frame 45 of 90
    assert frame[958:962].max() < 30                                 # the divider
    for top in (0, 960):
        panel = cv2.resize(frame[top:top + 960], (540, 480), interpolation=cv2.INTER_AREA)
        found = _faces(detector, panel)
        if redact == "mosaic":
            assert not found, f"a face is visible in the panel at y={top}"
            continue
        assert len(found) == 1, (top, found)
        d = found[0]
        assert d.x0 > 2 and d.x1 < 538 and d.y0 > 2 and d.y1 < 478  # whole
        assert d.y1 - d.y0 > 480 / 6                                # and big: a medium shot, not a wide one
