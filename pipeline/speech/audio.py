"""Decode a clip's audio for Whisper: 16 kHz mono float32, streamed in fixed-size blocks.

ffmpeg decodes and resamples in a child process and writes raw samples to a pipe, so memory
stays at one block whatever the clip's length (a two-hour file never sits in memory whole).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import ffmpeg
import numpy as np

from pipeline.core.cache import atomic_write_text, file_hash, memo_path
from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import PipeFailed, compile_graph, pipe_chunks
from pipeline.speech.engines.base import SAMPLE_RATE


@dataclass(frozen=True)
class AudioInfo:
    has_audio: bool
    duration: float


def audio_info(path: Path) -> AudioInfo:
    """Whether ``path`` has an audio stream, and its duration. Works for audio-only files too."""
    path = Path(path)
    if not path.is_file():
        raise CadreError(path, "file not found; check the path")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            streams = container.streams.audio
            duration = 0.0
            if streams and streams[0].duration and streams[0].time_base:
                duration = float(streams[0].duration * streams[0].time_base)
            elif container.duration:
                duration = container.duration / 1_000_000
            return AudioInfo(bool(streams), duration)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise CadreError(path, f"not a readable media file ({exc.__class__.__name__}); export it again") from None


def audio_stream_count(path: Path) -> int:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return len(container.streams.audio)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        return 0


def audio_hash(path: Path, stream: int | str = 0) -> str:
    """sha256 of the audio stream's coded packets (plus codec and rate): the first by default,
    ``stream`` (0-based) or every stream for ``"mix"`` (a clip's choice in episode.toml).

    Transcripts are keyed by this, not by the whole file: a clip re-exported with the same
    audio (stabilised, colour-graded, metadata scrubbed) keeps its transcript and corrections.
    Demuxing reads no pixels. Remembered per (path, inode, size, mtime), like file hashes.
    A file without audio gets the hash of its whole content.
    """

    path = Path(path)
    memo = memo_path("audio-hashes" if stream == 0 else f"audio-hashes-{stream}", path)
    if memo.is_file():
        return memo.read_text().strip()
    digest = hashlib.sha256()
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                return file_hash(path)
            chosen = list(container.streams.audio) if stream == "mix" else [container.streams.audio[stream]]
            for each in chosen:
                cc = each.codec_context
                digest.update(f"{cc.name}|{cc.sample_rate}|{cc.channels}|".encode())
                if cc.extradata:
                    digest.update(bytes(cc.extradata))
            for packet in container.demux(chosen):
                if packet.size:
                    digest.update(bytes(packet))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise CadreError(path, f"not a readable media file ({exc.__class__.__name__}); export it again") from None
    value = digest.hexdigest()
    atomic_write_text(memo, value)
    return value


def audio_stream(path: Path, stream: int | str = 0, count: int = 1):
    """ffmpeg-python stream of one audio stream of ``path`` (0-based), or of all ``count`` of them
    mixed (``"mix"``); a clip with two mono microphones has two."""
    return pick_audio(ffmpeg.input(str(path)), stream, count)


def pick_audio(inp, stream: int | str = 0, count: int = 1):
    """The audio stream ``stream`` (0-based) of the ffmpeg-python input ``inp``, or its ``count``
    streams mixed for ``"mix"`` (each as stereo, summed: the loudness pass sets the level)."""
    if stream == "mix" and count > 1:
        parts = [inp[f"a:{i}"].filter("aformat", channel_layouts="stereo") for i in range(count)]
        return ffmpeg.filter(parts, "amix", inputs=count, duration="longest", normalize=0)
    return inp[f"a:{0 if stream == 'mix' else stream}"]


def stream_audio(path: Path, block_seconds: float = 30.0, stream: int | str = 0) -> Iterator[np.ndarray]:
    """Yield an audio stream of ``path`` (the first by default; see :func:`audio_stream`) as 16 kHz
    mono float32 blocks of ``block_seconds``."""
    count = audio_stream_count(path) if stream == "mix" else 1
    out = audio_stream(path, stream, count).output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=SAMPLE_RATE)
    nbytes = int(block_seconds * SAMPLE_RATE) * 4
    try:
        for buf in pipe_chunks(compile_graph(out), nbytes, partial=True):
            yield np.frombuffer(buf[:len(buf) - len(buf) % 4], np.float32).copy()
    except PipeFailed as failed:
        raise CadreError(path, f"audio decoding failed: {failed}") from None
