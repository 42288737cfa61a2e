"""``follow``: a 9:16 window that keeps the people of each shot in frame.

Per shot (and per ``[[reframe_spans]]`` entry) the plan is one of:

* **still**: one window holds the subjects for the whole shot, centred on them (AutoFlip's
  stationary mode); the subject barely moves, so the camera does not either;
* **pan**: the subjects move further than a still window allows. The window's left edge follows a
  path that must stay inside a per-frame corridor (the subjects inside the window, their centre in
  its middle third). The path is the taut string through that corridor (the shortest path: it holds
  still, then pans in straight lines), its corners rounded by two box filters (bounded
  acceleration), its speed capped at ``MAX_SPEED`` of the frame width per frame;
* **stack**: the people who matter are further apart than any 9:16 window (two speakers at the
  edges) but form two groups that each fit a 9:8 window: one above the other (``stack.py``);
* **fit**: otherwise, the whole frame is shown, as the ``fit`` strategy does.

The path is planned in fractions of the frame (analysis resolution), then written as integer
pieces in working pixels: ``x(n) = x0 + floor((n - n0) * dx / dn)``. The same pieces make the
ffmpeg crop expression (per-frame ``x`` of the ``crop`` filter, so the render stays one pass) and
``placements()``, so masks follow the window to the pixel. Shots are independent: the window may
jump at a cut, never inside a shot.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import ffmpeg
import numpy as np

from pipeline.reframe import stack
from pipeline.reframe.base import OUT_H, OUT_W, Placement, Reframer, crop_window
from pipeline.reframe.fit import FitReframer

MAX_SPEED = 0.008        # window speed cap, fraction of the frame width per frame (1 % is the limit)
SMOOTH = 15              # frames of each of the two box filters that round the path's corners
MARGIN = 0.35            # room kept beside each face, in face widths
BAND_PAN = 0.15          # a panning window keeps the subjects' centre within +-15 % of its middle
BAND_STILL = 0.30        # a still window only needs it within +-30 %
MATTER_SIZE = 0.6        # a face matters if its median height is >= 60 % of the main face's ...
MATTER_PRESENCE = 0.3    # ... and it is on screen at least 30 % as much as the main face
FIT_WIDTH = 0.9          # faces that matter spanning more than 90 % of the window overflow it
FIT_SHARE = 0.2          # shot shown whole when the faces that matter overflow the window this often
MIN_FACE_SHARE = 0.15    # a shot "has a subject" when the main face is on screen this share of it
HOLD = 6                 # frames a face is assumed to stay put past its first and last detection
TOLERANCE = 0.75         # px: how far the integer pieces may stray from the planned path
EXPR_BUDGET = 12000      # characters of crop expression per clip (the whole graph is one argument)


# -- the plan ------------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, end)`` of a clip framed one way: mode still | pan | stack | fit."""

    start: int
    end: int
    mode: str
    shot: int
    source: str                      # faces | motion | focus | override
    pieces: tuple[Piece, ...] = ()   # empty for fit and stack
    panels: tuple = ()               # stack: the top and bottom windows, (x, y, w, h) in working px

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "mode": self.mode, "shot": self.shot, "source": self.source,
                "pieces": [[p.n0, p.n1, p.x0, p.dx, p.dn] for p in self.pieces],
                "panels": [list(p) for p in self.panels]}

    @classmethod
    def from_dict(cls, d: dict) -> "Segment":
        return cls(d["start"], d["end"], d["mode"], d["shot"], d["source"], tuple(Piece(*p) for p in d["pieces"]),
                   tuple(tuple(p) for p in d.get("panels", ())))


@dataclass
class FollowPlan:
    """The framing of one clip at working size: window size, its fixed top edge, segments."""

    size: tuple[int, int]
    window: tuple[int, int, int]     # crop width, height, top edge y (px)
    segments: list[Segment] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"size": list(self.size), "window": list(self.window), "segments": [s.to_dict() for s in self.segments]}

    @classmethod
    def from_dict(cls, d: dict) -> "FollowPlan":
        return cls(tuple(d["size"]), tuple(d["window"]), [Segment.from_dict(s) for s in d["segments"]])


