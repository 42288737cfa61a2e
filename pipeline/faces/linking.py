"""Linking per-frame face detections into tracks (``Track``: keyframes in normalised coordinates).

Detections are matched to each live track's predicted box (along its own velocity, and along the
camera's motion read from all faces, ``camera.py``) by the assignment of least total centre
distance, within each track's reach (wider for a track of one detection the longer it is unseen:
its speed is unknown) and weighed by it; a track dies after ``max_gap`` frames without a
detection. ``tracking.py`` turns tracks into mask boxes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.core.rows import Rows
from pipeline.faces.camera import CameraPath, carried
from pipeline.faces.detectors.base import Detection
from pipeline.faces.params import PARAMS

MAX_SPEED = PARAMS.max_speed   # cap on extrapolated speed, in box sizes per frame
MATCH_DISTANCE = PARAMS.match_distance   # centre distance, in box sizes, to link a detection to a track
SIZE_RATIO = PARAMS.size_ratio       # largest size change between linked detections
UNSEEN_REACH = PARAMS.unseen_reach   # box sizes a frame the reach of a one-detection track grows unseen


@dataclass
class Track:
    """One face over time: keyframes in normalised coordinates."""

    id: str
    frames: list[int] = field(default_factory=list)
    boxes: list[list[float]] = field(default_factory=list)    # [x0, y0, x1, y1] in 0..1
    scores: list[float] = field(default_factory=list)
    # [frame, x0, y0, x1, y1]: the first / last box carried along the camera's motion (camera.py)
    carry_before: list[list[float]] = field(default_factory=list)
    carry_after: list[list[float]] = field(default_factory=list)
    # [from, frame, s, tx, ty]: across each gap (``unseen.py``), the camera's motion from the keyframe
    # at ``from`` (before or after the gap) to ``frame`` inside it
    carry_gaps: list[list[float]] = field(default_factory=list)
    # keyframes (their frames) next to an unseen stretch (before the first, after the last, either
    # side of a gap) where the face moved as the camera carried it over its step on the other side:
    # a still face in a pan or a zoom (``unseen.with_camera``, ``unseen.gap_path``)
    still: list[int] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    def best(self) -> int:
        """Index of the keyframe with the highest score (the face the reviewer should see)."""
        return int(np.argmax(self.scores))

    def velocity(self, at_end: bool) -> np.ndarray:
        """Per-frame change of the box at one end of the track, capped at ``MAX_SPEED``."""
        if len(self.frames) < 2:
            return np.zeros(4)
        a, b = (-2, -1) if at_end else (0, 1)
        return self.velocity_between(a, b, at_end)

    def velocity_between(self, a: int, b: int, at_b: bool) -> np.ndarray:
        """Per-frame change of the box from keyframe ``a`` to keyframe ``b``, capped at ``MAX_SPEED``
        sizes of the box at ``b`` (``at_b``) or at ``a``."""
        dt = self.frames[b] - self.frames[a]
        v = (np.asarray(self.boxes[b]) - np.asarray(self.boxes[a])) / max(dt, 1)
        cap = MAX_SPEED * max(_size(self.boxes[b if at_b else a]), 1e-6)
        return np.clip(v, -cap, cap)

    def to_dict(self) -> dict:
        out = {"id": self.id, "frames": list(self.frames), "boxes": [[round(v, 5) for v in b] for b in self.boxes],
               "scores": [round(s, 3) for s in self.scores]}
        for k in ("carry_before", "carry_after"):
            if getattr(self, k):
                out[k] = [[int(r[0]), *(round(v, 5) for v in r[1:])] for r in getattr(self, k)]
        if self.carry_gaps:
            out["carry_gaps"] = [[int(r[0]), int(r[1]), *(round(v, 6) for v in r[2:])] for r in self.carry_gaps]
        if len(self.still):
            out["still"] = [int(f) for f in self.still]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Track:
        """A track as stored, its rows in arrays (``core/rows.py``: a long crowd's tracks as lists of
        Python numbers grew the render by 23 MiB a minute of clip)."""
        return cls(d["id"], Rows(d["frames"], np.int64), Rows(d["boxes"], width=4), Rows(d["scores"]),
                   Rows(d.get("carry_before", ()), width=5), Rows(d.get("carry_after", ()), width=5),
                   Rows(d.get("carry_gaps", ()), width=5), [int(f) for f in d.get("still", ())])

GAP = 3                # analysed frames in a row without the face that make a gap in its track (unseen.py)


def gaps(frames, step: int) -> list[int]:
    """Indices ``i`` of the keyframes ``frames`` followed by a gap: at least :data:`GAP` analysed
    frames (one every ``step``) between keyframe ``i`` and keyframe ``i + 1``."""
    return [i for i in range(len(frames) - 1) if frames[i + 1] - frames[i] > GAP * max(step, 1)]


def _size(box) -> float:
    return max(box[2] - box[0], box[3] - box[1])


def _centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def link(detections: dict[int, list[Detection]], max_gap: int, finish=None, consume: bool = False,
         steps: dict | None = None) -> list[Track]:
    """Link per-frame detections (normalised boxes) into tracks.

    Detections are matched to each live track's predicted box by the assignment of least total
    centre distance (greedy nearest-first swapped neighbouring small faces of a group moving
    together, and the interpolation between swapped keyframes then left both uncovered halfway),
    each distance weighed by the track's reach (:func:`_reach`, :func:`_cost`); a track dies
    after ``max_gap`` frames without a detection. Ids are ``t<first frame>-<x%>-<y%>`` so they
    stay the same for the same analysis and never silently point at another face when it changes.

    For a long clip (the analysis): ``consume`` drops each frame's detections from ``detections``
    once linked, and ``finish(track)``, when given, replaces each track once it is complete (the
    analysis turns it into arrays), so the Python lists of every frame never all exist at once.

    ``steps`` (the analysis's, ``lanes.scan_frames``) give the camera's motion to each analysed
    frame read from the pixels: the camera's motion is then known where too few faces tell it.
    """
    tracks: list[Track] = []
    ids: set[str] = set()
    live: list[Track] = []
    path = CameraPath()
    analysed = sorted(detections)
    step = int(min(np.diff(analysed), default=1))       # frames between two analysed frames
    for f in analysed:
        live = [t for t in live if f - t.last <= max_gap]
        dets = sorted(detections.pop(f) if consume else detections[f], key=lambda d: -d.score)
        path.add(f, dets, steps.get(f) if steps is not None else None, every=steps is not None)
        pairs = []
        for ti, t in enumerate(live):
            # where the face should be: along its own velocity, and along the camera's motion
            preds = [np.asarray(t.boxes[-1]) + t.velocity(True) * (f - t.last)]
            sim = path.since(t.last)
            if sim is not None:
                preds.append(np.asarray(carried(t.boxes[-1], sim)))
            best = {}
            reach = _reach(t, f - t.last)
            for pred in preds:
                ps = max(_size(pred), 1e-6)
                pc = _centre(pred)
                for di, d in enumerate(dets):
                    ds = _size(d.box)
                    if not (1 / SIZE_RATIO <= ds / ps <= SIZE_RATIO):
                        continue
                    dc = _centre(d.box)
                    dist = np.hypot(dc[0] - pc[0], dc[1] - pc[1]) / max(ps, ds)
                    if dist <= reach and dist < best.get(di, np.inf):
                        best[di] = dist
            pairs += [(_cost(dist, reach), ti, di) for di, dist in best.items()]
        used_d = set()
        for ti, di in _assignment(pairs):
            used_d.add(di)
            t, d = live[ti], dets[di]
            t.frames.append(f)
            t.boxes.append(list(d.box))
            t.scores.append(d.score)
        for di, d in enumerate(dets):
            if di in used_d:
                continue
            cx, cy = _centre(d.box)
            t = Track(_unique_id(f"t{f:05d}-{round(cx * 100):02d}-{round(cy * 100):02d}", ids),
                      [f], [list(d.box)], [d.score])
            ids.add(t.id)
            tracks.append(t)
            live.append(t)
    for k, t in enumerate(tracks):
        t.carry_before = path.along(t.first, t.boxes[0], max_gap, forward=False)
        t.carry_after = path.along(t.last, t.boxes[-1], max_gap)
        n = len(t.frames)
        sides = [(0, 1), (n - 1, n - 2)]
        for i in gaps(t.frames, step):          # the face was looked for and not found: an end, then a start
            a, b = t.frames[i], t.frames[i + 1]
            t.carry_gaps += [[a, *r] for r in path.motions(a, t.boxes[i], b - a - 1, upto="all")]
            t.carry_gaps += [[b, *r] for r in path.motions(b, t.boxes[i + 1], b - a - 1, forward=False, upto="all")]
            sides += [(i, i - 1), (i + 1, i + 2)]
        t.still = sorted({t.frames[k] for k, near in sides if 0 <= near < n and _still(path, t, min(k, near), max(k, near))})
        if finish is not None:
            tracks[k] = finish(t)
    return tracks


def _still(path: CameraPath, track: Track, a: int, b: int) -> bool:
    """Whether the face moved from keyframe ``a`` to keyframe ``b`` of ``track`` as the camera's
    motion between them carried it, to within the speed cap (``MAX_SPEED`` of its sizes a frame):
    a still face in a pan or a zoom, however fast the camera went."""
    fa, fb = track.frames[a], track.frames[b]
    sim = path.between(fa, fb)
    if sim is None:
        return False
    off = np.abs(np.asarray(carried(track.boxes[a], sim)) - np.asarray(track.boxes[b]))
    return bool((off <= MAX_SPEED * max(_size(track.boxes[b]), 1e-6) * (fb - fa)).all())


def _reach(track: Track, age: int) -> float:
    """How far (box sizes) a detection may lie from ``track``'s predicted box ``age`` frames after
    its last detection: ``MATCH_DISTANCE``, and for a track of one detection, whose speed is not
    known yet, ``UNSEEN_REACH`` more per frame unseen after the first (every frame: unchanged; 6
    frames apart, a jogger is 0.9 of his sizes from his first box, past the 0.8 of one frame)."""
    if len(track.frames) >= 2:
        return MATCH_DISTANCE
    return MATCH_DISTANCE + UNSEEN_REACH * max(age - 1, 0)


def _cost(dist: float, reach: float) -> float:
    """A pair's cost in the assignment: the distance in units of the track's reach (the distance
    itself at ``MATCH_DISTANCE``), plus the price of a wider reach, ``MATCH_DISTANCE * ln(reach /
    MATCH_DISTANCE)`` (a Gaussian likelihood's log-determinant): a track unseen for long, whose
    face could be anywhere by now, explains a detection worse than a track whose prediction is
    sharp, even when its old box is nearer (a jogger running back through the place he was first
    seen 1.2 s before gave that detection to his first, stale box and cut his own track)."""
    return dist * MATCH_DISTANCE / reach + MATCH_DISTANCE * float(np.log(reach / MATCH_DISTANCE))


def _assignment(pairs: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """``(track, detection)`` pairs from the allowed ``(distance, track, detection)`` pairs: the
    most pairs, then the least total distance (Hungarian method on the pairs' rows and columns)."""
    if not pairs:
        return []
    rows = sorted({t for _, t, _ in pairs})
    cols = sorted({d for _, _, d in pairs})
    n = max(len(rows), len(cols))
    big = 1e6                                   # a forbidden pair: used only when nothing else fits
    cost = np.full((n, n), big)
    for dist, t, d in pairs:
        cost[rows.index(t), cols.index(d)] = dist
    match = _hungarian(cost)
    return [(rows[r], cols[c]) for r, c in enumerate(match)
            if r < len(rows) and c < len(cols) and cost[r, c] < big]


def _hungarian(cost: np.ndarray) -> list[int]:
    """Column assigned to each row of a square cost matrix, least total cost (O(n^3))."""
    n = cost.shape[0]
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    p, way = np.zeros(n + 1, dtype=int), np.zeros(n + 1, dtype=int)
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv = np.full(n + 1, np.inf)
        used = np.zeros(n + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            free = ~used[1:]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    out = [0] * n
    for j in range(1, n + 1):
        out[p[j] - 1] = j - 1
    return out


def _unique_id(base: str, ids: set[str]) -> str:
    if base not in ids:
        return base
    n = 2
    while f"{base}-{n}" in ids:
        n += 1
    return f"{base}-{n}"
