"""A stop signal never leaves a staging folder behind, whatever moment it hits: while the staging
folder is being removed (a render that was ending anyway), or while a batch worker cannot answer
it (frozen in a native call, then killed after its grace time), the folder still goes.

Real renders of short synthetic clips; the moments are forced, not waited for: the first by
sending the signal from inside the clean-up, the second by freezing the worker with SIGSTOP.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import make_clip
from tests.test_hostile_signals import (
    CADRE,
    ROOT,
    job_worker,
    session_processes,
    staging_left,
    watch_batch,
)

ENV = {**os.environ, "CADRE_X264_PRESET": "superfast", "PYTHONUNBUFFERED": "1"}


def test_a_signal_during_the_clean_up_still_removes_the_staging_folder(tmp_path):
    """SIGTERM arrives while the staging folder is being removed: the removal ends, then the run
    stops (exit 143, one line); the old code stopped half-way and left the folder."""
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", duration=2.0)
    out = tmp_path / "exports"
    script = textwrap.dedent(f"""
        import os, shutil, signal, sys
        import pipeline.orchestrator as orch
        from pipeline.cli import main
        real = shutil.rmtree

        def rmtree(path, *a, **k):
            if ".cadre-staging-" in str(path):
                os.kill(os.getpid(), signal.SIGTERM)   # the signal lands inside the clean-up
                for _ in range(1000):                  # Python runs its handler between these
                    sum(range(100))
            return real(path, *a, **k)

        orch.shutil.rmtree = rmtree
        sys.argv = ["cadre", "render", {str(ep)!r}, "-n", "youtube-shorts", "--captions", "none",
                    "--redact", "none", "-o", {str(out)!r}]
        main()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=ENV, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 143, result.stderr
    assert [ln for ln in result.stderr.splitlines() if ln.startswith("cadre:")] == ["cadre: interrupted by SIGTERM"]
    assert staging_left(out) == []



def test_an_uninterrupted_block_raises_once_it_is_done_and_only_in_the_main_thread():
    """The signal that lands inside the block is raised right after it (the block's last line
    ran); a block in another thread defers nothing (signals are handled in the main thread)."""
    script = textwrap.dedent("""
        import os, signal, threading
        from pipeline.core.interrupt import Interrupted, handle_signals, uninterrupted
        handle_signals()
        log = []
        try:
            with uninterrupted():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10000):
                    sum(range(10))
                log.append("block done")
            log.append("after the block")
        except Interrupted as exc:
            log.append(f"raised {exc.name}")

        def other():
            with uninterrupted():
                log.append("thread block")
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
        print(log)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=ENV, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['block done', 'raised SIGTERM', 'thread block']"

@pytest.mark.slow
def test_a_frozen_worker_killed_after_its_grace_leaves_no_staging(tmp_path):
    """The batch is stopped while one worker is frozen mid-encode (as in a long native call): that
    worker never answers SIGTERM and is killed after the grace time; the batch then removes the
    staging folder it left, and ends with one line and exit 143."""
    camp = tmp_path / "camp"
    for name in ("ep1", "ep2"):
        make_clip(camp / name / "1.mp4", size="480x270", duration=4.0)
    proc = subprocess.Popen([*CADRE, "batch", camp, "-n", "youtube-shorts", "-j", "2", "--json", "--redact", "none",
                             "--captions", "none"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    frozen: list[int] = []

    def on_event(event: dict) -> None:
        if not frozen and event.get("event") == "job_stage" and event.get("name") == "render":
            worker = job_worker(camp, event["job"], proc.pid)
            if worker:
                os.kill(worker, signal.SIGSTOP)   # it holds its staging folder and cannot answer
                frozen.append(worker)
                proc.send_signal(signal.SIGTERM)

    code, stderr = watch_batch(proc, on_event)
    assert frozen, f"no encode was seen: {stderr}"
    assert code == 143, stderr
    assert [ln for ln in stderr.splitlines() if ln.startswith("cadre:")] == ["cadre: interrupted by SIGTERM"]
    assert staging_left(camp / "exports") == []
    assert session_processes(proc.pid) == []

