"""The masked render stage (decoder -> Python masks -> encoder) against the same encode without
masks, on real faces; with ``--against COMMIT``, also against the render stage of that commit.

    python -m benchmarks masked_render [--seconds 10] [--repeats 3] [--against COMMIT]

The clip: the real crowd (``../shared/media/videos/facenet_pytorch_video.mp4``, 1920x1080, 8-12
moving faces) looped to ``--seconds``, cropped to 9:16 as the render crops it, its faces found by
the default preset's analysis (real CenterFace, run once in a fresh cache, not timed) and masked by
the master's mask timeline. Timed, interleaved ``--repeats`` times: ``pipeline.render.encode_master``
of that job at the master's x264 setting, masked and unmasked (one ffmpeg process, the floor the
masks add to). CPU seconds are this process's and its waited ffmpeg children's (``getrusage``);
CPU is the figure to quote on a shared machine, wall time is printed beside it. No target of its
own without ``--against`` (the issue sets none for this stage); with it, the masked stage must cost
no more CPU than it did at COMMIT.

``--against`` loads ``pipeline/render.py`` as it was at COMMIT (``git show``) and times its masked
stage too: the RGB path before issue 29's "masking in YUV" is ``--against 567b35b``.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import SHARED_MEDIA, Benchmark, check, info, interleaved, medians, table  # noqa: E402
from pipeline.core.ffmpeg import run  # noqa: E402

CLIP = SHARED_MEDIA / "videos" / "facenet_pytorch_video.mp4"


def render_at(commit: str, tmp: Path):
    """``pipeline/render.py`` as it was at ``commit``, loaded as a module of its own."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:pipeline/render.py"], capture_output=True,
                          text=True, check=True).stdout
    path = tmp / f"render_{commit}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def masked_job(tmp: Path, seconds: float):
    """The master job of the looped crowd clip, cropped, its faces masked (analysis not timed)."""
    from pipeline.analyse import ClipAnalysis
    from pipeline.core.networks import master_profile
    from pipeline.faces.analysis import analyse_faces
    from pipeline.faces.settings import load_settings
    from pipeline.master import MaskTimeline
    from pipeline.reframe import make_reframer
    from pipeline.render import MasterJob
    from pipeline.source.normalize import ClipSpan, working_size
    from pipeline.source.probe import probe

    clip, audio = tmp / "crowd.mp4", tmp / "audio.m4a"
    run(["-stream_loop", "-1", "-i", str(CLIP), "-t", f"{seconds}", "-an", "-c:v", "libx264", "-preset", "veryfast",
         "-crf", "18", str(clip)], source=clip, what="benchmark clip")
    run(["-f", "lavfi", "-i", f"sine=f=440:d={seconds}:sample_rate=48000", "-c:a", "aac", str(audio)],
        source=audio, what="benchmark audio")
    span = ClipSpan(clip, probe(clip))
    settings = load_settings("mosaic")
    reframer = make_reframer("crop", working_size(span.info))
    faces = analyse_faces(span, settings)
    timeline = MaskTimeline([ClipAnalysis(span, "bench", reframer, None, faces)], settings)
    masked = sum(1 for n in range(timeline.total) if timeline.boxes(n))
    job = MasterJob([span], [reframer], audio, tmp / "master.mp4", master_profile(), 15000, timeline)
    return job, masked


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--against", default=None, help="also time pipeline/render.py's masked stage at this commit")
    args = ap.parse_args()
    if not CLIP.is_file():
        sys.exit(f"bench_masked_render: needs {CLIP} (the shared real media); it is absent")
    from dataclasses import replace

    from pipeline import render

    bench = Benchmark("masked_render", "the masked render stage's CPU against the same encode without masks",
                      baselines=["unmasked encode_master", *([f"render.py at {args.against}"] if args.against else [])])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["CADRE_CACHE_DIR"] = str(tmp / "cache")
        job, masked = masked_job(tmp, args.seconds)
        frames = job.total_frames
        runs = {"masked (yuv420p)": lambda: render.encode_master(job),
                "unmasked": lambda: render.encode_master(replace(job, mask=None))}
        if args.against:
            old = render_at(args.against, tmp)

            def before():
                # the old stage knows no frames to keep (nothing is asked here): called without them
                current, render._run_masked = render._run_masked, lambda *a: old._run_masked(*a[:4])
                try:
                    return render.encode_master(job)
                finally:
                    render._run_masked = current
            runs[f"masked at {args.against} (rgb24)"] = before
        samples = interleaved(runs, args.repeats)
    ms = {k: tuple(v * 1000 / frames for v in medians(s)) for k, s in samples.items()}   # (wall, cpu) ms/frame
    table(f"Render stage, {frames} frames 1080x1920 ({masked} with masks), medians of {args.repeats}",
          ["run", "CPU ms/frame", "wall ms/frame", "CPU / unmasked"],
          [[k, f"{cpu:.1f}", f"{wall:.1f}", f"{cpu / ms['unmasked'][1]:.2f}"] for k, (wall, cpu) in ms.items()])
    new, bare = ms["masked (yuv420p)"][1], ms["unmasked"][1]
    note = f"{frames} frames of the real crowd, cropped, {masked} masked; master x264 setting"
    if args.against:   # the figure the change is judged on: the masked stage no dearer than before it
        old_cpu = ms[f"masked at {args.against} (rgb24)"][1]
        bench.add(check(f"masked render stage / render.py at {args.against}, CPU", round(new / old_cpu, 3), "<=", 1.0,
                        baseline=round(old_cpu, 2), unit="x", note=note))
    bench.add(info("masked render stage, CPU per frame", round(new, 2), unit="ms", note=note))
    bench.add(info("masked / unmasked render stage, CPU", round(new / bare, 3), baseline=round(bare, 2), unit="x",
                   note=note))
    return bench.finish({"frames": frames, "masked_frames": masked, "ms_per_frame": ms, "against": args.against})


if __name__ == "__main__":
    sys.exit(main())
