"""openai-whisper engine (PyTorch), on a checkpoint converted from the CT2 weights.

Install it the lean way (no CUDA-only triton): ``pip install torch`` (CPU build), then
``pip install --no-deps openai-whisper`` and ``pip install numba tiktoken more-itertools tqdm``.
Voice-activity filtering happens before the engine (:mod:`pipeline.speech.vad`: faster-whisper's own
VAD function and options), so both engines see the same speech.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from pipeline.core.cache import sha256_file
from pipeline.core.errors import CadreError
from pipeline.core.threads import budget
from pipeline.speech.convert import convert
from pipeline.speech.engines.base import Engine, EngineResult, TranscribeOptions, decoding
from pipeline.speech.models import Model, converted_path
from pipeline.speech.transcript import Segment, Word

log = logging.getLogger(__name__)


def checkpoint_for(model: Model) -> Path:
    """The converted checkpoint for ``model``, converting (and caching) it when absent or damaged."""
    path = converted_path(model)
    stamp = path.with_suffix(".sha256")
    if path.is_file() and stamp.is_file() and stamp.read_text().strip() == sha256_file(path):
        return path
    log.info("converting %s to an openai-whisper checkpoint in %s", model.path, path)
    convert(model.path, path)
    stamp.write_text(sha256_file(path))
    return path


def load_checkpoint(path: Path):
    import torch
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads") or []
    if heads:
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.eval()


class OpenAIWhisperEngine(Engine):
    name = "openai-whisper"

    def __init__(self, model: Model, options: TranscribeOptions):
        try:
            import torch
            import whisper  # noqa: F401
        except ImportError:
            raise CadreError("openai-whisper", "the openai-whisper engine is not installed; run "
                                               "`pip install torch==2.13.0`, then "
                                               "`pip install --no-deps openai-whisper==20250625`, then "
                                               "`pip install \"cadre[openai]\"` (README, Speech engines), "
                                               "or use the default engine, faster-whisper") from None
        threads = options.threads or budget()
        if threads:
            torch.set_num_threads(threads)
        self.model = load_checkpoint(checkpoint_for(model))

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions, language: str | None,
                   progress=None) -> EngineResult:   # progress: reported per window by the caller
        import torch
        import whisper
        if language is None:  # detect on the first 30 s
            mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), self.model.dims.n_mels)
            with torch.no_grad():
                _, probs = self.model.detect_language(mel)
            language = max(probs, key=probs.get)
        with torch.no_grad():
            result = self.model.transcribe(audio, language=language, fp16=False, verbose=None,
                                           **decoding(options, logprob="logprob_threshold"))
        out = []
        for seg in result["segments"]:
            words = [Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                     for w in seg.get("words", [])]
            out.append(Segment(float(seg["start"]), float(seg["end"]), seg["text"].strip(), words))
        return EngineResult(result.get("language") or language, out)
