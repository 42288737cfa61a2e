"""Follow's containment with truth that does not come from the detector.

    python -m benchmarks follow [--seeds 5] [--first-seed 0] [--every N] [--no-cost]

Truth: hand-labelled face boxes of ``../shared/media/images/faces_gt.json`` (their shapes, their
sizes relative to one another) moved across a 1920x1080 frame on known paths: a fast crossing
(0.5 s), a jog there and back, an erratic walk (sum of sines), one person crossing in front of
another, two people separating fast, someone approaching the camera while moving sideways. Every
case has a smaller bystander standing still, so a detection can land on the wrong person.

Detections are made from the truth as a detector gives them, with fixed seeds: every frame (the
masking analysis) or every 2nd frame (framing only, ``FRAMING.detection.detect_every``; ``--every``
scores another spacing); 15 % of
detections missed at random plus a burst of 0.4 s missed; centre jitter of 4 % of the face's width
and 4 % on its size; one-frame swaps (main and bystander exchanged on two detections). They are
linked by Cadre's own tracker (``pipeline.faces.tracking.link``) and planned by
``pipeline.reframe.follow`` as the render plans them. Each row also gives the same detections linked
exactly (grouped by the person each came from): what is lost with them is lost to the spacing of
the detections (the path between two of them is not known), the rest to the linking.

The cost of the spacing: CPU time per frame of the framing-only face analysis (``analyse``'s
settings, fresh cache, 3 interleaved runs after a warm-up, medians) of the shared pedestrians clip,
at the chosen spacing and at every 6th frame (``--no-cost`` skips it).

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

from benchmarks.common import (  # noqa: E402
    SHARED_MEDIA,
    Benchmark,
    check,
    info,
    interleaved,
    medians,
    table,
)

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


def detections(truth: list[np.ndarray], every: int, rng: np.random.Generator) -> tuple[dict[int, list], dict]:
    """What a detector gives: every ``every``-th frame, misses, a burst of misses, jitter, two swaps;
    and for each detection, the person it came from (index into ``truth``)."""
    from pipeline.faces.detectors.base import Detection

    n = len(truth[0])
    keys = list(range(0, n, every))
    b0 = int(rng.integers(n // 4, n // 2))
    burst = set(range(b0, b0 + int(0.4 * FPS)))
    swaps = set(rng.choice(keys[1:-1], size=min(2, max(0, len(keys) - 2)), replace=False).tolist())
    out, source = {}, {}
    for i in keys:
        found, source[i] = [], []
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
            source[i].append(src)
        out[i] = found
    return out, source


def exact_tracks(dets: dict[int, list], source: dict[int, list]) -> list:
    """The detections linked without error: one track per person, of the detections it gave."""
    from pipeline.faces.linking import Track

    people = sorted({k for v in source.values() for k in v})
    rows = {k: [(f, d) for f in sorted(dets) for d, src in zip(dets[f], source[f]) if src == k] for k in people}
    return [Track(f"p{k}", [f for f, _ in r], [list(d.box) for _, d in r], [d.score for _, d in r])
            for k, r in rows.items() if r]


def plan(dets: dict[int, list], n: int, tile_every: int, tracks: list | None = None):
    """The reframer ``follow`` plans for ``tracks`` (default: ``dets`` linked as the analysis links them)."""
    from pipeline.faces.params import PARAMS
    from pipeline.faces.tracking import link
    from pipeline.reframe import follow
    from pipeline.reframe.follow import FollowReframer

    if tracks is None:                                    # as pipeline.faces.analysis links them
        tracks = link(dets, max(PARAMS.gap_fine_passes * tile_every, PARAMS.min_gap))
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


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def framing_cost(spacings: list[int], repeats: int = 3) -> dict[int, float]:
    """CPU ms per frame of the framing-only face analysis (as ``analyse._framing_tracks`` runs it)
    of the shared pedestrians clip at each detection spacing: a fresh cache every run, a warm-up
    run first (the detector's load), then ``repeats`` interleaved runs; medians."""
    import os
    import tempfile
    from dataclasses import asdict

    from pipeline.faces.analysis import analyse_faces
    from pipeline.faces.settings import load_settings
    from pipeline.reframe.options import FRAMING
    from pipeline.source.normalize import ClipSpan
    from pipeline.source.probe import probe

    clip = SHARED_MEDIA / "videos" / "facenet_pytorch_video.mp4"
    span = ClipSpan(clip, probe(clip))

    def run(every: int):
        with tempfile.TemporaryDirectory(prefix="cadre-bench-follow-") as cache:
            os.environ["CADRE_CACHE_DIR"] = cache
            return analyse_faces(span, load_settings("mosaic", **{**asdict(FRAMING.detection), "detect_every": every}),
                                 turned=False)

    old = os.environ.get("CADRE_CACHE_DIR")
    try:
        run(spacings[0])
        samples = interleaved({f"every {e}": (lambda e=e: run(e)) for e in spacings}, repeats)
    finally:
        os.environ.pop("CADRE_CACHE_DIR", None) if old is None else os.environ.__setitem__("CADRE_CACHE_DIR", old)
    return {e: 1000 * medians(samples[f"every {e}"])[1] / span.frame_count for e in spacings}


def main(argv: list[str] | None = None) -> int:
    from pipeline.faces.settings import load_settings
    from pipeline.reframe.options import FRAMING

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="noise draws per case and detection rate")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="first noise draw (the path options were chosen on draws 10-29, the framing detection's "
                         "spacing, the reach of a one-detection track and the keyframe median on 0-4: report others)")
    ap.add_argument("--every", type=int, default=FRAMING.detection.detect_every,
                    help="framing-only detection spacing to score (default: FRAMING.detection.detect_every)")
    ap.add_argument("--no-cost", action="store_true", help="skip timing the framing-only face analysis")
    args = ap.parse_args(argv)
    if not (SHARED_MEDIA / "images" / "faces_gt.json").is_file():
        raise SystemExit(f"{SHARED_MEDIA}/images/faces_gt.json is absent: the labelled face shapes are needed")
    shapes = labelled_shapes()
    rates = {f"every {ordinal(args.every)} frame (framing only)": (args.every, FRAMING.detection.tile_every),
             "every frame (masking on)": (1, load_settings("mosaic").tile_every)}
    bench = Benchmark("follow", "follow's containment of the main face, truth = labelled boxes on known paths, "
                      "detections with misses, jitter and swaps", baselines=["the exact boxes", "exact linking"])
    rows, results, worst = [], {}, (2.0, "")
    for r_label, (every, tile_every) in rates.items():
        for c, (case, people) in enumerate(paths().items()):
            tot = {"frames": 0, "whole": 0, "whole_exact_linking": 0, "crop": 0, "stack": 0, "fit": 0}
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                rng = np.random.default_rng(1000 * c + seed)
                truth = [boxes(p, shapes[(c + 3 * k + seed) % len(shapes)]) for k, p in enumerate(people)]
                dets, source = detections(truth, every, rng)
                got = score(plan(dets, len(truth[0]), tile_every), truth[0])
                exact = score(plan(dets, len(truth[0]), tile_every, exact_tracks(dets, source)), truth[0])
                got["whole_exact_linking"] = exact["whole"]
                tot = {k: tot[k] + got[k] for k in tot}
            share = tot["whole"] / tot["frames"]
            results[f"{case}, {r_label}"] = tot
            worst = min(worst, (share, f"{case}, {r_label}"))
            rows.append([case, r_label, tot["frames"], f"{100 * share:.1f} %",
                         f"{100 * tot['whole_exact_linking'] / tot['frames']:.1f} %",
                         f"{100 * tot['crop'] / tot['frames']:.0f} %",
                         f"{100 * tot['stack'] / tot['frames']:.0f} %", f"{100 * tot['fit'] / tot['frames']:.0f} %"])
    table(f"Main face whole in the output (crop window or a stacked panel; fit frames not counted), "
          f"{args.seeds} noise draws per row; beside it, the same detections linked exactly",
          ["case", "detections", "frames", "whole", "exact linking", "crop", "stack", "fit"], rows)
    all_frames = sum(t["frames"] for t in results.values())
    bench.add(check("main face whole, worst case (fit not counted)", round(worst[0], 4), ">=", 0.99,
                    note=f"worst: {worst[1]}"))
    bench.add(info("main face whole, all frames (fit not counted)",
                   round(sum(t["whole"] for t in results.values()) / all_frames, 4),
                   note="crop / stack / fit shares: " + " / ".join(
                       f"{100 * sum(t[k] for t in results.values()) / all_frames:.1f} %" for k in ("crop", "stack", "fit"))))
    details = {"seeds": args.seeds, "first_seed": args.first_seed, "every": args.every, "cases": results}
    if not args.no_cost:
        spacings = sorted({args.every, 6})
        cost = framing_cost(spacings)
        details["framing_cpu_ms_per_frame"] = {str(e): round(v, 1) for e, v in cost.items()}
        bench.add(info(f"framing-only face analysis, every {ordinal(args.every)} frame", round(cost[args.every], 1),
                       baseline=round(cost[6], 1), unit="CPU ms/frame",
                       note="the shared pedestrians clip (4.2 s, 1920x1080), fresh cache, medians of 3 interleaved "
                            "runs; baseline: every 6th frame"))
    return bench.finish(details)


if __name__ == "__main__":
    sys.exit(main())
