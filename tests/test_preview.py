"""``cadre preview``: the published frame, with captions and masks, as a PNG."""
from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import main
from tests.conftest import make_clip

SRT = "1\n00:00:00,000 --> 00:00:03,000\nAppel à témoins\n"


def test_preview_shows_captions_inside_the_safe_zone(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="1280x720", duration=4, source="color=c=gray")
    (ep / "1.fr.srt").write_text(SRT, "utf-8")
    runner = CliRunner()
    with_caps, without = tmp_path / "with.png", tmp_path / "without.png"
    for out, extra in ((with_caps, []), (without, ["--captions", "none"])):
        result = runner.invoke(main, ["preview", str(ep), "--at", "1.5", "-n", "tiktok", "--redact", "none",
                                      "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
    a = np.asarray(Image.open(with_caps)).astype(int)
    b = np.asarray(Image.open(without)).astype(int)
    assert a.shape == (1920, 1080, 3)
    changed = np.abs(a - b).sum(axis=2) > 60
    ys, xs = np.nonzero(changed)
    assert len(ys) > 2000, "no caption ink"
    # TikTok's interface: top 250, bottom 460, left 60, right 180
    assert ys.min() >= 250 and ys.max() < 1920 - 460 and xs.min() >= 60 and xs.max() < 1080 - 180
    margins = tmp_path / "margins.png"
    result = runner.invoke(main, ["preview", str(ep), "--at", "1.5", "-n", "tiktok", "--redact", "none",
                                  "--margins", "-o", str(margins)])
    assert result.exit_code == 0, result.output
    m = np.asarray(Image.open(margins)).astype(int)
    assert np.abs(m[:250] - a[:250]).sum() > 0, "margins not drawn"


def test_preview_outside_episode_is_an_error(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="640x360", duration=2)
    result = CliRunner().invoke(main, ["preview", str(ep), "--at", "9", "--redact", "none"])
    assert result.exit_code == 1 and "outside the episode" in result.output
