"""A candidate decoding stage measured by ``bench_speech.py`` (Cadre's VAD until issue 29; it did
not beat faster-whisper's own ``vad_filter=True`` on the checking half by more than the paired
bootstrap interval, so the pipeline dropped it and keeps it here, to be measured again).

Silero VAD (the ONNX model shipped inside faster-whisper) scores every 32 ms frame. Run over a
whole file in one pass, its recurrent state drifts during long stationary noise and it then
misses speech: on the LINTO test file it scores the phrase after a 29-s gap at 0.06. Scoring in
blocks of :data:`BLOCK` seconds with a fresh state fixes that, so Cadre runs the model itself.

Speech regions are cut out, joined and decoded as one shorter signal; :class:`SpeechMap`
maps times on that signal back to the original (``pipeline.speech.vad.SpeechMap``).
"""
from __future__ import annotations

import numpy as np

from pipeline.speech.engines.base import SAMPLE_RATE
from pipeline.speech.vad import SpeechMap  # noqa: F401  (re-exported for speech_stages)

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
