"""Speech recognition engines behind one interface (:class:`pipeline.speech.engines.base.Engine`).

Importing this package turns off every model-hub lookup: Cadre never downloads at run time.
Engines load lazily (torch and CTranslate2 are heavy) and stay loaded for the process.
"""
from __future__ import annotations

import os

from pipeline.core.threads import budget
from pipeline.speech.engines.base import (
    ENGINES,
    Engine,
    EngineResult,
    TranscribeOptions,
)
from pipeline.speech.engines.faster_whisper import FasterWhisperEngine
from pipeline.speech.engines.openai_whisper import OpenAIWhisperEngine
from pipeline.speech.models import resolve

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

__all__ = ["ENGINES", "Engine", "EngineResult", "TranscribeOptions", "load_engine", "release"]


_LOADED: dict[tuple, Engine] = {}


def release() -> None:
    """Drop the loaded models (before the encode: the render's peak is this process plus its
    ffmpeg processes); the next :func:`load_engine` loads again."""
    _LOADED.clear()


def load_engine(options: TranscribeOptions) -> Engine:
    """The engine named by ``options`` with its model loaded (verified by checksum first)."""
    options = options.resolved()   # concrete compute type for this CPU, or a one-line CadreError
    model = resolve(options.model)
    key = (options.engine, str(model.path), model.sha256, options.compute_type, options.threads, budget())
    if key not in _LOADED:
        model.verify()
        cls = FasterWhisperEngine if options.engine == "faster-whisper" else OpenAIWhisperEngine
        while len(_LOADED) >= 2:  # at most two models in memory
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = cls(model, options)
    return _LOADED[key]