# -- the reframer --------------------------------------------------------------------------------
class FollowReframer(Reframer):
    name = "follow"

    def __init__(self, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.5),
                 plan: FollowPlan | None = None, name: str = "follow"):
        super().__init__(size, focus)
        self.name = name
        self.plan = plan or FollowPlan(size, window(size, focus[1]), [])
        self.cw, self.ch, self.y = self.plan.window
        self._fit = FitReframer(size, focus)
        self._starts = [s.start for s in self.plan.segments]

    def segment(self, n: int) -> Segment | None:
        from bisect import bisect_right

        if not self.plan.segments:
            return None
        i = max(0, bisect_right(self._starts, n) - 1)
        return self.plan.segments[i]

    def x_at(self, n: int) -> int | None:
        """Left edge of the window at frame ``n`` (px), or None when the frame is shown whole."""
        seg = self.segment(n)
        if seg is None:
            return max(0, min(self.width - self.cw, int(round(self.focus[0] * self.width - self.cw / 2))))
        if seg.mode in ("fit", "stack"):
            return None
        n = min(max(n, seg.start), seg.end - 1)
        for p in seg.pieces:
            if p.n0 <= n < p.n1:
                return p.at(n)
        return seg.pieces[-1].at(n)

    def placements(self, frame_index: int) -> list[Placement]:
        seg = self.segment(frame_index)
        if seg is not None and seg.mode == "stack":
            return stack.placements(seg.panels, (self.width, self.height))
        x = self.x_at(frame_index)
        if x is None:
            return self._fit.placements(frame_index)
        w, h = self.width, self.height
        return [Placement((x / w, self.y / h, (x + self.cw) / w, (self.y + self.ch) / h), (0, 0, OUT_W, OUT_H))]

    def _runs(self, first: int) -> list[tuple[str, int, int, list[Piece], tuple]]:
        """Consecutive crop (or fit) segments merged: ``(kind, start, end, pieces, panels)`` from
        frame ``first``; kind is crop | fit | stack (a stack segment is never merged)."""
        runs: list[tuple[str, int, int, list[Piece], tuple]] = []
        for seg in self.plan.segments or [Segment(0, 1 << 30, "still", 1, "focus", (Piece(0, 1 << 30, self.x_at(0)),))]:
            if seg.end <= first:
                continue
            kind = seg.mode if seg.mode in ("fit", "stack") else "crop"
            if runs and runs[-1][0] == kind and kind != "stack":
                runs[-1] = (kind, runs[-1][1], seg.end, runs[-1][3] + list(seg.pieces), ())
            else:
                runs.append((kind, max(seg.start, first), seg.end, list(seg.pieces), seg.panels))
        return runs

    def _part(self, stream, kind: str, pieces: list[Piece], panels: tuple, offset: int):
        if kind == "fit":
            return self._fit.graph(stream)
        if kind == "stack":
            return stack.graph(stream, panels)
        return self._crop(stream, pieces, offset)

    def _crop(self, stream, pieces: list[Piece], offset: int):
        pieces = [p for p in pieces if p.n1 > offset]
        x = _tree(pieces, offset)
        return (stream.filter("crop", self.cw, self.ch, x=x, y=self.y, exact=1)
                .filter("scale", OUT_W, OUT_H, flags="bicubic").filter("setsar", 1))

    def graph(self, stream, first_frame: int = 0):
        """The reframed stream; ``first_frame`` is the clip frame the stream starts at (preview)."""
        runs = self._runs(first_frame)
        if len(runs) == 1:
            kind, _, _, pieces, panels = runs[0]
            return self._part(stream, kind, pieces, panels, first_frame)
        split = stream.filter_multi_output("split", len(runs))
        parts = []
        for k, (kind, start, end, pieces, panels) in enumerate(runs):
            v = split[k].filter("trim", start_frame=start - first_frame, end_frame=end - first_frame)
            v = v.filter("setpts", "PTS-STARTPTS")
            parts.append(self._part(v, kind, pieces, panels, start))
        return ffmpeg.concat(*parts, v=1, a=0)

    def describe(self) -> dict:
        return {"strategy": self.name, "focus": list(self.focus),
                "shots": [{k: v for k, v in s.to_dict().items() if k != "pieces"} for s in self.plan.segments]}


def _tree(pieces: list[Piece], offset: int) -> str:
    """Balanced ``if(lt(n,k),...)`` over the pieces: depth log2(pieces), each frame a few compares."""
    if len(pieces) == 1:
        return pieces[0].expr(offset)
    mid = len(pieces) // 2
    return f"if(lt(n,{pieces[mid].n0 - offset}),{_tree(pieces[:mid], offset)},{_tree(pieces[mid:], offset)})"


def window(size: tuple[int, int], focus_y: float = 0.5) -> tuple[int, int, int]:
    """Largest 9:16 window of the frame: width, height and its top edge."""
    w, h = size
    _, cw, ch = crop_window(w, h, 0.5)
    y = max(0, min(h - ch, int(round(focus_y * h - ch / 2))))
    return cw, ch, y


