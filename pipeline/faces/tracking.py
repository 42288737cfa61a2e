"""The mask box of each face track at any frame (tracks are linked in ``linking.py``).

Detections arrive on every k-th frame (and small faces only on tile frames). A track keeps its
keyframes (frame, raw box, score) in normalised 0..1 coordinates of the clip frame. The mask box at
frame ``i`` is then:

- between two keyframes: linear interpolation, grown by ``GROWTH`` per frame of distance to the
  nearest keyframe, so a face that moves unevenly between detections stays inside; between two
  keyframes that jumped (more than ``JUMP`` box sizes a frame; a small face's: more than ``SWAP``
  box sizes in all, it may have been swapped with a neighbour), the path swept ``SWEEP`` of the
  way either side, and both keyframe boxes as boxes of their own;
- up to ``extend`` frames before the first / after the last keyframe, never across a shot cut:
  the end box carried along the track's velocity (a small face's, whose velocity is noise, or a
  face faster than the speed cap: its union with the held end box), growing the same way; and,
  as a box of its own, the end box carried along the camera's motion (``camera.py``);
- made at least ``MIN_ASPECT`` times as tall as wide, then padded ``pad`` times around its centre.

Nothing is ever left out between detections, so detecting every k-th frame cannot open a gap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.faces.linking import MATCH_DISTANCE, MAX_SPEED, SIZE_RATIO, Track, link  # noqa: F401 (read from here)
from pipeline.faces.params import PARAMS
from pipeline.faces.unseen import (  # noqa: F401 (HOLD_BELOW, SWEEP read from here)
    HOLD_BELOW,
    SWEEP,
    across_gaps,
    along_camera,
    followed,
    gap_path,
    moved,
    shot,
    swept,
    with_camera,
)
from pipeline.source.normalize import FPS

GROWTH = 0.02          # box growth per frame away from a detection (uncertainty of the motion)
JUMP = 0.2             # box sizes a frame between keyframes beyond which the frames between take both boxes
UNION_SLACK = PARAMS.union_slack   # overlapping face boxes join when their union is at most this x both areas
WEAK_SCORE = 0.5       # a detection scoring under this is placed less precisely ...
WEAK_GROWTH = 0.5      # ... and its box grows by up to this share (score 0): 1.2x at the 0.3 threshold
EDGE = 0.015           # a box this close to the frame border (a few detector pixels) belongs to a cut face
CUT_GROWTH = 1.25      # a cut face's box is given this much more than the track's whole-face size
MIN_ASPECT = 1.2       # a face box is at least 1.2 times as tall as wide (small detections come out squat)
SWAP = 0.3             # two keyframes of a small face that moved more than this many of its sizes may belong
                       # to two neighbours, swapped (a group of faces 12 px tall): both boxes are kept between
JOIN_OVERLAP = 0.5     # overlapping face boxes join only when they share this share of the smaller one
CHUNK = 256            # frames of mask boxes computed at once
CHUNKS = 4             # chunks a FaceTracks keeps (the most recently made)


def _span(track: Track, extend: int, frame_count: int, cuts: tuple[int, ...] = (), step: int = 1) -> tuple[int, int]:
    """First and last frame at which ``track`` is masked in a clip of ``frame_count`` frames. The
    extension stops at a shot cut: a face does not go on across a cut (the frames after a cut get
    fresh passes, ``turns.py``). ``cuts`` are the analysed frames that start a shot; with
    ``step`` (``detect_every``) > 1 the cut lies somewhere after the analysed frame before it, so
    the frames between count as either shot's."""
    lo, hi = max(0, track.first - extend), min(max(frame_count - 1, track.last), track.last + extend)
    return int(max(lo, shot(track.first, cuts, step)[0])), int(min(hi, shot(track.last, cuts, step)[1]))

