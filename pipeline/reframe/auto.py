"""``auto``: ``follow`` for wide footage with people in it, ``fit`` otherwise.

Wide means at least ``WIDE_ASPECT`` (4:3 and wider): a 9:16 window then loses at least half of
the picture, so it is worth aiming it. "With people" means that face tracks long enough to be a
person and not a false detection cover ``PEOPLE_SHARE`` of the clip. Inside a ``follow`` plan made
for ``auto``, a shot in which no face is found is shown whole (``fit``) rather than cropped blind.
"""
from __future__ import annotations

import numpy as np

WIDE_ASPECT = 1.3         # width / height
PEOPLE_SHARE = 0.1        # share of the clip's frames with a face on screen
MIN_TRACK_FRAMES = 10     # a track shorter than this (first to last detection) is not a person


def is_wide(size: tuple[int, int]) -> bool:
    w, h = size
    return w / h >= WIDE_ASPECT


def people_share(tracks, frame_count: int) -> float:
    """Share of frames covered by at least one face track long enough to be a person."""
    if frame_count <= 0:
        return 0.0
    seen = np.zeros(frame_count, bool)
    for t in tracks:
        if t.last - t.first + 1 >= MIN_TRACK_FRAMES:
            seen[max(0, t.first):min(frame_count, t.last + 1)] = True
    return float(seen.mean())


def choose(size: tuple[int, int], tracks, frame_count: int) -> str:
    """``follow`` or ``fit`` for one clip of working ``size`` with face ``tracks``."""
    if not is_wide(size):
        return "fit"
    return "follow" if people_share(tracks, frame_count) >= PEOPLE_SHARE else "fit"
