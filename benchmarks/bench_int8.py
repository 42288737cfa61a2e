"""An int8 CenterFace as a speed lever (issue 29), measured and not kept.

    python -m benchmarks int8

onnxruntime's static quantization (QDQ, weights int8 per channel, activations uint8, MinMax
calibration; the model brought to opset 13 for per-channel scales) of the pinned CenterFace,
calibrated on the *tuning half* of the shared media (two labelled photos, the first half of the
crowd clip's frames, each plain, darkened and blurred), then compared with the float model on
the *checking half* (the other photos, the other frames), each at four sizes and plain, blurred,
darkened, darkened then equalised as Cadre does, turned 90 and 180 degrees. Reported: the CPU time
of one 640x384 inference (median of 3 interleaved rounds of 10), and the faces the float model
finds at Cadre's threshold (0.3) that the int8 model misses (no box with IoU >= 0.3) at
thresholds 0.3 down to 0.1, with the int8 boxes the float model does not have. Needs
``../shared/media`` and the ``onnx`` package (test extras). Nothing is written but the record.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED_MEDIA, Benchmark, info, table  # noqa: E402
from benchmarks.labelled import darkened, load_truth  # noqa: E402
from pipeline.faces.detectors.base import overlaps  # noqa: E402
from pipeline.faces.detectors.centerface import INPUT, OUTPUTS, CenterFace, model_path  # noqa: E402
from pipeline.faces.detectors.onnx_shapes import free_input_size  # noqa: E402
from pipeline.faces.turns import brightened  # noqa: E402

THRESHOLDS = (0.3, 0.25, 0.2, 0.15, 0.1)
BENCH = Benchmark("int8", "int8 CenterFace (static QDQ quantization) against the float model: speed, and the "
                          "faces it misses on held-out frames", baselines=["CenterFace float32 (Cadre's)"])


def _halves():
    truth = load_truth()
    names = sorted(truth)
    cap = cv2.VideoCapture(str(SHARED_MEDIA / "videos" / "facenet_pytorch_video.mp4"))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    n = len(frames) // 2
    tune = [truth[k][0] for k in names[:2]] + [cv2.resize(f, (960, 540), interpolation=cv2.INTER_AREA) for f in frames[:n:8]]
    check = [truth[k][0] for k in names[2:]] + [cv2.resize(f, (1280, 720), interpolation=cv2.INTER_AREA)
                                                for f in frames[n::3]]
    return tune, check


def _blob(img):
    h, w = img.shape[:2]
    b = np.zeros((1, 3, -(-h // 32) * 32, -(-w // 32) * 32), np.float32)
    b[0, :, :h, :w] = img.transpose(2, 0, 1)
    return b


def quantized(tune: list, folder: Path) -> Path:
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    model = version_converter.convert_version(onnx.load_from_string(
        free_input_size(model_path().read_bytes(), INPUT, OUTPUTS)), 13)
    src, out = folder / "float13.onnx", folder / "int8.onnx"
    onnx.save(model, str(src))
    blobs = [_blob(v) for img in tune for v in (img, darkened(img), cv2.GaussianBlur(img, (0, 0), 1.2))]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{INPUT: b} for b in blobs])

        def get_next(self):
            return next(self.it, None)

    quantize_static(str(src), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    return out


def _session(path: Path):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = o.inter_op_num_threads = 1
    o.log_severity_level = 3
    o.enable_mem_pattern = False
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def _variants(img):
    h, w = img.shape[:2]
    for s in (0.35, 0.6, 1.0, 1.5):
        r = cv2.resize(img, (max(32, int(w * s)), max(32, int(h * s))),
                       interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)[:864, :800]
        r = np.ascontiguousarray(r)
        yield from (r, cv2.GaussianBlur(r, (0, 0), 1.2), darkened(r), brightened(darkened(r)),
                    np.ascontiguousarray(np.rot90(r)), np.ascontiguousarray(r[::-1, ::-1]))


def main() -> int:
    if not SHARED_MEDIA.is_dir():
        print(f"bench_int8: the shared real media ({SHARED_MEDIA}) is missing", file=sys.stderr)
        return 1
    tune, check = _halves()
    with tempfile.TemporaryDirectory(prefix="cadre-int8-") as tmp:
        path = quantized(tune, Path(tmp))
        fp, q = CenterFace(), CenterFace()
        q._session = _session(path)
        x = _blob(cv2.resize(check[-1], (640, 384)))
        times = {"float32": [], "int8": []}
        for _ in range(3):                           # interleaved rounds of 10 inferences
            for name, det in (("float32", fp), ("int8", q)):
                det._session.run(OUTPUTS, {INPUT: x})
                t = time.thread_time()
                for _ in range(10):
                    det._session.run(OUTPUTS, {INPUT: x})
                times[name].append((time.thread_time() - t) / 10)
        missed, extra, total = dict.fromkeys(THRESHOLDS, 0), dict.fromkeys(THRESHOLDS, 0), 0
        for img in check:
            for v in _variants(img):
                ref, cand = fp.detect(v, 0.3), q.detect(v, min(THRESHOLDS))
                total += len(ref)
                for t in THRESHOLDS:
                    got = [d for d in cand if d.score >= t]
                    missed[t] += sum(not any(overlaps(r, g, iou=0.3) for g in got) for r in ref)
                    extra[t] += sum(not any(overlaps(r, g, iou=0.3) for r in ref) for g in got)
    ratio = statistics.median(times["int8"]) / statistics.median(times["float32"])
    BENCH.add(info("CPU per 640x384 inference, int8 / float32", ratio, statistics.median(times["float32"]), "x",
                   note=f"float32 {statistics.median(times['float32']) * 1000:.1f} ms, int8 "
                        f"{statistics.median(times['int8']) * 1000:.1f} ms, one thread"))
    for t in THRESHOLDS:
        BENCH.add(info(f"faces the float model finds (>= 0.3) that int8 misses at {t}, checking half", missed[t],
                       total, "faces", note=f"int8 boxes the float model does not have: {extra[t]}"))
    table(f"int8 CenterFace on the checking half: {total} faces found by the float model",
          ["int8 threshold", "faces missed", "boxes added"], [[t, missed[t], extra[t]] for t in THRESHOLDS])
    return BENCH.finish({"faces": total, "missed": missed, "extra": extra, "times_s": times})


if __name__ == "__main__":
    sys.exit(main())
