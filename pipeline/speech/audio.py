"""Decode a clip's audio for Whisper: 16 kHz mono float32, streamed in fixed-size blocks.

ffmpeg decodes and resamples in a child process and writes raw samples to a pipe, so memory
stays at one block whatever the clip's length (a two-hour file never sits in memory whole).
"""
from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import ffmpeg
import numpy as np

from pipeline.cache import atomic_write_text, file_hash, memo_path
from pipeline.errors import CadreError
from pipeline.ffmpeg import command, compile_graph, last_error_line
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


def audio_hash(path: Path) -> str:
    """sha256 of the first audio stream's coded packets (plus codec and rate).

    Transcripts are keyed by this, not by the whole file: a clip re-exported with the same
    audio (stabilised, colour-graded, metadata scrubbed) keeps its transcript and corrections.
    Demuxing reads no pixels. Remembered per (path, inode, size, mtime), like file hashes.
    A file without audio gets the hash of its whole content.
    """

    path = Path(path)
    memo = memo_path("audio-hashes", path)
    if memo.is_file():
        return memo.read_text().strip()
    digest = hashlib.sha256()
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                return file_hash(path)
            stream = container.streams.audio[0]
            cc = stream.codec_context
            digest.update(f"{cc.name}|{cc.sample_rate}|{cc.channels}|".encode())
            if cc.extradata:
                digest.update(bytes(cc.extradata))
            for packet in container.demux(stream):
                if packet.size:
                    digest.update(bytes(packet))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise CadreError(path, f"not a readable media file ({exc.__class__.__name__}); export it again") from None
    value = digest.hexdigest()
    atomic_write_text(memo, value)
    return value


def stream_audio(path: Path, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Yield the first audio stream of ``path`` as 16 kHz mono float32 blocks of ``block_seconds``."""
    out = (ffmpeg.input(str(path)).audio
           .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=SAMPLE_RATE))
    proc = subprocess.Popen(command(*compile_graph(out)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    nbytes = int(block_seconds * SAMPLE_RATE) * 4
    try:
        while True:
            buf = proc.stdout.read(nbytes)
            if buf:
                usable = len(buf) - len(buf) % 4
                yield np.frombuffer(buf[:usable], np.float32).copy()
            if len(buf) < nbytes:
                break
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        code = proc.wait()
    if code not in (0, -9):
        raise CadreError(path, f"audio decoding failed: {last_error_line(err)}")
