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
# containment (issue 14): the rule the smooth path may only bend, never break
PAD = 0.15               # the main face and this many face widths each side must be inside the window
HARD_SPEED = 0.03        # a repaired stretch may pan up to 3 % of the width per frame; faster needs a cut
SMOOTH_FAST = 5          # frames of the box filters of a repaired stretch (more acceleration allowed)
LEAD = 30                # frames before a containment failure a repair may start moving (anticipation)
TRAIL = 10               # frames after it to settle back onto the planned path
MAX_CUTS = 3             # cuts per repaired stretch at most
APART_MIN = 15           # faces that matter apart this many frames in a row: stack or fit for that stretch
HEADROOM = 1 / 3         # in a window shorter than the frame, the face centre sits this far down


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
class PathSegment:
    """Frames ``[start, end)`` of a clip framed one way: mode still | pan | stack | fit."""

    start: int
    end: int
    mode: str
    shot: int
    source: str                      # faces | motion | focus | override
    pieces: tuple[Piece, ...] = ()   # empty for fit and stack
    panels: tuple = ()               # stack: the top and bottom windows, (x, y, w, h) in working px
    # containment repairs, frames [a, b) of the clip: speed (limits raised), cut (jump at frame a),
    # stack / fit (the faces that matter could not share one window in that stretch)
    repairs: tuple[tuple[int, int, str], ...] = ()
    y: int | None = None             # window top edge (px) when it differs from the plan's (headroom)

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "mode": self.mode, "shot": self.shot, "source": self.source,
                "pieces": [[p.n0, p.n1, p.x0, p.dx, p.dn] for p in self.pieces],
                "panels": [list(p) for p in self.panels], "repairs": [list(r) for r in self.repairs],
                "y": self.y}

    @classmethod
    def from_dict(cls, d: dict) -> "PathSegment":
        return cls(d["start"], d["end"], d["mode"], d["shot"], d["source"], tuple(Piece(*p) for p in d["pieces"]),
                   tuple(tuple(p) for p in d.get("panels", ())),
                   tuple((int(a), int(b), str(k)) for a, b, k in d.get("repairs", ())), d.get("y"))

    @property
    def cuts(self) -> list[int]:
        return [a for a, _, k in self.repairs if k == "cut"]

    def repair_at(self, n: int) -> list[str]:
        """The repairs that frame ``n`` belongs to (for ``cadre preview --crop-window``)."""
        return [k for a, b, k in self.repairs if a <= n < b]


