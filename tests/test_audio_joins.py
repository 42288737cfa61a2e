"""A clip made of takes joined without re-encoding keeps its audio exactly as long as its picture.

Joining files whose audio runs a little past their video (``-f concat -c copy``, as cameras' and
editors' quick joins do) leaves audio timestamps that overlap at every join. The normalised audio
was cut by time (``atrim=duration``), which counts timestamps, so it came out longer than the
picture: 0.29 s over a 10-minute episode, which then failed TikTok's 600 s limit after the whole
render. It is now cut by its sample count (``source/normalize.audio_input``). Real ffmpeg.
"""
from __future__ import annotations

from pathlib import Path

import av

from pipeline.core.ffmpeg import compile_graph, run
from pipeline.source.normalize import AUDIO_RATE, FPS, ClipSpan, audio_input
from pipeline.source.probe import probe


def _joined(tmp: Path, copies: int) -> Path:
    """``copies`` takes of 2 s of picture and 2.1 s of sound each, joined with the concat demuxer."""
    take = tmp / "take.mp4"
    run(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-f", "lavfi", "-i", "sine=f=440:d=2.1:sample_rate=48000",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(take)],
        source=take, what="fixture")
    listing = tmp / "takes.txt"
    listing.write_text("".join(f"file '{take}'\n" for _ in range(copies)))
    out = tmp / "joined.mp4"
    run(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out)], source=out, what="fixture")
    return out


def _samples(span: ClipSpan, tmp: Path) -> int:
    wav = tmp / "audio.wav"
    run(["-y", *compile_graph(audio_input(span).output(str(wav), acodec="pcm_s16le"))], source=wav, what="audio")
    with av.open(str(wav)) as f:
        return sum(frame.samples for frame in f.decode(audio=0))


def test_joined_takes_give_audio_exactly_as_long_as_the_picture(tmp_path):
    clip = _joined(tmp_path, 4)
    span = ClipSpan(clip, probe(clip))
    assert span.frame_count > 0
    assert _samples(span, tmp_path) == round(span.frame_count / FPS * AUDIO_RATE)


def test_a_trimmed_span_of_joined_takes_is_as_long_as_its_frames(tmp_path):
    clip = _joined(tmp_path, 4)
    info = probe(clip)
    span = ClipSpan(clip, info, start=1.5, end=6.5)
    assert _samples(span, tmp_path) == round(span.frame_count / FPS * AUDIO_RATE)
