"""Issue 27: one settings schema. The checks, their wording, RENDER_ONLY and the approval's
exclusions come from one table; every range error reads the same way and names the file, the key
and the allowed values; an encoder preset the master cannot use is refused before any work."""
from __future__ import annotations

import re
from dataclasses import fields

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.signoff.fingerprint import RENDER_ONLY, analysis_settings
from pipeline.source.config import ASR_KEYS, NOT_ASR, Settings, load_settings
from pipeline.source.schema import NOT_APPROVED, SCHEMA
from pipeline.speech.engines.base import TranscribeOptions
from tests.conftest import make_clip


def test_the_table_covers_every_setting_and_derives_the_lists():
    assert set(SCHEMA) == {f.name for f in fields(Settings)} - {"unknown_networks"}
    assert RENDER_ONLY == {k for k, spec in SCHEMA.items() if spec.render_only}
    assert NOT_APPROVED == {"require_approval"}
    settings = Settings()
    assert set(analysis_settings(settings)) == set(settings.to_dict()) - RENDER_ONLY
    # [asr] takes exactly the options of the transcription that a file may set
    assert set(ASR_KEYS) == {f.name for f in fields(TranscribeOptions)} - set(NOT_ASR)
    assert {"engine", "model", "beam_size", "vad", "initial_prompt", "glossary", "compute_type"} <= set(ASR_KEYS)


RANGE = [
    ('clips = [{file = "1.mp4", start = -1}]', "clips.start", "-1", "0 or more"),
    ('clips = [{file = "1.mp4", end = -1}]', "clips.end", "-1", "0 or more"),
    ("focus = [1.5, 0.5]", "focus", "1.5", "between 0 and 1"),
    ('[[reframe_spans]]\nclip = "1.mp4"\nfocus = [0.5, -0.2]', "reframe_spans #1.focus", "-0.2", "between 0 and 1"),
    ('[[reframe_spans]]\nclip = "1.mp4"\nstart = -3\nstrategy = "fit"', "reframe_spans #1.start", "-3", "0 or more"),
    ('[[reframe_spans]]\nclip = "1.mp4"\nshot = 0\nstrategy = "fit"', "reframe_spans #1.shot", "0",
     "a whole number, 1 or more"),
]


@pytest.mark.parametrize("body, key, value, allowed", RANGE, ids=[r[1] for r in RANGE])
def test_every_range_error_reads_the_same(tmp_path, body, key, value, allowed):
    ep = tmp_path / "ep"
    ep.mkdir()
    (ep / "1.mp4").write_bytes(b"")
    (ep / "episode.toml").write_text(body + "\n")
    with pytest.raises(CadreError) as err:
        load_settings(ep)
    want = f"{ep / 'episode.toml'}: key '{key}': {value} is out of range: it must be {allowed}"
    assert str(err.value) == want


@pytest.mark.parametrize("body, needle", [
    ('split = "yes"', "key 'split': 'yes' must be true or false"),
    ('reframe = "zoom"', "key 'reframe': 'zoom' is not allowed; choose one of: fit, crop, follow, auto"),
    ("[asr]\nbeam_size = true", "key 'asr.beam_size': True must be a whole number"),
    ('bleep_sound = "beep"', "key 'bleep_sound': 'beep' is not allowed; choose one of: tone, mute"),
])
def test_other_errors_name_the_key_and_what_is_allowed(tmp_path, body, needle):
    ep = tmp_path / "ep"
    ep.mkdir()
    (ep / "episode.toml").write_text(body + "\n")
    with pytest.raises(CadreError, match=re.escape(needle)):
        load_settings(ep)


def test_locked_campaign_values_and_episode_only_keys(tmp_path):
    ep = tmp_path / "ep"
    ep.mkdir()
    (tmp_path / "campaign.toml").write_text('provenance = "required"\nbleep = ["Dupont"]\n')
    (ep / "episode.toml").write_text('provenance = "sign"\n')
    with pytest.raises(CadreError, match="an episode cannot turn it off"):
        load_settings(ep)
    (ep / "episode.toml").write_text('bleep = ["Martin"]\n')
    assert load_settings(ep).bleep == ("Dupont", "Martin")        # privacy lists add up
    (tmp_path / "campaign.toml").write_text('title = "Tous"\n')
    with pytest.raises(CadreError, match=re.escape("key 'title': unknown key (it belongs in each episode's episode.toml)")):
        load_settings(ep)


@pytest.mark.parametrize("command", ["render", "batch"])
def test_ultrafast_is_refused_before_any_work(tmp_path, monkeypatch, command):
    """CADRE_X264_PRESET=ultrafast (which cannot make the master's High profile) stops the run at
    once, in one line, before anything is analysed, encoded or written."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CADRE_CACHE_DIR", str(cache))
    monkeypatch.setenv("CADRE_X264_PRESET", "ultrafast")
    campaign = tmp_path / "campaign"
    make_clip(campaign / "ep" / "1.mp4", size="160x90", rate=15, duration=1)
    target = campaign / "ep" if command == "render" else campaign
    result = CliRunner().invoke(main, [command, str(target), "-n", "youtube-shorts", "-o", str(tmp_path / "out")])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("cadre: error: CADRE_X264_PRESET: 'ultrafast' is not allowed"), lines[0]
    assert "choose one of: superfast" in lines[0]
    assert not (tmp_path / "out").exists()
    assert not [p for p in cache.rglob("*") if p.is_file()], "something was analysed"
    result = CliRunner().invoke(main, [command, str(target), "-n", "youtube-shorts", "--x264-preset", "placebo",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and "--x264-preset: 'placebo' is not allowed" in result.output, result.output


def test_a_campaign_cannot_turn_masking_off_with_its_own_preset(tmp_path, monkeypatch):
    """``none`` and any preset whose method is none are refused in campaign.toml, once, as the file
    is read; the same preset in one episode's episode.toml is that episode's choice."""
    presets = tmp_path / "presets"
    (presets / "redaction").mkdir(parents=True)
    (presets / "redaction" / "off.toml").write_text('method = "none"\n')
    monkeypatch.setenv("CADRE_PRESETS", str(presets))
    ep = tmp_path / "campaign" / "ep"
    ep.mkdir(parents=True)
    for name in ("none", "off"):
        (ep.parent / "campaign.toml").write_text(f'redaction = "{name}"\n')
        with pytest.raises(CadreError) as err:
            load_settings(ep)
        assert str(err.value).startswith(f"{ep.parent / 'campaign.toml'}: key 'redaction': '{name}' turns face masking off")
        assert "cannot be set for a whole campaign" in str(err.value) and "--redact none" in str(err.value)
    (ep.parent / "campaign.toml").unlink()
    (ep / "episode.toml").write_text('redaction = "off"\n')
    assert load_settings(ep).redaction == "off"
