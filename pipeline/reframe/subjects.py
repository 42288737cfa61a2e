"""Who is in a shot and who matters: face tracks turned into per-frame subjects for ``follow``.

A person split into several short tracks by a fast move is one :class:`Chain` again; keyframes
that one wrong detection would move are replaced by their neighbours' median (a repair is only
ever triggered by a move the next detections confirm). :func:`required` gives, per frame, the
span of the frame the faces that matter need, with their margin.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.core.rows import Rows
from pipeline.reframe.options import FRAMING

OPT = FRAMING.subjects   # margins, who matters, track linking (options.SubjectOptions)


@dataclass
class Subjects:
    """Face boxes of one section, per frame: x extents (fractions of the width), NaN where absent."""

    x0: np.ndarray   # (tracks, frames)
    x1: np.ndarray
    h: np.ndarray    # heights, for importance
    y0: np.ndarray | None = None   # top edges (fractions of the height), for stacked panels
    ids: tuple = ()                # track ids of each row (tracks chained into one person)
    # for the containment check: x extents not smoothed (a smoothed box lags a sudden move), and how
    # far the true box may be from them between two detections (a change of speed between them)
    rx0: np.ndarray | None = None
    rx1: np.ndarray | None = None
    slack: np.ndarray | None = None

    @property
    def empty(self) -> bool:
        return self.x0.shape[0] == 0


def robust_keyframes(frames: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Running median of the keyframe boxes over 3 detections (5 when detections are
    ``median_reach`` frames apart or closer: every frame): a box that jumps on one detection and
    comes back (a detection error) is dropped, a move that the next detections confirm is kept as
    it is (a median does not bend a monotonic run). Five detections 2 frames apart span 8 frames, and
    a person turning back within them (a jogger, an erratic walk) was taken for a detection error."""
    n = len(frames)
    if n < 3:
        return boxes
    half = 2 if np.median(np.diff(frames)) <= OPT.median_reach else 1
    out = boxes.copy()
    idx = np.arange(n)
    reach = np.minimum(np.minimum(idx, n - 1 - idx), half)      # the window shrinks at both ends
    for k in range(1, half + 1):
        at = idx[reach == k]
        if at.size:                                              # all windows of 2k+1 boxes at once
            out[at] = np.median(sliding_window_view(boxes, 2 * k + 1, axis=0)[at - k], axis=-1)
    return out


def _slack(frames: np.ndarray, kf: np.ndarray, kb: np.ndarray) -> np.ndarray:
    """Per frame, the largest error of linear interpolation between keyframes when the speed changes
    between them by as much as it does from one interval to the next: ``dv * d * (L - d) / L``."""
    if len(kf) < 2:
        return np.zeros(len(frames))
    cx = (kb[:, 0] + kb[:, 2]) / 2
    gap = np.maximum(np.diff(kf), 1)
    v = np.diff(cx) / gap
    dv = np.abs(np.diff(v))
    change = np.zeros(len(v))
    if len(dv):
        change[:-1] = dv
        change[1:] = np.maximum(change[1:], dv)
    i = np.clip(np.searchsorted(kf, frames, side="right") - 1, 0, len(v) - 1)
    d = np.clip(frames - kf[i], 0, gap[i])
    return np.where((frames >= kf[0]) & (frames <= kf[-1]), change[i] * d * (gap[i] - d) / gap[i], 0.0)


@dataclass
class Chain:
    """Face tracks that are one person for framing: a fast move makes the tracker lose a face
    between two detections and start a new track; framing needs the person, not the track."""

    id: str
    ids: tuple
    frames: list          # while chaining; then in arrays, read as lists (core/rows.py)
    boxes: list


