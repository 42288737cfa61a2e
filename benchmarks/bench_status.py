"""``cadre status`` on a rendered campaign: wall time of the command (target: under 2 s for 20
episodes whose analysis is cached).

    python benchmarks/bench_status.py [--episodes 20] [--clips 2] [--repeat 3]

Each episode has ``--clips`` short synthetic clips, is rendered once for two networks by
``cadre batch`` (masking and captions off: status never analyses, so their cost is not what is
measured), then ``cadre status CAMPAIGN`` runs ``--repeat`` times in a subprocess (Python
start-up included, as a user waits for it) and once in-process (the library call alone).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--clips", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("CADRE_X264_PRESET", "superfast")
    from pipeline import status
    from pipeline.core.ffmpeg import run

    with tempfile.TemporaryDirectory(prefix="cadre-bench-status-") as tmp:
        campaign = Path(tmp) / "campaign"
        for e in range(args.episodes):
            ep = campaign / f"ep{e + 1}"
            ep.mkdir(parents=True)
            (ep / "episode.toml").write_text('redaction = "none"\ncaption_style = "none"\n')
            for c in range(args.clips):
                run(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15:duration=3", "-f", "lavfi", "-i",
                     f"sine=frequency={300 + 40 * e}:duration=3", "-c:v", "libx264", "-preset", "superfast",
                     "-c:a", "aac", "-shortest", str(ep / f"{c + 1}.mp4")], source=ep, what="bench clip")
        (campaign / "campaign.toml").write_text('networks = ["tiktok", "youtube-shorts"]\n')
        cadre = [sys.executable, "-m", "pipeline.cli"]
        t = time.monotonic()
        subprocess.run([*cadre, "batch", str(campaign)], check=True, capture_output=True)
        print(f"batch of {args.episodes} episodes: {time.monotonic() - t:.1f} s")
        times = []
        for _ in range(args.repeat):
            t = time.monotonic()
            out = subprocess.run([*cadre, "status", str(campaign)], check=True, capture_output=True, text=True)
            times.append(time.monotonic() - t)
        t = time.monotonic()
        result = status(campaign)
        lib = time.monotonic() - t
        states = {r.state for r in result.rows}
        print(f"cadre status, {args.episodes} episodes x 2 networks ({len(result.rows)} rows, {states}): "
              f"median {statistics.median(times):.2f} s (runs {', '.join(f'{x:.2f}' for x in times)}; "
              f"library call {lib:.2f} s); target < 2 s")
        print(out.stdout.splitlines()[-1])
    from benchmarks.common import Benchmark, check, info

    bench = Benchmark("status", "cadre status on a rendered campaign, wall time of the command", baselines=[])
    bench.add(check(f"cadre status, {args.episodes} episodes, median wall time", round(statistics.median(times), 3),
                    "<", 2.0, unit="s", note=f"runs {', '.join(f'{x:.2f}' for x in times)}"))
    bench.add(info("library call alone", round(lib, 3), unit="s"))
    return bench.finish({"episodes": args.episodes, "clips": args.clips, "runs_s": times, "library_s": lib})


if __name__ == "__main__":
    sys.exit(main())
