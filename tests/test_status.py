"""Issue 20: ``cadre status`` says, without rendering, what is up to date, stale (and why), never
rendered, approved (by whom) and published (with the published file's sha256)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

import pipeline
from pipeline.cli import main
from tests.conftest import make_clip, tree_hashes

SRT = "1\n00:00:00,000 --> 00:00:01,500\nBonjour à tous\n"


def status(folder: Path, *args: str):
    return CliRunner().invoke(main, ["status", str(folder), *args])


def rows(folder: Path) -> dict[tuple[str, str], dict]:
    result = status(folder, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    return {(r["episode"], r["network"]): r for r in doc["rows"]}


def test_status_of_a_rendered_campaign(tmp_path):
    campaign = tmp_path / "campagne"
    ep = campaign / "ep1"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=4.2)     # too short for Snapchat (5 s)
    (ep / "1.fr.srt").write_text(SRT, "utf-8")
    (ep / "episode.toml").write_text('networks = ["youtube-shorts", "snapchat"]\nredaction = "none"\n'
                                     'caption_style = "none"\nlanguage = "fr"\n', "utf-8")
    batch = CliRunner().invoke(main, ["batch", str(campaign)])
    assert batch.exit_code == 3, batch.output          # snapchat refused, youtube-shorts published
    video = campaign / "exports" / "ep1" / "youtube-shorts" / "ep1.mp4"
    assert video.is_file()
    before = tree_hashes(campaign)

    got = rows(campaign)
    assert set(got) == {("ep1", "youtube-shorts"), ("ep1", "snapchat")}
    yt, snap = got[("ep1", "youtube-shorts")], got[("ep1", "snapchat")]
    assert yt["state"] == "up to date", yt
    assert snap["state"] == "never rendered" and "5 s" in snap["reason"], snap
    assert yt["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()
    assert yt["published_at"] and snap["published_at"] is None
    assert not yt["approved"] and yt["approval"] == "never approved"
    assert tree_hashes(campaign) == before                 # status wrote nothing

    # the episode folder itself gives the same rows; the table form names the states
    assert rows(ep)[("ep1", "youtube-shorts")]["state"] == "up to date"
    table = status(campaign)
    assert table.exit_code == 0 and "up to date" in table.output and "never rendered" in table.output

    pipeline.approve(ep, by="Cne Martin")
    yt = rows(campaign)[("ep1", "youtube-shorts")]
    assert yt["approved"] and yt["approved_by"] == "Cne Martin" and yt["approved_at"], yt

    (ep / "1.fr.srt").write_text(SRT.replace("Bonjour", "Bonsoir"), "utf-8")
    yt = rows(campaign)[("ep1", "youtube-shorts")]
    assert yt["state"] == "stale" and "1.fr.srt" in yt["reason"], yt
    assert not yt["approved"] and yt["approved_by"] == "Cne Martin" and "1.fr.srt" in yt["approval"], yt
    assert yt["sha256"] == hashlib.sha256(video.read_bytes()).hexdigest()   # still what is published


def test_not_an_episode_nor_a_campaign_is_one_line(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello")
    result = status(folder)
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("cadre: error:"), result.output
    assert "not an episode (no clips) or a campaign (no episode folders)" in lines[0]
    missing = status(tmp_path / "nowhere")
    assert missing.exit_code == 1 and missing.output.count("\n") == 1, missing.output


def test_a_cadre_render_output_is_up_to_date_for_status_and_batch(tmp_path):
    """`cadre render` records what it rendered from, as batch does: status says up to date, and a
    batch right after renders nothing."""
    campaign = tmp_path / "campagne"
    ep = campaign / "ep1"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=3.5)
    (ep / "1.fr.srt").write_text(SRT, "utf-8")
    (ep / "episode.toml").write_text('networks = ["youtube-shorts"]\nredaction = "none"\ncaption_style = "none"\n'
                                     'language = "fr"\n', "utf-8")
    render = CliRunner().invoke(main, ["render", str(ep)])
    assert render.exit_code == 0, render.output
    assert rows(campaign)[("ep1", "youtube-shorts")]["state"] == "up to date"
    batch = CliRunner().invoke(main, ["batch", str(campaign), "--json"])
    assert batch.exit_code == 0, batch.output
    evs = [json.loads(line) for line in batch.stdout.splitlines() if line.strip()]
    assert evs[0]["event"] == "batch_start" and evs[0]["jobs"] == [], evs[0]
    assert not [e for e in evs if e["event"] == "job_start"]
