"""Where Cadre's masked area goes on the labelled clips (``bench_masking.py``): the same tracks
shaped again with one stage of ``pipeline/faces/tracking.py`` added at a time.

1. the detector's boxes, interpolated between keyframes (no pad, no growth, no extension, no join);
2. + the preset's ``pad``, the upright aspect and the growth of weakly scored boxes;
3. + the growth with the distance to the nearest keyframe;
4. + the extension before the first and after the last keyframe (``extend_frames``);
5. + the jumps and swaps swept between keyframes;
6. + the joining of overlapping boxes: the masks the render draws.

Each stage's masked area over the labelled face area (pooled over the clips and per clip) and its
leaked frames; and the area of the tracks on no labelled face (false positives, or faces the
labels leave out: the benchmark never counts those as leaks but counts their masks in the area).
"""
from __future__ import annotations

import numpy as np

from benchmarks.labelled import face_area, score_video
from pipeline.faces import tracking
from pipeline.faces.masking import coverage

OFF = {"GROWTH": 0.0, "MIN_ASPECT": 0.0, "WEAK_GROWTH": 0.0, "JUMP": 1e9, "SWAP": 1e9, "UNION_SLACK": 0.0}
STAGES = [("detector boxes, interpolated", {**OFF, "pad": 1.0, "extend": 0}),
          ("+ pad, aspect, weak-score growth", {**OFF, "MIN_ASPECT": tracking.MIN_ASPECT,
                                               "WEAK_GROWTH": tracking.WEAK_GROWTH, "extend": 0}),
          ("+ growth between keyframes", {"JUMP": 1e9, "SWAP": 1e9, "UNION_SLACK": 0.0, "extend": 0}),
          ("+ extension beyond the ends", {"JUMP": 1e9, "SWAP": 1e9, "UNION_SLACK": 0.0}),
          ("+ jumps and swaps swept", {"UNION_SLACK": 0.0}),
          ("+ joins (the render)", {})]


def _boxes(tracks: dict, frames: int, wh: tuple[int, int], change: dict, keep=None) -> list:
    saved = {k: getattr(tracking, k) for k in change if k.isupper()}
    try:
        for k in saved:
            setattr(tracking, k, change[k])
        ft = tracking.FaceTracks.from_dict(tracks)
        ft.pad, ft.extend = change.get("pad", ft.pad), change.get("extend", ft.extend)
        if keep is not None:
            ft.tracks = [t for t in ft.tracks if t.id in keep]
        w, h = wh
        return [[(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in ft.boxes_at(i)] for i in range(frames)]
    finally:
        for k, v in saved.items():
            setattr(tracking, k, v)


def _on_labels(tracks: dict, per_frame, wh) -> set[str]:
    """Tracks whose box, grown 1.5x (a face 12 px tall is found a few pixels off), holds a labelled
    box's centre on at least half of their keyframes."""
    w, h = wh
    out = set()
    for t in tracks["tracks"]:
        hits = 0
        for f, b in zip(t["frames"], t["boxes"]):
            truth = np.asarray(per_frame[f] if f < len(per_frame) else [], float).reshape(-1, 4)
            cx, cy = (truth[:, 0] + truth[:, 2]) / 2 / w, (truth[:, 1] + truth[:, 3]) / 2 / h
            mx, my = (b[2] - b[0]) / 4, (b[3] - b[1]) / 4
            hits += bool(((cx > b[0] - mx) & (cx < b[2] + mx) & (cy > b[1] - my) & (cy < b[3] + my)).any())
        if 2 * hits >= len(t["frames"]):
            out.add(t["id"])
    return out


def _score(boxes, spans: dict[str, range], per_frame, wh, settings) -> dict:
    w, h = wh
    out = {}
    for name, frames in spans.items():
        covers = [coverage((h, w), boxes[i], settings) for i in frames]
        truth = [per_frame[i] for i in frames]
        leaks, _, _ = score_video(truth, covers.__getitem__, (h, w))
        out[name] = {"leaked_frames": leaks, "masked_px": float(sum(c.sum() for c in covers)),
                     "face_px": face_area(truth)}
    return out


def decompose(tracks: dict, spans: dict[str, range], per_frame, wh: tuple[int, int], settings) -> list[dict]:
    """One row per stage: name, masked / face area pooled and per clip, leaked frames per clip."""
    n = len(per_frame)
    rows = []

    def row(name, clips):
        face = sum(c["face_px"] for c in clips.values())
        rows.append({"stage": name, "masked_over_face_area": sum(c["masked_px"] for c in clips.values()) / face,
                     "clips": {k: {"masked_over_face_area": c["masked_px"] / c["face_px"],
                                   "leaked_frames": c["leaked_frames"]} for k, c in clips.items()}})
        return clips

    for name, change in STAGES:
        final = row(name, _score(_boxes(tracks, n, wh, change), spans, per_frame, wh, settings))
    labelled = _score(_boxes(tracks, n, wh, {}, keep=_on_labels(tracks, per_frame, wh)), spans, per_frame, wh,
                      settings)
    face = sum(c["face_px"] for c in final.values())
    rows.append({"stage": "of which tracks on no labelled face",
                 "masked_over_face_area": sum(final[k]["masked_px"] - labelled[k]["masked_px"] for k in final) / face,
                 "clips": {k: {"masked_over_face_area": (final[k]["masked_px"] - labelled[k]["masked_px"])
                               / final[k]["face_px"], "leaked_frames": None} for k in final}})
    return rows
