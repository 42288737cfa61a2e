"""Issue 28 item 2: SIGTERM and SIGHUP (what ``timeout``, systemd, Docker and a closing terminal
send) end a render or a batch as Ctrl-C does: one line, every child process stopped, the staging
folder removed, exit 143 / 129, the sources untouched; a later run removes a staging folder a
killed run left, never one a live run holds; a worker stopped alone costs only its own job.

Real renders of short synthetic clips, each stopped at a stage it announces (analysis, loudness,
encode, export) after a seeded random delay. Every Cadre process runs in its own session, so a
child re-parented to PID 1 is still found by its session id.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import make_clip, tree_hashes

ROOT = Path(__file__).resolve().parent.parent
CADRE = [sys.executable, "-m", "pipeline.cli"]
SEED = 28


def session_processes(sid: int) -> list[str]:
    """Processes of session ``sid`` still alive (zombies excepted), as ``pid command``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(f"{entry.name} {cmd[:160]}")
    return found


def stop_at(args: list[str], marker, sig: int, delay: float, env: dict) -> tuple[int, list[str], list[str]]:
    """Run cadre in its own session; once a line of its output satisfies ``marker`` (a stage it
    announces), wait ``delay`` s and send ``sig``. Returns (exit code, its stderr lines, Cadre
    processes still alive 5 s after it ended); fails if the stage never came."""
    proc = subprocess.Popen([*CADRE, *map(str, args)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    err: list[str] = []
    sent = threading.Event()

    def fire():
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(sig)
        sent.set()

    def watch(stream, keep):
        for line in stream:
            if keep is not None:
                keep.append(line.rstrip("\n"))
            if not sent.is_set() and not getattr(watch, "armed", False) and marker(line):
                watch.armed = True
                threading.Thread(target=fire, daemon=True).start()

    readers = [threading.Thread(target=watch, args=(proc.stdout, None), daemon=True),
               threading.Thread(target=watch, args=(proc.stderr, err), daemon=True)]
    for r in readers:
        r.start()
    code = proc.wait(timeout=600)
    for r in readers:
        r.join(10)
    ended = time.monotonic()
    alive = session_processes(proc.pid)
    while alive and time.monotonic() - ended < 5.0:
        time.sleep(0.1)
        alive = session_processes(proc.pid)
    assert getattr(watch, "armed", False), f"the stage never came: {err}"
    return code, err, alive


def staging_left(out: Path) -> list[Path]:
    return list(out.rglob(".cadre-staging-*")) if out.exists() else []


def check_stopped(stage: str, delay: float, sig: int, code: int, err: list[str], alive: list[str], out: Path) -> str:
    """The contract of a stopped run: nothing of it running, exit 128 + signal, one line, no
    staging folder, and any network folder published whole (a signal may come after the last)."""
    from pipeline.campaign.jobs import outputs_whole

    where = f"{stage} +{delay:.2f} s, {signal.Signals(sig).name}"
    assert alive == [], f"{where}: still running 5 s later: {alive}"
    if code == 0 and stage == "export":
        # the signal came as the last network was renamed into place (a fast machine ends the
        # export within the delay): the run is complete, so every folder must be whole, none staged
        assert [ln for ln in err if ln.startswith("cadre:") and "warning" not in ln] == [], (where, err)
        assert staging_left(out) == [], where
        assert all(outputs_whole(v.parent) for v in out.rglob("*.mp4")), where
        return where
    assert code == 128 + sig, f"{where}: exit {code}\n" + "\n".join(err)
    lines = [ln for ln in err if ln.startswith("cadre:")]
    assert lines == [f"cadre: interrupted by {signal.Signals(sig).name}"], (where, err)
    assert not any("Traceback" in ln for ln in err), (where, err)
    assert staging_left(out) == [], where
    for video in out.rglob("*.mp4") if out.exists() else []:
        assert outputs_whole(video.parent), f"{where}: {video.parent} is half-published"
    return where


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    return {**os.environ, "CADRE_X264_PRESET": "superfast", "PYTHONUNBUFFERED": "1"}


def _episode(folder: Path, seconds: float = 4.0, face: bool = False) -> Path:
    """Two clips; with ``face``, the first is a still face (the encode then runs through Python's
    masking), else a test pattern."""
    from tests.test_review_fixtures import face_clip

    if face:
        face_clip(folder / "1.mp4", seconds=2.0)
    else:
        make_clip(folder / "1.mp4", size="480x270", duration=seconds)
    make_clip(folder / "2.mp4", size="480x270", duration=seconds, source="testsrc")
    return folder


def _stage(name: str):
    """A render's plain progress line for stage ``name`` (``ep: loudness measure``...)."""
    return lambda line: line.startswith("ep: ") and line[4:].split()[0] == name


def _job_stage(name: str):
    """A batch's JSON event of a job entering stage ``name``."""
    def match(line: str) -> bool:
        try:
            event = json.loads(line)
        except ValueError:
            return False
        return event.get("event") == "job_stage" and event.get("name") == name
    return match


NETWORKS = ["-n", "youtube-shorts", "-n", "tiktok", "-n", "instagram-reels"]
# (stage, signal, extra arguments): --reanalyse makes the analysis run again (else it comes from the cache)
RENDER_MOMENTS = [("analyse", signal.SIGHUP, ["--reanalyse"]), ("faces", signal.SIGTERM, ["--reanalyse"]),
                  ("loudness", signal.SIGTERM, []), ("render", signal.SIGTERM, []), ("render", signal.SIGHUP, []),
                  ("export", signal.SIGTERM, [])]
BATCH_MOMENTS = [("analyse", signal.SIGTERM), ("loudness", signal.SIGTERM), ("render", signal.SIGHUP),
                 ("export", signal.SIGTERM)]


@pytest.mark.slow
def test_render_stopped_at_each_stage(tmp_path, env):
    ep = _episode(tmp_path / "camp" / "ep", face=True)
    out = tmp_path / "camp" / "exports"
    before = tree_hashes(ep)
    rng = random.Random(SEED)
    warm = subprocess.run([*CADRE, "render", ep, *NETWORKS, "-o", tmp_path / "warm"], cwd=ROOT, env=env,
                          capture_output=True, text=True)   # the analysis, cached for the later moments
    assert warm.returncode == 0, warm.stderr
    for stage, sig, extra in RENDER_MOMENTS:
        delay = rng.uniform(0.0, 0.4)
        code, err, alive = stop_at(["render", ep, *NETWORKS, *extra], _stage(stage), sig, delay, env)
        where = check_stopped(stage, delay, sig, code, err, alive, out)
        assert tree_hashes(ep) == before, where
    # the next run finishes, and leaves no staging folder either
    done = subprocess.run([*CADRE, "render", ep, *NETWORKS], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert staging_left(out) == [] and (out / "ep" / "tiktok" / "ep.mp4").is_file()
    assert tree_hashes(ep) == before


@pytest.mark.slow
def test_batch_stopped_at_each_stage(tmp_path, env):
    camp = tmp_path / "camp"
    for name in ("ep1", "ep2"):
        _episode(camp / name, seconds=4.0)
    before = tree_hashes(camp)
    out = camp / "exports"
    rng = random.Random(SEED + 1)
    for stage, sig in BATCH_MOMENTS:
        delay = rng.uniform(0.0, 0.4)
        code, err, alive = stop_at(["batch", camp, *NETWORKS, "-j", "2", "--json", "--force", "--redact", "none"],
                                   _job_stage(stage), sig, delay, env)
        where = check_stopped(stage, delay, sig, code, err, alive, out)
        assert {k: v for k, v in tree_hashes(camp).items() if not k.startswith("exports")} == before, where
    done = subprocess.run([*CADRE, "batch", camp, *NETWORKS, "-j", "2", "--redact", "none"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert staging_left(out) == []
    assert all((out / ep / "tiktok" / f"{ep}.mp4").is_file() for ep in ("ep1", "ep2"))


@pytest.mark.slow
def test_a_worker_stopped_alone_costs_only_its_job(tmp_path, env):
    """SIGTERM to one worker while it encodes: its job is stopped (its children with it) and run
    again; the other episode's job, running beside it, goes on untouched."""
    camp = tmp_path / "camp"
    for name in ("ep1", "ep2"):
        _episode(camp / name, seconds=4.0)
    proc = subprocess.Popen([*CADRE, "batch", camp, "-n", "youtube-shorts", "-j", "2", "--json", "--redact", "none"],
                            cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    events, killed = [], []

    def on_event(event: dict) -> None:
        events.append(event)
        if not killed and event.get("event") == "job_stage" and event.get("name") == "render":
            worker = job_worker(camp, event["job"], proc.pid)
            if worker:
                os.kill(worker, signal.SIGTERM)
                killed.append((event["job"], worker))

    code, stderr = watch_batch(proc, on_event)
    assert killed, f"no encode was seen to stop: {stderr}"
    assert code == 0, stderr
    lost = [e["message"] for e in events if e.get("event") == "warning" and "trying once more" in e["message"]]
    assert len(lost) == 1 and "was stopped (SIGTERM)" in lost[0], lost   # the other episode's job was not lost
    assert killed[0][0] in lost[0]
    retried = [e for e in events if e.get("event") == "job_start"]
    assert len(retried) == 3, [e["job"] for e in retried]     # two jobs, one of them started again
    for ep in ("ep1", "ep2"):
        assert (camp / "exports" / ep / "youtube-shorts" / f"{ep}.mp4").is_file()
    assert staging_left(camp / "exports") == []
    assert session_processes(proc.pid) == [] or time.sleep(5) or session_processes(proc.pid) == []


def job_worker(camp: Path, job: str, sid: int) -> int | None:
    """The batch worker whose ffmpeg reads ``job``'s episode folder (with -j 2 the other worker
    may be encoding too, and stopping it would stop the other job instead); None if not one."""
    source = f"{camp / job.split(':', 1)[1]}/"
    workers = {_ppid(pid) for pid in _ffmpeg_of(sid) if source in _cmdline(pid)} - {0}
    return workers.pop() if len(workers) == 1 else None


def watch_batch(proc: subprocess.Popen, on_event) -> tuple[int, str]:
    """Call ``on_event`` with each JSON event a ``batch --json`` prints; its exit code and stderr."""
    def read():
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            on_event(event)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stderr = proc.stderr.read()
    code = proc.wait(timeout=600)
    reader.join(10)
    return code, stderr


def _ppid(pid: int) -> int:
    """The parent of ``pid``; 0 once it has gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _ffmpeg_of(sid: int) -> list[int]:
    """PIDs of the ffmpeg processes alive in session ``sid``."""
    return [int(p.split()[0]) for p in session_processes(sid) if "ffmpeg" in p.split(" ", 2)[1]]


def test_a_later_render_removes_stale_staging_but_never_a_live_one(tmp_path):
    """A killed run's staging folder (its lock free) goes at the next render; one a live process
    holds stays."""
    from pipeline.core.lock import STAGING_LOCK

    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", duration=3.0)
    out = tmp_path / "exports" / "ep"
    stale = out / ".cadre-staging-killed"
    stale.mkdir(parents=True)
    (stale / STAGING_LOCK).write_text("")
    (stale / ".master.part.mp4").write_bytes(b"\0" * 1000)
    live = out / ".cadre-staging-live"
    live.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pipeline.core.lock import hold_staging\n"
                               f"hold_staging({str(live)!r})\nprint('held', flush=True)\ntime.sleep(120)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = subprocess.run([*CADRE, "render", ep, "-n", "youtube-shorts", "--captions", "none", "--redact",
                                 "none"], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "CADRE_X264_PRESET": "superfast"})
        assert result.returncode == 0, result.stderr
        assert not stale.exists() and live.is_dir()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_watch_stopped_by_a_service_manager(tmp_path, env, sig):
    """systemd stops a `cadre watch` with SIGTERM: one line, exit 143 (129 for SIGHUP)."""
    camp = tmp_path / "camp"
    camp.mkdir()
    code, err, alive = stop_at(["watch", camp, "--settle", "0.2"], lambda line: line.startswith("watching"), sig,
                               0.2, env)
    assert alive == [] and code == 128 + sig, (code, err)
    assert [ln for ln in err if ln.startswith("cadre:")] == [f"cadre: interrupted by {signal.Signals(sig).name}"]
