"""The speed and memory to publish a long episode (issue 29), and a short vertical appeal for every network.

    python -m benchmarks long [--durations 60,300,600] [--appeal 30] [--no-appeal] [--work DIR]

**Episodes.** A landscape 1920x1080 episode with real speech and real faces: the real crowd clip
(``facenet_pytorch_video.mp4``, 8-12 moving faces) looped over real French speech looped
(``bench_render.make_episode``), at each of ``--durations`` seconds. Each is rendered cold (a fresh
``CADRE_CACHE_DIR`` every run: Whisper, the face analysis, shots, the follow plan, the contact
sheet), for one network (TikTok), with the default preset, captions, reframe and x264 preset.

**Appeal.** A vertical 1080x1920 witness appeal of ``--appeal`` seconds: the crowd clip cut to 9:16
and looped, over the same speech, rendered cold for all five networks.

**Measured.** For each run: wall time, CPU time (this process's waited children: cadre and its
ffmpeg processes), and peak memory of the process tree: the highest sum, over 10 Hz samples, of
each live process's high-water mark (VmHWM) since the sample before (each reading resets it through
``/proc/PID/clear_refs``), so a peak between two samples is never missed and the analysis's peak is
never added to the encoders' later one; beside it the highest summed RSS, and the cadre process's
own peak (without its ffmpeg processes). Each sample's stage (from the CLI's stage lines) gives where
the peak is, the cadre process's own peak there, and where the CPU time goes. Reported: the slope in MiB per
minute of episode (least squares over the durations), the longest episode's peak against the
shortest's, the highest peak, and each run's wall and CPU time against its length.

Targets (issue 29): the longest episode (600 s) peaks under 1.5 GiB and at most 1.2x the 60 s
episode's peak, and renders in at most 2x its length; the appeal for all five networks in at most
1.5x its length. The machine is shared (2 cores): each run also records the load average, and the
CPU-time ratio, which a busy neighbour disturbs less than the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_render import (  # noqa: E402
    FACES_VIDEO,
    SPEECH,
    make_episode,
    slope_mib_per_minute,
)
from benchmarks.common import RESULTS, SHARED_MEDIA, Benchmark, check, info, table  # noqa: E402
from pipeline.core.ffmpeg import run  # noqa: E402
from pipeline.core.networks import network_names  # noqa: E402

CADRE = [sys.executable, "-m", "pipeline.cli"]
MIB = 2 ** 20
TICKS = os.sysconf("SC_CLK_TCK")


def make_appeal(path: Path, seconds: int) -> None:
    """A vertical 1080x1920 clip of ``seconds``: the crowd clip cut to 9:16 around its middle and
    looped, over the French speech looped (a witness appeal filmed on a phone held upright)."""
    wavs = sorted(SPEECH.glob("fr_fleurs_*.wav")) + sorted(SPEECH.glob("fr_picovoice_*.wav"))
    inputs = [a for w in wavs for a in ("-i", str(w))]
    speech = path.parent / "speech.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    run([*inputs, "-filter_complex", "".join(f"[{i}]" for i in range(len(wavs))) + f"concat=n={len(wavs)}:v=0:a=1",
         "-ar", "48000", "-ac", "1", str(speech)], source=speech, what="benchmark speech")
    run(["-stream_loop", "-1", "-i", str(FACES_VIDEO), "-stream_loop", "-1", "-i", str(speech), "-t", str(seconds),
         "-map", "0:v", "-map", "1:a", "-vf", "crop=608:1080:656:0,scale=1080:1920,setsar=1",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
         str(path)], source=path, what="benchmark appeal")
    speech.unlink()


def _status(pid: int) -> tuple[int, int, float]:
    """(VmRSS, VmHWM) of ``pid`` in bytes and its CPU seconds with its waited children's; the
    high-water mark is then reset (``clear_refs`` 5), so the next reading is the peak since this
    one: summed over the tree, a peak between two samples is never missed, and one process's old
    peak (the analysis) is never added to another's later one (the encoders'). Zeros once it has
    gone."""
    rss = hwm = 0
    cpu = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = sum(int(x) for x in fields[11:15]) / TICKS
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm, cpu


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def measure(cmd: list[str], env: dict) -> dict:
    """Run ``cmd`` (a ``cadre render``): wall and CPU seconds, peak memory of its process tree
    (the highest sum over 10 Hz samples of each process's peak since the last sample) and of the
    cadre process alone, and per stage (the CLI's stage lines on stderr) its start, its CPU
    seconds and its peak."""
    import psutil

    start, cpu0 = time.perf_counter(), _children_cpu()
    proc = psutil.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stages: list[dict] = [{"stage": "start", "at": 0.0, "cpu_s": 0.0, "peak": 0, "cadre": 0}]
    peak = {"tree": 0, "rss": 0, "cadre": 0}
    done = threading.Event()
    lock = threading.Lock()
    seen: dict[int, float] = {}
    tail: list[str] = []

    def sample():
        while not done.is_set():
            try:
                pids = [proc.pid, *(c.pid for c in proc.children(recursive=True))]
            except psutil.Error:
                pids = [proc.pid]
            stats = {p: _status(p) for p in pids}
            tree = sum(s[1] for s in stats.values())
            with lock:
                peak["tree"] = max(peak["tree"], tree)
                peak["rss"] = max(peak["rss"], sum(s[0] for s in stats.values()))
                peak["cadre"] = max(peak["cadre"], stats[proc.pid][1])
                stages[-1]["peak"] = max(stages[-1]["peak"], tree)
                stages[-1]["cadre"] = max(stages[-1]["cadre"], stats[proc.pid][1])
                # CPU: cadre's own and its waited children's, plus the live children's own
                now = stats[proc.pid][2] + sum(s[2] for p, s in stats.items() if p != proc.pid)
                last = seen.get(0, 0.0)
                if now > last:
                    stages[-1]["cpu_s"] += now - last
                    seen[0] = now
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    for line in proc.stderr:
        tail = (tail + [line])[-40:]
        name = line.split(": ", 1)[1].strip() if ": " in line and not line.startswith("cadre:") else None
        if name and name != stages[-1]["stage"]:
            with lock:
                stages.append({"stage": name, "at": round(time.perf_counter() - start, 1), "cpu_s": 0.0,
                               "peak": 0, "cadre": 0})
    code = proc.wait()
    done.set()
    thread.join()
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    if code != 0:
        sys.exit(f"bench_long: cadre failed ({code}): {' '.join(cmd)}\n{''.join(tail)[-3000:]}")
    for s in stages:
        s["cpu_s"], s["peak_mib"] = round(s["cpu_s"], 1), round(s.pop("peak") / MIB)
        s["cadre_mib"] = round(s.pop("cadre") / MIB)     # the cadre process alone (no ffmpeg)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_bytes": peak["tree"],
            "peak_rss_bytes": peak["rss"], "peak_cadre_bytes": peak["cadre"], "stages": stages,
            "load_average": list(os.getloadavg())}


def render(folder: Path, networks: tuple[str, ...], work: Path, label: str) -> dict:
    cache = work / f"cache-{label}"
    shutil.rmtree(cache, ignore_errors=True)
    out = work / f"exports-{label}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*CADRE, "render", str(folder), "-o", str(out), *[a for n in networks for a in ("-n", n)]]
    try:
        result = measure(cmd, {"CADRE_CACHE_DIR": str(cache)})
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    top = max(result["stages"], key=lambda s: s["peak_mib"])
    print(f"  {label}: {result['wall_s']:.0f} s wall, {result['cpu_s']:.0f} s CPU, peak {result['peak_bytes'] / MIB:.0f} "
          f"MiB (cadre alone {result['peak_cadre_bytes'] / MIB:.0f}), highest in stage '{top['stage']}'; "
          f"load {result['load_average'][0]:.1f}", flush=True)
    for s in result["stages"]:
        print(f"    {s['stage']:32s} from {s['at']:7.1f} s  {s['cpu_s']:7.1f} CPU s  peak {s['peak_mib']:5d} MiB "
              f"(cadre {s['cadre_mib']:5d})")
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--durations", default="60,300,600", help="episode lengths, s (comma-separated)")
    ap.add_argument("--appeal", type=int, default=30, help="length of the vertical appeal, s")
    ap.add_argument("--no-appeal", action="store_true", help="skip the five-network appeal")
    ap.add_argument("--no-episodes", action="store_true", help="only the appeal")
    ap.add_argument("--work", type=Path, help="folder for the sources (kept and reused); default: a temporary one")
    ap.add_argument("--merge", action="store_true",
                    help="keep the record's earlier runs of the lengths (or appeal) not run now")
    args = ap.parse_args()
    if not FACES_VIDEO.is_file() or not SPEECH.is_dir():
        print(f"bench_long: the shared real media ({SHARED_MEDIA}) is missing", file=sys.stderr)
        return 2
    lengths = [] if args.no_episodes else sorted({int(x) for x in args.durations.split(",") if x.strip()})
    work = args.work or Path(tempfile.mkdtemp(prefix="cadre-bench-long-"))
    work.mkdir(parents=True, exist_ok=True)
    bench = Benchmark("long", "cold render of a long 1080p landscape episode (real faces and speech), one "
                              "network; a vertical appeal for all five networks",
                      baselines=["the 60 s episode", "the episode's own length"])
    runs: dict[str, dict] = {}
    try:
        for seconds in lengths:
            ep = work / "campaign" / f"long{seconds}"
            if not (ep / "1.mp4").is_file():
                make_episode(ep / "1.mp4", seconds, work)
            runs[f"{seconds}"] = {"seconds": seconds, **render(ep, ("tiktok",), work, f"{seconds} s episode")}
        if not args.no_appeal:
            ep = work / "campaign" / f"appeal{args.appeal}"
            if not (ep / "1.mp4").is_file():
                make_appeal(ep / "1.mp4", args.appeal)
            every = tuple(network_names())
            runs["appeal"] = {"seconds": args.appeal, **render(ep, every, work, f"{args.appeal} s appeal x5")}
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    if args.merge:   # the record's earlier runs (this version's), those run now replacing theirs
        try:
            earlier = json.loads((RESULTS / "long.json").read_text())["details"]["runs"]
        except (OSError, ValueError, KeyError):
            earlier = {}
        runs = {**{k: r for k, r in earlier.items() if "peak_bytes" in r}, **runs}
        lengths = sorted(int(k) for k in runs if k != "appeal")
    rows = [[k if k == "appeal" else f"{k} s", r["wall_s"], round(r["wall_s"] / r["seconds"], 2), r["cpu_s"],
             round(r["cpu_s"] / r["seconds"], 2), round(r["peak_bytes"] / MIB), round(r["peak_rss_bytes"] / MIB),
             round(r["peak_cadre_bytes"] / MIB)] for k, r in runs.items()]
    table("cold renders (peak: of the process tree, summed per-sample VmHWM; RSS: highest summed RSS; cadre: alone)",
          ["run", "wall s", "x length", "CPU s", "CPU x length", "peak MiB", "RSS MiB", "cadre MiB"], rows)
    note = ("1920x1080 crowd clip looped over French speech, cold cache, one network (tiktok), default settings; "
            "peak = highest sum over the process tree of each process's VmHWM since the last 10 Hz sample")
    if lengths:
        short, long_ = runs[str(lengths[0])], runs[str(lengths[-1])]
        slope = slope_mib_per_minute({s: runs[str(s)]["peak_bytes"] for s in lengths})
        peaks = ", ".join(f"{s} s: {runs[str(s)]['peak_bytes'] / MIB:.0f} MiB" for s in lengths)
        bench.add(check(f"peak memory, {lengths[-1]} s episode", round(long_["peak_bytes"] / 2**30, 3), "<", 1.5,
                        unit="GiB", note=f"{note}; {peaks}"))
        bench.add(check(f"peak memory, {lengths[-1]} s / {lengths[0]} s episode",
                        round(long_["peak_bytes"] / short["peak_bytes"], 3), "<=", 1.2, unit="x",
                        baseline=f"{short['peak_bytes'] / MIB:.0f} MiB"))
        bench.add(info("peak memory slope", None if slope is None else round(slope, 1), unit="MiB per minute",
                       note="least squares over " + ", ".join(f"{s} s" for s in lengths)))
        bench.add(check(f"cold render of the {lengths[-1]} s episode / its length, wall",
                        round(long_["wall_s"] / long_["seconds"], 3), "<=", 2.0, unit="x",
                        note=f"CPU time / length {long_['cpu_s'] / long_['seconds']:.2f} on 2 cores; load average "
                             f"{long_['load_average'][0]:.1f} at its end"))
    if "appeal" in runs:
        a = runs["appeal"]
        bench.add(check(f"cold render of a {a['seconds']} s vertical appeal, five networks / its length, wall",
                        round(a["wall_s"] / a["seconds"], 3), "<=", 1.5, unit="x",
                        note=f"CPU time / length {a['cpu_s'] / a['seconds']:.2f}; peak {a['peak_bytes'] / MIB:.0f} MiB; "
                             f"load average {a['load_average'][0]:.1f} at its end"))
    return bench.finish({"runs": runs, "durations": lengths})


if __name__ == "__main__":
    sys.exit(main())
