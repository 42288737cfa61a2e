"""Voice-activity detection for the engines that have none of their own (openai-whisper).

faster-whisper runs its own VAD (``vad_filter=True``). For the other engine Cadre calls the very
same function with the options faster-whisper's ``transcribe`` gives it (:data:`OPTIONS`), cuts the speech out, joins
it and decodes it as one shorter signal; :class:`SpeechMap` maps times on that signal back to the
original, as faster-whisper does. (Cadre's own blocked VAD did not beat faster-whisper's on the
held-back French speech, issue 29: ``benchmarks/bench_speech.py`` measures it again.)
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from pipeline.speech.engines.base import SAMPLE_RATE

# faster-whisper 1.2's transcribe(vad_filter=True) without vad_parameters: its VadOptions with
# these two changed (regions no longer than one 30 s decoding window, 160 ms pauses split)
OPTIONS = {"max_speech_duration_s": 30.0, "min_silence_duration_ms": 160}


def speech_regions(audio: np.ndarray, options: dict = OPTIONS) -> list[tuple[int, int]]:
    """``(start, end)`` sample ranges that hold speech: faster-whisper's ``get_speech_timestamps``
    with the options its ``vad_filter=True`` uses, or with ``options`` (its ``VadOptions`` fields)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(audio, VadOptions(**options), sampling_rate=SAMPLE_RATE)
    return [(int(c["start"]), int(c["end"])) for c in chunks]


@dataclass
class SpeechMap:
    """Where each joined speech region sits in the original audio."""

    regions: list[tuple[int, int]]

    def __post_init__(self):
        self._joined_starts = []
        pos = 0
        for s, e in self.regions:
            self._joined_starts.append(pos)
            pos += e - s

    def join(self, audio: np.ndarray) -> np.ndarray:
        return np.concatenate([audio[s:e] for s, e in self.regions]) if self.regions else audio[:0]

    def locate(self, t: float) -> tuple[float, float]:
        """For time ``t`` (s) on the joined signal: the shift back to the original, and the end of
        its region on the original timeline (a word never crosses a cut)."""
        sample = t * SAMPLE_RATE
        i = bisect.bisect_right(self._joined_starts, sample) - 1
        i = max(0, min(i, len(self.regions) - 1))
        s, e = self.regions[i]
        return (s - self._joined_starts[i]) / SAMPLE_RATE, e / SAMPLE_RATE
