"""The openai-whisper engine, on a checkpoint converted from the CT2 base weights, hears the same
words as faster-whisper. Skipped when openai-whisper (an optional install) or the media is absent."""
from __future__ import annotations

import pytest

from pipeline.speech import transcribe as stage
from pipeline.speech.engines.base import TranscribeOptions
from tests.test_transcribe import LINTO, need_media, words_of

pytest.importorskip("torch", reason="openai-whisper engine not installed (pip install torch; "
                                    "pip install --no-deps openai-whisper)")
pytest.importorskip("whisper", reason="openai-whisper engine not installed (pip install --no-deps openai-whisper)")

FW = TranscribeOptions(threads=2)
OW = TranscribeOptions(engine="openai-whisper", threads=2)


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.slow
@pytest.mark.parametrize("name,language", [("fr/fr_fleurs_000.wav", "fr"), ("en/en_whisper_jfk.wav", "en")])
def test_both_engines_hear_the_same_words(name, language):
    clip = need_media() / name
    # float32 on both sides: the identical-words claim is about the engines, not quantisation
    # ("auto" may pick int8, which changes a word or two; see pipeline/asr/precision.py)
    fast = stage.run(clip, TranscribeOptions(language=language, compute_type="float32", threads=2))
    torch_words = stage.run(clip, TranscribeOptions(language=language, engine="openai-whisper", threads=2))
    assert words_of(fast) and words_of(torch_words) == words_of(fast)
    for a, b in zip(fast.words, torch_words.words):  # and places them at the same times
        assert abs(a.start - b.start) < 0.6


def test_converted_checkpoint_is_cached_in_the_model_store():
    from pipeline.speech.engines.openai_whisper import checkpoint_for
    from pipeline.speech.models import resolve

    model = resolve("base")
    path = checkpoint_for(model)
    assert path.is_file() and path.parent.parent == model.path.parent
    stamp = path.stat().st_mtime_ns
    assert checkpoint_for(model) == path and path.stat().st_mtime_ns == stamp  # not converted again


@pytest.mark.slow
def test_openai_engine_puts_no_words_in_the_silence():
    t = stage.run(need_media() / LINTO, OW)
    assert [w for w in t.words if w.end > 4.0 and w.start < 32.5] == []
    assert words_of(t).count("bonjour") >= 1   # faster-whisper's VAD misses the quiet repeat (test_transcribe)