@dataclass
class FollowPlan:
    """The framing of one clip at working size: window size, its fixed top edge, segments."""

    size: tuple[int, int]
    window: tuple[int, int, int]     # crop width, height, top edge y (px)
    segments: list[PathSegment] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"size": list(self.size), "window": list(self.window), "segments": [s.to_dict() for s in self.segments]}

    @classmethod
    def from_dict(cls, d: dict) -> "FollowPlan":
        return cls(tuple(d["size"]), tuple(d["window"]), [PathSegment.from_dict(s) for s in d["segments"]])


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

    def segment(self, n: int) -> PathSegment | None:
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
        y = self.y_at(frame_index)
        return [Placement((x / w, y / h, (x + self.cw) / w, (y + self.ch) / h), (0, 0, OUT_W, OUT_H))]

    def y_at(self, n: int) -> int:
        """Top edge of the window at frame ``n`` (px): the segment's (headroom), else the plan's."""
        seg = self.segment(n)
        return self.y if seg is None or seg.y is None else seg.y

    def _runs(self, first: int) -> list[tuple[str, int, int, list[Piece], tuple]]:
        """Consecutive crop (or fit) segments merged: ``(kind, start, end, pieces, panels)`` from
        frame ``first``; kind is crop | fit | stack (a stack segment is never merged); crop segments
        with different top edges are not merged either (panels then holds the top edge)."""
        runs: list[tuple[str, int, int, list[Piece], tuple]] = []
        for seg in self.plan.segments or [PathSegment(0, 1 << 30, "still", 1, "focus", (Piece(0, 1 << 30, self.x_at(0)),))]:
            if seg.end <= first:
                continue
            kind = seg.mode if seg.mode in ("fit", "stack") else "crop"
            extra = seg.panels if kind == "stack" else (() if kind == "fit" else (self.y if seg.y is None else seg.y,))
            if runs and runs[-1][0] == kind and kind != "stack" and runs[-1][4] == extra:
                runs[-1] = (kind, runs[-1][1], seg.end, runs[-1][3] + list(seg.pieces), extra)
            else:
                runs.append((kind, max(seg.start, first), seg.end, list(seg.pieces), extra))
        return runs

    def _part(self, stream, kind: str, pieces: list[Piece], panels: tuple, offset: int):
        if kind == "fit":
            return self._fit.graph(stream)
        if kind == "stack":
            return stack.graph(stream, panels)
        return self._crop(stream, pieces, offset, panels[0] if panels else self.y)

    def _crop(self, stream, pieces: list[Piece], offset: int, y: int | None = None):
        pieces = [p for p in pieces if p.n1 > offset]
        x = _tree(pieces, offset)
        return (stream.filter("crop", self.cw, self.ch, x=x, y=self.y if y is None else y, exact=1)
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
    """Running median of the keyframe boxes over 3 detections (5 when detections are 1-2 frames
    apart): a box that jumps on one detection and comes back (a detection error) is dropped, a move
    that the next detections confirm is kept as it is (a median does not bend a monotonic run)."""
    n = len(frames)
    if n < 3:
        return boxes
    half = 2 if np.median(np.diff(frames)) <= 2 else 1
    out = boxes.copy()
    for i in range(1, n - 1):
        k = min(half, i, n - 1 - i)
        out[i] = np.median(boxes[i - k:i + k + 1], axis=0)
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


LINK_GAP = 13            # frames: a track that starts this soon after another ended may continue it ...
LINK_SPEED = 0.06        # ... when its face moved at most this fraction of the width per frame meanwhile
LINK_SIZE = 1.5          # ... and is about the same size


@dataclass
class Chain:
    """Face tracks that are one person for framing: a fast move makes the tracker lose a face
    between two detections and start a new track; framing needs the person, not the track."""

    id: str
    ids: tuple
    frames: list
    boxes: list


def chain(tracks) -> list[Chain]:
    """Link each track to one that ended shortly before it, near where that one was heading."""
    chains: list[Chain] = []
    for t in sorted(tracks, key=lambda t: t.frames[0]):
        b0 = np.asarray(t.boxes[0], dtype=np.float64)
        best, best_d = None, np.inf
        for c in chains:
            gap = t.frames[0] - c.frames[-1]
            if not 0 < gap <= LINK_GAP:
                continue
            last = np.asarray(c.boxes[-1], dtype=np.float64)
            size = (b0[3] - b0[1]) / max(last[3] - last[1], 1e-6)
            d = abs((b0[0] + b0[2]) - (last[0] + last[2])) / 2
            if 1 / LINK_SIZE <= size <= LINK_SIZE and d <= LINK_SPEED * gap and d < best_d:
                best, best_d = c, d
        if best is None:
            chains.append(Chain(t.id, (t.id,), list(t.frames), [list(b) for b in t.boxes]))
        else:
            best.ids += (t.id,)
            best.frames += list(t.frames)
            best.boxes += [list(b) for b in t.boxes]
    return chains


def subjects(tracks, start: int, end: int) -> Subjects:
    """Boxes of each face track over frames ``[start, end)``: keyframes cleared of one-off jumps
    (:func:`robust_keyframes`), interpolated, lightly smoothed, held ``HOLD`` frames past each end,
    NaN elsewhere."""
    n = end - start
    rows, ids, raw = [], [], []
    frames = np.arange(start, end)
    for t in chain(tracks):
        kf = np.asarray(t.frames)
        if kf[-1] + HOLD < start or kf[0] - HOLD >= end:
            continue
        kb = robust_keyframes(kf, np.asarray(t.boxes, dtype=np.float64))
        inside = (frames >= kf[0] - HOLD) & (frames <= kf[-1] + HOLD)
        at = np.clip(frames, kf[0], kf[-1])
        cols = [np.interp(at, kf, kb[:, j]) for j in range(4)]
        raw.append([np.where(inside, c, np.nan) for c in (cols[0], cols[2], _slack(frames, kf, kb))])
        cols = [_smooth(c, 5) for c in cols]
        rows.append([np.where(inside, c, np.nan) for c in (cols[0], cols[2], cols[3] - cols[1], cols[1])])
        ids.append(t.ids)
    if not rows:
        z = np.zeros((0, n))
        return Subjects(z, z, z, z, (), z, z, z)
    arr, r = np.asarray(rows), np.asarray(raw)
    return Subjects(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], tuple(ids), r[:, 0], r[:, 1], r[:, 2])


