"""The loudness passes with and without progress reporting: cost of reading ffmpeg's ``-progress``
output, and how often the bar moves on a long clip.

    python benchmarks/bench_loudness.py [--seconds 180] [--pairs 3]

A synthetic episode (a tone with a slow level sweep, so loudnorm has work to do) of ``--seconds``
is normalised by :func:`pipeline.sound.loudness.render_audio` (measure, normalise, check passes)
``--pairs`` times with events and without, alternated, in the same run. Printed: the median wall
time of each and their ratio, the number of progress events per pass and the longest gap between
two events during a pass (the bar must move at least once a second).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    from benchmarks.common import Benchmark, check, table
    from benchmarks.common import info as figure
    from pipeline.core.ffmpeg import run
    from pipeline.core.networks import master_profile
    from pipeline.sound.loudness import render_audio
    from pipeline.source.normalize import ClipSpan
    from pipeline.source.probe import probe

    with tempfile.TemporaryDirectory(prefix="cadre-bench-loudness-") as tmp:
        clip = Path(tmp) / "ep" / "1.mp4"
        clip.parent.mkdir()
        d = args.seconds
        run(["-f", "lavfi", "-i", f"testsrc2=s=160x90:r=15:d={d}", "-f", "lavfi",
             "-i", f"sine=f=440:d={d}:sample_rate=48000", "-af", "volume='0.2+0.15*sin(t/7)':eval=frame",
             "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(clip)], source=clip, what="fixture")
        info = probe(clip)
        span = ClipSpan(clip, info, 0.0, info.duration)
        profile = master_profile()
        plain, reported, gaps, counts = [], [], [], []
        for _ in range(args.pairs):
            start = time.perf_counter()
            render_audio([span], profile, Path(tmp) / "plain.m4a")
            plain.append(time.perf_counter() - start)
            stamps: list[tuple[float, str]] = []
            start = time.perf_counter()
            render_audio([span], profile, Path(tmp) / "events.m4a",
                         events=lambda kind, **data: stamps.append((time.perf_counter(), kind)))
            reported.append(time.perf_counter() - start)
            passes: list[list[float]] = []
            for t, kind in stamps:
                if kind == "stage":
                    passes.append([t])
                else:
                    passes[-1].append(t)
            counts.append([len(p) - 1 for p in passes])
            gaps.append(max(b - a for p in passes for a, b in zip(p, p[1:])))
    ratio = statistics.median(reported) / statistics.median(plain)
    table(f"loudness passes on {d:.0f} s of audio ({args.pairs} alternated pairs)",
          ["variant", "median s", "ratio", "events per pass", "longest gap s"],
          [["no events", f"{statistics.median(plain):.2f}", "1.00", "", ""],
           ["with progress", f"{statistics.median(reported):.2f}", f"{ratio:.3f}",
            "/".join(map(str, counts[-1])), f"{max(gaps):.2f}"]])
    bench = Benchmark("loudness", "the loudness passes with progress events against without",
                      baselines=["no events"])
    bench.add(check("longest gap between two progress events during a pass", round(max(gaps), 3), "<=", 1.0,
                    unit="s"))
    bench.add(figure("wall time with progress / without, median", round(ratio, 3), baseline=1.0, unit="x"))
    return bench.finish({"seconds": d, "plain_s": plain, "progress_s": reported, "ratio": ratio,
                         "events_per_pass": counts, "longest_gap_s": gaps})


if __name__ == "__main__":
    sys.exit(main())
