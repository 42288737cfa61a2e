"""The window's path through a shot: the corridor the subjects allow, the taut string through it,
bounded speed and acceleration, the containment check and its repairs, and the integer pieces
that the ffmpeg crop expression and the mask placements share.

Containment is the rule, smoothness the preference: :func:`contain` checks every frame against the
main face with its padding and repairs a failing stretch by raising the speed limit (up to
``hard_speed``), starting up to ``lead`` frames early, then by one cut. Where the main face was not
detected for a while, it is predicted (:func:`bridge`) and held all the same.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from pipeline.reframe.options import FRAMING
from pipeline.reframe.subjects import (
    Subjects,
    chained,
    main_face,
    robust_keyframes,
    smooth,
)

OPT = FRAMING.path   # speed limits, smoothing, containment padding and repairs (options.PathOptions)


@dataclass(frozen=True)
class Piece:
    """Window left edge ``x(n) = x0 + floor((n - n0) * dx / dn)`` for ``n0 <= n < n1`` (working px)."""

    n0: int
    n1: int
    x0: int
    dx: int = 0
    dn: int = 1

    def at(self, n: int) -> int:
        return self.x0 + ((n - self.n0) * self.dx) // self.dn

    def expr(self, offset: int) -> str:
        if self.dx == 0:
            return str(self.x0)
        return f"{self.x0}+floor((n-{self.n0 - offset})*{self.dx}/{self.dn})"




def corridor(lo: np.ndarray, hi: np.ndarray, c: float, band: float) -> tuple[np.ndarray, np.ndarray]:
    """Allowed window left edges per frame: the extent inside, its centre within ``band`` of the
    window's middle; unconstrained where nothing was seen. Clamped to the frame."""
    top = 1.0 - c
    mid = (lo + hi) / 2
    a = np.fmax(hi - c, mid - (0.5 + band) * c)
    b = np.fmin(lo, mid - (0.5 - band) * c)
    wide = a > b                      # wider than the window: centre it on the extent
    a = np.where(wide, mid - c / 2, a)
    b = np.where(wide, mid - c / 2, b)
    a = np.where(np.isnan(lo), 0.0, a)
    b = np.where(np.isnan(lo), top, b)
    a, b = np.clip(a, 0.0, top), np.clip(b, 0.0, top)
    return a, np.maximum(a, b)


