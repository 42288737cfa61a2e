"""CenterFace through onnxruntime (sizes freed in memory) against cv2.dnn, the fine pass, and the
reader thread of the face analysis: real model, real frames."""
from __future__ import annotations

import gc
import json
import weakref

import cv2
import numpy as np
import pytest
from skimage import data

from pipeline.core.errors import RedactionError
from pipeline.faces.detectors import get_detector
from pipeline.faces.detectors.centerface import OUTPUTS, CenterFace, model_path
from pipeline.faces.detectors.onnx_shapes import (
    GRAPH,
    INITIALIZER,
    _fields,
    free_input_size,
)
from pipeline.faces.detectors.tiling import OVERLAP, tile_origins
from pipeline.faces.scan import (
    FINE_TILE_PIXELS,
    FrameScan,
    detect_frame,
    fine_tiles,
    prefetched,
    scan_plan,
)
from pipeline.faces.settings import load_settings
from tests.small_faces import small_face_world

pytest.importorskip("onnxruntime", reason="onnxruntime is a declared dependency; install it with pip install -e .")


@pytest.fixture(scope="module")
def runtimes():
    return CenterFace(runtime="opencv"), CenterFace(runtime="onnxruntime")


def _same(a, b, tol):
    assert len(a) == len(b)
    for da, db in zip(sorted(a, key=lambda d: d.x0), sorted(b, key=lambda d: d.x0)):
        assert np.allclose(da.box, db.box, atol=tol)
        assert abs(da.score - db.score) < 1e-3


def test_onnxruntime_and_opencv_find_the_same_boxes(runtimes, shared_media):
    cvdnn, ort = runtimes
    frames = [data.astronaut(), cv2.resize(data.astronaut(), (1280, 720))]
    truth = json.loads((shared_media / "images" / "faces_gt.json").read_text())["images"]
    frames += [cv2.cvtColor(cv2.imread(str(shared_media / "images" / n)), cv2.COLOR_BGR2RGB) for n in truth]
    found = 0
    for frame in frames:
        a, b = cvdnn.detect(frame), ort.detect(frame)
        _same(a, b, tol=0.05)          # pixels
        found += len(a)
    assert found >= 16                  # the astronaut twice and the 14 labelled faces


def test_freed_model_keeps_the_pinned_weights_byte_for_byte():
    raw = model_path().read_bytes()
    freed = free_input_size(raw, "input.1", OUTPUTS)

    def weights(model):
        graph = next(p for f, p, _ in _fields(model) if f == GRAPH)
        return [r for f, _, r in _fields(graph) if f == INITIALIZER]

    assert len(weights(raw)) == 194
    assert weights(freed) == weights(raw)      # every weight tensor, byte for byte, in order
    with pytest.raises(ValueError):
        free_input_size(raw, "no-such-input", OUTPUTS)
    with pytest.raises(ValueError):
        free_input_size(raw[: len(raw) // 2], "input.1", OUTPUTS)


def test_unknown_runtime_is_refused(monkeypatch):
    monkeypatch.setenv("CADRE_FACE_RUNTIME", "tensorflow")
    with pytest.raises(RedactionError, match="CADRE_FACE_RUNTIME"):
        CenterFace()


def test_fine_pass_finds_a_face_20px_tall_in_the_output_of_a_4k_frame(runtimes):
    frame = np.full((2160, 3840, 3), 110, np.uint8)
    face = cv2.resize(data.astronaut(), None, fx=0.18, fy=0.18, interpolation=cv2.INTER_AREA)  # face ~23 px
    frame[1500:1500 + face.shape[0], 700:700 + face.shape[1]] = face
    plan = scan_plan(3840, 2160, load_settings("mosaic"))
    read = cv2.resize(frame, plan.read_size, interpolation=cv2.INTER_AREA)
    face_box = ((700 + 180 * 0.18) / 3840, (1500 + 55 * 0.18) / 2160, (700 + 272 * 0.18) / 3840, (1500 + 180 * 0.18) / 2160)
    for det in runtimes:
        assert detect_frame(det, read, plan, tiled=False) == []      # the whole-frame pass alone misses it
        found = detect_frame(det, read, plan, tiled=True)
        assert any(d.x0 <= face_box[0] and d.y0 <= face_box[1] and d.x1 >= face_box[2] and d.y1 >= face_box[3]
                   for d in found)


def test_prefetched_yields_everything_in_order_then_raises_the_readers_error():
    def frames():
        yield from range(10)
        raise RuntimeError("decoder failed")

    got = []
    with pytest.raises(RuntimeError, match="decoder failed"):
        for x in prefetched(frames(), depth=2):
            got.append(x)
    assert got == list(range(10))


def test_prefetched_stops_and_closes_the_reader_when_the_consumer_stops():
    closed = []

    def frames():
        try:
            yield from range(1000)
        finally:
            closed.append(True)

    it = prefetched(frames(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()
    assert closed == [True]


def test_small_real_faces_20px_tall_in_the_output_are_all_found(shared_media):
    """The labelled photos shrunk so each face is 11.5 to 16.5 px tall in a 1080p frame (20 to 29 px
    in the 1080x1920 output), on a textured background: the two passes find all 14 faces."""
    frame, corners = small_face_world(shared_media, 7, (1920, 1080), (135, 240),
                                      [(150, 120), (900, 200), (300, 700), (1400, 650)], 11.5)
    boxes = [((x0 + x1) / 2, (y0 + y1) / 2) for x0, y0, x1, y1 in corners]
    plan = scan_plan(1920, 1080, load_settings("mosaic"))
    found = detect_frame(CenterFace(), frame, plan)
    missed = [(cx, cy) for cx, cy in boxes
              if not any(d.x0 * 1920 <= cx <= d.x1 * 1920 and d.y0 * 1080 <= cy <= d.y1 * 1080 for d in found)]
    assert len(boxes) == 14 and missed == []


@pytest.mark.parametrize("size", [(2901, 1632), (918, 1632), (640, 360), (25239, 197)])
def test_fine_tiles_are_bounded_and_cover_the_frame(size):
    tw, th = fine_tiles(*size)
    assert tw * th <= FINE_TILE_PIXELS and tw <= size[0] and th <= size[1]
    for length, tile in zip(size, (tw, th)):
        starts, side = tile_origins(length, tile, OVERLAP)
        assert starts[0] == 0 and starts[-1] + side == length


def test_a_scanned_frame_is_freed_as_soon_as_its_turn_is_over():
    """The analysis drops each decoded frame when its faces are joined, by reference counting alone:
    a frame caught in a reference cycle waits for the cyclic garbage collector, and dozens of them
    (300 MB of a 1080x1920 clip's frames) were measured held at once."""
    plan = scan_plan(1920, 1080, load_settings("mosaic"))
    frame = np.zeros((plan.read_size[1], plan.read_size[0], 3), np.uint8)
    alive = weakref.ref(frame)
    scan = FrameScan(get_detector(), frame, plan, tiled=True)
    assert len(scan.runs) > 2
    assert scan.faces([run() for run in scan.runs]) == []
    gc.disable()
    try:
        del frame, scan
        assert alive() is None
    finally:
        gc.enable()
