"""Issue 19, the second hostile-input round: every file a unit might throw at Cadre.

Each case is generated small (ffmpeg test sources, a few bytes of Python) and checked for the
contract: exit code, exactly one ``cadre: error:`` line naming the file and the fix, no traceback,
nothing published, sources byte-identical.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import CadreError
from tests.conftest import make_clip, tree_hashes

CADRE = [sys.executable, "-m", "pipeline.cli"]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def error_lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("cadre: error:")]


def assert_one_error(result, *needles: str, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output
    lines = error_lines(result.output)
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def assert_nothing_published(folder: Path, before: dict, out: Path | None = None):
    assert tree_hashes(folder) == before, "source folder changed"
    exports = out or folder.parent / "exports"
    assert not exports.exists() or not any(exports.rglob("*.mp4")), "partial output left behind"


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    """One small 4 s clip (long enough for every network), generated once for the module."""
    return make_clip(tmp_path_factory.mktemp("media") / "c.mp4", size="320x180", duration=4.0).read_bytes()


@pytest.fixture
def episode(tmp_path, clip_bytes) -> Path:
    folder = tmp_path / "camp" / "ep"
    folder.mkdir(parents=True)
    (folder / "1.mp4").write_bytes(clip_bytes)
    return folder


def render(folder: Path, *extra):
    return cli("render", folder, "-n", "youtube-shorts", "--captions", "none", *extra)


# -- 1. text files that are not UTF-8 ------------------------------------------------------------
LEGACY = 'title = "Opération tranquillité"\n'.encode("cp1252")
NOT_UTF8 = {
    "cp1252": LEGACY,
    "mac-roman": 'title = "Opération"\n'.encode("mac_roman"),
    "utf16-no-bom": 'title = "x"\n'.encode("utf-16-le"),
    "binary": bytes(range(256)),
    "nul-in-utf8": b'title = "a\x00b"\n',
}


@pytest.mark.parametrize("name", ["episode.toml", "masks.toml", "campaign.toml"])
@pytest.mark.parametrize("kind", sorted(NOT_UTF8))
def test_text_file_not_utf8(episode, name, kind):
    data = NOT_UTF8[kind]
    if name == "masks.toml" and kind in ("cp1252", "mac-roman"):
        data = data.replace(b"title", b"# note")      # a comment: masks.toml has no title key
    target = (episode.parent if name == "campaign.toml" else episode) / name
    target.write_bytes(data)
    before = tree_hashes(episode.parent)
    line = assert_one_error(render(episode), name, "save it as UTF-8")
    assert "line " in line or "is marked as" in line
    assert tree_hashes(episode.parent) == before
    assert_nothing_published(episode, tree_hashes(episode))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_text_file_with_bom_is_read(episode, encoding):
    from pipeline.source.config import load_settings

    (episode / "episode.toml").write_bytes('title = "Opération"\n'.encode(encoding))
    assert load_settings(episode).title == "Opération"


def test_legacy_line_is_named(episode):
    (episode / "episode.toml").write_bytes(b'language = "fr"\n\ntitle = "\xe9t\xe9"\n')
    assert_one_error(render(episode), "episode.toml: line 3: byte 0xe9 is not UTF-8", "save it as UTF-8")


def test_batch_bad_episode_toml_fails_that_episode_only(tmp_path, clip_bytes):
    campaign = tmp_path / "camp"
    for name in ("a", "b"):
        (campaign / name).mkdir(parents=True)
        (campaign / name / "1.mp4").write_bytes(clip_bytes)
    (campaign / "a" / "episode.toml").write_bytes(LEGACY)
    before = tree_hashes(campaign)
    result = cli("batch", campaign, "-n", "youtube-shorts", "--captions", "none", "--redact", "none")
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert "episode.toml: line 1" in result.output and "save it as UTF-8" in result.output, result.output
    assert (campaign / "exports" / "b" / "youtube-shorts" / "b.mp4").is_file()
    assert not (campaign / "exports" / "a" / "youtube-shorts").exists()
    assert {k: v for k, v in tree_hashes(campaign).items() if not k.startswith("exports")} == before


def test_review_refuses_non_utf8_masks(episode):
    from pipeline.review import edits

    masks = episode / "masks.toml"
    masks.write_bytes(b"# r\xe9gion\n")
    with pytest.raises(CadreError, match="line 1: byte 0xe9 is not UTF-8"):
        edits.add_mask(masks, "1.mp4", [0.1, 0.1, 0.5, 0.5], 0.0, 1.0, "x", check=lambda: None)
    assert masks.read_bytes() == b"# r\xe9gion\n"


# -- 3. nan and inf in TOML ----------------------------------------------------------------------
NON_FINITE_TOML = {
    "focus-nan": ("episode.toml", "focus = [nan, nan]\n", "focus #1"),
    "clip-start-inf": ("episode.toml", 'clips = [{file = "1.mp4", start = inf}]\n', "clips #1.start"),
    "clip-end-neg-inf": ("episode.toml", 'clips = [{file = "1.mp4", end = -inf}]\n', "clips #1.end"),
    "span-start-nan": ("episode.toml", '[[reframe_spans]]\nclip = "1.mp4"\nstart = nan\nstrategy = "fit"\n',
                       "reframe_spans #1.start"),
    "campaign-focus": ("campaign.toml", "focus = [0.5, +nan]\n", "focus #2"),
    "mask-start-nan": ("masks.toml", '[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nstart = nan\n', "mask #1.start"),
    "mask-end-inf": ("masks.toml", '[[mask]]\nclip = "1.mp4"\nregion = [0.1, 0.1, 0.5, 0.5]\nend = inf\n',
                     "mask #1.end"),
    "mask-region-nan": ("masks.toml", '[[mask]]\nclip = "1.mp4"\nregion = [0.1, nan, 0.5, 0.5]\n',
                        "mask #1.region #2"),
}


@pytest.mark.parametrize("case", sorted(NON_FINITE_TOML))
def test_non_finite_number_in_toml(episode, case):
    name, text, key = NON_FINITE_TOML[case]
    (episode.parent if name == "campaign.toml" else episode).joinpath(name).write_text(text)
    before = tree_hashes(episode)
    assert_one_error(render(episode), name, f"key '{key}'", "write a finite number")
    assert_nothing_published(episode, before)


# -- 2. a caption file a person broke -----------------------------------------------------------
GOOD_CUE = "1\n00:00:00,500 --> 00:00:01,500\nBonjour à tous\n\n"
BROKEN_SRT = {
    "bad-timing-arrow": (GOOD_CUE + "2\n00:00:02,000 -> 00:00:03,000\nmerci\n", "line 5"),
    "bad-timing-garbage": (GOOD_CUE + "2\n00:00:02,000 --> demain\nmerci\n", "line 6"),
    "negative-time": (GOOD_CUE + "2\n-00:00:02,000 --> 00:00:03,000\nmerci\n", "line 6"),
    "inverted-times": (GOOD_CUE + "2\n00:00:04,000 --> 00:00:03,000\nmerci\n", "line 6"),
    "missing-blank-line": ("1\n00:00:00,500 --> 00:00:01,500\nBonjour\n2\n00:00:02,000 --> 00:00:03,000\nmerci\n",
                           "line 5"),
    "text-without-timing": ("Bonjour à tous, merci\n", "line 1"),
    "binary": (bytes(range(256)) * 4, "save it as UTF-8"),
    "utf16-no-bom": (GOOD_CUE.encode("utf-16-le"), "save it as UTF-8"),
    "cp1252": (GOOD_CUE.encode("cp1252"), "line 3: byte 0xe0 is not UTF-8"),
}


def _write(path: Path, content) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize("case", sorted(BROKEN_SRT))
def test_broken_srt_is_one_line_naming_the_line(tmp_path, case):
    from pipeline.captions.corrections import human_cues

    content, needle = BROKEN_SRT[case]
    srt = _write(tmp_path / "1.fr.srt", content)
    with pytest.raises(CadreError) as info:
        human_cues(srt)
    line = str(info.value)
    assert line.startswith(str(srt)) and needle in line and "\n" not in line, line


@pytest.mark.parametrize("case", ["bad-timing-arrow", "utf16-no-bom", "inverted-times"])
def test_render_never_drops_a_broken_srt(tmp_path, monkeypatch, case):
    """The render path (clip_transcript) fails with the file and line, never publishes without captions."""
    from pipeline.captions import corrections
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.transcript import Segment, Transcript, Word

    machine = Transcript("fr", [Segment(0.5, 1.5, "Bonjour à tous",
                                        [Word(0.5, 0.8, " Bonjour"), Word(0.8, 1.0, " à"), Word(1.0, 1.5, " tous")])])
    monkeypatch.setattr(corrections, "machine_transcript", lambda path, options: (machine, True))
    clip = tmp_path / "1.mp4"
    clip.write_bytes(b"")
    content, needle = BROKEN_SRT[case]
    srt = _write(tmp_path / "1.fr.srt", content)
    with pytest.raises(CadreError, match=needle):
        corrections.clip_transcript(clip, TranscribeOptions(language="fr"))
    assert srt.read_bytes() == (content if isinstance(content, bytes) else content.encode())


def test_srt_utf16_with_bom_is_read(tmp_path):
    from pipeline.captions.corrections import human_cues

    srt = _write(tmp_path / "1.fr.srt", GOOD_CUE.encode("utf-16"))
    assert [c.text for c in human_cues(srt)] == ["Bonjour à tous"]


def test_empty_srt_has_no_cues(tmp_path):
    from pipeline.captions.corrections import human_cues

    assert human_cues(_write(tmp_path / "1.fr.srt", "\n\n")) == []
