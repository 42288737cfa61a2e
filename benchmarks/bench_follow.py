"""Follow's containment with truth that does not come from the detector.

    python -m benchmarks follow [--seeds 5] [--first-seed 0]

Truth: hand-labelled face boxes of ``../shared/media/images/faces_gt.json`` (their shapes, their
sizes relative to one another) moved across a 1920x1080 frame on known paths: a fast crossing
(0.5 s), a jog there and back, an erratic walk (sum of sines), one person crossing in front of
another, two people separating fast, someone approaching the camera while moving sideways. Every
case has a smaller bystander standing still, so a detection can land on the wrong person.

Detections are made from the truth as a detector gives them, with fixed seeds: every frame (the
masking analysis) or every 6th frame (framing only, ``FRAMING.detection.detect_every``); 15 % of
detections missed at random plus a burst of 0.4 s missed; centre jitter of 4 % of the face's width
and 4 % on its size; one-frame swaps (main and bystander exchanged on two detections). They are
linked by Cadre's own tracker (``pipeline.faces.tracking.link``) and planned by
``pipeline.reframe.follow`` as the render plans them.

Scored on every frame against the exact box: the main face is **whole** when it lies inside the crop
window or inside one stacked panel; a frame shown whole (``fit``) is **not** counted as whole (the
face is there but small); the crop / stack / fit shares are reported. Target (issue 14/29): the main
face whole in >= 99 % of frames, in every case.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED_MEDIA, Benchmark, check, info, table  # noqa: E402

W, H, FPS = 1920, 1080, 30
MAIN_H, BYSTANDER_H = 0.2, 0.06         # face heights, fractions of the frame height


def labelled_shapes() -> list[float]:
    """Width / height of every labelled face (pixels of its photo)."""
    data = json.loads((SHARED_MEDIA / "images" / "faces_gt.json").read_text())["images"]
    return [w / h for entry in data.values() for _, _, w, h in entry["faces"]]


def ease(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0, 1)
    return u * u * (3 - 2 * u)


def move(t: np.ndarray, a: float, b: float, t0: float, t1: float) -> np.ndarray:
    return a + (b - a) * ease((t - t0) / (t1 - t0))


def paths() -> dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """case -> people (main first): (centre x, centre y, face height) per frame, fractions of the frame."""
    def t_of(seconds):
        return np.arange(int(seconds * FPS)) / FPS
    out = {}
    t = t_of(3.0)
    out["fast crossing (0.5 s)"] = [(move(t, 0.12, 0.88, 1.0, 1.5), np.full(len(t), 0.4), np.full(len(t), MAIN_H))]
    t = t_of(4.0)
    out["jog there and back"] = [(0.5 + 0.35 * np.sin(2 * np.pi * t / 2.4), np.full(len(t), 0.42), np.full(len(t), MAIN_H))]
    t = t_of(5.0)
    out["erratic walk"] = [(0.5 + 0.2 * np.sin(2.1 * t) + 0.12 * np.sin(5.3 * t + 1) + 0.05 * np.sin(11 * t),
                            0.42 + 0.05 * np.sin(3.1 * t), np.full(len(t), MAIN_H))]
    t = t_of(4.0)
    out["crosses in front of another"] = [(move(t, 0.2, 0.8, 1.0, 2.5), np.full(len(t), 0.45), np.full(len(t), MAIN_H)),
                                          (move(t, 0.75, 0.3, 1.0, 2.5), np.full(len(t), 0.35), np.full(len(t), 0.8 * MAIN_H))]
    t = t_of(4.0)
    out["two separate fast"] = [(move(t, 0.45, 0.1, 1.0, 1.8), np.full(len(t), 0.4), np.full(len(t), MAIN_H)),
                                (move(t, 0.56, 0.9, 1.0, 1.8), np.full(len(t), 0.4), np.full(len(t), 0.95 * MAIN_H))]
    t = t_of(4.0)
    out["approaches while moving sideways"] = [(move(t, 0.25, 0.7, 0.5, 3.5), move(t, 0.4, 0.5, 0.5, 3.5),
                                                move(t, 0.1, 0.45, 0.5, 3.5))]
    for people in out.values():                              # a bystander standing still, off to one side
        n = len(people[0][0])
        people.append((np.full(n, 0.93), np.full(n, 0.3), np.full(n, BYSTANDER_H)))
    return out


def boxes(person, shape: float) -> np.ndarray:
    """(frames, 4) normalised boxes of a face of ``shape`` (width / height in pixels)."""
    cx, cy, fh = person
    fw = fh * shape * H / W
    return np.stack([cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2], axis=1)


def detections(truth: list[np.ndarray], every: int, rng: np.random.Generator) -> dict[int, list]:
    """What a detector gives: every ``every``-th frame, misses, a burst of misses, jitter, two swaps."""
    from pipeline.faces.detectors.base import Detection

    n = len(truth[0])
    keys = list(range(0, n, every))
    b0 = int(rng.integers(n // 4, n // 2))
    burst = set(range(b0, b0 + int(0.4 * FPS)))
    swaps = set(rng.choice(keys[1:-1], size=min(2, max(0, len(keys) - 2)), replace=False).tolist())
    out = {}
    for i in keys:
        found = []
        order = list(range(len(truth)))
        if i in swaps:
            order[0], order[-1] = order[-1], order[0]       # the main face's detection lands on the bystander
        for k, src in enumerate(order):
            if i in burst and k == 0 or rng.random() < 0.15:
                continue
            x0, y0, x1, y1 = truth[src][i]
            w, h = x1 - x0, y1 - y0
            cx, cy = (x0 + x1) / 2 + rng.normal(0, 0.04 * w), (y0 + y1) / 2 + rng.normal(0, 0.04 * w * W / H)
            s = 1 + rng.normal(0, 0.04)
            found.append(Detection(cx - s * w / 2, cy - s * h / 2, cx + s * w / 2, cy + s * h / 2, 0.9))
        out[i] = found
    return out


def plan(dets: dict[int, list], n: int, tile_every: int):
    from pipeline.faces.tracking import link
    from pipeline.reframe import follow
    from pipeline.reframe.follow import FollowReframer

    tracks = link(dets, max(3 * tile_every, 10))          # as pipeline.faces.analysis links them
    sections = follow.sections([(0, n)], n, "follow", (0.5, 0.5), [])
    return FollowReframer((W, H), plan=follow.plan_clip(sections, tracks, None, (W, H)))


def score(reframer, main: np.ndarray) -> dict:
    """Frames with the main face whole in the crop or a stacked panel; crop / stack / fit shares."""
    n = len(main)
    whole = crop = stack = fit = 0
    eps = 1e-9
    for i in range(n):
        sharp = [p.src for p in reframer.placements(i) if not p.holes]
        if sharp == [(0.0, 0.0, 1.0, 1.0)]:
            fit += 1
            continue
        stack += len(sharp) > 1
        crop += len(sharp) == 1
        b = main[i]
        whole += any(b[0] >= w[0] - eps and b[2] <= w[2] + eps and b[1] >= w[1] - eps and b[3] <= w[3] + eps
                     for w in sharp)
    return {"frames": n, "whole": whole, "crop": crop, "stack": stack, "fit": fit}


def main(argv: list[str] | None = None) -> int:
    from pipeline.faces.settings import load_settings
    from pipeline.reframe.options import FRAMING

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="noise draws per case and detection rate")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="first noise draw (the framing options were chosen on draws 10-29: report others)")
    args = ap.parse_args(argv)
    if not (SHARED_MEDIA / "images" / "faces_gt.json").is_file():
        raise SystemExit(f"{SHARED_MEDIA}/images/faces_gt.json is absent: the labelled face shapes are needed")
    shapes = labelled_shapes()
    rates = {f"every {FRAMING.detection.detect_every}th frame (framing only)":
             (FRAMING.detection.detect_every, FRAMING.detection.tile_every),
             "every frame (masking on)": (1, load_settings("mosaic").tile_every)}
    bench = Benchmark("follow", "follow's containment of the main face, truth = labelled boxes on known paths, "
                      "detections with misses, jitter and swaps", baselines=["the exact boxes"])
    rows, results, worst = [], {}, (2.0, "")
    for r_label, (every, tile_every) in rates.items():
        for c, (case, people) in enumerate(paths().items()):
            tot = {"frames": 0, "whole": 0, "crop": 0, "stack": 0, "fit": 0}
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                rng = np.random.default_rng(1000 * c + seed)
                truth = [boxes(p, shapes[(c + 3 * k + seed) % len(shapes)]) for k, p in enumerate(people)]
                got = score(plan(detections(truth, every, rng), len(truth[0]), tile_every), truth[0])
                tot = {k: tot[k] + got[k] for k in tot}
            share = tot["whole"] / tot["frames"]
            results[f"{case}, {r_label}"] = tot
            worst = min(worst, (share, f"{case}, {r_label}"))
            rows.append([case, r_label, tot["frames"], f"{100 * share:.1f} %", f"{100 * tot['crop'] / tot['frames']:.0f} %",
                         f"{100 * tot['stack'] / tot['frames']:.0f} %", f"{100 * tot['fit'] / tot['frames']:.0f} %"])
    table(f"Main face whole in the output (crop window or a stacked panel; fit frames not counted), "
          f"{args.seeds} noise draws per row", ["case", "detections", "frames", "whole", "crop", "stack", "fit"], rows)
    all_frames = sum(t["frames"] for t in results.values())
    bench.add(check("main face whole, worst case (fit not counted)", round(worst[0], 4), ">=", 0.99,
                    note=f"worst: {worst[1]}"))
    bench.add(info("main face whole, all frames (fit not counted)",
                   round(sum(t["whole"] for t in results.values()) / all_frames, 4),
                   note="crop / stack / fit shares: " + " / ".join(
                       f"{100 * sum(t[k] for t in results.values()) / all_frames:.1f} %" for k in ("crop", "stack", "fit"))))
    return bench.finish({"seeds": args.seeds, "first_seed": args.first_seed, "cases": results})


if __name__ == "__main__":
    sys.exit(main())
