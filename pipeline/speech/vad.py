"""Voice-activity detection shared by both engines: find speech, decode only that.

Silero VAD (the ONNX model shipped inside faster-whisper) scores every 32 ms frame. Run over a
whole file in one pass, its recurrent state drifts during long stationary noise and it then
misses speech: on the LINTO test file it scores the phrase after a 29-s gap at 0.06. Scoring in
blocks of :data:`BLOCK` seconds with a fresh state fixes that, so Cadre runs the model itself.

Speech regions are cut out, joined and decoded as one shorter signal; :class:`SpeechMap`
maps times on that signal back to the original, as faster-whisper's own VAD filter does.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from pipeline.speech.engines.base import SAMPLE_RATE

FRAME = 512                 # samples per VAD frame (32 ms)
BLOCK = 10.0                # seconds scored with one model state
ONSET, OFFSET = 0.5, 0.35   # hysteresis on speech probability
MIN_SILENCE = 2.0           # shorter pauses stay inside a region
MIN_SPEECH = 0.25           # shorter blips are dropped
PAD = 0.4                   # kept around each region


def speech_probabilities(audio: np.ndarray) -> np.ndarray:
    from faster_whisper.vad import get_vad_model

    model = get_vad_model()
    block = int(BLOCK * SAMPLE_RATE) // FRAME * FRAME
    out = []
    for i in range(0, len(audio), block):
        chunk = audio[i:i + block]
        chunk = np.pad(chunk, (0, (-len(chunk)) % FRAME))
        out.append(np.asarray(model(chunk)).reshape(-1))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def speech_regions(audio: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` sample ranges that hold speech, padded and merged."""
    probs = speech_probabilities(audio)
    regions: list[list[int]] = []
    start = None
    silent_since = None
    for i, p in enumerate(probs):
        if start is None:
            if p >= ONSET:
                start, silent_since = i, None
        elif p < OFFSET:
            silent_since = i if silent_since is None else silent_since
            if (i - silent_since) * FRAME >= MIN_SILENCE * SAMPLE_RATE:
                regions.append([start * FRAME, silent_since * FRAME])
                start = silent_since = None
        else:
            silent_since = None
    if start is not None:
        regions.append([start * FRAME, (silent_since if silent_since is not None else len(probs)) * FRAME])
    pad = int(PAD * SAMPLE_RATE)
    merged: list[list[int]] = []
    for s, e in regions:
        if e - s < MIN_SPEECH * SAMPLE_RATE:
            continue
        s, e = max(0, s - pad), min(len(audio), e + pad)
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


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
