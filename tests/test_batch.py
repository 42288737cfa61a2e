"""``cadre batch``: failure isolation, exit code 3, incremental re-runs, caption edits, reports, lock."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import make_clip, tree_hashes

FAST = ["--redact", "none", "--captions", "none"]


def batch(campaign: Path, *args: str):
    return CliRunner().invoke(main, ["batch", str(campaign), *args], catch_exceptions=False)


def events(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def started(evs: list[dict]) -> list[str]:
    return sorted(e["job"] for e in evs if e["event"] == "job_start")


def decode_all(path: Path) -> int:
    """Decode every video frame and audio packet; return the video frame count."""
    frames = 0
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            frames += 1
    with av.open(str(path)) as c:
        for _ in c.decode(audio=0):
            pass
    return frames


@pytest.mark.slow
def test_broken_episodes_do_not_stop_the_campaign(tmp_path):
    campaign = tmp_path / "campagne"
    make_clip(campaign / "ep1" / "1.mp4", size="640x360", duration=3)
    (campaign / "ep2").mkdir(parents=True)
    (campaign / "ep2" / "1.mp4").write_text("not a video")
    (campaign / "ep3").mkdir()                                            # no clips
    make_clip(campaign / "ep4" / "1.mp4", size="640x360", duration=3)
    (campaign / "ep4" / "episode.toml").write_text('reframe = "zoom"\n')   # bad setting
    (campaign / "campaign.toml").write_text('networks = ["youtube-shorts"]\n')
    result = batch(campaign, *FAST)
    assert result.exit_code == 3, result.output
    assert decode_all(campaign / "exports" / "ep1" / "youtube-shorts" / "ep1.mp4") == 90
    for bad in ("ep2", "ep3", "ep4"):
        assert not (campaign / "exports" / bad).exists()
    assert "3 of 4 episodes failed" in result.output
    assert "not a readable video" in result.output
    assert "no video clips found" in result.output
    assert "key 'reframe'" in result.output
    report = json.loads((campaign / "exports" / "campaign.json").read_text())
    status = {(r["episode"], r["network"]): r["status"] for r in report["rows"]}
    assert status[("ep1", "youtube-shorts")] == "done"
    assert [status[(e, "all")] for e in ("ep2", "ep3", "ep4")] == ["failed"] * 3


@pytest.mark.slow
def test_incremental_rerun_skips_everything_and_force_redoes_it(tmp_path):
    campaign = tmp_path / "c"
    make_clip(campaign / "a" / "1.mp4", size="640x360", duration=2)
    make_clip(campaign / "b" / "1.mp4", size="320x240", duration=2)
    first = batch(campaign, "-n", "youtube-shorts", *FAST, "--json")
    assert first.exit_code == 0, first.output
    assert "render:a" in started(events(first)) and "render:b" in started(events(first))
    outputs = tree_hashes(campaign / "exports" / "a")

    again = batch(campaign, "-n", "youtube-shorts", *FAST, "--json")
    assert again.exit_code == 0, again.output
    evs = events(again)
    assert started(evs) == [] and evs[0]["event"] == "batch_start" and evs[0]["jobs"] == []
    done = evs[-1]
    assert done["event"] == "batch_done" and done["counts"] == {"done": 0, "skipped": 2, "failed": 0}
    assert tree_hashes(campaign / "exports" / "a") == outputs

    # another encoder setting is another input: everything is rendered again
    changed = batch(campaign, "-n", "youtube-shorts", *FAST, "--x264-preset", "veryfast", "--json")
    assert started(events(changed)) == ["render:a", "render:b"]
    assert "profile changed" in json.dumps(events(changed)[-1]["rows"])

    forced = batch(campaign, "-n", "youtube-shorts", *FAST, "--x264-preset", "veryfast", "--force", "--json")
    assert forced.exit_code == 0
    assert {"render:a", "render:b"} <= set(started(events(forced)))


def test_deleted_or_damaged_output_is_rendered_again(tmp_path):
    campaign = tmp_path / "c"
    make_clip(campaign / "a" / "1.mp4", size="640x360", duration=2)
    assert batch(campaign, "-n", "youtube-shorts", *FAST).exit_code == 0
    video = campaign / "exports" / "a" / "youtube-shorts" / "a.mp4"
    video.write_bytes(video.read_bytes()[:1000])   # truncated by hand
    result = batch(campaign, "-n", "youtube-shorts", *FAST, "--json")
    assert started(events(result)) == ["render:a"]
    assert decode_all(video) == 60


def cache_entries(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for kind in ("transcripts", "faces")
            for p in (root / kind).rglob("*.json")}


@pytest.mark.slow
def test_caption_edit_reencodes_only_that_episode_and_analyses_nothing(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CADRE_CACHE_DIR", str(cache))
    campaign = tmp_path / "c"
    make_clip(campaign / "ep1" / "1.mp4", size="320x240", duration=1.5)
    make_clip(campaign / "ep2" / "1.mp4", size="320x240", duration=1.5)   # same clip content: analysed once
    srt = campaign / "ep1" / "1.fr.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:01,200\nBonjour\n\n", "utf-8")
    (campaign / "campaign.toml").write_text('networks = ["youtube-shorts"]\n')

    first = batch(campaign, "--json")             # masking and captions on: both analyses run
    assert first.exit_code == 0, first.output
    jobs = started(events(first))
    assert [j for j in jobs if j.startswith("analyse:")] == ["analyse:ep1/1.mp4"]
    assert cache_entries(cache), "the analysis cache was not used"
    before_cache = cache_entries(cache)
    ep2_before = tree_hashes(campaign / "exports" / "ep2")
    ep1_video = campaign / "exports" / "ep1" / "youtube-shorts" / "ep1.mp4"
    ep1_before = ep1_video.read_bytes()

    srt.write_text("1\n00:00:00,200 --> 00:00:01,200\nBonjour à tous\n\n", "utf-8")
    second = batch(campaign, "--json")
    assert second.exit_code == 0, second.output
    assert started(events(second)) == ["render:ep1"]          # no analysis job, no other episode
    assert cache_entries(cache) == before_cache                # Whisper and the detector did not run
    assert tree_hashes(campaign / "exports" / "ep2") == ep2_before
    assert ep1_video.read_bytes() != ep1_before
    assert "Bonjour à tous" in (campaign / "exports" / "ep1" / "youtube-shorts" / "ep1.srt").read_text("utf-8")
    rows = {r["episode"]: r for r in events(second)[-1]["rows"]}
    assert rows["ep1"]["status"] == "done" and rows["ep1"]["reason"] == "rendered again (edits changed)"
    assert rows["ep2"]["status"] == "skipped"


def test_unknown_network_in_campaign_file_fails_only_that_network(tmp_path):
    campaign = tmp_path / "c"
    make_clip(campaign / "a" / "1.mp4", size="320x240", duration=2)
    (campaign / "campaign.toml").write_text('networks = ["youtube-shorts", "myspace"]\n')
    result = batch(campaign, *FAST)
    assert result.exit_code == 3, result.output
    assert "unknown network" in result.output and "myspace" in result.output
    assert (campaign / "exports" / "a" / "youtube-shorts" / "a.mp4").is_file()
    single = CliRunner().invoke(main, ["render", str(campaign / "a"), "--redact", "none"])
    assert single.exit_code == 1
    assert "campaign.toml: key 'networks': 'myspace' is not a network" in single.output


def test_campaign_report_escapes_and_embeds_covers(tmp_path):
    campaign = tmp_path / "c"
    name = 'ep <b>"&\'1'
    make_clip(campaign / name / "1.mp4", size="320x240", duration=2)
    (campaign / "vide").mkdir()
    result = batch(campaign, "-n", "youtube-shorts", *FAST)
    assert result.exit_code == 3
    page = (campaign / "exports" / "campaign.html").read_text("utf-8")
    assert "<b>" not in page and "ep &lt;b&gt;&quot;&amp;&#x27;1" in page
    assert page.count('<img class="cover" src="data:image/jpeg;base64,') == 1   # the empty folder has none
    data = json.loads((campaign / "exports" / "campaign.json").read_text("utf-8"))
    row = next(r for r in data["rows"] if r["episode"] == name)
    assert row["status"] == "done" and row["size_bytes"] > 0 and abs(row["duration_s"] - 2) < 0.1
    assert row["files"] == [f"{name}.mp4"]
    assert any("face masking off" in w for w in row["warnings"])


def test_plain_output_and_json_lines(tmp_path):
    campaign = tmp_path / "c"
    make_clip(campaign / "a" / "1.mp4", size="320x240", duration=1)
    plain = batch(campaign, "-n", "youtube-shorts", *FAST)
    assert plain.exit_code == 0
    assert "[start] render:a" in plain.stderr and "[done" in plain.stderr
    assert "a        youtube-shorts  done" in plain.stdout
    as_json = batch(campaign, "-n", "youtube-shorts", *FAST, "--json", "--force")
    kinds = [e["event"] for e in events(as_json)]
    assert kinds[0] == "batch_start" and kinds[-1] == "batch_done" and "job_done" in kinds


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from pipeline.core.lock import CampaignLock
CampaignLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_second_batch_is_refused_and_a_killed_holder_frees_the_lock(tmp_path):
    campaign = tmp_path / "c"
    make_clip(campaign / "a" / "1.mp4", size="320x240", duration=1)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(campaign / "exports")], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = batch(campaign, "-n", "youtube-shorts", *FAST)
        assert refused.exit_code == 1
        assert "another cadre batch is already running on this campaign" in refused.output
        assert f"pid {holder.pid}" in refused.output
    finally:
        holder.kill()     # kill -9: the lock must not outlive it
        holder.wait()
    assert (campaign / "exports" / ".cadre-batch.lock").exists()
    assert batch(campaign, "-n", "youtube-shorts", *FAST).exit_code == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")
def test_full_disk_fails_one_episode_with_a_clear_message(tmp_path):
    out = tmp_path / "small"
    out.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(out)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        campaign = tmp_path / "c"
        make_clip(campaign / "big" / "1.mp4", size="1280x720", duration=4)                   # noisy: MBs
        make_clip(campaign / "small" / "1.mp4", size="320x240", duration=2, source="color=c=blue")   # KBs
        result = batch(campaign, "-o", str(out), "-n", "youtube-shorts", "-j", "1", *FAST)
        assert result.exit_code == 3, result.output
        assert "No space left on device" in result.output and "free some space" in result.output
        assert decode_all(out / "small" / "youtube-shorts" / "small.mp4") == 60
        assert not list(out.rglob(".cadre-staging-*")) and not (out / "big").exists()
    finally:
        subprocess.run(["umount", str(out)], check=False)


@pytest.mark.slow
def test_clip_that_fails_to_decode_halfway_fails_its_episode_only(tmp_path):
    campaign = tmp_path / "c"
    clip = make_clip(campaign / "broken" / "1.mp4", size="320x240", duration=2)
    data = bytearray(clip.read_bytes())
    for i in range(len(data) // 2, int(len(data) * 0.9)):    # the second half of the media data is noise
        data[i] = (i * 7919) & 0xFF
    clip.write_bytes(bytes(data))
    make_clip(campaign / "good" / "1.mp4", size="320x240", duration=1, source="color=c=blue")
    result = batch(campaign, "-n", "youtube-shorts", "--captions", "none")    # masking on: every frame is read
    assert result.exit_code == 3, result.output
    assert "cannot be decoded to its end" in result.output
    assert decode_all(campaign / "exports" / "good" / "youtube-shorts" / "good.mp4") == 30
    assert not (campaign / "exports" / "broken").exists()
