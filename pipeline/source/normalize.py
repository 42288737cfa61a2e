"""Normalise any clip to one shape: display orientation, SDR BT.709, constant 30 fps, 8-bit.

The same chain feeds analysis (small frames piped to Python) and rendering (inside the one ffmpeg
graph), so frame ``i`` of a clip means the same picture everywhere: ``t = in_point + i / FPS``.
ffmpeg applies phone rotation metadata itself (autorotate) before these filters; episode.toml's
``rotate`` (a camera mounted upside down, with no tag) turns the picture after it (``turn``).
"""
from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core.cache import file_hash
from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import PipeFailed, compile_graph, media_input, pipe_chunks
from pipeline.core.geometry import FPS, OUT_H, OUT_W
from pipeline.core.threads import ffmpeg_input_options
from pipeline.source.probe import MediaInfo
from pipeline.speech.audio import pick_audio

AUDIO_RATE = 48000
OFFSET = 0.1     # s: a stream start-time offset this large is compensated (smaller: B-frame and container offsets)


@dataclass(frozen=True)
class ClipSpan:
    """One clip as used in an episode: the file, what it holds, and the part kept."""

    path: Path
    info: MediaInfo
    start: float = 0.0
    end: float | None = None
    take: int = 0          # the n-th use of the same clip and trim in the episode (a clip may repeat)
    audio_stream: int | str | None = None   # episode.toml's choice: a stream from 1, or "mix"; None: the first

    @property
    def audio_pick(self) -> int | str:
        """The audio stream heard, 0-based, or ``"mix"``."""
        return "mix" if self.audio_stream == "mix" else (self.audio_stream or 1) - 1

    @property
    def duration(self) -> float:
        end = self.info.duration if self.end is None else min(self.end, self.info.duration)
        return max(0.0, end - self.start)

    @property
    def frame_count(self) -> int:
        return int(round(self.duration * FPS))

    def content_key(self) -> list:
        """What a cached analysis of this span depends on in the source: the file's content, the
        part kept and how its picture is turned (unturned spans keep the keys they always had)."""
        turned = getattr(self.info, "turn", 0)
        return [file_hash(self.path), self.start, self.end] + ([f"turn {turned}"] if turned else [])


def _video_late(info: MediaInfo) -> bool:
    return getattr(info, "audio_offset", 0.0) <= -OFFSET


def working_size(info: MediaInfo) -> tuple[int, int]:
    """Largest useful size: never upscale, never keep more than a 9:16 1080x1920 crop needs."""
    w, h = info.width, info.height
    scale = min(1.0, max(OUT_W / w, OUT_H / h))
    return _even(w * scale), _even(h * scale)


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def video_input(span: ClipSpan, size: tuple[int, int] | None = None, frames: Collection[int] | None = None):
    """ffmpeg-python video stream of ``span`` normalised and scaled to ``size`` (default: working size);
    with ``frames``, only those frames (indices of the normalised clip), chosen before they are scaled."""
    inp = media_input(str(span.path), span.take, ss=f"{span.start:.3f}", t=f"{span.duration:.3f}", **ffmpeg_input_options())
    v = inp.video
    if span.info.hdr:
        v = (v.filter("zscale", t="linear", npl=100).filter("format", "gbrpf32le")
              .filter("zscale", p="bt709").filter("tonemap", tonemap="hable", desat=0)
              .filter("zscale", t="bt709", m="bt709", r="tv"))
    v = turn(v, getattr(span.info, "turn", 0))
    w, h = size or working_size(span.info)
    # full ("JPEG") range, as bodycams, dashcams and some phones write it, becomes limited range
    # like every other clip: the picture keeps its look, the master keeps its profile
    in_range = "pc" if getattr(span.info, "color_range", "tv") == "pc" else "auto"
    # start_time=0: a video stream that starts after the audio (a start-time offset) holds its
    # first picture until it begins, as a player shows it, so picture and sound stay in sync
    hold = {"start_time": 0} if _video_late(span.info) else {}
    v = v.filter("fps", FPS, **hold)
    if frames is not None:   # the stream ends after the last one: the decoder stops there
        v = (v.filter("trim", end_frame=max(frames) + 1)
              .filter("select", _one_of(sorted(frames))))
    v = (v.filter("scale", w, h, flags="bicubic", in_range=in_range, out_range="tv")
          .filter("setsar", 1).filter("format", "yuv420p"))
    return v


