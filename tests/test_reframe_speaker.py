"""Issue 14, which face matters: with several people, ``follow`` keeps the one that speaks (its
mouth moves while the transcript's words are spoken), else the largest and most central one.

The clip is built from two real faces of ``../shared/media/images`` over a striped background:
a small face at the left whose jaw opens and closes (the lower part of the photo stretched down,
4 times a second) while words are spoken, and a larger, silent face near the middle. Real ffmpeg,
real CenterFace, the words from a person's SRT beside the clip."""
from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.analyse import analyse_clip, reframe_clip
from pipeline.core.ffmpeg import ffmpeg_exe
from pipeline.faces.tracking import Track
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.reframe import follow, speaker
from pipeline.reframe.follow import FollowPlan, FollowReframer
from pipeline.source.config import Settings, load_settings
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe
from pipeline.speech.transcript import Word

IMAGES = Path(__file__).resolve().parents[2] / "shared" / "media" / "images"
W, H, N = 1280, 720, 90
A_AT, B_AT = (120, 280), (560, 150)        # top-left corners of the two photos in the frame
SPEAKS = (0.5, 2.5)                        # seconds during which the left person talks
SRT = "1\n00:00:00,500 --> 00:00:02,500\nIl faut appeler le dix-sept tout de suite\n"

pytestmark = pytest.mark.skipif(not IMAGES.is_dir(), reason=f"{IMAGES} (the shared real media) is absent")


