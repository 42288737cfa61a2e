"""Face detectors behind one small interface (:class:`FaceDetector`); one module per model."""
from __future__ import annotations

from pipeline.errors import RedactionError
from pipeline.faces.detectors.base import Detection, FaceDetector, nms
from pipeline.faces.detectors.centerface import CenterFace

DETECTORS = ("centerface",)


def get_detector(name: str = "centerface", threshold: float = 0.3) -> FaceDetector:
    """Load detector ``name``; raises RedactionError if its model is missing or unusable."""
    if name == "centerface":
        return CenterFace(threshold=threshold)
    raise RedactionError(name, f"unknown face detector '{name}'; choose one of: {', '.join(DETECTORS)}")


__all__ = ["Detection", "FaceDetector", "get_detector", "nms", "DETECTORS"]
