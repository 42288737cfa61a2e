"""Issue 2 numbers: Cadre's render against one hand-written ffmpeg command, five networks against
one, and peak memory of a 10-minute episode against a 1-minute one.

    python benchmarks/bench_render.py [--seconds 60] [--preset fast]
        [--memory-seconds 60,300,600] [--memory-preset PRESET] [--memory-only]

The same x264 preset is used on both sides. Cadre runs with a warm analysis cache (analysis is
cached per clip; a re-render never repeats it), and with --redact none so no face is masked on this
synthetic clip either way; the cold first run is reported too.

Peak memory (issue 29) is measured on a landscape 1920x1080 episode with real speech and real
faces: the real crowd clip (``facenet_pytorch_video.mp4``) looped over real French speech looped,
at each of ``--memory-seconds`` (default 60, 300 and 600 s), rendered cold (a fresh cache every
run: Whisper, the face analysis, the contact sheet, the frame path), one network, default settings
and x264 preset. The peak is the cgroup's ``memory.peak`` when the benchmark runs in a cgroup of its
own (``CADRE_BENCH_CGROUP=1``), else the highest summed VmHWM of the live process tree (cadre and
its ffmpeg children). Reported: each peak, the slope in MiB per minute of episode, the longest
episode's peak against the shortest's (target <= 1.2x), the highest peak (target < 1.5 GiB) and
the longest episode's wall time against its length (target <= 2x).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import SHARED_MEDIA, Benchmark, check, table, timed  # noqa: E402
from pipeline.core.ffmpeg import ffmpeg_exe, run  # noqa: E402

CADRE = [sys.executable, "-m", "pipeline.cli"]


def make_source(path: Path, seconds: int, size: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    run(["-f", "lavfi", "-i", f"testsrc2=s={size}:r=30:d={seconds}",
         "-f", "lavfi", "-i", f"sine=f=330:d={seconds}:sample_rate=48000",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-c:a", "aac", "-shortest", str(path)],
        source=path, what="benchmark source")


FACES_VIDEO = SHARED_MEDIA / "videos" / "facenet_pytorch_video.mp4"   # 1920x1080, a crowd of real faces
SPEECH = SHARED_MEDIA / "audio" / "fr"                                  # real French speech


def make_episode(path: Path, seconds: int, tmp: Path) -> None:
    """A 1920x1080 landscape clip of ``seconds``: the real crowd clip looped, over real French
    speech looped (the memory episodes of issue 29: faces on most frames, Whisper on all of it).
    A 60 s cut is encoded once, longer clips join copies of it without re-encoding."""
    base = tmp / "looped-60.mp4"
    if not base.is_file():
        wavs = sorted(SPEECH.glob("fr_fleurs_*.wav")) + sorted(SPEECH.glob("fr_picovoice_*.wav"))
        speech = tmp / "speech.wav"
        inputs = [a for w in wavs for a in ("-i", str(w))]
        run([*inputs, "-filter_complex", "".join(f"[{i}]" for i in range(len(wavs))) + f"concat=n={len(wavs)}:v=0:a=1",
             "-ar", "48000", "-ac", "1", str(speech)], source=speech, what="benchmark speech")
        run(["-stream_loop", "-1", "-i", str(FACES_VIDEO), "-stream_loop", "-1", "-i", str(speech), "-t", "60",
             "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
             "-c:a", "aac", "-b:a", "128k", "-ar", "48000", str(base)], source=base, what="benchmark episode")
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = tmp / f"parts-{seconds}.txt"
    parts.write_text("".join(f"file '{base}'\n" for _ in range(-(-seconds // 60))))
    run(["-f", "concat", "-safe", "0", "-i", str(parts), "-t", str(seconds), "-c", "copy", str(path)],
        source=path, what="benchmark episode")


def _hwm(pid: int) -> int:
    """VmHWM of ``pid`` in bytes (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cgroup_peak() -> Path | None:
    """This process's own cgroup v2 ``memory.peak`` when it has one to itself (a benchmark run in
    ``systemd-run --scope``): the kernel's own peak of everything in it."""
    try:
        line = next(ln for ln in Path("/proc/self/cgroup").read_text().splitlines() if ln.startswith("0::"))
    except (OSError, StopIteration):
        return None
    peak = Path("/sys/fs/cgroup") / line[3:].lstrip("/") / "memory.peak"
    return peak if os.environ.get("CADRE_BENCH_CGROUP") == "1" and peak.is_file() else None


def peak_memory(cmd: list[str], env: dict) -> tuple[float, int]:
    """Run ``cmd``: (wall seconds, peak memory in bytes). The peak is the cgroup's ``memory.peak``
    when the benchmark has a cgroup to itself (CADRE_BENCH_CGROUP=1), else the highest sum, over
    10 Hz samples, of the high-water mark (VmHWM) of every process of the tree alive at that
    sample: a process's peak between two samples is never missed (sampled RSS missed them)."""
    wall, peak = timed(cmd, env, memory=lambda pids: sum(_hwm(p) for p in pids))
    cgroup = _cgroup_peak()
    return wall, int(cgroup.read_text()) if cgroup else peak


def slope_mib_per_minute(points: dict[int, int]) -> float | None:
    """Least-squares slope of peak memory (MiB) against episode length (minutes)."""
    if len(points) < 2:
        return None
    xs = [s / 60 for s in points]
    ys = [b / 2**20 for b in points.values()]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def memory_runs(tmp: Path, lengths: list[int], preset: str | None) -> dict[int, tuple[float, int]]:
    """Each length rendered cold (a fresh cache), one network, default settings: (wall s, peak bytes)."""
    out = {}
    for seconds in lengths:
        ep = tmp / "campaign" / f"mem{seconds}"
        make_episode(ep / "1.mp4", seconds, tmp)
        args = [*CADRE, "render", str(ep), "-o", str(tmp / "exports"), "-n", "tiktok"]
        if preset:
            args += ["--x264-preset", preset]
        shutil.rmtree(tmp / "exports", ignore_errors=True)
        out[seconds] = peak_memory(args, {"CADRE_CACHE_DIR": str(tmp / f"cache-{seconds}")})
        print(f"  {seconds} s episode, cold: {out[seconds][0]:.0f} s ({out[seconds][0] / seconds:.2f}x its length), "
              f"peak {out[seconds][1] / 2**20:.0f} MiB", flush=True)
        shutil.rmtree(tmp / f"cache-{seconds}", ignore_errors=True)
    return out


def cadre_render(ep: Path, out: Path, preset: str, networks: list[str], masked: bool = False) -> tuple[float, int]:
    masking = ["--redact", "mosaic", "--captions", "social"] if masked else ["--redact", "none", "--captions", "none"]
    args = [*CADRE, "render", str(ep), "-o", str(out), "--reframe", "crop", *masking, "--x264-preset", preset]
    for n in networks:
        args += ["-n", n]
    shutil.rmtree(out, ignore_errors=True)
    return timed(args)


def hand_command(src: Path, out: Path, preset: str) -> tuple[float, int]:
    # the same crop, scale, loudness filter and encode, written by hand in one command
    return timed([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(src),
                  "-vf", "crop=608:1080:656:0,scale=1080:1920:flags=bicubic,setsar=1,fps=30,format=yuv420p",
                  "-af", "loudnorm=I=-14:TP=-2:LRA=11,aresample=48000",
                  "-c:v", "libx264", "-profile:v", "high", "-preset", preset, "-crf", "20",
                  "-maxrate", "15000k", "-bufsize", "30000k", "-c:a", "aac", "-b:a", "192k", "-ar", "48000",
                  "-movflags", "+faststart", str(out)])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--memory-seconds", default="60,300,600", help="lengths of the memory episodes, s")
    ap.add_argument("--memory-preset", default=None, help="x264 preset of the memory renders (default: the master's)")
    ap.add_argument("--memory-only", action="store_true", help="only the peak-memory comparison")
    args = ap.parse_args()
    bare = cold = warm = five = None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        out = tmp / "exports"
        if not args.memory_only:
            ep = tmp / "campaign" / "bench"
            make_source(ep / "1.mp4", args.seconds, "1920x1080")
            cold, _ = cadre_render(ep, out, args.preset, ["tiktok"])
            warm, _ = cadre_render(ep, out, args.preset, ["tiktok"])
            bare, _ = hand_command(ep / "1.mp4", tmp / "hand.mp4", args.preset)
            five, _ = cadre_render(ep, out, args.preset, [])
            rows = [["hand-written ffmpeg (1 network)", f"{bare:.1f}", "1.00"],
                    ["cadre render -n tiktok (cold cache)", f"{cold:.1f}", f"{cold / bare:.2f}"],
                    ["cadre render -n tiktok (warm cache)", f"{warm:.1f}", f"{warm / bare:.2f}"],
                    ["cadre render, all five networks", f"{five:.1f}", f"{five / bare:.2f}"]]
            table(f"Render, {args.seconds} s 1920x1080 clip, x264 preset {args.preset}",
                  ["job", "wall s", "x hand ffmpeg"], rows)
            print(f"five networks / one network (warm): {five / warm:.2f}  (target <= 1.3)")
            print(f"tool overhead (warm) / hand ffmpeg: {warm / bare:.2f}  (target <= 1.15)")

        lengths = sorted({int(x) for x in args.memory_seconds.split(",") if x.strip()})
        mem = memory_runs(tmp, lengths, args.memory_preset)
        rows = [[f"{s} s", f"{w:.0f}", f"{w / s:.2f}", f"{peak / 2**20:.0f}"] for s, (w, peak) in mem.items()]
        table("Peak memory, cold render of a 1920x1080 episode with real faces and speech, one network "
              "(cadre and its ffmpeg children)", ["episode", "wall s", "x its length", "peak MiB"], rows)
        short, long_ = lengths[0], lengths[-1]
        ratio = mem[long_][1] / mem[short][1]
        peak = max(p for _, p in mem.values()) / 2**30
        slope = slope_mib_per_minute({s: p for s, (_, p) in mem.items()})
        print(f"peak memory {long_} s / {short} s: {ratio:.2f}  (target <= 1.2); highest peak {peak:.2f} GiB "
              f"(target < 1.5); slope {slope if slope is None else round(slope)} MiB per minute of episode")
    bench = Benchmark("render_memory" if args.memory_only else "render",
                      "render against one hand-written ffmpeg, five networks against one, peak memory long / short",
                      baselines=["hand-written ffmpeg", f"{short} s episode"])
    if not args.memory_only:
        bench.add(check("tool overhead (warm) / hand ffmpeg, wall", round(warm / bare, 3), "<=", 1.15, unit="x"))
        bench.add(check("five networks / one network (warm), wall", round(five / warm, 3), "<=", 1.3, unit="x"))
    note = "1920x1080 crowd + French speech, cold, one network, default settings; peak of the process tree"
    bench.add(check(f"peak memory, {long_} s / {short} s episode", round(ratio, 3), "<=", 1.2, unit="x", note=note))
    bench.add(check("highest peak memory", round(peak, 3), "<", 1.5, unit="GiB", note=note))
    bench.add(check(f"cold render of the {long_} s episode / its length, wall", round(mem[long_][0] / long_, 3),
                    "<=", 2.0, unit="x", note=note))
    return bench.finish({"seconds": args.seconds, "preset": args.preset, "hand": bare,
                         "cold": cold, "warm": warm, "five": five, "overhead": warm / bare if bare else None,
                         "five_over_one": five / warm if warm else None,
                         "memory": {str(k): {"wall_s": w, "peak_bytes": p} for k, (w, p) in mem.items()},
                         "memory_ratio": ratio, "memory_slope_mib_per_minute": slope})

if __name__ == "__main__":
    sys.exit(main())
