"""faster-whisper engine (CTranslate2): the default, about 4x faster than openai-whisper on CPU."""
from __future__ import annotations

import numpy as np

from pipeline.core.threads import budget, cores
from pipeline.speech.features import BlockFeatures
from pipeline.speech.engines.base import Engine, EngineResult, TranscribeOptions, decoding
from pipeline.speech.models import Model
from pipeline.speech.transcript import Segment, Word


class FasterWhisperEngine(Engine):
    name = "faster-whisper"
    filters_speech = True     # runs faster-whisper's own VAD (vad_filter) when options.vad

    def __init__(self, model: Model, options: TranscribeOptions):
        from faster_whisper import WhisperModel

        self.model = WhisperModel(str(model.path), device="cpu", compute_type=options.compute_type,
                                  cpu_threads=options.threads or budget() or cores(), local_files_only=True)
        # the same log-Mel features, computed in blocks: memory no longer grows with the window (features.py)
        self.model.feature_extractor = BlockFeatures(**self.model.feat_kwargs)

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions, language: str | None,
                   progress=None) -> EngineResult:
        segments, info = self.model.transcribe(
            audio, language=language, vad_filter=options.vad,   # faster-whisper's own VAD, its own options
            **decoding(options))
        out = []
        for seg in segments:  # a generator: decoding happens here
            words = [Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (seg.words or [])]
            out.append(Segment(float(seg.start), float(seg.end), seg.text.strip(), words))
            if progress:
                progress(float(seg.end))
        return EngineResult(info.language, out)
