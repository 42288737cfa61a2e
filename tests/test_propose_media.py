"""Rushes for the ``cadre propose`` tests: real spoken passages (``../shared/media``) over real
footage, separated by stretches without speech (near-silence, wind-like noise, black, TV snow).

The builder returns where each passage lies in the rush, so a test checks proposals against it.
"""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.ffmpeg import run

MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media"
FOOTAGE = MEDIA / "videos" / "facenet_pytorch_video.mp4"
STILL = MEDIA / "images" / "dlib_2008_001322.jpg"
RATE = 16000

PASSAGES = {"fleurs0": "audio/fr/fr_fleurs_000.wav", "fleurs1": "audio/fr/fr_fleurs_001.wav",
            "fleurs2": "audio/fr/fr_fleurs_002.wav", "jfk": "audio/en/en_whisper_jfk.wav"}


def need_media() -> None:
    if not (FOOTAGE.is_file() and all((MEDIA / p).is_file() for p in PASSAGES.values())):
        pytest.skip(f"real media not found in {MEDIA} (speech wavs and the facenet video)")


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32) / 32768


def _noise(kind: str, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    if kind == "wind":      # brown noise with slow gusts: broad, low, no voice
        x = np.cumsum(rng.normal(0, 1, n))
        x -= np.convolve(x, np.ones(801) / 801, mode="same")
        gust = 0.6 + 0.4 * np.sin(np.linspace(0, 2 * np.pi * seconds / 4, n))
        return (0.12 * x / (np.abs(x).max() + 1e-9) * gust).astype(np.float32)
    if kind == "hiss":
        return (0.02 * rng.normal(0, 1, n)).astype(np.float32)
    return (0.0005 * rng.normal(0, 1, n)).astype(np.float32)   # near-silence: a quiet room


def build_rush(path: Path, plan: list[tuple[str, str, float | str]], size: str = "640x360", fps: int = 25) -> list[dict]:
    """Write the rush ``path`` from ``plan``: ``(picture, sound, what)`` rows, picture one of
    footage | still | black | snow; sound ``speech`` (``what`` names a passage) or silence | wind |
    hiss (``what``: seconds). Returns the passages: ``{"name", "start", "end"}`` in rush seconds."""
    audio, passages, pieces, t = [], [], [], 0.0
    for i, (picture, sound, what) in enumerate(plan):
        if sound == "speech":
            clip = read_wav(MEDIA / PASSAGES[what])
            passages.append({"name": what, "start": t, "end": t + len(clip) / RATE})
        else:
            clip = _noise(sound, float(what), i)
        audio.append(clip)
        seconds = len(clip) / RATE
        pieces.append((picture, seconds))
        t += seconds
    wav = path.with_suffix(".wav")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(np.concatenate(audio), -1, 1) * 32767).astype(np.int16).tobytes())
    args, chains, offset = [], [], 0.0
    for k, (picture, seconds) in enumerate(pieces):
        if picture == "footage":   # the real clip looped, each stretch from another point of it
            args += ["-stream_loop", "-1", "-ss", f"{(offset * 0.37) % 3.5:.2f}", "-i", str(FOOTAGE)]
        elif picture == "still":
            args += ["-loop", "1", "-framerate", str(fps), "-i", str(STILL)]
        elif picture == "black":
            args += ["-f", "lavfi", "-i", f"color=black:s={size}:r={fps}"]
        else:
            args += ["-f", "lavfi", "-i", f"color=gray:s={size}:r={fps},noise=alls=100:allf=t"]
        w, h = size.split("x")
        chains.append(f"[{k}:v]scale={w}:{h},setsar=1,fps={fps},format=yuv420p,trim=duration={seconds:.4f},"
                      f"setpts=PTS-STARTPTS[v{k}]")
        offset += seconds
    graph = ";".join(chains) + ";" + "".join(f"[v{k}]" for k in range(len(pieces))) + \
        f"concat=n={len(pieces)}:v=1:a=0[v]"
    run([*args, "-i", str(wav), "-filter_complex", graph, "-map", "[v]", "-map", f"{len(pieces)}:a",
         "-c:v", "libx264", "-preset", "veryfast", "-g", str(fps), "-c:a", "aac", "-ar", "48000", "-t", f"{t:.3f}",
         "-y", str(path)], source=path, what="test rush")
    wav.unlink()
    return passages


SPOKEN = [("footage", "speech", "fleurs0"), ("still", "silence", 9), ("footage", "speech", "fleurs1"),
          ("black", "silence", 6), ("still", "wind", 10), ("footage", "speech", "jfk"), ("snow", "hiss", 8),
          ("footage", "speech", "fleurs2"), ("still", "silence", 7)]
