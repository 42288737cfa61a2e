"""The camera's motion between two analysed frames, read from the faces themselves.

In a pan or a zoom every face of a still scene moves by the same similarity (a scale about the
frame and a shift): ``x' = s x + tx``, ``y' = s y + ty`` in normalised coordinates (a zoom scales
both axes alike, so the normalised frame keeps the same ``s``). When the camera moves fast, a face
moves several of its own heights between two frames and its track, predicted from its own last
steps, loses it: every frame then started new tracks, and each fragment was masked
``extend_frames`` before and after, grown and carried (a face masked by a dozen boxes). Faces seen
on both frames tell the motion: :func:`similarity` tries the similarity that maps each face of
the earlier frame onto each face of the later one and keeps the one most faces agree with
(RANSAC over pairs), then :func:`tracking.link` predicts every track along it as well as along
its own velocity. With fewer than :data:`PARAMS.camera_min_faces` faces agreeing, or under half
of them, there is no camera motion to read (one person walking is not a pan), and tracks are
predicted from their own velocity alone, as before.
"""
from __future__ import annotations

import bisect

import numpy as np

from pipeline.faces.params import PARAMS

Similarity = tuple[float, float, float]          # (s, tx, ty)
MOST = PARAMS.camera_most     # faces of each frame the estimate looks at (highest scores)
SEEDS = PARAMS.camera_seeds   # faces of the earlier frame whose pairs are tried as the motion


def _arrays(dets) -> tuple[np.ndarray, np.ndarray]:
    """Centres (N, 2) and sizes (N,) of the best-scored ``MOST`` detections."""
    best = sorted(dets, key=lambda d: -d.score)[:MOST]
    b = np.array([[d.x0, d.y0, d.x1, d.y1] for d in best], dtype=np.float64).reshape(-1, 4)
    return (b[:, :2] + b[:, 2:]) / 2, np.maximum(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]), 1e-6)


def similarity(before, after) -> Similarity | None:
    """The similarity that carries most faces of ``before`` onto faces of ``after`` (normalised
    detections of two frames), or None when too few agree on one."""
    if min(len(before), len(after)) < PARAMS.camera_min_faces:
        return None
    pc, ps = _arrays(before)
    cc, cs = _arrays(after)
    # one hypothesis per pair (face i before, face j after): s = size ratio, t = where i lands on j
    s = cs[None, :] / ps[:SEEDS, None]                               # (seeds, m)
    ok = (s >= 1 / PARAMS.camera_max_zoom) & (s <= PARAMS.camera_max_zoom)
    t = cc[None, :, :] - s[..., None] * pc[:SEEDS, None, :]          # (seeds, m, 2)
    hs, ht = s[ok], t[ok]                                            # (k,), (k, 2)
    if not len(hs):
        return None
    # every face before, carried by each hypothesis, against every face after
    moved = hs[:, None, None] * pc[None, :, :] + ht[:, None, :]      # (k, n, 2)
    size = hs[:, None] * ps[None, :]                                 # (k, n)
    dist = np.linalg.norm(moved[:, :, None, :] - cc[None, None, :, :], axis=3) / size[:, :, None]   # (k, n, m)
    ratio = cs[None, None, :] / size[:, :, None]
    fits = (dist <= PARAMS.camera_fit) & (np.abs(np.log(ratio)) <= np.log(1 + PARAMS.camera_fit))
    agree = fits.any(axis=2).sum(axis=1)                             # faces before that land on a face after
    best = int(np.argmax(agree))
    n = int(agree[best])
    if n < PARAMS.camera_min_faces or n < 0.5 * min(len(pc), len(cc)):
        return None
    # refine on the faces that agree: least squares on their centres (faces spread over the
    # frame tell the zoom better than their sizes do), the median size ratio for a tight group
    d = np.where(fits[best], dist[best], np.inf)
    i = np.flatnonzero(np.isfinite(d).any(axis=1))
    j = np.argmin(d[i], axis=1)
    p, c = pc[i], cc[j]
    dp, dc = p - p.mean(axis=0), c - c.mean(axis=0)
    spread = float((dp * dp).sum())
    if spread > len(i) * (2 * float(np.median(ps[i]))) ** 2:
        scale = float((dp * dc).sum() / spread)
    else:
        scale = float(np.median(cs[j] / ps[i]))
    shift = c.mean(axis=0) - scale * p.mean(axis=0)
    return scale, float(shift[0]), float(shift[1])


