"""Stage 1: probe. Read what a clip holds with PyAV (the imageio ffmpeg ships no ffprobe)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path

import av

from pipeline.core.errors import CadreError

IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "gif", "tiff_pipe", "mjpeg"}
HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}  # PQ and HLG
MAX_SIDE = 8192            # pixels on a side of the frame
MAX_PIXELS = 40_000_000    # frame area
MAX_ASPECT = 8.0           # long side / short side (1:8 to 8:1)


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration: float
    width: int            # display width, after rotation
    height: int           # display height, after rotation
    rotation: int         # degrees the player rotates the coded picture
    fps: float
    vfr: bool
    video_codec: str
    pix_fmt: str
    bit_depth: int
    color_transfer: str
    color_primaries: str
    hdr: bool
    has_audio: bool
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None
    color_range: str = "tv"       # "pc": full ("JPEG") range, converted to limited range in normalize.py
    audio_offset: float = 0.0     # seconds the audio starts after the video (a stream start-time offset)
    sar: tuple[int, int] = (1, 1)  # sample (pixel) aspect ratio of the coded picture: 64:45 is 16:9 PAL
    turn: int = 0                  # degrees clockwise asked for by episode.toml's rotate (normalize.py turns)
    audio_streams: int = 0         # a professional camera writes one mono stream per microphone

    @property
    def vertical(self) -> bool:
        return self.height > self.width

    def to_dict(self) -> dict:
        return asdict(self)

    def turned(self, degrees: int) -> "MediaInfo":
        """The same clip with its picture turned ``degrees`` clockwise (episode.toml's ``rotate``):
        a quarter turn swaps the display width and height that every stage frames by."""
        degrees %= 360
        w, h = (self.height, self.width) if degrees in (90, 270) else (self.width, self.height)
        return replace(self, width=w, height=h, turn=degrees)


def _open(path: Path):
    if not path.exists():
        raise CadreError(path, "file not found; check the path")
    if path.is_dir():
        raise CadreError(path, "is a folder, expected a video file")
    if path.stat().st_size == 0:
        raise CadreError(path, "file is empty (0 bytes); copy the clip again from the camera")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise CadreError(path, f"not a readable video ({exc.__class__.__name__}); "
                               "the file is corrupt, truncated or not a video - export it again") from None


# ISO/IEC 23091-2 code points, for PyAV versions that report plain integers
_TRC = {1: "bt709", 2: "unknown", 6: "smpte170m", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
        16: "smpte2084", 18: "arib-std-b67"}
_PRIMARIES = {1: "bt709", 2: "unknown", 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 12: "smpte432"}


def _color_name(value, table: dict) -> str:
    if isinstance(value, int):
        return table.get(value, str(value))
    name = getattr(value, "name", None) or str(value)
    return name.lower().replace("_", "-")


def probe(path: str | Path) -> MediaInfo:
    """Probe a clip; raise CadreError with a fix for anything that is not a usable video."""
    path = Path(path)
    container = _open(path)
    with container:
        if container.format.name.split(",")[0] in IMAGE_FORMATS or not container.streams.video:
            kind = "a still image" if container.streams.video else "audio-only"
            raise CadreError(path, f"is {kind}, not a video clip; remove it from the episode folder")
        vs = container.streams.video[0]
        _check_shape(path, vs.codec_context.width or vs.width, vs.codec_context.height or vs.height)
        duration = _duration(container, vs)
        if duration <= 0 or (vs.frames == 1):
            raise CadreError(path, "is a still image, not a video clip; remove it from the episode folder")
        try:
            frame = next(container.decode(video=0))
        except (av.error.FFmpegError, StopIteration):
            raise CadreError(path, "no video frame could be decoded; the file is corrupt - export it again") from None
        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
        cc = vs.codec_context
        pix_fmt = cc.pix_fmt or frame.format.name
        bit_depth = 10 if any(t in pix_fmt for t in ("10", "12")) else 8
        trc = _color_name(frame.color_trc, _TRC) if hasattr(frame, "color_trc") else "unknown"
        prim = _color_name(frame.color_primaries, _PRIMARIES) if hasattr(frame, "color_primaries") else "unknown"
        sar = _sar(vs)
        w, h = _display(vs.width, vs.height, sar)
        w, h = (h, w) if rotation in (90, 270) else (w, h)
        avg = float(vs.average_rate or vs.guessed_rate or 0) or 30.0
        base = float(vs.base_rate or vs.guessed_rate or avg)
        vfr = abs(base - avg) > 0.01 * max(avg, 1.0)
        audio = container.streams.audio[0] if container.streams.audio else None
        full_range = pix_fmt.startswith("yuvj") or "jpeg" in str(getattr(frame, "color_range", "")).lower() \
            or getattr(frame, "color_range", 0) == 2
        _check_complete(path, container, vs, duration)
        return MediaInfo(
            path=str(path), duration=duration, width=w, height=h, rotation=rotation, fps=avg, vfr=vfr,
            video_codec=cc.name, pix_fmt=pix_fmt, bit_depth=bit_depth,
            color_transfer=trc, color_primaries=prim, hdr=trc in HDR_TRANSFERS or any(x in trc for x in ("2084", "b67")),
            has_audio=audio is not None, audio_codec=audio.codec_context.name if audio else None,
            sample_rate=audio.codec_context.sample_rate if audio else None,
            channels=audio.codec_context.channels if audio else None,
            color_range="pc" if full_range else "tv",
            audio_offset=_start(audio) - _start(vs) if audio else 0.0,
            sar=(sar.numerator, sar.denominator),
            audio_streams=len(container.streams.audio),
        )


def _sar(vs) -> Fraction:
    """The stream's sample aspect ratio; unknown (0:1) or absurd values count as square pixels."""
    raw = getattr(vs, "sample_aspect_ratio", None) or getattr(vs.codec_context, "sample_aspect_ratio", None)
    try:
        sar = Fraction(raw) if raw else Fraction(1)
    except (TypeError, ValueError, ZeroDivisionError):
        return Fraction(1)
    return sar if Fraction(1, 4) <= sar <= 4 else Fraction(1)


def _display(w: int, h: int, sar: Fraction) -> tuple[int, int]:
    """Display size of a ``w`` x ``h`` picture of non-square pixels: the longer pixel side is kept
    and the other stretched (720x576 at 64:45 shows as 1024x576), so nothing is squeezed and no
    detail is thrown away."""
    if sar > 1:
        return int(round(w * sar / 2)) * 2, h
    if sar < 1:
        return w, int(round(h / sar / 2)) * 2
    return w, h


def _start(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0


def _check_shape(path: Path, w: int, h: int) -> None:
    """Refuse, before a frame is decoded, a frame too large to handle or too thin to frame."""
    if not w or not h:
        return
    if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
        raise CadreError(path, f"frame is {w}x{h}; Cadre takes frames up to {MAX_SIDE} px a side and "
                               f"{MAX_PIXELS // 1_000_000} megapixels - export the clip at a smaller size (e.g. 3840x2160)")
    if max(w, h) / min(w, h) > MAX_ASPECT:
        raise CadreError(path, f"frame is {w}x{h}, a shape beyond 1:{MAX_ASPECT:g} or {MAX_ASPECT:g}:1 that cannot be "
                               "framed for a vertical video; crop or export it at a usual shape (16:9, 9:16, 4:3)")


def _duration(container, vs) -> float:
    """Where the video ends on the file's timeline: a video stream that starts late (a start-time
    offset) is held on its first picture until then (normalize.py), so its start counts."""
    if vs.duration and vs.time_base:
        first = container.start_time / 1_000_000 if container.start_time is not None else _start(vs)
        lead = _start(vs) - first        # under 0.1 s: B-frame and container offsets, as before
        return float(vs.duration * vs.time_base) + (lead if lead >= 0.1 else 0.0)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _check_complete(path: Path, container, vs, duration: float) -> None:
    """A truncated file keeps its index but loses its tail: the last second cannot be read."""
    if duration < 2.0:
        return
    target = duration - 1.0
    try:
        container.seek(int(target / vs.time_base), stream=vs, any_frame=False, backward=True)
        last = None
        for packet in container.demux(vs):
            if packet.pts is not None:
                last = float(packet.pts * vs.time_base)
        start = float(vs.start_time * vs.time_base) if vs.start_time else 0.0
    except av.error.FFmpegError:
        last, start = None, 0.0
    if last is None or last - start < duration - 2.0:
        raise CadreError(path, "file is truncated (its end cannot be read); copy the clip again from the camera")