def _grow(boxes: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Scale boxes (N, 4) about their centres by ``factor`` (N,)."""
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    hw = (boxes[:, 2] - boxes[:, 0]) / 2 * factor
    hh = (boxes[:, 3] - boxes[:, 1]) / 2 * factor
    return np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1)


def track_boxes(track: Track, pad: float, extend: int, frame_count: int,
                window: tuple[int, int] | None = None, cuts: tuple[int, ...] = (),
                step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices and padded mask boxes (N, 4) of ``track`` over its extended span (ended at
    the shot ``cuts``, see :func:`_span`), or over the part of it inside ``window`` (``[first,
    last]`` frames): every step is per frame, so a window gives exactly the boxes the whole span
    gives at those frames."""
    kf = np.asarray(track.frames)
    kb = _unclipped(np.asarray(track.boxes, dtype=np.float64))
    lo, hi = _span(track, extend, frame_count, cuts, step)
    if window is not None:
        lo, hi = max(lo, window[0]), min(hi, window[1])
    frames = np.arange(lo, hi + 1)
    if not len(frames):
        return frames, np.zeros((0, 4))
    inside = np.clip(frames, kf[0], kf[-1])
    boxes = np.stack([np.interp(inside, kf, kb[:, j]) for j in range(4)], axis=1)
    boxes, extra, at = _jumps_covered(boxes, inside, kf, kb)
    for idx, path in gap_path(track, kb, frames, cuts, step):   # a still face through a gap: the camera's path
        boxes[idx] = path
    # distance to the nearest keyframe: how far the box was guessed
    pos = np.searchsorted(kf, frames)
    prev_d = np.abs(frames - kf[np.clip(pos - 1, 0, len(kf) - 1)])
    next_d = np.abs(kf[np.clip(pos, 0, len(kf) - 1)] - frames)
    dist = np.minimum(prev_d, next_d).astype(np.float64)
    # beyond the ends: the end box carried along the velocity (a small face's: its union with the
    # held end box); and, as a box of its own (their union would span the frame in a fast pan),
    # the end box carried along the camera's motion (camera.py)
    n = len(kf)
    for mask, k, near, carry in ((frames < kf[0], 0, 1, track.carry_before),
                                 (frames > kf[-1], n - 1, n - 2, track.carry_after)):
        if mask.any():
            follow = n > 1 and followed(track, min(k, near), max(k, near), k > 0)
            boxes[mask] = moved(frames[mask] - kf[k], kb[k], track.velocity(k > 0), follow)
            lo, hi = with_camera(track, k, near, carry) if not follow and len(carry) else (1, 0)
            still = np.flatnonzero(mask & (frames >= lo) & (frames <= hi))
            if len(still):      # a still face the camera carries: followed, not held (unseen.with_camera)
                boxes[still] = moved(frames[still] - kf[k], kb[k], track.velocity(k > 0), True)
            if carry:
                sel, carried = along_camera(frames[mask], kf[k], kb[k], carry)
                extra.append(carried)
                at.append(np.flatnonzero(mask)[sel])
    # a weak detection is placed less precisely (a low-scored box slides down a face in a crowd)
    scores = np.asarray(track.scores, dtype=np.float64)
    weak = 1.0 + WEAK_GROWTH * np.clip((WEAK_SCORE - scores) / WEAK_SCORE, 0.0, 1.0)
    scale = pad * (1.0 + GROWTH * dist) * np.interp(inside, kf, weak)
    grown = [scale[idx] for idx in at]
    # across a gap (the face looked for and not found): an end, then a start (unseen.py)
    for sel, carried, away, k in across_gaps(track, kb, frames, extend, cuts, step):
        extra.append(carried)
        at.append(sel)
        grown.append(pad * (1.0 + GROWTH * away) * weak[k])
    if extra:                  # rows in frame order, the carried box after the frame's other box
        idx = np.concatenate(at)
        order = np.argsort(np.r_[np.arange(len(frames)), idx], kind="stable")
        frames = np.r_[frames, frames[idx]][order]
        boxes = np.concatenate([boxes, *extra])[order]
        scale = np.concatenate([scale, *grown])[order]
    return frames, _grow(_upright(boxes), scale)


def _jumps_covered(boxes: np.ndarray, inside: np.ndarray, kf: np.ndarray, kb: np.ndarray):
    """Between two keyframes whose boxes moved more than :data:`JUMP` box sizes a frame, the face
    moved unevenly or the two are neighbours of a crowd, swapped. The frames in between take the
    path swept from :data:`SWEEP` of the way before to as far after the interpolated box, and, as
    boxes of their own, both keyframes' boxes (a swapped neighbour stayed where it was). The union
    of both boxes, drawn before, spans the frame in a fast pan (a box 60 faces wide for a face
    moving 4 of its sizes a frame). Returns the boxes and the extra rows' boxes and indices."""
    extra, at = [], []
    if len(kf) < 2:
        return boxes, extra, at
    gap = np.diff(kf)
    size = np.maximum(np.maximum(kb[:, 2] - kb[:, 0], kb[:, 3] - kb[:, 1]), 1e-6)
    centre = (kb[:, :2] + kb[:, 2:]) / 2
    moved = np.hypot(*(centre[1:] - centre[:-1]).T) / np.minimum(size[1:], size[:-1])
    tiny = np.maximum(kb[1:, 3] - kb[1:, 1], kb[:-1, 3] - kb[:-1, 1]) < HOLD_BELOW
    jumps = np.nonzero((gap > 1) & ((moved > JUMP * gap) | (tiny & (moved > SWAP))))[0]
    for i in jumps:
        between = np.flatnonzero((inside > kf[i]) & (inside < kf[i + 1]))
        boxes[between] = swept(inside[between].astype(float), kf[i:i + 2].astype(float), kb[i:i + 2])
        extra += [np.broadcast_to(kb[i], (len(between), 4)), np.broadcast_to(kb[i + 1], (len(between), 4))]
        at += [between, between]
    return boxes, extra, at


def _unclipped(kb: np.ndarray) -> np.ndarray:
    """A face cut by the frame edge is detected smaller than it is: give such keyframes the
    track's full size, grown outwards past the edge (the box of a face leaving the frame)."""
    w, h = kb[:, 2] - kb[:, 0], kb[:, 3] - kb[:, 1]
    touch = np.stack([kb[:, 0] <= EDGE, kb[:, 1] <= EDGE, kb[:, 2] >= 1 - EDGE, kb[:, 3] >= 1 - EDGE], axis=1)
    if not touch.any():
        return kb
    whole = ~touch.any(axis=1)
    rw, rh = (np.median(w[whole]), np.median(h[whole])) if whole.any() else (w.max(), h.max())
    rw, rh = rw * CUT_GROWTH, rh * CUT_GROWTH          # a half face also shifts the detected centre
    out = kb.copy()
    # the side along the edge is unreliable too: widen it about its centre to the track's size
    cut = touch.any(axis=1)
    cx, cy = (kb[:, 0] + kb[:, 2]) / 2, (kb[:, 1] + kb[:, 3]) / 2
    along_x = cut & ~touch[:, 0] & ~touch[:, 2]
    along_y = cut & ~touch[:, 1] & ~touch[:, 3]
    out[along_x, 0] = np.minimum(kb[along_x, 0], cx[along_x] - rw / 2)
    out[along_x, 2] = np.maximum(kb[along_x, 2], cx[along_x] + rw / 2)
    out[along_y, 1] = np.minimum(kb[along_y, 1], cy[along_y] - rh / 2)
    out[along_y, 3] = np.maximum(kb[along_y, 3], cy[along_y] + rh / 2)
    kb = out.copy()
    out[:, 0] = np.where(touch[:, 0], np.minimum(kb[:, 0], kb[:, 2] - rw), kb[:, 0])
    out[:, 1] = np.where(touch[:, 1], np.minimum(kb[:, 1], kb[:, 3] - rh), kb[:, 1])
    out[:, 2] = np.where(touch[:, 2], np.maximum(kb[:, 2], kb[:, 0] + rw), kb[:, 2])
    out[:, 3] = np.where(touch[:, 3], np.maximum(kb[:, 3], kb[:, 1] + rh), kb[:, 3])
    return out


def _upright(boxes: np.ndarray) -> np.ndarray:
    """Stretch boxes vertically about their centre to at least ``MIN_ASPECT`` height/width."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    extra = np.maximum(MIN_ASPECT * w - h, 0) / 2
    out = boxes.copy()
    out[:, 1] -= extra
    out[:, 3] += extra
    return out


@dataclass
class FaceTracks:
    """The face tracks of one clip, and the mask boxes at any frame of the normalised clip.

    Frame ``i`` is the picture at ``start + i / FPS`` seconds of the clip file, in analysis and in
    render alike. Boxes are normalised (0..1) to the normalised clip frame.
    """

    clip: str                                # file name; masks.toml refers to clips by it
    start: float                             # seconds of the clip file at frame 0
    frame_count: int
    tracks: list[Track] = field(default_factory=list)
    pad: float = 1.5
    extend: int = 15
    detector: str = "centerface"
    model_sha256: str = ""
    disabled: bool = False                   # method "none": no face detection ran
    analysis: dict = field(default_factory=dict)

    def __post_init__(self):
        self._chunks: dict[int, list[list[tuple[str, tuple]]]] = {}   # first frame -> rows, oldest first
        self._spans: np.ndarray | None = None      # (tracks, 2): first and last masked frame of each
        self._n: int | None = None                 # frames the boxes are defined on

    # -- serialisation ---------------------------------------------------------------------------
    def to_dict(self, compact: bool = False) -> dict:
        """As stored; ``compact``: the tracks left as objects, each turned into a dict only when
        ``cache.store`` writes it (a 10-minute crowd's tracks as lists take 230 MiB)."""
        return {"clip": self.clip, "start": self.start, "frame_count": self.frame_count,
                "pad": self.pad, "extend": self.extend, "detector": self.detector,
                "model_sha256": self.model_sha256, "disabled": self.disabled, "analysis": self.analysis,
                "tracks": list(self.tracks) if compact else [t.to_dict() for t in self.tracks]}

    @classmethod
    def from_dict(cls, d: dict) -> FaceTracks:
        return cls(d["clip"], float(d["start"]), int(d["frame_count"]), [Track.from_dict(t) for t in d["tracks"]],
                   float(d["pad"]), int(d["extend"]), d.get("detector", "centerface"), d.get("model_sha256", ""),
                   bool(d.get("disabled", False)), dict(d.get("analysis", {})))

    # -- boxes -----------------------------------------------------------------------------------
    def time_of(self, frame_index: int) -> float:
        return self.start + frame_index / FPS

    @property
    def cuts(self) -> tuple[int, ...]:
        """Analysed frames that start a shot (``turns.py``), where every track's extension stops."""
        return tuple(sorted((self.analysis or {}).get("turns", {}).get("cut_frames", ())))

    @property
    def step(self) -> int:
        return int((self.analysis or {}).get("detect_every", 1))

    def track_span(self, track: Track) -> tuple[int, int]:
        """First and last frame at which ``track`` is masked (time extension included)."""
        return _span(track, self.extend, self.frame_count, self.cuts, self.step)

    def _length(self) -> int:
        """Frames the boxes are defined on (indices past it are clamped to its last frame)."""
        if self._n is None:
            self._n = max(self.frame_count, 1 + max((t.last for t in self.tracks), default=0))
        return self._n

    def _rows(self, first: int) -> list[list[tuple[str, tuple]]]:
        """``(track id, box)`` rows of the ``CHUNK`` frames from ``first``. Only the last ``CHUNKS``
        chunks made are kept, so memory does not grow with the clip (a table of every frame of a
        10-minute crowd held hundreds of thousands of boxes); renders and audits read in order."""
        rows = self._chunks.get(first)
        if rows is not None:
            return rows
        n = self._length()
        if self._spans is None:
            self._spans = np.array([_span(t, self.extend, n, self.cuts, self.step) for t in self.tracks],
                                   dtype=np.int64).reshape(-1, 2)
        last = min(n, first + CHUNK) - 1
        rows = [[] for _ in range(last - first + 1)]
        for k in np.flatnonzero((self._spans[:, 1] >= first) & (self._spans[:, 0] <= last)).tolist():
            t = self.tracks[k]
            frames, boxes = track_boxes(t, self.pad, self.extend, n, (first, last), self.cuts, self.step)
            for f, box in zip(frames.tolist(), boxes.tolist()):
                rows[f - first].append((t.id, tuple(box)))
        self._chunks[first] = rows
        while len(self._chunks) > CHUNKS:   # the oldest goes (another thread may have taken it already)
            self._chunks.pop(next(iter(self._chunks), None), None)
        return rows

    def track_boxes_at(self, frame_index: int) -> list[tuple[str, tuple[float, float, float, float]]]:
        """``(track id, padded box)`` of every face masked at ``frame_index``, before overrides."""
        i = min(max(frame_index, 0), self._length() - 1)
        return list(self._rows(i - i % CHUNK)[i % CHUNK])

    def boxes_at(self, frame_index: int, overrides=None) -> list[tuple[float, float, float, float]]:
        """Mask boxes at ``frame_index`` (normalised, padded, time-extended, overrides applied).

        Indices past either end are clamped to the nearest analysed frame: a frame is never left
        unmasked because of rounding between analysis and render. ``overrides`` is a
        :class:`pipeline.faces.overrides.MaskOverrides`; only its entries for this clip apply.
        """
        faces = self.track_boxes_at(frame_index)
        if overrides is None:
            return joined([b for _, b in faces])
        return joined(overrides.apply(self, frame_index, faces))


def joined(boxes: list) -> list:
    """Face boxes that overlap by half the smaller one become their union where it is at most
    ``UNION_SLACK`` times their areas together: one face found by two tracks (or a track's second
    box) is masked once, with
    the cells of one mosaic, not cut into finer cells by a second mosaic over the first. Boxes
    the reviewer drew (:class:`Whole`) and faces kept visible (already left out) are untouched.
    The first joinable pair (in order) joins first, again and again (a crowd: a few ms a frame)."""
    faces = np.array([b for b in boxes if type(b) is tuple], dtype=np.float64).reshape(-1, 4)
    if len(faces) < 2:
        return list(boxes)
    ok = _joinable(faces, faces)
    np.fill_diagonal(ok, False)
    while True:
        upper = np.triu(ok, 1)
        if not upper.any():
            break
        i, j = divmod(int(np.argmax(upper)), len(faces))
        faces[i] = np.r_[np.minimum(faces[i, :2], faces[j, :2]), np.maximum(faces[i, 2:], faces[j, 2:])]
        faces = np.delete(faces, j, axis=0)
        ok = np.delete(np.delete(ok, j, axis=0), j, axis=1)
        ok[i] = ok[:, i] = _joinable(faces[i:i + 1], faces)[0]
        ok[i, i] = False
    return [tuple(f) for f in faces.tolist()] + [b for b in boxes if type(b) is not tuple]


def _joinable(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)): the boxes share at least ``JOIN_OVERLAP`` of the smaller one (one face
    found twice; two neighbours' padded boxes touch at their margins and stay apart) and their
    union is at most ``UNION_SLACK`` x both areas."""
    lo = np.minimum(a[:, None, :2], b[None, :, :2])
    hi = np.maximum(a[:, None, 2:], b[None, :, 2:])
    union = np.prod(np.maximum(hi - lo, 0), axis=2)
    inner = np.prod(np.maximum(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0),
                    axis=2)
    area_a, area_b = _box_area(a)[:, None], _box_area(b)[None, :]
    return ((inner > 0) & (inner >= JOIN_OVERLAP * np.minimum(area_a, area_b))
            & (union <= UNION_SLACK * (area_a + area_b)))


def _box_area(b: np.ndarray) -> np.ndarray:
    return np.maximum(b[:, 2] - b[:, 0], 0.0) * np.maximum(b[:, 3] - b[:, 1], 0.0)