def _one_of(frames: list[int]) -> str:
    """An ffmpeg expression true at the frames ``frames`` (sorted) alone: a balanced tree of
    ``if(lt(n,k),...)``, since a sum of a hundred-odd ``eq`` terms fails to parse (ENOMEM)."""
    if len(frames) == 1:
        return f"eq(n,{frames[0]})"
    mid = len(frames) // 2
    return f"if(lt(n,{frames[mid]}),{_one_of(frames[:mid])},{_one_of(frames[mid:])})"


def turn(v, degrees: int):
    """``v`` turned ``degrees`` clockwise (episode.toml's ``rotate``, after the file's own rotation
    tag, which ffmpeg applies while decoding): a camera mounted upside down or sideways."""
    if degrees == 90:
        return v.filter("transpose", "clock")
    if degrees == 180:
        return v.filter("hflip").filter("vflip")
    if degrees == 270:
        return v.filter("transpose", "cclock")
    return v


def audio_input(span: ClipSpan):
    """Audio of ``span`` as 48 kHz stereo, exactly ``frame_count / FPS`` long (silence if it has none)."""
    if span.info.has_audio:
        # no -ss at 0: seeking lands on the first video key frame, and audio that starts before
        # the video (a start-time offset) would lose its head
        seek = {"ss": f"{span.start:.3f}"} if span.start > 0 or not _video_late(span.info) else {}
        a = pick_audio(media_input(str(span.path), span.take, **seek, t=f"{span.duration:.3f}"), span.audio_pick,
                       getattr(span.info, "audio_streams", 1))
    else:
        a = media_input(f"anullsrc=r={AUDIO_RATE}:cl=stereo", span.take, f="lavfi", t=f"{span.duration:.3f}").audio
    # first_pts=0: audio whose stream starts later than the video (a start-time offset) is delayed
    # by silence, as a player plays it, instead of being pulled forward out of sync
    late = getattr(span.info, "audio_offset", 0.0) >= OFFSET
    pad = {"async": 1, "first_pts": 0} if late else {}
    # cut by the sample count, not by time: atrim's duration counts timestamps, and a file whose
    # audio timestamps overlap at joins (clips concatenated without re-encoding) came out 0.29 s
    # longer than its picture over 10 minutes, past TikTok's 600 s
    samples = round(span.frame_count / FPS * AUDIO_RATE)
    return (a.filter("aresample", AUDIO_RATE, **pad).filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
             .filter("apad").filter("atrim", end_sample=samples)
             .filter("asetpts", "N/SR/TB"))   # timestamps from the sample count: what follows cuts by time


def analysis_size(info: MediaInfo, width: int) -> tuple[int, int]:
    """Frame size for analysis at ``width`` pixels wide (height keeps the aspect ratio)."""
    width = min(width, info.width)
    return _even(width), _even(width * info.height / info.width)


def read_frames(span: ClipSpan, width: int = 640, every: int = 1,
                only: Collection[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, rgb_array)`` of the normalised clip at analysis resolution.

    ``every=k`` yields every k-th frame (indices still count all frames); ``only`` (non-empty)
    yields those frames alone, which ffmpeg picks before scaling them (a contact sheet's tiles:
    every other frame is decoded, never scaled, converted or piped). Frames stream from ffmpeg one
    at a time, so memory does not grow with clip length.
    """
    w, h = analysis_size(span.info, width)
    stream = video_input(span, (w, h), frames=only)
    indices = iter(sorted(only)) if only is not None else None
    if every > 1 and only is None:
        stream = stream.filter("select", f"not(mod(n,{every}))")
    args = compile_graph(stream.output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough"))
    index = 0
    try:
        for buf in pipe_chunks(args, w * h * 3):
            yield (index if indices is None else next(indices)), np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            index += every
    except PipeFailed as failed:
        raise CadreError(span.path, f"decoding for analysis failed: {failed}") from None
