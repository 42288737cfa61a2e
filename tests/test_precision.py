"""Whisper precision chosen from the CPU (pipeline.speech.precision).

Other machines are simulated by giving the capability list (``supported=``, or by replacing
``supported_types``): CTranslate2 and the engine themselves are never mocked.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pipeline.core.cache import cache_dir

os.environ.setdefault("CADRE_MODELS_DIR", str(cache_dir() / "models"))  # one model store for the run

from pipeline.core.errors import CadreError
from pipeline.speech import precision
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.precision import (
    AUTO_ORDER,
    describe,
    resolve_compute_type,
    supported_types,
)

AUDIO = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "audio"
AMD = ["int8", "int8_float32", "float32"]                       # EPYC with AVX, no AVX2
INTEL = ["int8", "int8_float32", "int16", "float32"]            # MKL
NO_INT8 = ["int16", "float32"]
ONLY_FLOAT32 = ["float32"]


@pytest.mark.parametrize("offered, expected", [(AMD, "int8_float32"), (INTEL, "int8_float32"), (NO_INT8, "int16"),
                                               (ONLY_FLOAT32, "float32")],
                         ids=["amd", "intel", "no-int8", "float32-only"])
def test_auto_picks_the_measured_best_type_each_machine_offers(offered, expected):
    picked = resolve_compute_type("auto", offered)
    assert picked in offered
    assert picked == expected


def test_auto_never_picks_a_type_the_machine_lacks():
    assert resolve_compute_type("auto", AMD) != "int16"
    assert not resolve_compute_type("auto", NO_INT8).startswith("int8")
    assert resolve_compute_type("auto", ONLY_FLOAT32) == "float32"


def test_every_measured_type_is_in_the_order():
    for t in ("int8", "int8_float32", "int16", "float32"):
        assert t in AUTO_ORDER


def test_explicit_type_the_cpu_offers_is_kept():
    assert resolve_compute_type("int8", AMD) == "int8"
    assert resolve_compute_type("int16", INTEL) == "int16"


def test_explicit_int16_without_int16_names_the_offered_types():
    with pytest.raises(CadreError) as err:
        resolve_compute_type("int16", AMD)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("--compute-type int16:")
    assert "int8, int8_float32, float32" in message and "auto" in message


def test_unknown_name_is_a_one_line_error():
    with pytest.raises(CadreError) as err:
        resolve_compute_type("int4", AMD)
    assert "\n" not in str(err.value) and "not a compute type" in str(err.value)
    with pytest.raises(CadreError):
        TranscribeOptions(compute_type="fp16")   # caught when the options are made, before any model loads


def test_this_machine_lists_real_types_and_auto_is_one_of_them():
    import ctranslate2

    assert set(supported_types()) == set(ctranslate2.get_supported_compute_types("cpu"))
    info = describe()
    assert info["supported"] == list(supported_types())
    assert info["auto"] in info["supported"]


def test_cache_key_uses_the_resolved_type(tmp_path, monkeypatch):
    """"auto" and the type it resolves to share a cache entry; another machine's type does not."""
    from pipeline.speech import transcribe as stage
    from pipeline.speech.audio import audio_hash

    wav = tmp_path / "a.wav"
    from pipeline.core.ffmpeg import run
    run(["-f", "lavfi", "-i", "sine=f=440:d=1", str(wav)], source=wav, what="fixture")
    monkeypatch.setattr(precision, "supported_types", lambda: tuple(AMD))
    auto = TranscribeOptions(compute_type="auto")
    concrete = TranscribeOptions(compute_type="int8_float32")
    other = TranscribeOptions(compute_type=next(t for t in AMD if t != "int8_float32"))
    assert audio_hash(wav)
    assert stage.cache_key(wav, auto) == stage.cache_key(wav, concrete)
    assert stage.cache_key(wav, auto) != stage.cache_key(wav, other)
    assert auto.resolved().to_dict()["compute_type"] == "int8_float32"


def test_config_rejects_an_unknown_compute_type(tmp_path):
    from pipeline.source.config import load_settings

    (tmp_path / "episode.toml").write_text('[asr]\ncompute_type = "int4"\n', "utf-8")
    with pytest.raises(CadreError) as err:
        load_settings(tmp_path)
    assert "asr.compute_type" in str(err.value) and "\n" not in str(err.value)
    (tmp_path / "episode.toml").write_text('[asr]\ncompute_type = "auto"\n', "utf-8")
    assert load_settings(tmp_path).asr["compute_type"] == "auto"


def test_report_records_the_resolved_type(monkeypatch):
    monkeypatch.setattr(precision, "supported_types", lambda: tuple(AMD))
    assert precision.report_fields({})["compute_type"] == "int8_float32"
    assert precision.report_fields({"compute_type": "int16"})["compute_type"] is None   # lacking: not used
    assert precision.report_fields({"engine": "openai-whisper"})["compute_type"] is None


def test_cli_with_a_type_this_machine_lacks_fails_in_one_line_and_writes_nothing(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pipeline.cli import main

    if not AUDIO.is_dir():
        pytest.skip(f"real speech folder {AUDIO} is absent (it sits beside the checkout in CI)")
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(precision, "supported_types", lambda: tuple(AMD))   # an AMD EPYC without AVX2
    clip = tmp_path / "episode" / "jfk.wav"
    clip.parent.mkdir()
    clip.write_bytes((AUDIO / "en/en_whisper_jfk.wav").read_bytes())
    result = CliRunner().invoke(main, ["transcribe", "-l", "en", "--compute-type", "int16", str(clip)])
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("cadre: error:"), result.stderr
    assert "int8, int8_float32, float32" in lines[0]
    assert "Traceback" not in result.output
    assert not list(clip.parent.glob("*.srt")) and not list(clip.parent.glob("*.json"))


def test_real_transcription_with_auto(tmp_path, monkeypatch):
    from pipeline.speech.transcribe import run

    wav = AUDIO / "en/en_whisper_jfk.wav"
    if not wav.is_file():
        pytest.skip(f"{wav} is absent (the shared real media sits beside the checkout in CI)")
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    transcript = run(wav, TranscribeOptions(language="en", compute_type="auto", threads=2))
    words = re.findall(r"\w+", transcript.text.lower())
    assert "country" in words and "americans" in words
