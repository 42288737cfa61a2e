"""The face detector interface: one RGB frame in, scored boxes in that frame's pixels out.

A detector is swappable: CenterFace is the one shipped; another model only needs ``name``,
``model_sha256`` and ``detect``. Tiling, tracking and masking never depend on the model.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)   # slots: a long crowd's analysis holds hundreds of thousands
class Detection:
    """One face: box corners in pixels of the frame it was found in, and the model's score."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def scaled(self, sx: float, sy: float, dx: float = 0.0, dy: float = 0.0) -> "Detection":
        """The same face in another frame: ``x * sx + dx``, ``y * sy + dy``."""
        return Detection(self.x0 * sx + dx, self.y0 * sy + dy, self.x1 * sx + dx, self.y1 * sy + dy, self.score)


class FaceDetector(ABC):
    """Finds faces in one RGB frame (H, W, 3) uint8."""

    name: str = "detector"
    model_sha256: str = ""
    model_file: str = ""
    lanes: int = 1          # how many ``detect`` calls may run at once, from as many threads

    def __init__(self, threshold: float = 0.3):
        self.threshold = threshold

    @abstractmethod
    def detect(self, frame: np.ndarray, threshold: float | None = None) -> list[Detection]:
        """Faces scoring at least ``threshold`` (default ``self.threshold``); raise RedactionError
        if the model fails."""


def nms(dets: list[Detection], iou: float = 0.4, contain: float = 0.7, by_score: bool = True) -> list[Detection]:
    """Keep the best-scoring box of each face (or the first given, with ``by_score=False``).

    A box is dropped if it overlaps a better one by ``iou`` or lies mostly (``contain`` of its own
    area) inside it: half faces cut by a tile edge vanish into the whole face of the next tile.
    """
    if len(dets) < 2:
        return list(dets)
    boxes = np.array([d.box for d in dets], dtype=np.float64)
    order = np.argsort([-d.score for d in dets], kind="stable") if by_score else np.arange(len(dets))
    area = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    keep: list[int] = []
    for i in order:
        if keep:
            k = np.array(keep)
            iw = np.clip(np.minimum(boxes[k, 2], boxes[i, 2]) - np.maximum(boxes[k, 0], boxes[i, 0]), 0, None)
            ih = np.clip(np.minimum(boxes[k, 3], boxes[i, 3]) - np.maximum(boxes[k, 1], boxes[i, 1]), 0, None)
            inter = iw * ih
            union = area[k] + area[i] - inter
            if np.any(inter >= iou * np.maximum(union, 1e-9)) or np.any(inter >= contain * max(area[i], 1e-9)):
                continue
        keep.append(int(i))
    return [dets[i] for i in sorted(keep)]


def merge(dets: list[Detection], iou: float = 0.3, contain: float = 0.6) -> list[Detection]:
    """One box per face from several passes: overlapping boxes become their union (best score).

    Where two passes disagree on a face's extent, the mask takes both: privacy before tightness.
    """
    groups: list[list[Detection]] = []
    for d in sorted(dets, key=lambda d: -d.score):
        for g in groups:
            if any(overlaps(d, o, iou, contain) for o in g):
                g.append(d)
                break
        else:
            groups.append([d])
    return [Detection(min(d.x0 for d in g), min(d.y0 for d in g), max(d.x1 for d in g), max(d.y1 for d in g),
                      max(d.score for d in g)) for g in groups]


def overlaps(a: Detection, b: Detection, iou: float, contain: float = float("inf")) -> bool:
    """Their intersection is ``iou`` of their union, or ``contain`` of the smaller box."""
    iw = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    ih = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = iw * ih
    aa = (a.x1 - a.x0) * (a.y1 - a.y0)
    ab = (b.x1 - b.x0) * (b.y1 - b.y0)
    return inter >= iou * (aa + ab - inter) or inter >= contain * min(aa, ab)