def _smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Box filter of ``k`` frames, edges held."""
    if k <= 1 or len(x) < 2:
        return x.copy()
    pad = k // 2
    xp = np.pad(x, (pad, k - 1 - pad), mode="edge")
    return np.convolve(xp, np.ones(k) / k, mode="valid")


def who_matters(subj: Subjects, pin: str | None = None) -> tuple[np.ndarray, int, np.ndarray]:
    """Per track and frame whether it is on screen; the main face (the track ``pin`` when it is in
    the section, and then it alone matters; else the most screen presence, height x frames); and per
    track whether it matters (big enough and present enough beside the main one)."""
    present = ~np.isnan(subj.x0)
    h = np.where(present, subj.h, 0.0)
    presence = h.sum(axis=1)
    rows = [k for k, ids in enumerate(subj.ids) if pin in ids] if pin is not None else []
    if rows:                                         # pinned by a person: that face alone matters
        main = rows[0]
        return present, main, np.arange(len(presence)) == main
    main = int(np.argmax(presence))
    med = np.array([np.median(subj.h[i][present[i]]) if present[i].any() else 0.0 for i in range(len(presence))])
    return present, main, (presence >= MATTER_PRESENCE * presence[main]) & (med >= MATTER_SIZE * med[main])


def required(subj: Subjects, c: float, pin: str | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per frame: the extent ``[u0, u1]`` that must be inside a window ``c`` wide (NaN where no
    face matters), and whether the shot must be shown whole (the faces that matter overflow the
    window too often). The main face is the one with the most screen presence (height x frames)."""
    lo, hi, too_wide = _extent(subj, c, pin)
    seen = ~np.isnan(lo)
    return lo, hi, bool(seen.any() and too_wide.sum() > FIT_SHARE * seen.sum())