# -- planning ------------------------------------------------------------------------------------
@dataclass
class Subjects:
    """Face boxes of one section, per frame: x extents (fractions of the width), NaN where absent."""

    x0: np.ndarray   # (tracks, frames)
    x1: np.ndarray
    h: np.ndarray    # heights, for importance
    y0: np.ndarray | None = None   # top edges (fractions of the height), for stacked panels

    @property
    def empty(self) -> bool:
        return self.x0.shape[0] == 0


def subjects(tracks, start: int, end: int) -> Subjects:
    """Boxes of each face track over frames ``[start, end)``: keyframes interpolated, lightly
    smoothed, held ``HOLD`` frames past each end, NaN elsewhere."""
    n = end - start
    rows = []
    for t in tracks:
        kf = np.asarray(t.frames)
        if kf[-1] + HOLD < start or kf[0] - HOLD >= end:
            continue
        kb = np.asarray(t.boxes, dtype=np.float64)
        frames = np.arange(start, end)
        inside = (frames >= kf[0] - HOLD) & (frames <= kf[-1] + HOLD)
        at = np.clip(frames, kf[0], kf[-1])
        cols = [np.interp(at, kf, kb[:, j]) for j in range(4)]
        cols = [_smooth(c, 5) for c in cols]
        rows.append([np.where(inside, c, np.nan) for c in (cols[0], cols[2], cols[3] - cols[1], cols[1])])
    if not rows:
        z = np.zeros((0, n))
        return Subjects(z, z, z, z)
    arr = np.asarray(rows)
    return Subjects(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


def _smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Box filter of ``k`` frames, edges held."""
    if k <= 1 or len(x) < 2:
        return x.copy()
    pad = k // 2
    xp = np.pad(x, (pad, k - 1 - pad), mode="edge")
    return np.convolve(xp, np.ones(k) / k, mode="valid")


def who_matters(subj: Subjects) -> tuple[np.ndarray, int, np.ndarray]:
    """Per track and frame whether it is on screen; the main face (most screen presence, height x
    frames); and per track whether it matters (big enough and present enough beside the main one)."""
    present = ~np.isnan(subj.x0)
    h = np.where(present, subj.h, 0.0)
    presence = h.sum(axis=1)
    main = int(np.argmax(presence))
    med = np.array([np.median(subj.h[i][present[i]]) if present[i].any() else 0.0 for i in range(len(presence))])
    return present, main, (presence >= MATTER_PRESENCE * presence[main]) & (med >= MATTER_SIZE * med[main])


def required(subj: Subjects, c: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per frame: the extent ``[u0, u1]`` that must be inside a window ``c`` wide (NaN where no
    face matters), and whether the shot must be shown whole (the faces that matter overflow the
    window too often). The main face is the one with the most screen presence (height x frames)."""
    present, main, matters = who_matters(subj)
    sel = present & matters[:, None]
    lo = np.where(sel, subj.x0, np.inf).min(axis=0)
    hi = np.where(sel, subj.x1, -np.inf).max(axis=0)
    seen = np.isfinite(lo)
    too_wide = seen & (hi - lo > FIT_WIDTH * c)
    fit = bool(seen.any() and too_wide.sum() > FIT_SHARE * seen.sum())
    # where the group overflows, keep the main face rather than nobody
    use_main = too_wide & present[main]
    lo = np.where(use_main, subj.x0[main], lo)
    hi = np.where(use_main, subj.x1[main], hi)
    # room beside the faces: MARGIN face widths, as far as the window allows
    widths = np.where(sel, subj.x1 - subj.x0, 0.0)
    face_w = widths.sum(axis=0) / np.maximum(sel.sum(axis=0), 1)
    with np.errstate(invalid="ignore"):
        room = np.clip(np.minimum(MARGIN * face_w, (c - (hi - lo)) / 2), 0.0, None)
    lo = np.where(seen, lo - room, np.nan)
    hi = np.where(seen, hi + room, np.nan)
    return lo, hi, fit


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
    x = _smooth(_smooth(x, SMOOTH), SMOOTH)
    for i in range(1, len(x)):
        x[i] = min(max(x[i], x[i - 1] - MAX_SPEED), x[i - 1] + MAX_SPEED)
    x = _smooth(x, SMOOTH // 2)
    return np.clip(x, 0.0, 1.0 - c)


def still_position(lo: np.ndarray, hi: np.ndarray, c: float) -> float | None:
    """One window left edge that holds the subjects all shot long, nearest their median centre."""
    seen = ~np.isnan(lo)
    if not seen.any():
        return None
    a, b = corridor(lo, hi, c, BAND_STILL)
    left, right = a[seen].max(), b[seen].min()
    if left > right + 1e-9:
        return None
    want = float(np.median((lo[seen] + hi[seen]) / 2)) - c / 2
    return min(max(want, left), right)


def pieces(path_px: np.ndarray, n0: int, tol: float = TOLERANCE) -> list[Piece]:
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


@dataclass(frozen=True)
class Section:
    """Frames ``[start, end)`` framed by one rule: a shot, or part of one under an override."""

    start: int
    end: int
    shot: int
    strategy: str                      # fit | crop | follow | auto
    focus: tuple[float, float]
    override: bool = False


def plan_section(sec: Section, tracks, shots, size: tuple[int, int], tol: float = TOLERANCE) -> Segment:
    """How one section is framed (see the module docstring)."""
    w, _ = size
    cw, _, _ = window(size)
    c = cw / w
    source = "override" if sec.override else "focus"
    if sec.strategy == "fit":
        return Segment(sec.start, sec.end, "fit", sec.shot, source)
    fixed = min(max(sec.focus[0] - c / 2, 0.0), 1.0 - c)
    if sec.strategy == "crop":
        return _still(sec, fixed * w, source)
    subj = subjects(tracks, sec.start, sec.end)
    if not subj.empty:
        lo, hi, fit = required(subj, c)
        seen = ~np.isnan(lo)
        if seen.mean() >= MIN_FACE_SHARE or seen.sum() >= 10:
            if fit:
                panels = stack.plan_panels(subj, who_matters(subj)[2], size)
                if panels is not None:
                    return Segment(sec.start, sec.end, "stack", sec.shot, "faces", (), panels)
                return Segment(sec.start, sec.end, "fit", sec.shot, "faces")
            still = still_position(lo, hi, c)
            if still is not None:
                return _still(sec, still * w, "faces")
            path = pan_path(*corridor(lo, hi, c, BAND_PAN), c) * w
            if path.max() - path.min() < 2:
                return _still(sec, float(np.median(path)), "faces")
            return Segment(sec.start, sec.end, "pan", sec.shot, "faces", tuple(pieces(path, sec.start, tol)))
    if sec.strategy == "auto" and not sec.override:
        return Segment(sec.start, sec.end, "fit", sec.shot, "no faces")
    cue = motion_centre(shots, sec.start, sec.end)
    if cue is not None and not sec.override:
        return _still(sec, min(max(cue - c / 2, 0.0), 1.0 - c) * w, "motion")
    return _still(sec, fixed * w, source)


def _still(sec: Section, x_px: float, source: str) -> Segment:
    return Segment(sec.start, sec.end, "still", sec.shot, source, (Piece(sec.start, sec.end, int(round(x_px))),))


def motion_centre(shots, start: int, end: int) -> float | None:
    """Where a shot without faces moves: the weighted median of the per-frame change centres, when
    the change is local (not the whole frame moving with the camera, not sensor noise)."""
    if shots is None or not shots.motion_x:
        return None
    x = np.asarray(shots.motion_x[start + 1:end])
    s = np.asarray(shots.motion_share[start + 1:end])
    local = (s > 0.01) & (s < 0.5)
    if local.sum() < max(5, 0.3 * len(s)):
        return None
    order = np.argsort(x[local])
    cum = np.cumsum(s[local][order])
    return float(x[local][order][np.searchsorted(cum, cum[-1] / 2)])


def plan_clip(sections: list[Section], tracks, shots, size: tuple[int, int], focus_y: float = 0.5) -> FollowPlan:
    """Plan every section; if the crop expression would not fit its budget, coarsen the pieces."""
    tol = TOLERANCE
    while True:
        segs = [plan_section(s, tracks, shots, size, tol) for s in sections]
        length = sum(len(p.expr(0)) + 16 for s in segs for p in s.pieces)
        if length <= EXPR_BUDGET or tol > 64:
            return FollowPlan(size, window(size, focus_y), segs)
        tol *= 2


def sections(ranges: list[tuple[int, int]], frame_count: int, strategy: str, focus: tuple[float, float],
             overrides: list[tuple[int, int, str, tuple[float, float] | None]]) -> list[Section]:
    """Shots split where an override ``(start, end, strategy, focus)`` (frames) begins or ends;
    a later override wins over an earlier one."""
    label = np.full(frame_count, -1)
    for k, (a, b, _, _) in enumerate(overrides):
        label[max(0, a):max(0, min(b, frame_count))] = k
    out = []
    for shot, (s, e) in enumerate(ranges, 1):
        i = s
        while i < e:
            change = np.flatnonzero(label[i:e] != label[i])
            j = i + int(change[0]) if change.size else e
            k = int(label[i])
            if k < 0:
                out.append(Section(i, j, shot, strategy, focus))
            else:
                _, _, st, fc = overrides[k]
                out.append(Section(i, j, shot, st, fc or focus, True))
            i = j
    return out
