"""``cadre batch --executor dask``: the same job graph on a real dask.distributed cluster."""
from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import make_clip
from tests.test_batch import FAST, batch, decode_all, events, started

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster
    cluster.close()


@pytest.mark.slow
def test_campaign_on_a_dask_cluster(tmp_path, cluster, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))    # the workers use the client's cache
    campaign = tmp_path / "c"
    make_clip(campaign / "a" / "1.mp4", size="640x360", duration=2)
    make_clip(campaign / "b" / "1.mp4", size="320x240", duration=2)
    (campaign / "broken").mkdir()
    (campaign / "broken" / "1.mp4").write_text("not a video")
    result = batch(campaign, "--executor", "dask", "--scheduler", cluster.scheduler_address, "-n", "youtube-shorts",
                   *FAST, "--json")
    assert result.exit_code == 3, result.output
    evs = events(result)
    assert {"analyse:a/1.mp4", "analyse:b/1.mp4", "render:a", "render:b"} <= set(started(evs))
    assert any(e["event"] == "job_progress" for e in evs)        # worker events reach the client
    assert list((tmp_path / "cache" / "transcripts").rglob("*.json"))
    assert decode_all(campaign / "exports" / "a" / "youtube-shorts" / "a.mp4") == 60
    assert decode_all(campaign / "exports" / "b" / "youtube-shorts" / "b.mp4") == 60
    report = json.loads((campaign / "exports" / "campaign.json").read_text())
    assert report["executor"].startswith(f"dask at {cluster.scheduler_address}")
    assert {r["episode"]: r["status"] for r in report["rows"]} == {"a": "done", "b": "done", "broken": "failed"}

    again = batch(campaign, "--executor", "dask", "--scheduler", cluster.scheduler_address, "-n", "youtube-shorts",
                  *FAST, "--json")
    assert started(events(again)) == []


def test_unreachable_scheduler_falls_back_to_local_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_DASK_TIMEOUT", "2s")
    with socket.socket() as s:           # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    campaign = tmp_path / "c"
    make_clip(campaign / "a" / "1.mp4", size="320x240", duration=1)
    result = batch(campaign, "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", "-n", "youtube-shorts",
                   *FAST, "--json")
    assert result.exit_code == 0, result.output
    warnings = [e["message"] for e in events(result) if e["event"] == "warning"]
    assert any("cannot reach the Dask scheduler" in w and "process pool instead" in w for w in warnings)
    assert (campaign / "exports" / "a" / "youtube-shorts" / "a.mp4").is_file()