def _extent(subj: Subjects, c: float, pin: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`required`'s extent, and per frame whether the faces that matter overflow the window."""
    present, main, matters = who_matters(subj, pin)
    sel = present & matters[:, None]
    lo = np.where(sel, subj.x0, np.inf).min(axis=0)
    hi = np.where(sel, subj.x1, -np.inf).max(axis=0)
    seen = np.isfinite(lo)
    too_wide = seen & (hi - lo > FIT_WIDTH * c)
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
    return lo, hi, too_wide


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


# -- containment: the check and its repairs --------------------------------------------------------
def hard_corridor(subj: Subjects, main: int, c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window left edges ``[A, B]`` per frame that hold the main face whole with ``PAD`` face widths
    each side (and the interpolation slack between detections), and where that is required (the
    face is on screen). Clamped to the frame; a face too wide for the window is centred."""
    x0, x1 = subj.rx0[main], subj.rx1[main]
    need = ~np.isnan(x0)
    fw = np.nan_to_num(x1 - x0)
    grow = PAD * fw + np.nan_to_num(subj.slack[main])
    lo, hi = np.nan_to_num(x0) - grow, np.nan_to_num(x1) + grow
    a, b = hi - c, lo
    wide = a > b
    mid = (lo + hi) / 2 - c / 2
    a, b = np.where(wide, mid, a), np.where(wide, mid, b)
    a, b = np.clip(a, 0.0, 1.0 - c), np.clip(b, 0.0, 1.0 - c)
    return a, np.maximum(a, b), need


def violations(path: np.ndarray, a: np.ndarray, b: np.ndarray, need: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    return need & ((path < a - eps) | (path > b + eps))


def _stretches(bad: np.ndarray) -> list[tuple[int, int]]:
    """Runs of failing frames, opened ``LEAD`` frames before and ``TRAIL`` after, merged."""
    n = len(bad)
    idx = np.flatnonzero(bad)
    out: list[list[int]] = []
    for i in idx:
        s, e = max(0, i - LEAD), min(n, i + 1 + TRAIL)
        if out and s <= out[-1][1] + LEAD:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _solve(lo: np.ndarray, hi: np.ndarray, depth: int = 0) -> tuple[np.ndarray, list[int]]:
    """The calmest path through ``[lo, hi]`` panning at most ``HARD_SPEED`` per frame, cutting where
    even that is not enough. The taut string minimises every convex cost of the speed at once, its
    top speed included: when it is too fast no path is slow enough, and the window jumps once, in
    the middle of the taut string's steepest stretch; each side is then solved again."""
    x = taut(lo, hi)
    if len(x) < 3:
        return x, []
    steps = np.abs(np.diff(x))
    if steps.max() <= HARD_SPEED + 1e-9 or depth >= MAX_CUTS:
        return _round(x, lo, hi), []
    steep = np.flatnonzero(steps >= 0.98 * steps.max())
    k = int(steep[len(steep) // 2]) + 1
    left, lc = _solve(lo[:k], hi[:k], depth + 1)
    right, rc = _solve(lo[k:], hi[k:], depth + 1 + len(lc))
    return np.concatenate([left, right]), lc + [k] + [k + j for j in rc]


def _round(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Corners of a repaired stretch rounded by short box filters, kept in its corridor (unless
    keeping it there would make a step faster than the taut string's own)."""
    y = np.clip(_smooth(_smooth(x, SMOOTH_FAST), SMOOTH_FAST), lo, hi)
    fastest = max(HARD_SPEED, float(np.abs(np.diff(x)).max()))
    return y if np.abs(np.diff(y)).max() <= fastest + 1e-9 else x


def contain(path: np.ndarray, a: np.ndarray, b: np.ndarray, need: np.ndarray,
            soft: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """Check the planned ``path`` against the hard corridor ``[a, b]`` where ``need``; repair each
    failing stretch (plus ``LEAD`` frames before it, so the window starts moving before the subject,
    and ``TRAIL`` after): raise the speed and acceleration limits there, up to ``HARD_SPEED``;
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
    """Top edge of a window ``ch`` tall in a taller frame: the main face's centre ``HEADROOM`` down
    it, moved as little as needed to keep the face's top and bottom inside. None when the window is
    the frame's full height or the face is not seen."""
    _, h = size
    if ch >= h or subj.y0 is None:
        return None
    seen = ~np.isnan(subj.y0[main])
    if not seen.any():
        return None
    top, bottom = subj.y0[main][seen] * h, (subj.y0[main][seen] + subj.h[main][seen]) * h
    y = float(np.median((top + bottom) / 2)) - HEADROOM * ch
    lo, hi = float(bottom.max()) - ch, float(top.min())       # keep the face whole when it can be
    if lo <= hi:
        y = min(max(y, lo), hi)
    return int(round(min(max(y, 0.0), h - ch)))


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
    track: str | None = None           # [[reframe_spans]] track = "id": the main face, pinned


def plan_section(sec: Section, tracks, shots, size: tuple[int, int], tol: float = TOLERANCE,
                 split: bool = True) -> list[PathSegment]:
    """How one section is framed (see the module docstring): one segment, or several when the faces
    that matter cannot share one window for a stretch of it (that stretch stacked or shown whole)."""
    w, h = size
    cw, ch, _ = window(size)
    c = cw / w
    source = "override" if sec.override else "focus"
    if sec.strategy == "fit":
        return [PathSegment(sec.start, sec.end, "fit", sec.shot, source)]
    fixed = min(max(sec.focus[0] - c / 2, 0.0), 1.0 - c)
    if sec.strategy == "crop":
        return [_still(sec, fixed * w, source)]
    subj = subjects(tracks, sec.start, sec.end)
    if not subj.empty:
        lo, hi, too_wide = _extent(subj, c, sec.track)
        seen = ~np.isnan(lo)
        if seen.mean() >= MIN_FACE_SHARE or seen.sum() >= 10:
            apart = _runs_of(too_wide, APART_MIN)
            covered = sum(e - s for s, e in apart)
            if covered and covered >= (1 - FIT_SHARE) * seen.sum() or too_wide.sum() > FIT_SHARE * seen.sum() and not apart:
                return [_apart(sec, subj, sec.track, size, source="faces")]
            if apart and split:
                return _split(sec, apart, tracks, shots, size, tol)
            return [_follow(sec, subj, lo, hi, size, tol)]
    if sec.strategy == "auto" and not sec.override:
        return [PathSegment(sec.start, sec.end, "fit", sec.shot, "no faces")]
    cue = motion_centre(shots, sec.start, sec.end)
    if cue is not None and not sec.override:
        return [_still(sec, min(max(cue - c / 2, 0.0), 1.0 - c) * w, "motion")]
    return [_still(sec, fixed * w, source)]


def _runs_of(mask: np.ndarray, least: int) -> list[tuple[int, int]]:
    """Runs of ``mask`` at least ``least`` frames long, gaps shorter than ``least`` closed."""
    idx = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    runs = [list(r) for r in zip(idx[::2], idx[1::2])]
    merged: list[list[int]] = []
    for r in runs:
        if merged and r[0] - merged[-1][1] < least:
            merged[-1][1] = r[1]
        else:
            merged.append(r)
    return [(int(a), int(b)) for a, b in merged if b - a >= least]


def _apart(sec: Section, subj: Subjects, pin, size, source: str, repair: bool = False) -> PathSegment:
    """Stack (two groups that each fit a panel) or fit, for a section or a stretch of one."""
    panels = stack.plan_panels(subj, who_matters(subj, pin)[2], size)
    mode = "stack" if panels is not None else "fit"
    repairs = ((sec.start, sec.end, mode),) if repair else ()
    return PathSegment(sec.start, sec.end, mode, sec.shot, source, (), panels or (), repairs)


def _split(sec: Section, apart, tracks, shots, size, tol) -> list[PathSegment]:
    """A section whose faces that matter are apart for some stretches only: those stretches are
    stacked (or shown whole), the rest followed."""
    from dataclasses import replace

    edges = sorted({0, sec.end - sec.start, *[x for r in apart for x in r]})
    out: list[PathSegment] = []
    for s, e in zip(edges, edges[1:]):
        part = replace(sec, start=sec.start + s, end=sec.start + e)
        if (s, e) in apart:
            out.append(_apart(part, subjects(tracks, part.start, part.end), sec.track, size, "faces", repair=True))
        else:
            out += plan_section(part, tracks, shots, size, tol, split=False)
    return out


def _follow(sec: Section, subj: Subjects, lo, hi, size, tol) -> PathSegment:
    """Still or pan through the composed corridor, then checked and repaired for containment."""
    w, h = size
    cw, ch, _ = window(size)
    c = cw / w
    main = who_matters(subj, sec.track)[1]
    a, b, need = hard_corridor(subj, main, c)
    soft = corridor(lo, hi, c, BAND_PAN)
    still = still_position(lo, hi, c)
    path = np.full(sec.end - sec.start, still) if still is not None else pan_path(*soft, c)
    path, repairs = contain(path, a, b, need, soft)
    y = headroom(subj, main, size, ch)
    path_px = path * w
    repairs = tuple((sec.start + s, sec.start + e, k) for s, e, k in repairs)
    if not repairs and (still is not None or path_px.max() - path_px.min() < 2):
        return replace_y(_still(sec, float(np.median(path_px)) if still is None else still * w, "faces"), y)
    cuts = [s - sec.start for s, _, k in repairs if k == "cut"]
    ps: list[Piece] = []
    for p, q in zip([0, *cuts], [*cuts, len(path_px)]):
        ps += pieces(path_px[p:q], sec.start + p, tol)
    return PathSegment(sec.start, sec.end, "pan", sec.shot, "faces", tuple(ps), (), repairs, y)


def replace_y(seg: PathSegment, y: int | None) -> PathSegment:
    from dataclasses import replace

    return seg if y is None else replace(seg, y=y)


def _still(sec: Section, x_px: float, source: str) -> PathSegment:
    return PathSegment(sec.start, sec.end, "still", sec.shot, source, (Piece(sec.start, sec.end, int(round(x_px))),))


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
        segs = [seg for s in sections for seg in plan_section(s, tracks, shots, size, tol)]
        length = sum(len(p.expr(0)) + 16 for s in segs for p in s.pieces)
        if length <= EXPR_BUDGET or tol > 64:
            return FollowPlan(size, window(size, focus_y), segs)
        tol *= 2


def sections(ranges: list[tuple[int, int]], frame_count: int, strategy: str, focus: tuple[float, float],
             overrides: list[tuple]) -> list[Section]:
    """Shots split where an override ``(start, end, strategy, focus[, track])`` (frames) begins or
    ends; a later override wins over an earlier one."""
    label = np.full(frame_count, -1)
    for k, (a, b, *_) in enumerate(overrides):
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
                _, _, st, fc, *pin = overrides[k]
                out.append(Section(i, j, shot, st, fc or focus, True, pin[0] if pin else None))
            i = j
    return out