def compose(a: Similarity, b: Similarity) -> Similarity:
    """``a`` then ``b``."""
    return b[0] * a[0], b[0] * a[1] + b[1], b[0] * a[2] + b[2]


def inverse(a: Similarity) -> Similarity:
    """The motion that undoes ``a``."""
    return 1 / a[0], -a[1] / a[0], -a[2] / a[0]


def outside(box) -> bool:
    """Whether ``box`` (x0, y0, x1, y1, normalised) lies wholly outside the picture."""
    return box[2] <= 0 or box[3] <= 0 or box[0] >= 1 or box[1] >= 1


def carried(box, sim: Similarity) -> list[float]:
    """``box`` (x0, y0, x1, y1) moved by ``sim``."""
    s, tx, ty = sim
    return [s * box[0] + tx, s * box[1] + ty, s * box[2] + tx, s * box[3] + ty]


class CameraPath:
    """The camera's motion between consecutive analysed frames (those that hold faces, when the
    pixels' motion is not given), built as :func:`tracking.link` walks the frames; :meth:`since`
    chains it from an earlier frame."""

    def __init__(self):
        self._frames: list[int] = []
        self._steps: list[Similarity | None] = []        # motion from the frame before to this one
        self._dets: list = []

    def add(self, frame: int, dets, pixels: Similarity | None = None, every: bool = False) -> None:
        """Add analysed frame ``frame`` and its detections. With ``every`` (the analysis gives the
        camera's motion read from the pixels, ``motion.py``), every analysed frame is added, and
        ``pixels``, the motion from the analysed frame before, is its step where the faces of the
        two frames tell none: fewer than 3 faces, or none (the pan between two groups). Where both
        are known the faces' step is kept, as before: preferring the pixels' linked faces the zoom
        carried out of the picture and back across the gap, and the straight path between their
        two sightings masked the middle of the frame (10.6x the face area on the 2 s labelled
        clips, against 8.39x, before ``unseen.gap_path``)."""
        if not dets and not every:
            return
        step = similarity(self._dets, dets) if self._frames and self._dets else None
        if step is None and every and self._frames:
            step = pixels
        self._frames.append(frame)
        self._steps.append(step)
        self._dets = dets

    def along(self, frame: int, box, horizon: int, forward: bool = True) -> list[list[float]]:
        """``[frame, x0, y0, x1, y1]`` rows: ``box`` at ``frame`` (a frame added) carried along the
        camera's motion to each frame added within ``horizon`` frames after it (before it when
        not ``forward``), as far as the motion is known and the box is in the frame, and the first
        frame it is carried out of: where a still face the detector lost has gone."""
        return [[f, *carried(box, sim)] for f, *sim in self.motions(frame, box, horizon, forward, "out")]

    def motions(self, frame: int, box, horizon: int, forward: bool = True, upto: str = "in") -> list[list[float]]:
        """``[frame, s, tx, ty]`` rows: the camera's motion from ``frame`` (a frame added) to each
        frame added within ``horizon`` frames, as far as it is known and, ``upto``: ``"in"``, the
        box stays in the picture; ``"out"``, and the first frame it is carried out of; ``"all"``,
        wherever it is carried."""
        k = bisect.bisect_left(self._frames, frame)
        if k == len(self._frames) or self._frames[k] != frame:
            return []
        total: Similarity = (1.0, 0.0, 0.0)
        rows = []
        for k2 in (range(k + 1, len(self._frames)) if forward else range(k - 1, -1, -1)):
            step = self._steps[k2 if forward else k2 + 1]
            if abs(self._frames[k2] - frame) > horizon or step is None:
                break
            total = compose(total, step if forward else inverse(step))
            gone = outside(carried(box, total))      # carried out of the frame
            if gone and upto == "in":
                break
            rows.append([self._frames[k2], *total])
            if gone and upto == "out":
                break
        return rows

    def between(self, before: int, after: int) -> Similarity | None:
        """The motion from frame ``before`` to the later frame ``after`` (both added), or None when
        a step between them is unknown."""
        i, j = bisect.bisect_left(self._frames, before), bisect.bisect_left(self._frames, after)
        if j >= len(self._frames) or i > j or self._frames[i] != before or self._frames[j] != after:
            return None
        total: Similarity = (1.0, 0.0, 0.0)
        for step in self._steps[i + 1:j + 1]:
            if step is None:
                return None
            total = compose(total, step)
        return total

    def since(self, frame: int) -> Similarity | None:
        """The motion from ``frame`` (a frame added before) to the last frame added, or None
        when a step between them is unknown."""
        return self.between(frame, self._frames[-1]) if self._frames else None