def taut(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Shortest path through the corridor ``lo <= x <= hi``; both ends free (they hold still)."""
    fwd = _pull(lo, hi, (lo[0] + hi[0]) / 2)
    return _pull(lo[::-1], hi[::-1], fwd[-1])[::-1]


def _pull(lo: np.ndarray, hi: np.ndarray, x0: float) -> np.ndarray:
    """String pulled taut from ``x0`` at frame 0; straight, bending only at corridor walls."""
    n = len(lo)
    out = np.empty(n)
    out[0] = x0 = min(max(x0, lo[0]), hi[0])
    t0 = 0
    while t0 < n - 1:
        smin, smax, wmin, wmax = -np.inf, np.inf, t0, t0
        bend = None
        for t in range(t0 + 1, n):
            d = t - t0
            s_lo, s_hi = (lo[t] - x0) / d, (hi[t] - x0) / d
            if s_hi < smin:
                bend = (wmin, x0 + smin * (wmin - t0))
                break
            if s_lo > smax:
                bend = (wmax, x0 + smax * (wmax - t0))
                break
            if s_hi < smax:
                smax, wmax = s_hi, t
            if s_lo > smin:
                smin, wmin = s_lo, t
        if bend is None:
            s = min(max(0.0, smin), smax)
            out[t0 + 1:] = x0 + s * np.arange(1, n - t0)
            break
        tb, xb = bend
        out[t0 + 1:tb + 1] = x0 + (xb - x0) / (tb - t0) * np.arange(1, tb - t0 + 1)
        t0, x0 = tb, xb
    return out


def pan_path(lo: np.ndarray, hi: np.ndarray, c: float) -> np.ndarray:
    """Taut string, corners rounded, speed capped, kept in the frame (fractions of the width)."""
    x = taut(lo, hi)
    x = smooth(smooth(x, OPT.smooth), OPT.smooth)
    for i in range(1, len(x)):
        x[i] = min(max(x[i], x[i - 1] - OPT.max_speed), x[i - 1] + OPT.max_speed)
    x = smooth(x, OPT.smooth // 2)
    return np.clip(x, 0.0, 1.0 - c)


# -- containment: the check and its repairs --------------------------------------------------------
def hard_corridor(subj: Subjects, main: int, c: float, matters: np.ndarray | None = None,
                  keys: list | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window left edges ``[A, B]`` per frame that hold the main face whole with ``pad`` face widths
    each side (and the interpolation slack between detections), and where that is required (the
    face is on screen). Clamped to the frame; a face too wide for the window is centred.

    Where the main face is not on screen, the largest face that ``matters`` takes its place: the
    main person's track is often cut in two by a run of missed detections, and the piece before
    the gap must be held as firmly as the rest. With the rows' keyframes ``keys`` (:func:`bridge`),
    the face is predicted through its gaps and must be held there too."""
    row = np.full(subj.x0.shape[1], main)
    if matters is not None:
        absent = np.isnan(subj.rx0[main])
        h = np.where(matters[:, None] & ~np.isnan(subj.rx0), np.nan_to_num(subj.h), -1.0)
        stand_in = np.argmax(h, axis=0)
        row = np.where(absent & (h.max(axis=0) > 0), stand_in, row)
    cols = np.arange(len(row))
    x0, x1, slack = subj.rx0[row, cols], subj.rx1[row, cols], subj.slack[row, cols]
    need = ~np.isnan(x0)
    if keys is not None:
        x0, x1, slack, need = bridge(keys, row, x0, x1, slack, need)
    fw = np.nan_to_num(x1 - x0)
    grow = OPT.pad * fw + np.nan_to_num(slack)
    lo, hi = np.nan_to_num(x0) - grow, np.nan_to_num(x1) + grow
    a, b = hi - c, lo
    wide = a > b
    mid = (lo + hi) / 2 - c / 2
    a, b = np.where(wide, mid, a), np.where(wide, mid, b)
    a, b = np.clip(a, 0.0, 1.0 - c), np.clip(b, 0.0, 1.0 - c)
    return a, np.maximum(a, b), need


def stand_ins(subj: Subjects, main: int, matters: np.ndarray, pin: str | None) -> np.ndarray:
    """Rows that may stand in for the main face where it is not on screen (``hard_corridor``): the
    faces that matter, and any face about as big. A run of missed detections often cuts a piece
    off the main person's track that is too short to matter beside the rest, yet it is the person
    the window follows. A pinned face has no stand-in but its own track."""
    if pin is not None and main_face(subj, pin)[1] == "pinned":
        return matters
    seen = ~np.isnan(subj.h)
    med = np.array([np.median(subj.h[k][seen[k]]) if seen[k].any() else 0.0 for k in range(len(seen))])
    return matters | (med >= FRAMING.subjects.matter_size * med[main])


def keyframes(tracks, subj: Subjects, start: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per row of ``subj``: its person's keyframes (section frames), one-off jumps cleared as
    ``subjects`` clears them but within each run between two gaps (a median reaching across a gap
    would pull the last box before it towards the first one after it): frames, centre x, width."""
    chains = {c.ids: c for c in chained(tracks)}
    out = []
    for ids in subj.ids:
        kf, kb = np.asarray(chains[ids].frames), np.asarray(chains[ids].boxes, dtype=np.float64)
        cut = np.flatnonzero(np.diff(kf) > _gap(kf)) + 1
        kb = np.concatenate([robust_keyframes(f, b) for f, b in zip(np.split(kf, cut), np.split(kb, cut))])
        out.append((kf - start, (kb[:, 0] + kb[:, 2]) / 2, kb[:, 2] - kb[:, 0]))
    return out


def _gap(frames) -> float:
    """Keyframes further apart than this are a gap: ``gap_min`` frames, and 1.5x their usual spacing."""
    return max(OPT.gap_min, 1.5 * float(np.median(np.diff(frames)))) if len(frames) > 1 else OPT.gap_min


def bridge(keys: list, row: np.ndarray, x0: np.ndarray, x1: np.ndarray, slack: np.ndarray, need: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The followed face through its gaps: where no detection of it was kept for longer than its
    detections are usually apart (a run of misses, or its track cut in two), its box is predicted
    by the quintic that leaves the last detection with the face's speed and acceleration there and
    meets the next one with its own (a person who was running keeps running, one who was turning
    keeps turning; interpolating straight or holding the last box falls behind), with a slack
    growing from both ends in proportion to the change of speed across the gap (the less the two
    ends agree, the less the guess is worth). The prediction is held like a detection: the window
    follows it, and the slack widens its margin until the window is centred on the guess.

    ``keys[r]`` = (frames, centre x, width) of row ``r``'s keyframes (section frames); ``row``
    the row followed on each frame (:func:`hard_corridor`)."""
    seen = [(int(f), r) for r in np.unique(row) for f in keys[r][0] if 0 <= f < len(row) and row[f] == r]
    seen.sort()
    if len(seen) < 2:
        return x0, x1, slack, need
    x0, x1, slack, need = x0.copy(), x1.copy(), slack.copy(), need.copy()
    least = _gap([f for f, _ in seen])
    for (f0, r0), (f1, r1) in pairwise(seen):
        g = f1 - f0
        if g <= least or g > OPT.gap_max:
            continue
        p0, w0, v0, a0 = _end(keys[r0], f0, -1)
        p1, w1, v1, a1 = _end(keys[r1], f1, +1)
        chord = (p1 - p0) / g
        v0, v1 = (chord if v is None else v for v in (v0, v1))
        d = np.arange(1, g)
        s = d / g
        s3, s4, s5 = s ** 3, s ** 4, s ** 5
        centre = ((1 - 10 * s3 + 15 * s4 - 6 * s5) * p0 + (10 * s3 - 15 * s4 + 6 * s5) * p1
                  + (s - 6 * s3 + 8 * s4 - 3 * s5) * g * v0 + (-4 * s3 + 7 * s4 - 3 * s5) * g * v1
                  + (s * s / 2 - 1.5 * s3 + 1.5 * s4 - s5 / 2) * g * g * a0 + (s3 / 2 - s4 + s5 / 2) * g * g * a1)
        width = w0 + (w1 - w0) * s
        x0[f0 + 1:f1], x1[f0 + 1:f1] = centre - width / 2, centre + width / 2
        slack[f0 + 1:f1] = OPT.gap_spread * abs(v1 - v0) * d * (g - d) / g
        need[f0 + 1:f1] = True
    return x0, x1, slack, need


def _end(key: tuple, f: int, side: int) -> tuple[float, float, float | None, float]:
    """Centre, width, speed (per frame; None when one keyframe is all there is) and acceleration
    of a row at its keyframe ``f``, fitted over its keyframes within ``gap_span`` frames on
    ``side`` (a parabola when there are enough of them to tell its curve from the jitter)."""
    frames, cx, w = key
    k = int(np.searchsorted(frames, f))
    near = (frames - f) * side
    use = (near >= 0) & (near <= OPT.gap_span)
    if use.sum() < 2:
        return float(cx[k]), float(w[k]), None, 0.0
    fit = np.polyfit(frames[use] - f, cx[use], 2 if use.sum() >= 4 else 1)
    return float(cx[k]), float(w[k]), float(fit[-2]), float(2 * fit[0]) if len(fit) == 3 else 0.0


def violations(path: np.ndarray, a: np.ndarray, b: np.ndarray, need: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return need & ((path < a - eps) | (path > b + eps))


def _stretches(bad: np.ndarray) -> list[tuple[int, int]]:
    """Runs of failing frames, opened ``lead`` frames before and ``trail`` after, merged."""
    n = len(bad)
    idx = np.flatnonzero(bad)
    out: list[list[int]] = []
    for i in idx:
        s, e = max(0, i - OPT.lead), min(n, i + 1 + OPT.trail)
        if out and s <= out[-1][1] + OPT.lead:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _solve(lo: np.ndarray, hi: np.ndarray, depth: int = 0) -> tuple[np.ndarray, list[int]]:
    """The calmest path through ``[lo, hi]`` panning at most ``hard_speed`` per frame, cutting where
    even that is not enough. The taut string minimises every convex cost of the speed at once, its
    top speed included: when it is too fast no path is slow enough, and the window jumps once, in
    the middle of the taut string's steepest stretch; each side is then solved again."""
    x = taut(lo, hi)
    if len(x) < 3:
        return x, []
    steps = np.abs(np.diff(x))
    if steps.max() <= OPT.hard_speed + 1e-9 or depth >= OPT.max_cuts:
        return _round(x, lo, hi), []
    steep = np.flatnonzero(steps >= 0.98 * steps.max())
    k = int(steep[len(steep) // 2]) + 1
    left, lc = _solve(lo[:k], hi[:k], depth + 1)
    right, rc = _solve(lo[k:], hi[k:], depth + 1 + len(lc))
    return np.concatenate([left, right]), lc + [k] + [k + j for j in rc]


def _round(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Corners of a repaired stretch rounded by short box filters, kept in its corridor (unless
    keeping it there would make a step faster than the taut string's own)."""
    y = np.clip(smooth(smooth(x, OPT.smooth_fast), OPT.smooth_fast), lo, hi)
    fastest = max(OPT.hard_speed, float(np.abs(np.diff(x)).max()))
    return y if np.abs(np.diff(y)).max() <= fastest + 1e-9 else x


def contain(path: np.ndarray, a: np.ndarray, b: np.ndarray, need: np.ndarray,
            soft: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """Check the planned ``path`` against the hard corridor ``[a, b]`` where ``need``; repair each
    failing stretch (plus ``lead`` frames before it, so the window starts moving before the subject,
    and ``trail`` after): raise the speed and acceleration limits there, up to ``hard_speed``;
    where that is not enough, cut. The stretch prefers the composed corridor ``soft`` where that
    costs no cut. Returns the path and the repairs ``(start, end, kind)`` (section frames)."""
    bad = violations(path, a, b, need)
    if not bad.any():
        return path, []
    n, top = len(path), float(max(b.max(), 0.0))
    out = path.copy()
    repairs: list[tuple[int, int, str]] = []
    for s, e in _stretches(bad):
        lo = np.where(need[s:e], a[s:e], 0.0)
        hi = np.where(need[s:e], b[s:e], np.maximum(top, a[s:e]))
        tries = []
        if soft is not None:
            sa, sb = np.fmax(lo, soft[0][s:e]), np.fmin(hi, soft[1][s:e])
            ok = sa <= sb
            tries.append((np.where(ok, sa, lo), np.where(ok, sb, hi)))
        tries.append((lo.copy(), hi.copy()))
        best = None
        for tlo, thi in tries:
            if s > 0:                                   # join the planned path where the stretch starts ...
                tlo[0] = thi[0] = out[s]
            if e < n:                                   # ... and where it ends
                tlo[-1] = thi[-1] = out[e - 1]
            x, cuts = _solve(tlo, thi)
            if best is None or len(cuts) < len(best[1]):
                best = (x, cuts)
            if not cuts:
                break
        x, cuts = best
        out[s:e] = x
        repairs.append((int(s), int(e), "speed"))
        repairs += [(int(s + k), int(s + k + 1), "cut") for k in cuts]
    return out, sorted(repairs)


def headroom(subj: Subjects, main: int, size: tuple[int, int], ch: int) -> int | None:
    """Top edge of a window ``ch`` tall in a taller frame: the main face's centre ``headroom`` down
    it, moved as little as needed to keep the face's top and bottom inside on every frame; when the
    face travels further up and down than the window is tall, its top is kept (a chin cut off reads
    as a close-up, a forehead cut off as a mistake). None when the window is the frame's full height
    or the face is not seen."""
    _, h = size
    if ch >= h or subj.y0 is None:
        return None
    seen = ~np.isnan(subj.y0[main])
    if not seen.any():
        return None
    top, bottom = subj.y0[main][seen] * h, (subj.y0[main][seen] + subj.h[main][seen]) * h
    y = float(np.median((top + bottom) / 2)) - OPT.headroom * ch
    pad = OPT.pad * float(np.median(bottom - top))                # as sideways: the face and some room
    lo, hi = float(bottom.max()) + pad - ch, float(top.min()) - pad   # keep the face whole when it can be ...
    y = min(max(y, lo), hi)                                   # ... and its top always
    return int(round(min(max(y, 0.0), h - ch)))


def still_position(lo: np.ndarray, hi: np.ndarray, c: float) -> float | None:
    """One window left edge that holds the subjects all shot long, nearest their median centre."""
    seen = ~np.isnan(lo)
    if not seen.any():
        return None
    a, b = corridor(lo, hi, c, OPT.band_still)
    left, right = a[seen].max(), b[seen].min()
    if left > right + 1e-9:
        return None
    want = float(np.median((lo[seen] + hi[seen]) / 2)) - c / 2
    return min(max(want, left), right)


def pieces(path_px: np.ndarray, n0: int, tol: float = OPT.tolerance) -> list[Piece]:
    """Integer pieces within ``tol`` px of ``path_px`` (frames ``n0 ...``); the last keyframe held."""
    n = len(path_px)
    want = np.asarray(path_px, dtype=np.float64)
    out: list[Piece] = []
    i = 0
    while i < n - 1:
        a = int(round(want[i]))

        def ok(j: int) -> bool:
            b = int(round(want[j]))
            k = np.arange(0, j - i + 1)
            vals = a + (k * (b - a)) // (j - i)
            return bool(np.abs(vals - want[i:j + 1]).max() <= tol)

        step, j = 1, i + 1
        while j + step <= n - 1 and ok(j + step):
            j += step
            step *= 2
        lo_j, hi_j = j, min(n - 1, j + step)
        while hi_j - lo_j > 1:
            m = (lo_j + hi_j) // 2
            if ok(m):
                lo_j = m
            else:
                hi_j = m
        j = hi_j if hi_j > lo_j and ok(hi_j) else lo_j
        b = int(round(want[j]))
        out.append(Piece(n0 + i, n0 + j, a, b - a, j - i))
        i = j
    out.append(Piece(n0 + i, n0 + n, int(round(want[i]))))
    return _merge_holds(out)


def _merge_holds(ps: list[Piece]) -> list[Piece]:
    merged: list[Piece] = []
    for p in ps:
        if merged and merged[-1].dx == 0 and p.dx == 0 and merged[-1].x0 == p.x0:
            merged[-1] = Piece(merged[-1].n0, p.n1, p.x0)
        else:
            merged.append(p)
    return merged
