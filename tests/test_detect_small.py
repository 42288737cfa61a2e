"""End to end on video with small real faces: 20 to 29 px tall in the 1080x1920 output, moving.
Real detector, real decoded frames; every labelled face must be covered on every frame."""
from __future__ import annotations

import json
import subprocess

import cv2
import numpy as np
import pytest

from pipeline.core.errors import RedactionError
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.faces import analysis, revisit
from pipeline.faces.analysis import analyse_faces
from pipeline.faces.detectors import get_detector
from pipeline.faces.detectors.base import Detection
from pipeline.faces.lanes import scan_frames
from pipeline.faces.masking import coverage
from pipeline.faces.revisit import SmallFaces, Window, look_again
from pipeline.faces.scan import ScanPlan, detect_frame, scan_plan
from pipeline.faces.settings import load_settings
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe
from tests.small_faces import small_face_world

W, H, FRAMES, SPEED = 1920, 1080, 45, 1.5     # 1.5 px per frame to the right


@pytest.fixture(scope="module")
def small_faces(shared_media, tmp_path_factory):
    world, boxes = small_face_world(shared_media, 3, (W + 100, H), (135, 250),
                                    [(200, 150), (1000, 250), (400, 700), (1450, 620)], 11.5)   # 20 px in the output
    path = tmp_path_factory.mktemp("small") / "small.mp4"
    proc = subprocess.Popen([ffmpeg_exe(), *BASE_ARGS, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
                             "-r", "30", "-i", "pipe:", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16",
                             "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    per_frame = []
    for i in range(FRAMES):
        dx = SPEED * i                                   # the camera pans left: the world moves right
        m = np.float32([[1, 0, dx - 50], [0, 1, 0]])
        proc.stdin.write(cv2.warpAffine(world, m, (W, H), flags=cv2.INTER_LINEAR).tobytes())
        per_frame.append([(x0 + dx - 50, y0, x1 + dx - 50, y1) for x0, y0, x1, y1 in boxes])
    proc.stdin.close()
    assert proc.wait() == 0
    return path, per_frame


def test_every_small_face_is_covered_on_every_frame(small_faces, tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    path, per_frame = small_faces
    settings = load_settings("mosaic")
    tracks = analyse_faces(ClipSpan(path, probe(path)), settings)
    assert tracks.analysis["plan"]["tiled"]
    leaks = []
    for i, truth in enumerate(per_frame):
        cover = coverage((H, W), [(b[0] * W, b[1] * H, b[2] * W, b[3] * H) for b in tracks.boxes_at(i)], settings)
        for x0, y0, x1, y1 in truth:
            if not cover[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))].all():
                leaks.append((i, round(x0), round(y0), round(y1 - y0)))
    assert len(per_frame[0]) == 14 and leaks == []


def test_small_faces_are_looked_at_again_between_two_fine_passes(small_faces):
    """The fine pass finds the small faces on one frame; seven frames later (between two fine
    passes) the whole-frame pass alone does not see them, and a look around where they were finds
    them where they have moved to."""
    path, per_frame = small_faces
    span = ClipSpan(path, probe(path))
    settings = load_settings("mosaic")
    plan = scan_plan(span.info.width, span.info.height, settings)
    detector = get_detector(settings.detector, settings.threshold)
    frames = dict(read_frames(span, width=plan.read_size[0]))
    remembered = SmallFaces(hold=settings.tile_every)
    remembered.update(detect_frame(detector, frames[0], plan, tiled=True), 0, plan)
    assert len(remembered.seen) >= 12

    def found_of(boxes, truth):
        centres = [((b.x0 + b.x1) / 2 * W, (b.y0 + b.y1) / 2 * H) for b in boxes]
        return sum(any(x0 < cx < x1 and y0 < cy < y1 for cx, cy in centres) for x0, y0, x1, y1 in truth)

    later = 7
    whole_only = detect_frame(detector, frames[later], plan, tiled=False)
    windows = remembered.windows(*plan.read_size)
    again = look_again(detector, frames[later], plan, windows)
    assert found_of(whole_only, per_frame[later]) <= 2
    assert found_of(again, per_frame[later]) >= 12, (len(again), windows)
    # the windows are small: the look costs a fraction of the fine pass
    area = sum((w.x1 - w.x0) * (w.y1 - w.y0) for w in windows)
    assert area < 0.3 * plan.read_size[0] * plan.read_size[1]
    # these faces need the fine pass's scale: the looks are made at it
    assert all(w.scale(plan) == plan.upscale for w in windows)


def test_a_look_enlarges_a_face_only_as_much_as_it_needs(shared_media):
    """A remembered face 70 px tall (small for the whole-frame pass, at 23 px there) is looked for
    at the scale that makes it 34 px tall, not the fine pass's 1.5x: a quarter of the pixels or
    less. The look still finds it where it has moved to, and the box is in frame coordinates."""
    rgb = cv2.cvtColor(cv2.imread(str(shared_media / "images" / "dlib_2008_002506.jpg")), cv2.COLOR_BGR2RGB)
    truth = json.loads((shared_media / "images" / "faces_gt.json").read_text())["images"]["dlib_2008_002506.jpg"]
    x, y, w, h = max(truth["faces"], key=lambda f: f[3])
    s = 70 / h
    face = cv2.resize(rgb[max(0, y - h):y + 2 * h, max(0, x - w):x + 2 * w], None, fx=s, fy=s,
                      interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(5)
    frames, boxes = [], []
    for shift in (0, 24):                             # the face moves 24 px right, 12 down
        frame = cv2.GaussianBlur(cv2.resize(rng.integers(60, 200, (135, 240, 3), dtype=np.uint8), (W, H)), (0, 0), 3)
        ox, oy = 800 + shift, 400 + shift // 2
        frame[oy:oy + face.shape[0], ox:ox + face.shape[1]] = face
        fx0, fy0 = ox + (x - max(0, x - w)) * s, oy + (y - max(0, y - h)) * s
        frames.append(frame)
        boxes.append((fx0, fy0, fx0 + w * s, fy0 + h * s))
    plan = ScanPlan((W, H), (640, 360), True, 1.5)
    detector = get_detector()
    remembered = SmallFaces(hold=15)
    x0, y0, x1, y1 = boxes[0]
    remembered.update([Detection(x0 / W, y0 / H, x1 / W, y1 / H, 0.9)], 0, plan)
    (window,) = remembered.windows(W, H)
    assert window.face == pytest.approx(70, abs=1)
    assert window.scale(plan) == pytest.approx(revisit.LOOK_PX / 70, rel=0.02)
    assert (window.scale(plan) / plan.upscale) ** 2 < 0.25
    again = look_again(detector, frames[1], plan, [window])
    bx0, by0, bx1, by1 = boxes[1]
    hits = [d for d in again if d.x0 * W <= bx0 + 8 and d.x1 * W >= bx1 - 8 and d.y0 * H <= by0 + 8
            and d.y1 * H >= by1 - 8 and (d.y1 - d.y0) * H < 2 * (by1 - by0)]
    assert hits, (again, boxes[1])


def test_looks_around_a_crowd_are_made_less_often():
    """Windows over most of the frame (a crowd of small faces) would cost more than the fine pass:
    they are looked at less often, so a look never costs more than the fine pass it stands in for."""
    plan = ScanPlan((1920, 1080), (640, 360), True, 1.5)
    few = [Window(100, 100, 200, 200, face=15)]
    crowd = [Window(0, 0, 1920, 1080, face=15)]
    assert [revisit.due(i, few, plan, 15) for i in range(1, 7)] == [False, True, False, True, False, True]
    due_crowd = [i for i in range(1, 61) if revisit.due(i, crowd, plan, 15)]
    assert len(due_crowd) >= 3 and all(b - a >= 15 for a, b in zip(due_crowd, due_crowd[1:])), due_crowd
    assert not revisit.due(2, [], plan, 15)


class _Counted:
    """The real detector, made to fail on its ``fail_at``-th call (a model that breaks mid-clip)."""

    def __init__(self, detector, lanes: int, fail_at: int | None = None):
        self.detector, self.lanes, self.fail_at, self.calls = detector, lanes, fail_at, 0
        self.threshold, self.name, self.model_sha256 = detector.threshold, detector.name, detector.model_sha256

    def detect(self, frame, threshold=None):
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise RedactionError("centerface.onnx", "face detector failed on a frame; rendering stopped")
        return self.detector.detect(frame, threshold)


def test_side_by_side_runs_give_the_faces_one_run_at_a_time_gives(small_faces):
    """The lanes change when the detector runs, never what it finds: two lanes and one lane give
    the same boxes on every frame, in frame order, and every frame is there."""
    path, _ = small_faces
    span = ClipSpan(path, probe(path))
    settings = load_settings("mosaic")
    plan = scan_plan(span.info.width, span.info.height, settings)
    detector = get_detector(settings.detector, settings.threshold)
    runs = {}
    for lanes in (2, 1):
        frames = read_frames(span, width=plan.read_size[0])
        runs[lanes] = scan_frames(_Counted(detector, lanes), frames, plan, settings.tile_every, span.frame_count)
    assert list(runs[2]) == list(range(span.frame_count)) == list(runs[1])
    assert runs[2] == runs[1]
    assert all(len(runs[2][i]) >= 12 for i in range(0, span.frame_count, settings.tile_every))  # fine passes


def test_a_detector_failing_mid_clip_stops_the_analysis(small_faces, tmp_path, monkeypatch):
    """Fail closed: a detector that breaks on a frame in a lane stops the analysis with its error,
    and no analysis is cached that a render could use."""
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("CADRE_CACHE_DIR", str(cache_dir))
    path, _ = small_faces
    settings = load_settings("mosaic")
    failing = _Counted(get_detector(settings.detector, settings.threshold), lanes=2, fail_at=40)
    monkeypatch.setattr(analysis, "get_detector", lambda name, threshold: failing)
    with pytest.raises(RedactionError, match="rendering stopped"):
        analyse_faces(ClipSpan(path, probe(path)), settings)
    assert failing.calls >= 40
    assert not [p for p in (cache_dir / "faces").rglob("*") if p.is_file()]   # the clip hash may stay
