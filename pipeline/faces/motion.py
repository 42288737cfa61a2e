"""The camera's motion between analysed frames, read from the picture itself.

``camera.py`` reads a pan or a zoom from the faces the detector found on two frames; between two
fine passes the small faces are not in the whole-frame pass, so there is nothing to read it from.
:class:`PixelMotion` reads it from the pixels: corners of a small grey copy of each frame
(``cv2.goodFeaturesToTrack``), followed into the next frame (pyramidal Lucas-Kanade, from the shift
phase correlation reads, so a fast pan is followed too) and fitted
with a similarity (scale and shift, ``cv2.estimateAffinePartial2D`` with RANSAC). The looks around
the small faces (``revisit.py``) are then made where the camera carried each face since it was
seen, not where it was: in a zoom or a fast pan the faces left their windows, the looks lost them
and the fine pass ran again at once (7 extra fine passes in the 2 s labelled pan-and-zoom).

The step to every analysed frame is read once (:class:`StepReader`, in ``lanes.scan_frames``): the
looks chain it, and the tracks take it as the camera's motion (``camera.CameraPath``) where the
faces tell none (fewer than 3 in the picture).

A step is known only when enough corners agree on it (:data:`MIN_POINTS`, most of those followed)
and the picture did not turn: a crowd walking past a still camera, a cut or a blur gives no step,
and a face is then looked for where it was seen, as before. The motion is in normalised
coordinates (the similarity of ``camera.py``).
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from pipeline.faces.camera import Similarity, inverse, compose
from pipeline.faces.params import PARAMS

WIDTH = PARAMS.motion_width          # read pixels across the grey copy the motion is read on
MIN_POINTS = PARAMS.motion_points    # corners that must agree on a step
AGREE = PARAMS.motion_agree          # ... and at least this share of those followed
MAX_TURN = PARAMS.motion_max_turn    # a step that turns the picture more than this (radians) is no pan or zoom
MAX_ZOOM = PARAMS.camera_max_zoom
CORNERS = PARAMS.motion_corners      # corners followed from one frame to the next


class StepReader:
    """The camera's step from the frame read before to each frame read (None: unknown)."""

    def __init__(self):
        self._grey: np.ndarray | None = None

    def step(self, frame: np.ndarray) -> Similarity | None:
        """Read ``frame`` (RGB, any size); its step from the frame read before."""
        h, w = frame.shape[:2]
        scale = min(1.0, WIDTH / w)
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)      # then shrunk: a third of the time of the other order
        grey = cv2.resize(grey, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
        before, self._grey = self._grey, grey
        return step_between(before, grey) if before is not None and before.shape == grey.shape else None


class PixelMotion:
    """The camera's motion over the last frames added, chained: :meth:`between` gives it from one
    frame added to a later one, or None when a step between them is unknown."""

    def __init__(self):
        self._reader = StepReader()
        self._last = -1
        self._segment = 0                        # frames joined by known steps share a segment
        self._at: dict[int, tuple[int, Similarity]] = {}   # frame -> (segment, motion from the segment's start)

    def add(self, index: int, frame: np.ndarray) -> None:
        """Add frame ``index`` (RGB, any size), read its step from the frame added before."""
        self.add_step(index, self._reader.step(frame), self._last)

    def add_step(self, index: int, step: Similarity | None, after: int) -> None:
        """Add frame ``index`` whose step from frame ``after`` was read already (``StepReader``):
        it chains on only if ``after`` is the frame added last."""
        if step is None or after != self._last or self._last not in self._at:
            self._segment += 1
            self._at[index] = (self._segment, (1.0, 0.0, 0.0))
        else:
            segment, total = self._at[self._last]
            self._at[index] = (segment, compose(total, step))
        self._last = index

    def between(self, before: int, after: int) -> Similarity | None:
        """The camera's motion from frame ``before`` to frame ``after`` (both added)."""
        a, b = self._at.get(before), self._at.get(after)
        if a is None or b is None or a[0] != b[0]:
            return None
        return compose(inverse(a[1]), b[1])

    def forget(self, before: int) -> None:
        """Drop what is known of the frames before ``before``."""
        for k in [k for k in self._at if k < before]:
            del self._at[k]

    def reset(self) -> None:
        """Start again (a cut, a new turn): no step joins a later frame to those before."""
        self.__init__()


@lru_cache(maxsize=4)
def _window(shape: tuple[int, int]) -> np.ndarray:
    return cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)


def step_between(before: np.ndarray, after: np.ndarray) -> Similarity | None:
    """The similarity (normalised to the frame) that carries grey frame ``before`` onto ``after``,
    or None when too few corners agree on one, or they agree on a turn."""
    h, w = before.shape
    corners = cv2.goodFeaturesToTrack(before, maxCorners=CORNERS, qualityLevel=0.01, minDistance=max(4, w // 60))
    if corners is None or len(corners) < MIN_POINTS:
        return None
    # a fast pan moves the picture further than the pyramid follows: start from the shift that
    # phase correlation reads from the whole frame, at half the size (a guess for the corners)
    half_before, half_after = cv2.pyrDown(before), cv2.pyrDown(after)
    (dx, dy), _ = cv2.phaseCorrelate(half_before.astype(np.float32), half_after.astype(np.float32),
                                     _window(half_before.shape))
    guess = corners + np.float32([2 * dx, 2 * dy])
    moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, corners, guess, winSize=(21, 21), maxLevel=3,
                                                flags=cv2.OPTFLOW_USE_INITIAL_FLOW)
    ok = status.reshape(-1) == 1
    if ok.sum() < MIN_POINTS:
        return None
    fit, inliers = cv2.estimateAffinePartial2D(corners[ok], moved[ok], method=cv2.RANSAC,
                                               ransacReprojThreshold=max(1.0, w / 320))
    if fit is None or inliers is None:
        return None
    agree = int(inliers.sum())
    if agree < MIN_POINTS or agree < AGREE * ok.sum():
        return None
    a, b = float(fit[0, 0]), float(fit[1, 0])
    s = float(np.hypot(a, b))
    if not (1 / MAX_ZOOM <= s <= MAX_ZOOM) or abs(np.arctan2(b, a)) > MAX_TURN:
        return None
    # pixels -> normalised: x' = s x + tx / w, y' = s y + ty / h (one scale for both axes)
    return s, float(fit[0, 2]) / w, float(fit[1, 2]) / h
