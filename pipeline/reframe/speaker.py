"""Which face speaks: the main face of a shot with several people is the one whose mouth moves
while words are spoken.

For each section of a clip with at least two people on screen while words are spoken (word
times from the transcript), frames are decoded over that stretch only, at analysis width, and
for each face (its raw detection box, interpolated between detections) the change between two
frames ``gap`` apart is measured in two bands of the box: the mouth (lower part) and the eyes
(upper part), each shrunk to a small grid so the figure does not depend on the face's size, and
divided by the band's own texture (a shift changes a detailed band more than a plain one). What
the whole head does (a nod, a step, the camera, a box lagging it) then changes both bands alike;
what the mouth does changes the lower one only. Over the sampled word frames, a face speaks when its mouth changes
``ratio`` times as much as its eyes, by at least ``floor`` more, and that excess is ``ratio`` times
the next face's; otherwise nobody is sure and ``follow`` keeps the largest, most central face.
"""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from pipeline.reframe.options import FRAMING
from pipeline.reframe.subjects import subjects
from pipeline.source.normalize import FPS, ClipSpan, read_frames

OPT = FRAMING.speaker    # decode width, bands, thresholds (options.SpeakerOptions)


def word_frames(words, span_start: float, frame_count: int) -> np.ndarray:
    """Per frame of the span: whether a word is being spoken (word times are clip time, s)."""
    out = np.zeros(frame_count, bool)
    for w in words:
        a = int(np.floor((w.start - span_start) * FPS))
        b = int(np.ceil((w.end - span_start) * FPS))
        out[max(0, a):max(0, min(frame_count, b))] = True
    return out


def _band(gray: np.ndarray, box, rows) -> np.ndarray | None:
    """One band of a face box (pixels ``x0, y0, x1, y1``) shrunk to ``grid``, or None off frame."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    ya, yb = int(round(y0 + rows[0] * h)), int(round(y0 + rows[1] * h))
    xa, xb = int(round(x0 + OPT.sides[0] * (x1 - x0))), int(round(x0 + OPT.sides[1] * (x1 - x0)))
    H, W = gray.shape
    if xa < 0 or ya < 0 or xb > W or yb > H or xb - xa < 4 or yb - ya < 3:
        return None
    return cv2.resize(gray[ya:yb, xa:xb], OPT.grid, interpolation=cv2.INTER_AREA).astype(np.float32)


def _texture(band: np.ndarray) -> float:
    """Mean difference between neighbouring cells: how much a small shift of the band changes it."""
    return float(np.abs(np.diff(band, axis=0)).mean() + np.abs(np.diff(band, axis=1)).mean()) / 2


def band_changes(prev: np.ndarray, cur: np.ndarray, box) -> tuple[float, float] | None:
    """Change of the mouth band and of the eye band between two frames, each in units of the band's
    own texture: a shift of the whole head (or a box that lags it) changes a detailed band more than
    a plain one, by as much as it has detail, so what is left is what moved inside the face."""
    bands = [_band(g, box, rows) for g in (prev, cur) for rows in (OPT.mouth, OPT.eyes)]
    if any(b is None for b in bands):
        return None
    out = []
    for before, after in ((bands[0], bands[2]), (bands[1], bands[3])):
        detail = (_texture(before) + _texture(after)) / 2
        out.append(float(np.abs(after - before).mean()) / (detail + OPT.texture_floor))
    return out[0], out[1]


def _candidates(tracks, start: int, end: int, talking: np.ndarray):
    """Per section: the people on screen and the sampled word frames where two or more are."""
    subj = subjects(tracks, start, end)
    if subj.empty or subj.y0 is None:
        return None
    present = ~np.isnan(subj.rx0)
    busy = np.flatnonzero(talking[start:end] & (present.sum(axis=0) >= 2))
    busy = busy[busy >= OPT.gap]
    if len(busy) < OPT.min_word_frames:
        return None
    if len(busy) > OPT.samples:
        busy = busy[np.linspace(0, len(busy) - 1, OPT.samples).round().astype(int)]
    return subj, busy


def scores(span: ClipSpan, tracks, start: int, end: int, talking: np.ndarray) -> dict[str, tuple[float, float]]:
    """Mean mouth and eye changes of each person on screen in frames ``[start, end)`` (keyed by the
    person's first track id); empty when there is nothing to decide (one face, or too few words)."""
    found = _candidates(tracks, start, end, talking)
    if found is None:
        return {}
    subj, busy = found
    want = set((busy + start).tolist()) | set((busy + start - OPT.gap).tolist())
    first, last = min(want), max(want)
    part = replace(span, start=span.start + first / FPS, end=span.start + (last + 1) / FPS)
    frames: dict[int, np.ndarray] = {}
    for i, rgb in read_frames(part, width=OPT.width):
        if first + i in want:
            frames[first + i] = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if first + i >= last:
            break
    if not frames:
        return {}
    gh, gw = next(iter(frames.values())).shape
    total = {k: [] for k in range(len(subj.ids))}
    for f in busy:
        n = f + start
        if n not in frames or n - OPT.gap not in frames:
            continue
        for k in range(len(subj.ids)):
            x0, x1, y0, h = subj.rx0[k, f], subj.rx1[k, f], subj.y0[k, f], subj.h[k, f]
            if np.isnan(x0) or np.isnan(y0) or h * gh < OPT.min_face_px:
                continue
            v = band_changes(frames[n - OPT.gap], frames[n], (x0 * gw, y0 * gh, x1 * gw, (y0 + h) * gh))
            if v is not None:
                total[k].append(v)
    return {subj.ids[k][0]: tuple(np.mean(v, axis=0).tolist()) for k, v in total.items()
            if len(v) >= OPT.min_word_frames // 2}


def speaker(score: dict[str, tuple[float, float]]) -> str | None:
    """The person who clearly speaks, or None: the mouth's change beyond the eyes' is at least
    ``floor`` and ``ratio`` times the next person's, and the mouth changes ``ratio`` times as much as
    the eyes (a moving head, or a box that lags it, changes both alike)."""
    own = {k: max(0.0, m - e) for k, (m, e) in score.items()}
    ranked = sorted(own, key=lambda k: -own[k])
    if len(ranked) < 2:
        return None
    best, mouth, eyes = ranked[0], *score[ranked[0]]
    if own[best] < OPT.floor or own[best] < OPT.ratio * own[ranked[1]] or mouth < OPT.ratio * eyes:
        return None
    return best


def assign(span: ClipSpan, sections: list, tracks, words) -> list:
    """Each ``follow``/``auto`` section (not pinned by a person) with the track id of the face that
    speaks in it, when one clearly does."""
    if not words or not tracks:
        return sections
    talking = word_frames(words, span.start, span.frame_count)
    out = []
    for sec in sections:
        if sec.strategy in ("follow", "auto") and sec.track is None and talking[sec.start:sec.end].any():
            sec = replace(sec, speaker=speaker(scores(span, tracks, sec.start, sec.end, talking)))
        out.append(sec)
    return out