def _crop(name: str, box, face_px: int, margin: float):
    """The labelled face of a photo with ``margin`` face widths around it, scaled so the face is
    ``face_px`` tall; returns the picture and the face box inside it (x, y, w, h)."""
    img = cv2.cvtColor(cv2.imread(str(IMAGES / name)), cv2.COLOR_BGR2RGB)
    x, y, w, h = box
    m = int(margin * w)
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(img.shape[1], x + w + m), min(img.shape[0], y + h + m)
    k = face_px / h
    pic = cv2.resize(img[y0:y1, x0:x1], None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    return pic, (int((x - x0) * k), int((y - y0) * k), int(w * k), int(h * k))


def _talk(pic: np.ndarray, face, t: float) -> np.ndarray:
    """The jaw dropping: the face's lower part stretched down by up to 30 %, 4 times a second."""
    fx, fy, fw, fh = face
    a, b = fy + int(0.62 * fh), min(pic.shape[0], fy + int(1.05 * fh))
    d = int(round((0.5 - 0.5 * np.cos(2 * np.pi * 4 * t)) * 0.3 * (b - a)))
    out = pic.copy()
    if d:
        out[a:b, fx:fx + fw] = cv2.resize(pic[a:b - d, fx:fx + fw], (fw, b - a), interpolation=cv2.INTER_LINEAR)
    return out


FACES = {"a": ("dlib_2008_002506.jpg", [224, 95, 91, 91], 85, 0.3),       # small, at the left: speaks
         "b": ("skimage_astronaut.png", [181, 58, 89, 120], 200, 0.5)}    # large, near the middle: silent


def _face_box(key: str) -> tuple[float, float, float, float]:
    """The labelled face of photo ``key`` in the frame, normalised."""
    _, (fx, fy, fw, fh) = _crop(*FACES[key])
    x, y = A_AT if key == "a" else B_AT
    return (x + fx) / W, (y + fy) / H, (x + fx + fw) / W, (y + fy + fh) / H


def _write(path: Path, talks: bool, nods: bool) -> Path:
    """3 s, both photos; during ``SPEAKS`` the left person talks (``talks``) or moves her whole head
    up and down by up to 24 px, twice a second, without talking (``nods``)."""
    path.parent.mkdir(parents=True)
    (a, fa), (b, _) = _crop(*FACES["a"]), _crop(*FACES["b"])
    bg = np.full((H, W, 3), 70, np.uint8)
    bg[:, ::64] = 160
    proc = subprocess.Popen([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                             "-s", f"{W}x{H}", "-r", "30", "-i", "-", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
                             "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
                             "-c:a", "aac", str(path)], stdin=subprocess.PIPE)
    for i in range(N):
        t = i / 30
        during = SPEAKS[0] <= t < SPEAKS[1]
        frame = bg.copy()
        dy = int(round(12 - 12 * np.cos(2 * np.pi * 2 * t))) if nods and during else 0
        y = A_AT[1] + dy
        frame[y:y + a.shape[0], A_AT[0]:A_AT[0] + a.shape[1]] = _talk(a, fa, t) if talks and during else a
        frame[B_AT[1]:B_AT[1] + b.shape[0], B_AT[0]:B_AT[0] + b.shape[1]] = b
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


@pytest.fixture(scope="module")
def two_people(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("speaker") / "ep" / "1.mp4", talks=True, nods=False)


def _span(path: Path) -> ClipSpan:
    return ClipSpan(path, probe(path))


def test_mouth_motion_while_words_are_spoken_picks_the_speaker(two_people):
    """Scores from decoded frames: the talking face scores high while words are spoken; the same
    face scores low over words spoken while its mouth is still (someone else talks off screen)."""
    from pipeline.analyse import _framing_tracks

    span = _span(two_people)
    tracks = _framing_tracks(span, None)
    assert len(tracks) == 2, [t.id for t in tracks]
    left = min(tracks, key=lambda t: t.boxes[0][0]).id
    talking = speaker.word_frames([Word(0.6 + 0.25 * k, 0.8 + 0.25 * k, "mot") for k in range(7)], 0.0, N)
    score = speaker.scores(span, tracks, 0, N, talking)
    assert set(score) == {t.id for t in tracks}
    assert speaker.speaker(score) == left, score
    quiet = speaker.word_frames([Word(2.6, 2.95, "mot")], 0.0, N)       # words after her mouth stopped
    assert speaker.speaker(speaker.scores(span, tracks, 0, N, quiet)) is None


def test_a_head_that_moves_without_talking_is_not_taken_for_the_speaker(tmp_path):
    """The left person nods while words are spoken (someone off screen talks): her mouth band
    changes, but no more than her eyes', so nobody speaks and the largest, central face leads."""
    from pipeline.analyse import _framing_tracks

    span = _span(_write(tmp_path / "nod" / "1.mp4", talks=False, nods=True))
    tracks = _framing_tracks(span, None)
    talking = speaker.word_frames([Word(0.6 + 0.25 * k, 0.8 + 0.25 * k, "mot") for k in range(7)], 0.0, N)
    score = speaker.scores(span, tracks, 0, N, talking)
    left = min(tracks, key=lambda t: t.boxes[0][0]).id
    assert score[left][0] > 0.3, score                             # her mouth band did change ...
    assert speaker.speaker(score) is None, score                    # ... as her whole head did


def test_without_words_the_largest_central_face_leads(two_people):
    r = reframe_clip(_span(two_people), Settings(reframe="follow"))
    seg = r.plan.segments[0]
    assert seg.main_by == "largest"
    win = r.placements(45)[0].src
    a, b = _face_box("a"), _face_box("b")
    assert win[0] <= b[0] and b[2] <= win[2]                     # the large face near the middle is framed
    assert not (win[0] <= a[0] and a[2] <= win[2])               # the small one at the edge does not matter


def test_the_face_that_speaks_is_shown_whole_in_the_published_frames(two_people, tmp_path):
    """A person's SRT gives the words; the render frames the small talking face (stacked with the
    large one, which still matters beside it), and its pixels are in every sampled output frame."""
    ep = two_people.parent
    (ep / "1.fr.srt").write_text(SRT, "utf-8")
    try:
        out = tmp_path / "exports"
        result = render_episode(ep, RenderOptions(networks=("tiktok",), out_dir=out, reframe="follow",
                                                  redact="none", caption_style="none"))
        # the render's own analysis, from the cache: words from the SRT, the plan they gave
        reframer = analyse_clip(_span(two_people), replace(load_settings(ep), reframe="follow")).reframer
    finally:
        (ep / "1.fr.srt").unlink()
    shots = result["plan"]["clips"][0]["reframe"]["shots"]
    assert [s["main_by"] for s in shots] == ["speaks"], shots
    assert [s.main for s in reframer.plan.segments] == [s["main"] for s in shots]
    a = _face_box("a")
    pic, (fx, fy, fw, fh) = _crop(*FACES["a"])
    eyes = pic[fy:fy + fh // 2, fx:fx + fw].astype(int)              # the upper half never moves
    master = out / "ep" / "tiktok" / "ep.mp4"
    frames = list(read_frames(ClipSpan(master, probe(master)), width=1080, every=10))
    assert len(frames) == N // 10
    for i, frame in frames:
        shown = [(p, p.map_box(a)) for p in reframer.placements(i) if not p.holes]
        whole = [(p, m) for p, m in shown if m and m[0] >= 0 and m[1] >= 0
                 and m[2] <= p.dst[2] - p.dst[0] and m[3] <= p.dst[3] - p.dst[1]]
        assert whole, f"the talking face is not whole in output frame {i}"
        p, (x0, y0, x1, y1) = whole[0]
        top, mid = p.dst[1] + y0, p.dst[1] + (y0 + y1) / 2
        got = cv2.resize(frame[int(round(top)):int(round(mid)), int(round(x0)):int(round(x1))],
                         (eyes.shape[1], eyes.shape[0]), interpolation=cv2.INTER_AREA).astype(int)
        assert np.abs(got - eyes).mean() < 15, (i, np.abs(got - eyes).mean())


def test_largest_and_most_central_face_without_speech():
    """Planning level: two faces of one size, one at the frame's edge, one near its middle: the
    central one is the main face whatever the order of the tracks; a speaker overrides it."""
    n = 60
    frames = list(range(0, n, 6)) + [n - 1]
    edge = Track("edge", frames, [[0.02, 0.3, 0.1, 0.5]] * len(frames), [0.9] * len(frames))
    middle = Track("middle", frames, [[0.45, 0.32, 0.53, 0.52]] * len(frames), [0.9] * len(frames))
    for tracks in ([edge, middle], [middle, edge]):
        sec = follow.Section(0, n, 1, "follow", (0.5, 0.5))
        seg = follow.plan_section(sec, tracks, None, (1920, 1080))[0]
        assert (seg.main, seg.main_by) == ("middle", "largest"), seg
        seg = follow.plan_section(replace(sec, speaker="edge"), tracks, None, (1920, 1080))[0]
        assert (seg.main, seg.main_by) == ("edge", "speaks"), seg
        win = FollowReframer((1920, 1080), plan=FollowPlan((1920, 1080), follow.window((1920, 1080)), [seg]))
        src = win.placements(30)[0].src
        assert src[0] <= 0.02 and src[2] >= 0.1                    # the speaker is in frame