def chain(tracks) -> list[Chain]:
    """Link each track to one that ended shortly before it, near where that one was heading.

    Tracks are taken by their first frame, so a chain that ended more than ``link_gap`` frames
    before one track's start can take no later track: only the chains still open are compared
    (in the order they were made, as all of them were), which keeps a long clip's thousands of
    tracks linear to chain."""
    chains: list[Chain] = []
    open_: list[Chain] = []
    for t in sorted(tracks, key=lambda t: t.frames[0]):
        b0 = np.asarray(t.boxes[0], dtype=np.float64)
        best, best_d = None, np.inf
        still, ended = [], []
        for c in open_:
            (still if t.frames[0] - c.frames[-1] <= OPT.link_gap else ended).append(c)
        _close(ended)
        open_ = still
        for c in open_:
            gap = t.frames[0] - c.frames[-1]
            if gap <= 0:
                continue
            last = np.asarray(c.boxes[-1], dtype=np.float64)
            size = (b0[3] - b0[1]) / max(last[3] - last[1], 1e-6)
            d = abs((b0[0] + b0[2]) - (last[0] + last[2])) / 2
            if 1 / OPT.link_size <= size <= OPT.link_size and d <= OPT.link_speed * gap and d < best_d:
                best, best_d = c, d
        if best is None:
            chains.append(Chain(t.id, (t.id,), list(t.frames), [list(b) for b in t.boxes]))
            open_.append(chains[-1])
        else:
            best.ids += (t.id,)
            best.frames += list(t.frames)
            best.boxes += [list(b) for b in t.boxes]
    _close(open_)
    return chains


def _close(chains) -> None:
    """A chain that can take no more tracks keeps its keyframes in arrays (``core/rows.py``): a
    10-minute crowd's chains, held with the tracks through the render, took 60 MiB as lists."""
    for c in chains:
        c.frames, c.boxes = Rows(c.frames, np.int64), Rows(c.boxes, width=4)


_last_chains: list = []      # the last clip's tracks (kept, so their ids stay theirs), their key, their chains


def chained(tracks) -> list[Chain]:
    """:func:`chain` of ``tracks``, made once for the many sections of one clip (``follow`` and
    ``speaker`` ask for every shot: chaining a long clip's tracks for each made the planning grow
    as the square of its length). The same track objects with the same keyframe spans give the
    chains made before."""
    key = tuple((id(t), len(t.frames), t.frames[0], t.frames[-1]) for t in tracks)
    if not _last_chains or _last_chains[1] != key:
        _last_chains[:] = [list(tracks), key, chain(tracks)]
    return _last_chains[2]


def on_screen(chain) -> tuple[int, int]:
    """First and last frame a person counts in a section: ``hold`` frames past its detections."""
    return chain.frames[0] - OPT.hold, chain.frames[-1] + OPT.hold


def meets(span: tuple[int, int], start: int, end: int) -> bool:
    """Whether a person on screen over ``span`` (:func:`on_screen`) is in frames ``[start, end)``."""
    return span[1] >= start and span[0] < end


def subjects(tracks, start: int, end: int) -> Subjects:
    """Boxes of each face track over frames ``[start, end)``: keyframes cleared of one-off jumps
    (:func:`robust_keyframes`), interpolated, lightly smoothed, held ``hold`` frames past each end,
    NaN elsewhere.

    The rows are written in place, each over its own span only (and the smoothing's reach beyond
    it): a long shot holds many tracks, each on screen a short while, and a full-length row per
    track and value, copied once more into the table, made the work and the memory grow as the
    square of the shot's length. The table itself is the only (tracks x frames) array made."""
    n = end - start
    near = [t for t in chained(tracks) if meets(on_screen(t), start, end)]
    values = np.full((7, len(near), n), np.nan)     # x0, x1, h, y0 (smoothed); rx0, rx1, slack (raw)
    reach = OPT.box_smooth // 2, OPT.box_smooth - 1 - OPT.box_smooth // 2   # the box filter's reach
    for row, t in enumerate(near):
        kf = np.asarray(t.frames)
        kb = robust_keyframes(kf, np.asarray(t.boxes, dtype=np.float64))
        a, b = max(start, kf[0] - OPT.hold), min(end, kf[-1] + OPT.hold + 1)      # where it is on screen
        lo, hi = max(start, a - reach[0]), min(end, b + reach[1])                  # ... and what smooths it
        frames = np.arange(lo, hi)
        cols = [np.interp(np.clip(frames, kf[0], kf[-1]), kf, kb[:, j]) for j in range(4)]
        on = slice(a - lo, b - lo)
        values[4:, row, a - start:b - start] = [cols[0][on], cols[2][on], _slack(frames[on], kf, kb)]
        cols = [smooth(c, OPT.box_smooth) for c in cols]
        values[:4, row, a - start:b - start] = [cols[0][on], cols[2][on], (cols[3] - cols[1])[on], cols[1][on]]
    x0, x1, h, y0, rx0, rx1, slack = values
    return Subjects(x0, x1, h, y0, tuple(t.ids for t in near), rx0, rx1, slack)


def smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Box filter of ``k`` frames, edges held."""
    if k <= 1 or len(x) < 2:
        return x.copy()
    pad = k // 2
    xp = np.pad(x, (pad, k - 1 - pad), mode="edge")
    return np.convolve(xp, np.ones(k) / k, mode="valid")


def who_matters(subj: Subjects, pin: str | None = None, speaker: str | None = None
                ) -> tuple[np.ndarray, int, np.ndarray]:
    """Per track and frame whether it is on screen; the main face; and per track whether it matters
    (big enough and present enough beside the main one). The main face is the track ``pin`` when it
    is in the section (then it alone matters: a person chose it); else the track ``speaker`` (the
    face that speaks, :mod:`pipeline.reframe.speaker`); else the largest and most central over the
    section: the most height x frames, each frame weighted by how near the middle the face is."""
    main, how = main_face(subj, pin, speaker)
    present = ~np.isnan(subj.x0)
    if how == "pinned":
        return present, main, np.arange(subj.x0.shape[0]) == main
    h = np.where(present, subj.h, 0.0)
    presence = h.sum(axis=1)
    med = np.array([np.median(subj.h[i][present[i]]) if present[i].any() else 0.0 for i in range(len(presence))])
    return present, main, (presence >= OPT.matter_presence * presence[main]) & (med >= OPT.matter_size * med[main])


def main_face(subj: Subjects, pin: str | None = None, speaker: str | None = None) -> tuple[int, str]:
    """Row of the main face and why: ``pinned`` (``[[reframe_spans]]`` track), ``speaks`` or
    ``largest`` (largest and most central: see :func:`who_matters`)."""
    for want, how in ((pin, "pinned"), (speaker, "speaks")):
        rows = [k for k, ids in enumerate(subj.ids) if want is not None and want in ids]
        if rows:
            return rows[0], how
    present = ~np.isnan(subj.x0)
    with np.errstate(invalid="ignore"):
        off = np.abs((subj.x0 + subj.x1) / 2 - 0.5)
    weight = np.where(present, subj.h * (1.0 - OPT.centre_weight * np.nan_to_num(off)), 0.0)
    return int(np.argmax(weight.sum(axis=1))), "largest"


def required(subj: Subjects, c: float, pin: str | None = None, speaker: str | None = None
             ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per frame: the extent ``[u0, u1]`` that must be inside a window ``c`` wide (NaN where no
    face matters), and whether the shot must be shown whole (the faces that matter overflow the
    window too often). The main face is :func:`who_matters`'s."""
    lo, hi, too_wide = subject_extent(subj, c, pin, speaker)
    seen = ~np.isnan(lo)
    return lo, hi, bool(seen.any() and too_wide.sum() > OPT.fit_share * seen.sum())


def subject_extent(subj: Subjects, c: float, pin: str | None = None, speaker: str | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`required`'s extent, and per frame whether the faces that matter overflow the window."""
    present, main, matters = who_matters(subj, pin, speaker)
    sel = present & matters[:, None]
    lo = np.where(sel, subj.x0, np.inf).min(axis=0)
    hi = np.where(sel, subj.x1, -np.inf).max(axis=0)
    seen = np.isfinite(lo)
    too_wide = seen & (hi - lo > OPT.fit_width * c)
    # where the group overflows, keep the main face rather than nobody
    use_main = too_wide & present[main]
    lo = np.where(use_main, subj.x0[main], lo)
    hi = np.where(use_main, subj.x1[main], hi)
    # room beside the faces: ``margin`` face widths, as far as the window allows
    widths = np.where(sel, subj.x1 - subj.x0, 0.0)
    face_w = widths.sum(axis=0) / np.maximum(sel.sum(axis=0), 1)
    with np.errstate(invalid="ignore"):
        room = np.clip(np.minimum(OPT.margin * face_w, (c - (hi - lo)) / 2), 0.0, None)
    lo = np.where(seen, lo - room, np.nan)
    hi = np.where(seen, hi + room, np.nan)
    return lo, hi, too_wide
