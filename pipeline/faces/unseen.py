"""Where a track's face was not seen: before its first keyframe, after its last, and across a gap.

Beyond an end of a track (``tracking.track_boxes``) the end box is carried along the track's
velocity and, as a box of its own, along the camera's motion (``camera.py``). A gap between two
keyframes is the same thing in the middle of a track: the face was looked for on :data:`GAP` or
more analysed frames in a row and not found (it left the frame, turned away, was hidden) and came
back. Interpolating straight between the two keyframes put the mask where the face never was: a
face leaving a fast zoom at the right edge and re-entering half visible (too cut to be detected)
was masked 200 px left of itself on the frame it re-entered. So a gap is treated as an end
followed by a start: on top of the interpolation, the box before the gap is carried forward and
the box after it carried back, each along the track's velocity (when it can be followed), along
the camera's motion and, one analysed frame into the gap, as the face moved on its side (uncapped:
the camera's motion read from a few faces of noisy sizes in a fast zoom can be off by most of a
face's own), up to ``extend`` frames from its keyframe and never across a shot cut, as the ends
are. A keyframe on every 2nd frame (``detect_every``, the small faces'
looks) is no gap: the frames between were not looked at.
"""
from __future__ import annotations

import bisect
import math

import numpy as np

from pipeline.faces.camera import carried, outside
from pipeline.faces.linking import GAP, Track, gaps
from pipeline.faces.params import PARAMS

HOLD_BELOW = 0.05      # beyond its ends, a face under this share of the frame's height is also held where it
                       # was last seen: its velocity, from boxes a few detector pixels tall, is mostly noise. A
                       # larger face moving under the speed cap is followed along its velocity alone: holding
                       # its box as well masked the path between (a face leaving a zooming frame: a wide band)
SWEEP = PARAMS.jump_sweep   # between known boxes of a fast face, the path swept this share either side


def shot(frame: int, cuts: tuple[int, ...], step: int) -> tuple[float, float]:
    """First and last frame of the shot holding analysed frame ``frame``: from ``step - 1`` frames
    before the cut that starts it (the cut lies somewhere after the analysed frame before it) to
    the frame before the next cut; unbounded where there is none. ``cuts`` are the analysed frames
    that start a shot, ascending. A face's mask never goes on past either end."""
    i = bisect.bisect_right(cuts, frame)
    return (cuts[i - 1] - step + 1 if i else -math.inf, cuts[i] - 1 if i < len(cuts) else math.inf)


def followed(track: Track, a: int, b: int, at_b: bool) -> bool:
    """Whether the face at keyframe ``b`` (``at_b``) or ``a`` of ``track``, seen moving from ``a``
    to ``b``, can be followed along its velocity alone: a face of at least ``HOLD_BELOW`` of the
    frame's height that moved slower than the track's speed cap (``PARAMS.max_speed``). A faster
    face outran its track (a whip pan: it stops somewhere between), a smaller one's velocity is
    noise: those are also held where they were last seen."""
    if len(track.frames) < 2:
        return False
    first, second = np.asarray(track.boxes[a]), np.asarray(track.boxes[b])
    end = second if at_b else first
    size = max(end[2] - end[0], end[3] - end[1])
    step = np.abs(second - first) / max(track.frames[b] - track.frames[a], 1)
    return bool(end[3] - end[1] >= HOLD_BELOW and (step <= PARAMS.max_speed * size).all())


def with_camera(track: Track, k: int, near: int, carry) -> tuple[float, float]:
    """First and last frame beyond keyframe ``k`` of ``track`` (its first or its last, seen from
    keyframe ``near``) where the face is known to move as the camera carries it: it did over its
    step from ``near`` (``Track.still``, ``linking._still``), and the
    camera's motion is known there (the rows of ``carry``: the end box carried along it, up to the
    frame it was carried out of the picture, if it was). A still face that a crash zoom or a fast
    pan carries several of its sizes a frame is then followed, not also held where it was last
    seen: held, it masked a band of the picture (the whole frame for a third of a second of the
    labelled zoom). An empty span (1, 0) otherwise: a runner, a small face (its steps are noise),
    a motion not known (a blur), which are held as before."""
    rows = np.asarray(carry, dtype=np.float64).reshape(-1, 5)
    end = track.boxes[k]
    if not len(rows) or track.frames[k] not in track.still or end[3] - end[1] < HOLD_BELOW:
        return 1.0, 0.0
    fk = track.frames[k]
    last = rows[np.argmax(np.abs(rows[:, 0] - fk))]
    reach = math.inf if outside(last[1:]) else abs(last[0] - fk)
    return (fk - reach, fk) if k < near else (fk, fk + reach)


def moved(dt: np.ndarray, end: np.ndarray, v: np.ndarray, follow: bool) -> np.ndarray:
    """``end`` carried ``dt`` frames along the velocity ``v``; unless ``follow``, joined with the
    held ``end`` (:func:`followed`)."""
    went = end[None, :] + v[None, :] * dt[:, None]
    held = went if follow else np.broadcast_to(end, went.shape)
    return np.concatenate([np.minimum(held[:, :2], went[:, :2]), np.maximum(held[:, 2:], went[:, 2:])], axis=1)


