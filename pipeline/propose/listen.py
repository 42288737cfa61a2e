"""The sound signals of a rush, from one streamed decode of its audio.

- **Voice activity** on the whole file: faster-whisper's Silero VAD (``get_speech_timestamps``),
  window by window (:attr:`ListenOptions.vad_window`), regions meeting at a window edge joined.
  Whisper then runs on speech only (:mod:`pipeline.propose.words`), and a rush with no voice at all
  never loads it.
- **Loudness** per step (:attr:`ListenOptions.hop`, RMS in dBFS).
- **Sound events**: a *loud change* (a step ``jump_db`` over the median of the 4 s before it, and
  loud in itself) and a *siren* (a tone in the siren band standing ``siren_peak`` dB over the band
  for ``siren_steps`` steps while its pitch moves: wind and engines are broad or steady).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.propose.options import ListenOptions
from pipeline.speech.audio import audio_info, stream_audio
from pipeline.speech.engines.base import SAMPLE_RATE
from pipeline.speech.vad import speech_regions


@dataclass
class Sound:
    """What is heard in a rush: voice regions (s), loudness per step, sound events."""

    has_audio: bool = False
    hop: float = 0.5
    voice: list[tuple[float, float]] = field(default_factory=list)
    level: list[float] = field(default_factory=list)           # dBFS per step
    events: list[tuple[float, str]] = field(default_factory=list)   # (seconds, "siren" | "loud change")

    def to_dict(self) -> dict:
        return {"has_audio": self.has_audio, "hop": self.hop, "voice": [[round(a, 2), round(b, 2)] for a, b in self.voice],
                "level": [round(v, 1) for v in self.level], "events": [[round(t, 2), k] for t, k in self.events]}

    @classmethod
    def from_dict(cls, d: dict) -> "Sound":
        return cls(bool(d["has_audio"]), float(d["hop"]), [tuple(v) for v in d["voice"]], list(d["level"]),
                   [(float(t), str(k)) for t, k in d["events"]])

    def voiced(self, start: float, end: float) -> float:
        """Seconds of voice activity inside ``[start, end]``."""
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.voice)

    def events_in(self, start: float, end: float) -> list[tuple[float, str]]:
        return [(t, k) for t, k in self.events if start <= t <= end]


def _vad(audio: np.ndarray, opt: ListenOptions) -> list[tuple[float, float]]:
    regions = speech_regions(audio, {"threshold": opt.vad_threshold, "min_silence_duration_ms": opt.vad_min_silence_ms,
                                     "speech_pad_ms": opt.vad_pad_ms})
    return [(s / SAMPLE_RATE, e / SAMPLE_RATE) for s, e in regions]


def _join(regions: list[tuple[float, float]], gap: float = 0.05) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(regions):
        if out and a - out[-1][1] <= gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _steps(audio: np.ndarray, opt: ListenOptions) -> tuple[list[float], list[tuple[float, float]]]:
    """Per step: RMS level (dBFS), and the siren band's peak over its median (dB) with the peak's pitch (Hz)."""
    n = int(opt.hop * SAMPLE_RATE)
    count = len(audio) // n
    if count == 0:
        return [], []
    frames = audio[:count * n].reshape(count, n)
    level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    spec = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    band = (freqs >= opt.siren_band[0]) & (freqs <= opt.siren_band[1])
    sub = spec[:, band]
    peak = sub.max(axis=1)
    tone = 10 * np.log10((peak + 1e-12) / (np.median(sub, axis=1) + 1e-12))
    pitch = freqs[band][sub.argmax(axis=1)]
    return level.tolist(), list(zip(tone.tolist(), pitch.tolist()))


def _events(level: list[float], tones: list[tuple[float, float]], voice: list[tuple[float, float]],
            opt: ListenOptions) -> list[tuple[float, str]]:
    """Loud changes and sirens outside voiced regions (a voice is tonal, and its onset is loud)."""
    events: list[tuple[float, str]] = []
    voiced = np.zeros(len(level), bool)
    for a, b in voice:
        voiced[max(0, int(a / opt.hop) - 1):int(np.ceil(b / opt.hop)) + 1] = True
    back = max(1, int(round(4.0 / opt.hop)))
    last_jump = -1e9
    for i in range(1, len(level)):
        before = np.median(level[max(0, i - back):i])
        t = i * opt.hop
        if not voiced[i] and level[i] >= opt.jump_floor_db and level[i] - before >= opt.jump_db and t - last_jump > 2.0:
            events.append((t, "loud change"))
            last_jump = t
    run, pitches, last_siren = 0, [], -1e9
    for i, (tone, pitch) in enumerate(tones):
        tonal = tone >= opt.siren_peak and level[i] > opt.quiet_db and not voiced[i]
        run, pitches = (run + 1, pitches + [pitch]) if tonal else (0, [])
        t = (i - run + 1) * opt.hop
        if run >= opt.siren_steps and max(pitches) - min(pitches) >= 60 and t - last_siren > 10.0:
            events.append((t, "siren"))
            last_siren = t
    return sorted(events)


def listen(path, opt: ListenOptions) -> Sound:
    """The sound signals of the rush at ``path`` (its first audio stream, as the render hears it)."""
    if not audio_info(path).has_audio:
        return Sound(False, opt.hop)
    window = int(opt.vad_window * SAMPLE_RATE)
    step = int(opt.hop * SAMPLE_RATE)
    buffer = np.zeros(0, np.float32)
    offset = 0.0
    voice: list[tuple[float, float]] = []
    level: list[float] = []
    tones: list[tuple[float, float]] = []

    def take(chunk: np.ndarray, at: float) -> None:
        voice.extend((a + at, b + at) for a, b in _vad(chunk, opt))
        lv, tn = _steps(chunk, opt)
        level.extend(lv)
        tones.extend(tn)

    for block in stream_audio(path, 30.0):
        buffer = np.concatenate([buffer, block])
        if len(buffer) >= window:
            used = window - window % step
            take(buffer[:used], offset)
            buffer, offset = buffer[used:], offset + used / SAMPLE_RATE
    if len(buffer):
        take(buffer, offset)
    voice = _join(voice)
    return Sound(True, opt.hop, voice, level, _events(level, tones, voice, opt))
