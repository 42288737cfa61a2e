"""``kill -9`` a batch mid-render, run it again: the campaign finishes, nothing partial is left."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import make_clip
from tests.test_batch import decode_all

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["-n", "youtube-shorts", "--redact", "none", "--captions", "none", "-j", "2"]


def start(campaign: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "batch", str(campaign), *ARGS, "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def wait_for(condition, proc: subprocess.Popen, hang_guard: float = 900) -> None:
    """Poll until ``condition``; the batch ending first fails the test. ``hang_guard`` only stops a
    batch that hangs (it is no speed check: a busy machine may take many times the usual time)."""
    deadline = time.monotonic() + hang_guard
    while not condition():
        assert proc.poll() is None, "the batch ended before the moment to kill it"
        assert time.monotonic() < deadline, f"the batch looks hung: no progress in {hang_guard:g} s"
        time.sleep(0.05)


def processes_touching(path: Path) -> list[int]:
    """Processes whose command line names ``path`` (ffmpeg writing into the exports)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if str(path).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


def kill9(proc: subprocess.Popen, exports: Path) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    deadline = time.monotonic() + 30      # workers die with the batch, and their ffmpeg with them
    while processes_touching(exports) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_touching(exports), "a worker or ffmpeg outlived the killed batch"


def test_kill_9_mid_render_then_rerun_finishes_cleanly(tmp_path):
    campaign = tmp_path / "c"
    sizes = {"ep1": "640x360", "ep2": "480x270", "ep3": "320x180"}
    for name, size in sizes.items():
        make_clip(campaign / name / "1.mp4", size=size, duration=3)
    exports = campaign / "exports"

    # 1: killed while the first masters are being encoded
    proc = start(campaign)
    wait_for(lambda: any(exports.glob("*/.cadre-staging-*/.master.part.mp4")), proc)
    time.sleep(0.3)
    kill9(proc, exports)

    # 2: killed after at least one episode was published, while others are still running
    proc = start(campaign)
    wait_for(lambda: any(exports.glob("*/youtube-shorts/.cadre-job.json")) and any(exports.glob("*/.cadre-staging-*")),
             proc)
    kill9(proc, exports)

    # 3: the re-run completes the campaign
    final = subprocess.run([sys.executable, "-m", "pipeline.cli", "batch", str(campaign), *ARGS, "--json"], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    done = json.loads(final.stdout.splitlines()[-1])
    assert done["event"] == "batch_done" and done["counts"]["failed"] == 0
    assert done["counts"]["skipped"] >= 1            # the episode finished before the 2nd kill is kept

    for name in sizes:
        folder = exports / name / "youtube-shorts"
        assert decode_all(folder / f"{name}.mp4") == 90
        assert {p.name for p in folder.iterdir()} == {f"{name}.mp4", f"{name}.srt", f"{name}.vtt", "cover.jpg",
                                                      "report.json", ".cadre-job.json"}
        json.loads((folder / "report.json").read_text())
        json.loads((exports / name / "plan.json").read_text())
    leftovers = [p for p in exports.rglob("*") if p.name.startswith(".cadre-staging-") or p.name.endswith(".part")
                 or ".part." in p.name]
    assert leftovers == []


def test_cleanup_spares_the_staging_folder_of_a_live_render(tmp_path):
    """A batch removes what killed runs left behind, never the work of a `cadre render` running now."""
    import os

    from pipeline.campaign.batch import remove_leftovers
    from pipeline.core.lock import hold_staging

    live, dead = tmp_path / "ep1" / ".cadre-staging-live", tmp_path / "ep1" / ".cadre-staging-dead"
    for folder in (live, dead):
        (folder / "tiktok").mkdir(parents=True)
    os.close(hold_staging(dead))     # a lock file whose holder is gone, like a killed run's
    fd = hold_staging(live)
    try:
        assert remove_leftovers(tmp_path) == 1
        assert live.is_dir() and not dead.exists()
    finally:
        os.close(fd)
    assert remove_leftovers(tmp_path) == 1 and not live.exists()
