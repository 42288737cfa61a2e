"""Issue 27: every file Cadre reads settings from words a range error the same way, naming the file,
the key and the values allowed (``pipeline/core/values.py``); every masks.toml span must end after
it starts; an encoder preset the master cannot use is refused in the same words wherever it is set."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from pipeline.branding.overlay import load_branding
from pipeline.captions.styles import load_style
from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.core.geometry import load_output
from pipeline.core.resources import data_dir
from pipeline.faces.overrides import load_overrides
from pipeline.faces.settings import load_settings as load_redaction
from pipeline.review import edits
from pipeline.source.config import load_settings
from pipeline.source.schema import x264_preset
from tests.conftest import make_clip

WORDING = re.compile(r"^(?P<file>.+): key '(?P<key>[^']+)': (?P<value>\S+) is out of range: it must be (?P<allowed>.+)$")


def _own_preset(tmp_path, monkeypatch, kind: str, text: str):
    folder = tmp_path / "presets" / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mine.toml").write_text(text, "utf-8")
    monkeypatch.setenv("CADRE_PRESETS", str(tmp_path / "presets"))
    return folder / "mine.toml"


def _episode(tmp_path):
    ep = tmp_path / "ep"
    ep.mkdir(exist_ok=True)
    return ep


def _episode_toml(tmp_path, monkeypatch):
    path = _episode(tmp_path) / "episode.toml"
    path.write_text("focus = [0.5, 1.5]\n")
    return path, lambda: load_settings(path.parent)


def _caption_preset(tmp_path, monkeypatch):
    path = _own_preset(tmp_path, monkeypatch, "captions", "size = 500\n")
    return path, lambda: load_style("mine")


def _redaction_preset(tmp_path, monkeypatch):
    path = _own_preset(tmp_path, monkeypatch, "redaction", 'method = "mosaic"\npad = 9.0\n')
    return path, lambda: load_redaction("mine")


def _branding_preset(tmp_path, monkeypatch):
    path = _own_preset(tmp_path, monkeypatch, "branding", "[title]\nsize = 500\n")
    return path, lambda: load_branding("mine")


def _masks_toml(tmp_path, monkeypatch):
    path = _episode(tmp_path) / "masks.toml"
    path.write_text('[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nstart = -2.0\n')
    return path, lambda: load_overrides(path)


def _review_page(tmp_path, monkeypatch):
    path = _episode(tmp_path) / "masks.toml"
    return path, lambda: edits.add_mask(path, "1.mp4", None, -2.0, None, "", check=lambda: None, whole_frame=True)


def _master_toml(tmp_path, monkeypatch):
    text = (data_dir("presets") / "master.toml").read_text("utf-8")
    path = tmp_path / "master.toml"
    path.write_text(re.sub(r"^fps = .*$", "fps = 500", text, flags=re.MULTILINE), "utf-8")
    return path, lambda: load_output(path)


CASES = {
    "episode.toml": (_episode_toml, "focus", "1.5", "between 0 and 1"),
    "caption preset": (_caption_preset, "size", "500", "a whole number, between 20 and 200"),
    "redaction preset": (_redaction_preset, "pad", "9.0", "between 1.3 and 3"),
    "branding preset": (_branding_preset, "title.size", "500", "a whole number, between 24 and 160"),
    "masks.toml": (_masks_toml, "[[mask]] #1.start", "-2.0", "0 or more"),
    "review page": (_review_page, "start", "-2.0", "between 0 and 86400"),
    "master.toml": (_master_toml, "fps", "500", "a whole number, between 1 and 120"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_value_out_of_range_reads_the_same_in_every_file(tmp_path, monkeypatch, case):
    make, key, value, allowed = CASES[case]
    path, load = make(tmp_path, monkeypatch)
    with pytest.raises(CadreError) as err:
        load()
    got = WORDING.match(str(err.value))
    assert got, str(err.value)
    assert got.groupdict() == {"file": str(path), "key": key, "value": value, "allowed": allowed}
    assert not (case == "review page" and path.exists()), "a refused edit wrote the file"


@pytest.mark.parametrize("section", ["mask", "voice"])
def test_a_masks_span_must_end_after_it_starts(tmp_path, section):
    """[[mask]] refuses end == start as clips and [[voice]] do: an empty span masks nothing."""
    path = tmp_path / "masks.toml"
    body = 'whole_frame = true\n' if section == "mask" else ""
    path.write_text(f'[[{section}]]\nclip = "1.mp4"\n{body}start = 3.0\nend = 3.0\n')
    with pytest.raises(CadreError) as err:
        load_overrides(path)
    assert str(err.value) == f"{path}: [[{section}]] #1: end = 3.0 must be after start = 3.0"
    path.write_text(f'[[{section}]]\nclip = "1.mp4"\n{body}start = 3.0\nend = 3.04\n')
    assert load_overrides(path).path == str(path)       # one frame and more is a span


def test_ultrafast_reads_the_same_from_the_option_and_the_environment(monkeypatch):
    with pytest.raises(CadreError) as by_option:
        x264_preset("ultrafast")
    monkeypatch.setenv("CADRE_X264_PRESET", "ultrafast")
    with pytest.raises(CadreError) as by_env:
        x264_preset()
    assert by_option.value.path == "--x264-preset" and by_env.value.path == "CADRE_X264_PRESET"
    assert by_option.value.message == by_env.value.message
    assert "cannot make the High profile" in by_env.value.message


def test_ultrafast_on_the_command_line_is_refused_before_any_work(tmp_path, monkeypatch):
    """``--x264-preset ultrafast`` stops the render at once, in one line, as the variable does
    (``tests/test_settings_schema.py`` runs the variable through render and batch)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CADRE_CACHE_DIR", str(cache))
    monkeypatch.delenv("CADRE_X264_PRESET", raising=False)
    make_clip(tmp_path / "ep" / "1.mp4", size="160x90", rate=15, duration=1)
    result = CliRunner().invoke(main, ["render", str(tmp_path / "ep"), "-n", "youtube-shorts", "--x264-preset",
                                       "ultrafast", "-o", str(tmp_path / "out")])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    with pytest.raises(CadreError) as err:
        x264_preset("ultrafast")
    assert lines[0] == f"cadre: error: {err.value}"
    assert not (tmp_path / "out").exists()
    assert not [p for p in cache.rglob("*") if p.is_file()], "something was analysed"
