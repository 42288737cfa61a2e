"""Issue 20: a network refused for an episode (too short for Snapchat, silent where sound is
required) is not rendered again by every batch: the refusal is known from the probe or recorded
with the inputs it was made for, so a second batch with no change starts no job; a change of the
inputs renders the episode again."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import make_clip
from tests.test_batch import FAST, batch, events, started


def renders(result) -> list[str]:
    return [j for j in started(events(result)) if j.startswith("render:")]


def rows(campaign: Path) -> dict:
    data = json.loads((campaign / "exports" / "campaign.json").read_text("utf-8"))
    return {(r["episode"], r["network"]): r for r in data["rows"]}


def test_too_short_for_snapchat_is_not_rendered_again(tmp_path):
    campaign = tmp_path / "c"
    make_clip(campaign / "court" / "1.mp4", size="160x90", rate=15, duration=4.2)
    make_clip(campaign / "long" / "1.mp4", size="160x90", rate=15, duration=5.5)
    (campaign / "campaign.toml").write_text('networks = ["tiktok", "snapchat"]\n')
    first = batch(campaign, *FAST, "-j", "1", "--json")
    assert first.exit_code == 3, first.output
    assert renders(first) == ["render:court", "render:long"]
    assert rows(campaign)[("court", "snapchat")]["status"] == "failed"

    again = batch(campaign, *FAST, "-j", "1", "--json")
    assert again.exit_code == 3, again.output         # still not published for Snapchat: the row says why
    assert started(events(again)) == []
    r = rows(campaign)
    assert r[("court", "snapchat")]["status"] == "failed" and "needs at least 5 s" in r[("court", "snapchat")]["reason"]
    assert r[("court", "tiktok")]["status"] == "skipped" and r[("long", "snapchat")]["status"] == "skipped"
    assert not (campaign / "exports" / "court" / "snapchat").exists()

    # a longer cut of the episode: rendered again, and now Snapchat takes it
    make_clip(campaign / "court" / "1.mp4", size="160x90", rate=15, duration=5.5)
    changed = batch(campaign, *FAST, "-j", "1", "--json")
    assert changed.exit_code == 0, changed.output
    assert renders(changed) == ["render:court"]
    assert (campaign / "exports" / "court" / "snapchat" / "court.mp4").is_file()


def test_refusal_after_the_audio_pass_is_recorded_with_its_inputs(tmp_path):
    """A silent episode is refused by Snapchat only once its audio has been measured: the render
    records the refusal with the fingerprint, the next batch trusts it, an edit voids it."""
    campaign = tmp_path / "c"
    ep = campaign / "muet"
    make_clip(ep / "1.mp4", size="160x90", rate=15, duration=6, audio=False)
    (ep / "episode.toml").write_text('title = "Muet"\n')
    (campaign / "campaign.toml").write_text('networks = ["tiktok", "snapchat"]\n')
    first = batch(campaign, *FAST, "-j", "1", "--json")
    assert first.exit_code == 3, first.output
    assert renders(first) == ["render:muet"]
    record = json.loads((campaign / "exports" / "muet" / ".cadre-refused.json").read_text("utf-8"))
    assert list(record) == ["snapchat"] and "no audible sound" in record["snapchat"]["reason"]
    status = CliRunner().invoke(main, ["status", str(campaign), *FAST, "--json"])
    snap = next(r for r in json.loads(status.stdout)["rows"] if r["network"] == "snapchat")
    assert snap["state"] == "never rendered" and "no audible sound" in snap["reason"], snap

    again = batch(campaign, *FAST, "-j", "1", "--json")
    assert started(events(again)) == [] and again.exit_code == 3, again.output
    r = rows(campaign)[("muet", "snapchat")]
    assert r["status"] == "failed" and "no audible sound" in r["reason"] and "inputs unchanged" in r["reason"]
    assert rows(campaign)[("muet", "tiktok")]["status"] == "skipped"

    (ep / "episode.toml").write_text('title = "Muet, version 2"\n')   # any input: the refusal no longer holds
    changed = batch(campaign, *FAST, "-j", "1", "--json")
    assert renders(changed) == ["render:muet"], changed.output
    assert rows(campaign)[("muet", "tiktok")]["status"] == "done"
    assert rows(campaign)[("muet", "snapchat")]["status"] == "failed"

    forced = batch(campaign, *FAST, "-j", "1", "--json", "--force")   # --force renders the refused network too
    assert renders(forced) == ["render:muet"], forced.output
