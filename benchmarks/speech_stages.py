"""The rows of ``bench_speech.py``: faster-whisper called as its users call it, Cadre's transcription,
and each candidate decoding stage added alone to faster-whisper's own ``vad_filter=True`` with the
word timestamps captions need (:data:`REFERENCE`). Every row returns ``(text, [(start, end, word)])``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


def load_model(compute_type: str, threads: int):
    from faster_whisper import WhisperModel

    from pipeline.speech.models import resolve

    return WhisperModel(str(resolve("base").path), device="cpu", compute_type=compute_type, cpu_threads=threads,
                        local_files_only=True)


def audio_of(path: Path) -> np.ndarray:
    from pipeline.speech.audio import stream_audio

    return np.concatenate(list(stream_audio(path, 30.0)))


def warm_up(model, path: Path) -> None:
    list(model.transcribe(audio_of(path)[:5 * SAMPLE_RATE], language="fr", beam_size=5)[0])


def _words(segments) -> tuple[str, list[tuple[float, float, str]]]:
    """Text and words of faster-whisper segments (without word timestamps a segment's words take
    its times)."""
    text, words = [], []
    for seg in segments:
        text.append(seg.text.strip())
        if seg.words:
            words += [(float(w.start), float(w.end), w.word) for w in seg.words]
        else:
            words += [(float(seg.start), float(seg.end), w) for w in seg.text.split()]
    return " ".join(text), words


def plain(model, path: Path, **kwargs):
    """faster-whisper as a user calls it: beam 5 (its README's example), everything else default."""
    segments, _ = model.transcribe(audio_of(path), language="fr", beam_size=5, **kwargs)
    return _words(list(segments))


def cadre(path: Path, compute_type: str, threads: int):
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.transcribe import run

    t = run(path, TranscribeOptions(language="fr", compute_type=compute_type, threads=threads))
    return t.text, [(w.start, w.end, w.word) for w in t.words]


def reference(model, path: Path, **kwargs):
    """faster-whisper's own behaviour with word timestamps: what Cadre falls back to."""
    return plain(model, path, vad_filter=True, word_timestamps=True, **kwargs)


def _guards(model, path: Path):
    from pipeline.speech import guards
    from pipeline.speech.transcript import Segment, Word

    segments, _ = model.transcribe(audio_of(path), language="fr", beam_size=5, vad_filter=True, word_timestamps=True)
    ours = [Segment(s.start, s.end, s.text.strip(), [Word(w.start, w.end, w.word, w.probability) for w in s.words])
            for s in segments]
    kept = guards.clean(ours)
    return " ".join(s.text for s in kept), [(w.start, w.end, w.word) for s in kept for w in s.words]


def _blocked_vad(model, path: Path):
    """Cadre's VAD: Silero scored in 10 s blocks with a fresh state (``blocked_vad.py``), speech
    joined, decoded without faster-whisper's VAD, times mapped back."""
    from benchmarks.blocked_vad import SpeechMap, speech_regions

    audio = audio_of(path)
    speech = SpeechMap(speech_regions(audio))
    if not speech.regions:
        return "", []
    segments, _ = model.transcribe(speech.join(audio), language="fr", beam_size=5, vad_filter=False,
                                   word_timestamps=True)
    text, words = _words(list(segments))
    return text, [(s + speech.locate(s)[0], e + speech.locate(s)[0], w) for s, e, w in words]


# Not a decoding stage: the guards only delete text that matches subtitle credits or a repetition
# loop. Measured beside the stages, kept whatever their verdict (docs/ARCHITECTURE.md, Transcription).
NOT_DECODING = {"hallucination guards (credits, loops)"}

STAGES = {
    "Cadre's blocked VAD (10 s blocks)": _blocked_vad,
    "no conditioning on previous text": lambda m, p: reference(m, p, condition_on_previous_text=False),
    "silence-hallucination skip (2 s)": lambda m, p: reference(m, p, hallucination_silence_threshold=2.0),
    "hallucination guards (credits, loops)": _guards,
}
