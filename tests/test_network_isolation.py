"""Issue 20: a limit that concerns one network refuses that network only; the others are rendered
from the same master and published. ``render`` fails only when no requested network is left;
``batch`` marks only the refused rows as failed, and a finished row says it was rendered."""
from __future__ import annotations

import json

from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import make_clip, tree_hashes

FAST = ["--redact", "none", "--captions", "none"]


def test_short_episode_refused_by_snapchat_only(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=4.2)
    result = CliRunner().invoke(main, ["render", str(ep), "-n", "tiktok", "-n", "snapchat", *FAST])
    assert result.exit_code == 0, result.output
    out = tmp_path / "exports" / "ep"
    assert (out / "tiktok" / "ep.mp4").is_file() and (out / "tiktok" / "report.json").is_file()
    assert not (out / "snapchat").exists()
    refused = [ln for ln in result.output.splitlines() if "refused, not published" in ln]
    assert len(refused) == 1 and "snapchat" in refused[0] and "needs at least 5 s" in refused[0], result.output
    assert "cadre: error:" not in result.output
    assert not list(out.glob(".cadre-staging-*"))


def test_too_short_for_every_network_is_one_line_naming_each_limit(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=2)
    before = tree_hashes(ep)
    result = CliRunner().invoke(main, ["render", str(ep), "-n", "snapchat", "-n", "facebook-reels", *FAST])
    assert result.exit_code == 1, result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("cadre: error:")]
    assert len(errors) == 1, result.output
    assert "Snapchat Spotlight needs at least 5 s" in errors[0] and "needs at least 3 s" in errors[0], errors[0]
    assert tree_hashes(ep) == before
    exports = tmp_path / "exports"
    assert not exports.exists() or not any(exports.rglob("*.mp4"))


def test_silent_episode_refused_by_snapchat_only(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=6, audio=False)
    result = CliRunner().invoke(main, ["render", str(ep), "-n", "tiktok", "-n", "snapchat", *FAST])
    assert result.exit_code == 0, result.output
    assert "Snapchat Spotlight requires" in result.output
    out = tmp_path / "exports" / "ep"
    assert (out / "tiktok" / "ep.mp4").is_file() and not (out / "snapchat").exists()
    plan = json.loads((out / "plan.json").read_text())
    assert plan["networks"] == ["tiktok"] and list(plan["parts"]) == ["tiktok"]


def test_batch_fails_only_the_refused_rows(tmp_path):
    campaign = tmp_path / "campagne"
    make_clip(campaign / "ep1" / "1.mp4", size="320x180", rate=15, duration=4.2)
    make_clip(campaign / "ep2" / "1.mp4", size="320x180", rate=15, duration=6)
    (campaign / "campaign.toml").write_text('networks = ["tiktok", "snapchat"]\n')
    result = CliRunner().invoke(main, ["batch", str(campaign), *FAST, "-j", "1"], catch_exceptions=False)
    assert result.exit_code == 3, result.output
    data = json.loads((campaign / "exports" / "campaign.json").read_text())
    rows = {(r["episode"], r["network"]): r for r in data["rows"]}
    assert rows[("ep1", "snapchat")]["status"] == "failed"
    assert "needs at least 5 s" in rows[("ep1", "snapchat")]["reason"]
    for key in (("ep1", "tiktok"), ("ep2", "tiktok"), ("ep2", "snapchat")):
        assert rows[key]["status"] == "done", rows[key]
        assert "not rendered yet" not in rows[key]["reason"] and "first render" in rows[key]["reason"]
        assert "Snapchat" not in rows[key]["reason"]
    assert (campaign / "exports" / "ep1" / "tiktok" / "ep1.mp4").is_file()
    assert "not rendered yet" not in result.output
    page = (campaign / "exports" / "campaign.html").read_text()
    assert "not rendered yet" not in page
    assert "not approved" in page and "checks passed" in page and "doubtful caption words" in page
    assert rows[("ep1", "tiktok")]["decision"]["approval"]["state"] == "not approved"
