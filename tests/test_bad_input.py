"""Issue 2, bad input: exit code 1, one line naming the file, no partial output, sources unchanged."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import make_clip, tree_hashes


def render(*args):
    result = CliRunner().invoke(main, ["render", *map(str, args), "--captions", "none"])
    return result


def assert_clean_failure(result, folder: Path, before: dict, needle: str):
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("cadre: error:")]
    assert len(lines) == 1, result.output
    assert needle in lines[0], lines[0]
    assert tree_hashes(folder) == before, "source folder changed"
    exports = folder.parent / "exports"
    assert not exports.exists() or not any(exports.rglob("*.mp4")), "partial output left behind"


@pytest.fixture
def episode(tmp_path):
    folder = tmp_path / "ep"
    folder.mkdir()
    return folder


def test_empty_folder(episode):
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "no video clips found")


def test_zero_byte_file(episode):
    (episode / "1.mp4").write_bytes(b"")
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "1.mp4: file is empty")


def test_text_file_named_mp4(episode):
    (episode / "1.mp4").write_text("this is not a video\n" * 50)
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "1.mp4: not a readable video")


@pytest.mark.parametrize("faststart", [False, True], ids=["index-at-end", "index-at-start"])
def test_truncated_mp4(episode, tmp_path, faststart):
    full = make_clip(tmp_path / "full.mp4", duration=6, size="640x360",
                     vcodec=("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                             *(("-movflags", "+faststart") if faststart else ())))
    data = full.read_bytes()
    (episode / "1.mp4").write_bytes(data[: int(len(data) * 0.6)])
    before = tree_hashes(episode)
    result = render(episode)
    assert_clean_failure(result, episode, before, "1.mp4:")
    assert "truncated" in result.output or "not a readable video" in result.output


def test_audio_only_file(episode):
    from pipeline.core.ffmpeg import run

    run(["-f", "lavfi", "-i", "sine=d=3", "-c:a", "aac", str(episode / "1.mp4")], source="x", what="fixture")
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "1.mp4: is audio-only")


def test_image_in_episode(episode, tmp_path):
    from PIL import Image

    make_clip(episode / "1.mp4", duration=6, size="640x360")
    Image.new("RGB", (64, 64), "red").save(episode / "still.png")
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "still.png: is an image")


def test_image_disguised_as_mp4(episode):
    from PIL import Image

    Image.new("RGB", (64, 64), "red").save(episode / "1.mp4", format="PNG")
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "1.mp4: is a still image")


def test_unknown_network(episode):
    make_clip(episode / "1.mp4", duration=6, size="640x360")
    before = tree_hashes(episode)
    result = CliRunner().invoke(main, ["render", str(episode), "-n", "tiktk"])
    assert_clean_failure(result, episode, before, "unknown network")


def test_bad_toml_value(episode):
    make_clip(episode / "1.mp4", duration=6, size="640x360")
    (episode / "episode.toml").write_text('reframe = "zoom"\n')
    before = tree_hashes(episode)
    result = render(episode)
    assert_clean_failure(result, episode, before, "episode.toml: key 'reframe'")
    assert "fit, crop" in result.output


def test_unknown_toml_key(episode):
    make_clip(episode / "1.mp4", duration=6, size="640x360")
    (episode / "episode.toml").write_text('titel = "typo"\n')
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "key 'titel': unknown key")


def test_broken_toml_syntax(episode):
    make_clip(episode / "1.mp4", duration=6, size="640x360")
    (episode / "episode.toml").write_text('title = "unclosed\n')
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "invalid TOML")


def test_clip_path_outside_episode(episode, tmp_path):
    make_clip(episode / "1.mp4", duration=6, size="640x360")
    make_clip(tmp_path / "secret.mp4", duration=6, size="640x360")
    (episode / "episode.toml").write_text('clips = ["1.mp4", "../secret.mp4"]\n')
    before = tree_hashes(episode)
    assert_clean_failure(render(episode), episode, before, "points outside the episode folder")


def test_output_folder_not_writable(episode, tmp_path):
    make_clip(episode / "1.mp4", duration=6, size="640x360")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    before = tree_hashes(episode)
    result = CliRunner().invoke(main, ["render", str(episode), "-o", str(blocker / "out"), "--captions", "none",
                                       "--redact", "none"])
    assert_clean_failure(result, episode, before, "cannot write to the output folder")
    assert blocker.read_text() == "a file where a folder should be"


def test_network_duration_limits(episode):
    make_clip(episode / "1.mp4", duration=2, size="640x360")
    before = tree_hashes(episode)
    result = CliRunner().invoke(main, ["render", str(episode), "-n", "snapchat", "--redact", "none"])
    assert_clean_failure(result, episode, before, "needs at least 5 s")


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_malformed_thread_budget(episode, monkeypatch, value):
    make_clip(episode / "1.mp4", duration=6, size="640x360")
    before = tree_hashes(episode)
    monkeypatch.setenv("CADRE_THREADS", value)
    result = render(episode, "-n", "tiktok", "--redact", "none")
    assert_clean_failure(result, episode, before, f"CADRE_THREADS={value}")
    assert not (episode.parent / "exports").exists()
