"""``follow``: a 9:16 window that keeps the people of each shot in frame.

Per shot (and per ``[[reframe_spans]]`` entry) the plan is one of:

* **still**: one window holds the subjects for the whole shot, centred on them (AutoFlip's
  stationary mode); the subject barely moves, so the camera does not either;
* **pan**: the subjects move further than a still window allows. The window's left edge follows a
  path that must stay inside a per-frame corridor (the subjects inside the window, their centre in
  its middle third). The path is the taut string through that corridor (the shortest path: it holds
  still, then pans in straight lines), its corners rounded by two box filters (bounded
  acceleration), its speed capped at ``max_speed`` of the frame width per frame;
* **stack**: the people who matter are further apart than any 9:16 window (two speakers at the
  edges) but form two groups that each fit a 9:8 window: one above the other (``stack.py``);
* **fit**: otherwise, the whole frame is shown, as the ``fit`` strategy does.

The path is planned in fractions of the frame (analysis resolution), then written as integer
pieces in working pixels: ``x(n) = x0 + floor((n - n0) * dx / dn)``. The same pieces make the
ffmpeg crop expression (per-frame ``x`` of the ``crop`` filter, so the render stays one pass) and
``placements()``, so masks follow the window to the pixel. Who is in the shot and who matters is
:mod:`pipeline.reframe.subjects`; the path, its containment check and repairs are
:mod:`pipeline.reframe.path`. Shots are independent: the window may
jump at a cut, never inside a shot.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import ffmpeg
import numpy as np

from pipeline.reframe import stack
from pipeline.reframe.base import OUT_H, OUT_W, Placement, Reframer, crop_window
from pipeline.reframe.fit import FitReframer
from pipeline.reframe.options import FRAMING
from pipeline.reframe.path import (
    Piece,
    contain,
    corridor,
    hard_corridor,
    headroom,
    keyframes,
    pan_path,
    pieces,
    stand_ins,
    still_position,
)
from pipeline.reframe.subjects import (
    Subjects,
    main_face,
    subject_extent,
    subjects,
    who_matters,
)

OPT = FRAMING.follow     # panning band, budget, when faces are apart (options.FollowOptions)


# -- the plan ------------------------------------------------------------------------------------
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
    main: str | None = None          # track id of the main face (the review page's), when faces framed it
    main_by: str | None = None       # why it is the main face: pinned | speaks | largest

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "mode": self.mode, "shot": self.shot, "source": self.source,
                "pieces": [[p.n0, p.n1, p.x0, p.dx, p.dn] for p in self.pieces],
                "panels": [list(p) for p in self.panels], "repairs": [list(r) for r in self.repairs],
                "y": self.y, "main": self.main, "main_by": self.main_by}

    @classmethod
    def from_dict(cls, d: dict) -> "PathSegment":
        return cls(d["start"], d["end"], d["mode"], d["shot"], d["source"], tuple(Piece(*p) for p in d["pieces"]),
                   tuple(tuple(p) for p in d.get("panels", ())),
                   tuple((int(a), int(b), str(k)) for a, b, k in d.get("repairs", ())), d.get("y"),
                   d.get("main"), d.get("main_by"))

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
    speaker: str | None = None         # the face that speaks in it (speaker.py), the main face unless pinned


def plan_section(sec: Section, tracks, shots, size: tuple[int, int], tol: float = FRAMING.path.tolerance,
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
        lo, hi, too_wide = subject_extent(subj, c, sec.track, sec.speaker)
        seen = ~np.isnan(lo)
        if seen.mean() >= OPT.min_face_share or seen.sum() >= OPT.min_face_frames:
            apart = _runs_of(too_wide, OPT.apart_min)
            covered = sum(e - s for s, e in apart)
            share = FRAMING.subjects.fit_share
            if covered and covered >= (1 - share) * seen.sum() or too_wide.sum() > share * seen.sum() and not apart:
                return [_named(_apart(sec, subj, size, source="faces", tol=tol, tracks=tracks), subj, sec)]
            if apart and split:
                return _split(sec, apart, tracks, shots, size, tol)
            return [_named(_follow(sec, subj, lo, hi, size, tol, tracks), subj, sec)]
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


def _named(seg: PathSegment, subj: Subjects, sec: Section) -> PathSegment:
    """The segment with its main face recorded (the person's track id and why it is the main one)."""
    row, how = main_face(subj, sec.track, sec.speaker)
    return replace(seg, main=subj.ids[row][0] if subj.ids else None, main_by=how)


def _apart(sec: Section, subj: Subjects, size, source: str, repair: bool = False,
           tol: float = FRAMING.path.tolerance, tracks=None) -> PathSegment:
    """For a section (or a stretch of one) whose faces that matter cannot share one window: stack
    them (two groups that each fit a panel); else follow the main face alone (the others leave the
    window, as a camera operator would let them); else, when the main face is seldom on screen,
    show the frame whole."""
    panels = stack.plan_panels(subj, who_matters(subj, sec.track, sec.speaker)[2], size)
    if panels is None:
        row, _ = main_face(subj, sec.track, sec.speaker)
        seen = ~np.isnan(subj.x0[row])
        if subj.ids and (seen.mean() >= OPT.min_face_share or seen.sum() >= OPT.min_face_frames):
            alone = replace(sec, track=subj.ids[row][0])          # the main face, as if pinned
            lo, hi, _ = subject_extent(subj, window(size)[0] / size[0], alone.track)
            seg = _follow(alone, subj, lo, hi, size, tol, tracks)
            return replace(seg, source=source, repairs=((sec.start, sec.end, "main"),) + seg.repairs)
    mode = "stack" if panels is not None else "fit"
    repairs = ((sec.start, sec.end, mode),) if repair else ()
    return PathSegment(sec.start, sec.end, mode, sec.shot, source, (), panels or (), repairs)


def _split(sec: Section, apart, tracks, shots, size, tol) -> list[PathSegment]:
    """A section whose faces that matter are apart for some stretches only: those stretches are
    stacked (or shown whole), the rest followed."""
    edges = sorted({0, sec.end - sec.start, *[x for r in apart for x in r]})
    out: list[PathSegment] = []
    for s, e in zip(edges, edges[1:]):
        part = replace(sec, start=sec.start + s, end=sec.start + e)
        if (s, e) in apart:
            subj = subjects(tracks, part.start, part.end)
            out.append(_named(_apart(part, subj, size, "faces", repair=True, tol=tol, tracks=tracks), subj, part))
        else:
            out += plan_section(part, tracks, shots, size, tol, split=False)
    return out


def _follow(sec: Section, subj: Subjects, lo, hi, size, tol, tracks=None) -> PathSegment:
    """Still or pan through the composed corridor, then checked and repaired for containment (the
    main face predicted through the gaps in its detections, ``path.bridge``)."""
    w, h = size
    cw, ch, _ = window(size)
    c = cw / w
    _, main, matters = who_matters(subj, sec.track, sec.speaker)
    keys = None if tracks is None else keyframes(tracks, subj, sec.start)
    a, b, need = hard_corridor(subj, main, c, stand_ins(subj, main, matters, sec.track), keys)
    soft = corridor(lo, hi, c, OPT.band_pan)
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
    least, most = OPT.motion_share
    local = (s > least) & (s < most)
    if local.sum() < max(OPT.motion_frames[0], OPT.motion_frames[1] * len(s)):
        return None
    order = np.argsort(x[local])
    cum = np.cumsum(s[local][order])
    return float(x[local][order][np.searchsorted(cum, cum[-1] / 2)])


def plan_clip(sections: list[Section], tracks, shots, size: tuple[int, int], focus_y: float = 0.5) -> FollowPlan:
    """Plan every section; if the crop expression would not fit its budget, coarsen the pieces."""
    tol = FRAMING.path.tolerance
    while True:
        segs = [seg for s in sections for seg in plan_section(s, tracks, shots, size, tol)]
        length = sum(len(p.expr(0)) + 16 for s in segs for p in s.pieces)
        if length <= OPT.expr_budget or tol > OPT.max_tolerance:
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
