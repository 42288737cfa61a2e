"""``cadre watch``: re-render an episode when clips are added or edited, never a file still growing."""
from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from pipeline.campaign.batch import BatchOptions, run_batch
from pipeline.campaign.watch import CampaignWatcher, WatchOptions
from pipeline.orchestrator import RenderOptions
from tests.conftest import make_clip
from tests.test_batch import decode_all

pytest.importorskip("watchdog")

RENDER = RenderOptions(networks=("youtube-shorts",), redact="none", caption_style="none")


def wait_until(condition, hang_guard=900.0):
    """Poll until ``condition``. ``hang_guard`` only stops a watcher that hangs; it is no speed
    check (a render on a busy machine may take many times the usual time)."""
    deadline = time.monotonic() + hang_guard
    while not condition():
        assert time.monotonic() < deadline, f"the watcher looks hung: nothing happened in {hang_guard:g} s"
        time.sleep(0.1)


def slow_copy(src: Path, dst: Path, chunks: int = 5, pause: float = 0.5) -> None:
    data = src.read_bytes()
    step = len(data) // chunks + 1
    with open(dst, "wb") as fh:
        for i in range(0, len(data), step):
            fh.write(data[i:i + step])
            fh.flush()
            time.sleep(pause)


@pytest.fixture
def watching(tmp_path):
    campaign = tmp_path / "c"
    make_clip(campaign / "ep1" / "1.mp4", size="320x240", duration=1)
    calls = []

    def runner(root, options, events):
        calls.append({name: {p.name: p.stat().st_size for p in (root / name).iterdir()} for name in options.only})
        return run_batch(root, options, events)

    watcher = CampaignWatcher(campaign, WatchOptions(BatchOptions(RENDER, jobs=1), settle=1.0), runner=runner)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    yield campaign, calls
    stop.set()
    thread.join(30)


def test_watch_renders_new_and_edited_episodes_once_copies_finish(watching, tmp_path):
    campaign, calls = watching
    out = campaign / "exports"
    wait_until(lambda: (out / "ep1" / "youtube-shorts" / ".cadre-job.json").is_file())   # catch-up on start

    source = make_clip(tmp_path / "src" / "1.mp4", size="640x360", duration=2)
    (campaign / "ep2").mkdir()
    slow_copy(source, campaign / "ep2" / "1.mp4")            # ~2.5 s of growing file, settle is 1 s
    wait_until(lambda: (out / "ep2" / "youtube-shorts" / ".cadre-job.json").is_file())
    assert decode_all(out / "ep2" / "youtube-shorts" / "ep2.mp4") == 60
    full = source.stat().st_size
    assert all(c["ep2"]["1.mp4"] == full for c in calls if "ep2" in c)   # never read while growing

    # a clip added to an episode: it is rendered again with both clips
    record = out / "ep2" / "youtube-shorts" / ".cadre-job.json"
    before = record.stat().st_mtime_ns
    ep1_video = out / "ep1" / "youtube-shorts" / "ep1.mp4"
    ep1_mtime = ep1_video.stat().st_mtime_ns
    shutil.copyfile(source, campaign / "ep2" / ".2.mp4.tmp")
    (campaign / "ep2" / ".2.mp4.tmp").rename(campaign / "ep2" / "2.mp4")
    wait_until(lambda: record.is_file() and record.stat().st_mtime_ns != before)
    assert decode_all(out / "ep2" / "youtube-shorts" / "ep2.mp4") == 120
    assert ep1_video.stat().st_mtime_ns == ep1_mtime                   # ep1 left alone
    rows = json.loads((out / "campaign.json").read_text())["rows"]
    assert {(r["episode"], r["status"]) for r in rows} == {("ep1", "done"), ("ep2", "done")}


def test_episode_of_ignores_outputs_and_hidden_files(tmp_path):
    campaign = tmp_path / "c"
    (campaign / "ep").mkdir(parents=True)
    w = CampaignWatcher(campaign, WatchOptions(BatchOptions(RENDER)))
    root = str(campaign.resolve())
    assert w.episode_of(f"{root}/ep/1.mp4") == "ep"
    assert w.episode_of(f"{root}/ep/1.fr.srt") == "ep"
    assert w.episode_of(f"{root}/campaign.toml") == "*"
    assert w.episode_of(f"{root}/exports/ep/youtube-shorts/ep.mp4") is None
    assert w.episode_of(f"{root}/ep/.1.mp4.part") is None
    assert w.episode_of(f"{root}/notes.txt") is None
