"""Faces turned and in the dark (issue #26): which angles CenterFace covers, what the turned and
brightened passes (``pipeline/faces/turns.py``) cost on upright lit footage, and the leaks they
remove, against the face analysis before them (commit ``BEFORE``, run from a ``git archive``).

    python -m benchmarks turned [--repeats 3] [--skip-angles] [--skip-leaks]

1. Angles: the 14 labelled faces of ../shared/media/images, the photo turned by every 15 degrees,
   the whole photo fed to the detector at 640 and 320 px on its long side (faces about 80-110 and
   40-55 px), lit and darkened (brightness -0.30, gamma 0.55): faces found per angle.
2. Cost: CPU seconds of the face analysis of the real 1080p pedestrians clip (upright, lit), cold,
   each run a fresh process; today's tree and ``BEFORE`` interleaved, median of ``--repeats``.
   Target: at most 1.15x.
3. Leaks: leaked face-frames of both trees on the fixtures of ``tests/test_turned_faces.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

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

BEFORE = "b627240"          # the face analysis before turns.py
CLIP = SHARED_MEDIA / "videos" / "facenet_pytorch_video.mp4"

IMPORT = """
try:                                    # today's tree
    from pipeline.faces.analysis import analyse_faces
    from pipeline.faces.settings import load_settings
except ImportError:                     # BEFORE's: one module, split in three since (cef28b1)
    from pipeline.faces.redaction import analyse_faces, load_settings
"""

ANALYSE = """
import json, os, sys, time
from pathlib import Path
""" + IMPORT + """from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe
path = Path(sys.argv[1])
t = time.process_time()
tracks = analyse_faces(ClipSpan(path, probe(path)), load_settings("mosaic"))
print(json.dumps({"cpu": time.process_time() - t, "tracks": len(tracks.tracks)}))
"""

LEAKS = """
import json, sys
from pathlib import Path
""" + IMPORT + """from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe
from tests.turned_world import Variant, build, leaks
out = {}
for spec in json.loads(sys.argv[2]):
    v = Variant(**spec)
    path, truth = build(Path(sys.argv[3]), Path(sys.argv[1]), v)
    st = load_settings("mosaic")
    tracks = analyse_faces(ClipSpan(path, probe(path)), st)
    out[v.name] = len({(i, n) for i, n, _ in leaks(tracks, truth, v, st)})
