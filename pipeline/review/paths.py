"""The path a moving ``[[mask]]`` region follows, as the review page draws it over a frame.

The path is the render's own: :func:`pipeline.faces.moving.track_region` on the clip's span with
the entry as ``masks.toml`` holds it (cached by content, so the render finds it again), one mask
box per frame (grown by the tracker's margins: what will be hidden) and the stretches where the
tracker lost the object, which the page marks for a person to check. A wrong stretch is fixed by
drawing the region again at one frame (:func:`pipeline.review.edits.fix_moving`).
"""
from __future__ import annotations

from pipeline.core.errors import CadreError
from pipeline.faces.moving import track_region
from pipeline.source.normalize import FPS


def mask_entries(overrides) -> list:
    """The ``[[mask]]`` entries in file order (the page's mask ``index``)."""
    return [e for e in overrides.entries if e.kind in ("mask_region", "mask_frame")]


def moving_entry(overrides, index):
    masks = mask_entries(overrides)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(masks):
        raise CadreError(overrides.path, f"there is no [[mask]] number {index}")
    entry = masks[index]
    if not entry.moving:
        raise CadreError(overrides.path, f"[[mask]] #{index + 1} is a fixed region (no moving = true); it has no path")
    return entry


def track(span, entry, source):
    """The entry's tracked boxes (a :class:`~pipeline.faces.moving.TrackedRegion`), as render tracks it."""
    return track_region(span, entry.region, entry.start, entry.end,
                        f"[[mask]] moving region of clip '{entry.clip}'", source)


def tracked_path(span, entry, index: int, source) -> dict:
    """``boxes[i]`` is the mask box (fractions of the frame) shown at clip second ``times[i]``;
    ``lost``: ``[from, to]`` seconds where the tracker lost the object (mask held and grown);
    ``cut``: the second of the shot cut that ended the region (nothing masked after it), or None."""
    tracked = track(span, entry, source)
    t0 = tracked.t0
    cut = getattr(tracked, "cut", None)
    return {"index": index, "clip": entry.clip, "start": entry.start, "end": entry.end, "label": entry.label,
            "fps": FPS, "times": [round(t0 + (tracked.first + i) / FPS, 3) for i in range(len(tracked.boxes))],
            "boxes": [[round(v, 4) for v in box] for box in tracked.boxes],
            "lost": [[round(t0 + a / FPS, 3), round(t0 + (b + 1) / FPS, 3)] for a, b in tracked.lost],
            "cut": None if cut is None else round(t0 + cut / FPS, 3)}
