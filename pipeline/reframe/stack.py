"""Two people too far apart for one 9:16 window: each gets half of the frame, one above the other.

An interview filmed wide (the officer on the left, the interviewer on the right) cannot be cropped
to 9:16 without losing one of them, and showing the whole frame (``fit``) makes both small. When
the faces that matter form two groups, each group present for most of the shot and each fitting
a 9:8 window, the shot is *stacked*: the left group in a still window shown in the top half, the
right group in the bottom half (reading order), with a thin divider. Otherwise ``follow`` falls
back to ``fit``.

Windows are still for the whole shot (two moving windows would be hard to watch) and sized from
the faces: ``zoom`` face heights tall, never less than ``min_height`` of the frame (a panel is a
medium shot, not a blur of pixels), wider when a group needs it.
"""
from __future__ import annotations

import ffmpeg
import numpy as np

from pipeline.reframe.base import OUT_H, OUT_W, Placement
from pipeline.reframe.options import FRAMING

OPT = FRAMING.stack           # zoom, min_height, presence, face_row, room (options.StackOptions)
PANEL_H = OUT_H // 2          # each panel is 1080x960 in the output
DIVIDER = 6                   # px of the dark line between the panels (drawn at render, not planned)

Panel = tuple[int, int, int, int]      # x, y, width, height of a source window (working px)


def _even(v: float) -> int:
    return max(2, int(round(v / 2)) * 2)


def _groups(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Split tracks into a left and a right group at the widest gap between their centres."""
    if len(centres) < 2:
        return None
    order = np.argsort(centres)
    k = int(np.argmax(np.diff(centres[order]))) + 1
    return order[:k], order[k:]


def _panel(x0, x1, cy, fh, size: tuple[int, int]) -> Panel | None:
    """The still window for one group: extents and face sizes are fractions of the frame."""
    w, h = size
    lo, hi = np.nanpercentile(x0, 2) * w, np.nanpercentile(x1, 98) * w
    face_h = float(np.nanmedian(fh)) * h
    need = (hi - lo) + 2 * OPT.room * face_h              # faces are about as wide as tall
    ph = max(OPT.zoom * face_h, OPT.min_height * h, need * PANEL_H / OUT_W)
    ph = min(_even(ph), h - h % 2)
    pw = _even(ph * OUT_W / PANEL_H)
    if pw > w:
        pw = w - w % 2
        ph = _even(pw * PANEL_H / OUT_W)
    if need > pw:
        return None
    x = int(min(max((lo + hi) / 2 - pw / 2, 0), w - pw))
    y = int(min(max(float(np.nanmedian(cy)) * h - OPT.face_row * ph, 0), h - ph))
    return x, y, pw, ph


def plan_panels(subj, matters: np.ndarray, size: tuple[int, int]) -> tuple[Panel, Panel] | None:
    """Two still windows for a shot's two groups of faces that matter, or None (show it whole)."""
    idx = np.flatnonzero(matters)
    present = ~np.isnan(subj.x0)
    with np.errstate(invalid="ignore"):
        centres = np.array([np.nanmedian((subj.x0[i] + subj.x1[i]) / 2) for i in idx])
    groups = _groups(centres)
    if groups is None or subj.y0 is None:
        return None
    panels = []
    for g in groups:
        rows = idx[g]
        if present[rows].any(axis=0).mean() < OPT.presence:
            return None
        cy = subj.y0[rows] + subj.h[rows] / 2
        panel = _panel(subj.x0[rows], subj.x1[rows], cy, subj.h[rows], size)
        if panel is None:
            return None
        panels.append(panel)
    return panels[0], panels[1]


def placements(panels, size: tuple[int, int]) -> list[Placement]:
    w, h = size
    out = []
    for k, (x, y, pw, ph) in enumerate(panels):
        out.append(Placement((x / w, y / h, (x + pw) / w, (y + ph) / h), (0, k * PANEL_H, OUT_W, (k + 1) * PANEL_H)))
    return out


def graph(stream, panels):
    """Both windows scaled to 1080x960 and stacked, with a dark divider between them."""
    split = stream.filter_multi_output("split")
    halves = [split[k].filter("crop", pw, ph, x, y, exact=1).filter("scale", OUT_W, PANEL_H, flags="bicubic")
              .filter("setsar", 1) for k, (x, y, pw, ph) in enumerate(panels)]
    return (ffmpeg.filter(halves, "vstack")
            .filter("drawbox", x=0, y=PANEL_H - DIVIDER // 2, w=OUT_W, h=DIVIDER, color="black", t="fill")
            .filter("setsar", 1))