def swept(frames: np.ndarray, af: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Boxes at ``frames`` between the known boxes ``ab`` at ``af`` (ascending): the path swept
    from :data:`SWEEP` of the way before to as far after the interpolated box, within each step
    (a fast face does not move evenly between two sightings)."""
    k = np.clip(np.searchsorted(af, frames, side="right") - 1, 0, max(len(af) - 2, 0))
    if len(af) < 2:
        return np.broadcast_to(ab[0], (len(frames), 4)).copy()
    u = ((frames - af[k]) / np.maximum(af[k + 1] - af[k], 1e-9))[:, None]
    step = ab[k + 1] - ab[k]
    early, late = ab[k] + step * np.clip(u - SWEEP, 0, 1), ab[k] + step * np.clip(u + SWEEP, 0, 1)
    return np.concatenate([np.minimum(early[:, :2], late[:, :2]), np.maximum(early[:, 2:], late[:, 2:])], axis=1)


def along_camera(frames: np.ndarray, end_frame: int, end: np.ndarray, rows) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``frames`` and boxes: ``end`` (the box at ``end_frame``) carried along the
    camera's motion, known at the frames of ``rows`` (``[frame, x0, y0, x1, y1]``), swept between
    them; only the frames from ``end_frame`` to the last row's are given boxes."""
    rows = sorted([[end_frame, *end], *rows], key=lambda r: r[0])
    af, ab = np.array([r[0] for r in rows], float), np.array([r[1:] for r in rows], float)
    sel = np.flatnonzero((frames >= af[0]) & (frames <= af[-1]))
    return sel, swept(frames[sel].astype(float), af, ab)


def gap_path(track: Track, kb: np.ndarray, frames: np.ndarray, cuts: tuple[int, ...],
             step: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(indices into frames, boxes)``: inside each gap of ``track`` where the face moved as the
    camera carried it on both sides (``Track.still``) and the camera's motion is known all the way
    across (the rows of ``Track.carry_gaps`` reach the other side from both), the path the camera
    carried the face along, from the nearer side, instead of the straight line between the two
    sightings. A face a zoom carried out of the picture and back, linked across the gap, was
    masked on that line through the middle of the frame, where it never was."""
    out = []
    kf = track.frames
    carry = np.asarray(track.carry_gaps, dtype=np.float64).reshape(-1, 5)   # [from, frame, s, tx, ty]
    for i in gaps(kf, step):
        a, b = int(kf[i]), int(kf[i + 1])
        inside = np.flatnonzero((frames > a) & (frames < b))
        if a not in track.still or b not in track.still or shot(a, cuts, step)[1] < b or not len(inside):
            continue
        sides = []
        for k, towards in ((i, b - 1), (i + 1, a + 1)):
            mine = carry[carry[:, 0] == kf[k]]
            if not len(mine) or np.abs(mine[:, 1] - kf[k]).max() < abs(towards - kf[k]):
                break                   # the camera's motion is not known across: the straight line stays
            sides.append(along_camera(frames[inside], kf[k], kb[k], [[r[1], *carried(kb[k], r[2:])] for r in mine.tolist()]))
        else:
            (at_a, from_a), (at_b, from_b) = sides
            if len(at_a) < len(inside) or len(at_b) < len(inside):
                continue                # a frame the rows do not reach (both cover every frame between)
            nearer_a = (frames[inside] - a <= b - frames[inside])[:, None]
            out.append((inside, np.where(nearer_a, from_a, from_b)))
    return out


def across_gaps(track: Track, kb: np.ndarray, frames: np.ndarray, extend: int, cuts: tuple[int, ...],
                step: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
    """Boxes of ``track`` inside its gaps, on top of the interpolation: ``(indices into frames,
    boxes, frames from their keyframe, keyframe index)`` for the box before each gap carried
    forward and the box after it carried back (along the velocity and along the camera, the
    rows of ``track.carry_gaps``), each at most ``extend`` frames from its keyframe and never
    across a shot cut (``cuts``, analysed frames that start a shot, as ``tracking._span``).
    ``kb`` are the keyframe boxes as the render shapes them."""
    out = []
    kf = track.frames
    carry = np.asarray(track.carry_gaps, dtype=np.float64).reshape(-1, 5)   # [from, frame, s, tx, ty]
    for i in gaps(kf, step):
        a, b = kf[i], kf[i + 1]
        hi = int(min(b - 1, a + extend, shot(a, cuts, step)[1]))
        lo = int(max(a + 1, b - extend, shot(b, cuts, step)[0]))
        for k, near, first, last in ((i, i - 1, a + 1, hi), (i + 1, i + 2, lo, b - 1)):
            inside = (frames >= first) & (frames <= last)
            if not inside.any():
                continue
            sel, end = np.flatnonzero(inside), kb[k]
            dt = frames[sel] - kf[k]
            lo_k, hi_k = min(k, near), max(k, near)
            if 0 <= near < len(kf) and followed(track, lo_k, hi_k, k > near):
                v = track.velocity_between(lo_k, hi_k, k > near)     # known: see followed()
                out.append((sel, moved(dt, end, v, True), np.abs(dt), k))
            if 0 <= near < len(kf) and kf[hi_k] - kf[lo_k] <= GAP * max(step, 1):
                # one analysed frame into the gap, the face goes on as it moved on its other side,
                # uncapped: a face a fast zoom carries 1.2 of its sizes a frame, whose camera motion,
                # read from a few faces of noisy sizes, can be off by most of that
                v = (np.asarray(track.boxes[hi_k]) - np.asarray(track.boxes[lo_k])) / (kf[hi_k] - kf[lo_k])
                one = np.abs(dt) <= max(step, 1)
                if one.any():
                    out.append((sel[one], moved(dt[one], end, v, True), np.abs(dt[one]), k))
            mine = carry[(carry[:, 0] == kf[k]) & (carry[:, 1] >= first) & (carry[:, 1] <= last)]
            rows = [[r[1], *carried(end, r[2:])] for r in mine.tolist()]
            if rows:
                at, boxes = along_camera(frames[sel], kf[k], end, rows)
                out.append((sel[at], boxes, np.abs(dt[at]), k))
    return out
