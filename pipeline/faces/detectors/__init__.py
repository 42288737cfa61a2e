"""Face detectors behind one small interface (:class:`FaceDetector`); one module per model."""
from __future__ import annotations

from pipeline.core.errors import RedactionError
from pipeline.faces.detectors.base import Detection, FaceDetector, nms
from pipeline.faces.detectors.centerface import CenterFace, onnx_session

DETECTORS = ("centerface",)


def get_detector(name: str = "centerface", threshold: float = 0.3) -> FaceDetector:
    """Load detector ``name``; raises RedactionError if its model is missing or unusable."""
    if name == "centerface":
        return CenterFace(threshold=threshold)
    raise RedactionError(name, f"unknown face detector '{name}'; choose one of: {', '.join(DETECTORS)}")


def release() -> None:
    """Drop the networks loaded so far: an onnxruntime session keeps the arena of its largest runs
    (about 350 MB after a 1080p analysis with its fine pass), which the encode after the analysis
    does not need. A detector made later loads its network again."""
    onnx_session.cache_clear()


__all__ = ["Detection", "FaceDetector", "get_detector", "nms", "release", "DETECTORS"]
