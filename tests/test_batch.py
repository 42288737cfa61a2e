"""``cadre batch``: failure isolation and exit code 3."""
from __future__ import annotations

from click.testing import CliRunner

from pipeline.cli import main

from .conftest import make_clip


def test_broken_episode_does_not_stop_the_campaign(tmp_path):
    campaign = tmp_path / "campagne"
    make_clip(campaign / "ep1" / "1.mp4", size="640x360", duration=4)
    (campaign / "ep2").mkdir(parents=True)
    (campaign / "ep2" / "1.mp4").write_text("not a video")
    (campaign / "campaign.toml").write_text('networks = ["youtube-shorts"]\n')
    result = CliRunner().invoke(main, ["batch", str(campaign), "--redact", "none", "--captions", "none"])
    assert result.exit_code == 3, result.output
    assert (campaign / "exports" / "ep1" / "youtube-shorts" / "ep1.mp4").is_file()
    assert not (campaign / "exports" / "ep2").exists()
    assert "1 of 2 episodes failed" in result.output
    assert "not a readable video" in result.output
