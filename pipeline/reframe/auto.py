"""``auto``: ``follow`` for wide footage with people in it, ``fit`` otherwise.

Wide means at least ``OPT.wide_aspect`` (4:3 and wider): a 9:16 window then loses at least half of
the picture, so it is worth aiming it. "With people" means that face tracks long enough to be a
person and not a false detection cover ``OPT.people_share`` of the clip. Inside a ``follow`` plan made
for ``auto``, a shot in which no face is found is shown whole (``fit``) rather than cropped blind.
"""
from __future__ import annotations

import numpy as np

from pipeline.reframe.options import FRAMING

OPT = FRAMING.auto   # wide_aspect, people_share, min_track_frames


def is_wide(size: tuple[int, int]) -> bool:
    w, h = size
    return w / h >= OPT.wide_aspect


def people_share(tracks, frame_count: int) -> float:
    """Share of frames covered by at least one face track long enough to be a person."""
    if frame_count <= 0:
        return 0.0
    seen = np.zeros(frame_count, bool)
    for t in tracks:
        if t.last - t.first + 1 >= OPT.min_track_frames:
            seen[max(0, t.first):min(frame_count, t.last + 1)] = True
    return float(seen.mean())


def choose(size: tuple[int, int], tracks, frame_count: int) -> str:
    """``follow`` or ``fit`` for one clip of working ``size`` with face ``tracks``."""
    if not is_wide(size):
        return "fit"
    return "follow" if people_share(tracks, frame_count) >= OPT.people_share else "fit"