print(json.dumps(out))
"""

VARIANTS = [dict(name="faces90", turn_faces=90), dict(name="faces180", turn_faces=180),
            dict(name="faces270", turn_faces=270), dict(name="faces45", turn_faces=45),
            dict(name="picture180", turn_picture=180), dict(name="picture90", turn_picture=90),
            dict(name="dark", dark=True), dict(name="dark_picture180", dark=True, turn_picture=180),
            dict(name="motion_blur", motion_blur=True), dict(name="soft", soft=True),
            dict(name="small_picture180", turn_picture=180, smallest=16)]


def _tree(commit: str, into: Path) -> Path:
    """The package, presets and assets of ``commit`` (and today's tests/ fixtures) in ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "pipeline", "presets", "assets"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "tests").mkdir(exist_ok=True)
    for name in ("__init__.py", "turned_world.py"):
        (into / "tests" / name).write_text((ROOT / "tests" / name).read_text())
    return into


def _run(tree: Path, code: str, *args: str, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "CADRE_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"bench_turned: the analysis in {tree} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def angles() -> list[list]:
    import cv2

    from benchmarks.labelled import darkened
    from pipeline.faces.detectors import get_detector

    truth = json.loads((SHARED_MEDIA / "images" / "faces_gt.json").read_text())["images"]
    detector = get_detector("centerface", 0.3)
    rows = []
    for label, size, dark in (("lit 640", 640, False), ("lit 320", 320, False), ("dark 640", 640, True),
                              ("dark 320", 320, True)):
        row = [label]
        for angle in range(0, 360, 15):
            found = 0
            for name, entry in truth.items():
                img = cv2.cvtColor(cv2.imread(str(SHARED_MEDIA / "images" / name)), cv2.COLOR_BGR2RGB)
                h, w = img.shape[:2]
                m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
                c, s = abs(m[0, 0]), abs(m[0, 1])
                nw, nh = int(h * s + w * c), int(h * c + w * s)
                m[0, 2] += nw / 2 - w / 2
                m[1, 2] += nh / 2 - h / 2
                turned = cv2.warpAffine(img, m, (nw, nh), borderMode=cv2.BORDER_REFLECT)
                k = size / max(nw, nh)
                small = cv2.resize(turned, (round(nw * k), round(nh * k)), interpolation=cv2.INTER_AREA)
                if dark:
                    small = darkened(small)
                dets = detector.detect(small)
                for x, y, bw, bh in entry["faces"]:
                    cx, cy = m @ [x + bw / 2, y + bh / 2, 1] * k
                    found += any(d.x0 <= cx <= d.x1 and d.y0 <= cy <= d.y1 for d in dets)
            row.append(found)
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-angles", action="store_true")
    ap.add_argument("--skip-leaks", action="store_true")
    args = ap.parse_args()
    bench = Benchmark("turned", "faces turned and in the dark: CenterFace's angles, the cost of the turned passes, "
                                "leaks before and after", baselines=[f"face analysis at {BEFORE}"])
    details: dict = {}
    with tempfile.TemporaryDirectory(prefix="cadre-turned-") as tmp:
        tmp = Path(tmp)
        before = _tree(BEFORE, tmp / "before")
        now = ROOT
        counter = iter(range(10_000))
        runs = {label: (lambda tree=tree: _run(tree, ANALYSE, str(CLIP), cache=tmp / f"cache-{next(counter)}"))
                for label, tree in (("today", now), ("before", before))}
        samples = interleaved(runs, args.repeats)
        cpu = {label: sorted(s["result"]["cpu"] for s in samples[label])[len(samples[label]) // 2] for label in samples}
        wall = {label: medians(samples[label])[0] for label in samples}
        ratio = cpu["today"] / cpu["before"]
        bench.add(check("face analysis CPU time on upright lit 1080p footage, today / before", round(ratio, 3), "<=",
                        1.15, baseline=round(cpu["before"], 2), unit="x",
                        note=f"today {cpu['today']:.1f} s, before {cpu['before']:.1f} s CPU (median of "
                             f"{args.repeats}, interleaved); wall {wall['today']:.1f} s vs {wall['before']:.1f} s"))
        details["cost"] = {k: [s["result"] for s in v] for k, v in samples.items()}
        if not args.skip_leaks:
            spec, leaks = json.dumps(VARIANTS), {}
            for label, tree in (("today", now), ("before", before)):
                (tmp / f"clips-{label}").mkdir()
                leaks[label] = _run(tree, LEAKS, str(tmp / f"clips-{label}"), spec, str(SHARED_MEDIA),
                                    cache=tmp / f"leak-cache-{label}")
            frames = 24 * 14
            table("leaked face-frames (of 336) on the turned, dark, blurred and shrunk fixtures",
                  ["fixture", "today", f"before ({BEFORE})"],
                  [[v["name"], leaks["today"][v["name"]], leaks["before"][v["name"]]] for v in VARIANTS])
            bench.add(check("leaked face-frames, all fixtures", sum(leaks["today"].values()), "==", 0,
                            baseline=sum(leaks["before"].values()), note=f"{len(VARIANTS)} fixtures x {frames}"))
            details["leaks"] = leaks
    if not args.skip_angles:
        rows = angles()
        table("labelled faces (of 14) CenterFace finds, by angle (degrees clockwise)",
              ["photo"] + [str(a) for a in range(0, 360, 15)], rows)
        details["angles"] = rows
        worst = min(min(r[1:]) for r in rows if r[0].startswith("lit"))
        bench.add(info("lit faces found at the worst angle (of 14), whole-frame pass", worst))
    sys.exit(bench.finish(details))


if __name__ == "__main__":
    main()
