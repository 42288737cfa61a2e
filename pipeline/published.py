"""Frames exactly as the master publishes them, decoded one by one: the clip frame through its
reframe, masked by the master's :class:`~pipeline.mask_timeline.MaskTimeline`, then the master's
overlays (branding, captions) burned at that frame's time. With each frame, where its masks are
(output pixels), so a reader can outline them.

Used by ``cadre preview`` (one frame), the contact sheet's strip of published frames and the review
page (poster and strip): a face the detector missed shows there as it will be published, unmasked
and not outlined. Only the chosen frames are decoded.
"""
from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import ffmpeg
import numpy as np

from pipeline.errors import CadreError
from pipeline.ffmpeg import command, compile_graph, last_error_line
from pipeline.reframe import OUT_H, OUT_W, FollowReframer
from pipeline.source.normalize import FPS, ClipSpan, video_input

STRIP_MIN, STRIP_MAX = 8, 12     # published frames per episode in the strip (and at least one per clip)
STRIP_SECONDS = 5.0              # one frame per this many seconds between those bounds


@dataclass(frozen=True)
class PublishedFrame:
    """One output frame as published (1080x1920 RGB) and the boxes masked on it."""

    frame: int                   # the episode frame
    clip: str                    # the clip (or bumper) file under it
    clip_frame: int              # its frame within that clip
    clip_seconds: float          # the same moment in seconds of the clip file
    image: np.ndarray
    masks: tuple[tuple[int, int, int, int], ...]   # output pixels, each clipped to the picture it masks

    @property
    def seconds(self) -> float:
        return self.frame / FPS


def run_ffmpeg(args: list[str], stdin: bytes | None, source, what: str = "the published frame") -> bytes:
    """``ffmpeg args`` with ``stdin``; its stdout, or one line naming ``source`` when it fails."""
    proc = subprocess.run(command(*args), input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise CadreError(source, f"{what} could not be made: "
                                 f"{last_error_line(proc.stderr.decode('utf-8', 'replace'))}")
    return proc.stdout


def decode_frame(a, j: int, size: tuple[int, int] = (OUT_W, OUT_H), reframe: bool = True) -> np.ndarray:
    """Frame ``j`` of clip analysis ``a`` as RGB ``size``: through the clip's reframe (the output
    picture), or with ``reframe=False`` as the normalised source at ``size``."""
    # a few frames before j are decoded too: the clip's last frame alone is a window so short at
    # the end of the file that the fps filter gives nothing; frame j is the last one read
    back = min(j, 3)
    first = j - back
    one = ClipSpan(a.span.path, a.span.info, a.span.start + first / FPS, a.span.start + (j + 1.5) / FPS)
    graph = reframe_at(a.reframer, first) if reframe else (lambda stream: stream)
    w, h = size
    raw = run_ffmpeg(compile_graph(graph(video_input(one)).output(
        "pipe:", format="rawvideo", pix_fmt="rgb24", vframes=back + 1)), None, a.span.path)
    got = len(raw) // (w * h * 3)
    if got < 1:
        raise CadreError(a.span.path, f"no frame could be decoded at clip frame {j}")
    k = min(back, got - 1) * w * h * 3
    return np.frombuffer(raw[k:k + w * h * 3], np.uint8).reshape(h, w, 3).copy()


def reframe_at(reframer, j: int) -> Callable:
    """The reframe graph for a stream that starts at clip frame ``j`` (a moving window starts there)."""
    if isinstance(reframer, FollowReframer):
        return lambda stream: reframer.graph(stream, first_frame=j)
    return reframer.graph


def mask_boxes(timeline, n: int) -> tuple[tuple[int, int, int, int], ...]:
    """The boxes ``timeline`` masks on output frame ``n``, in output pixels, each clipped to the
    rectangle of the picture it belongs to (a box half out of the crop is outlined where it shows)."""
    out = []
    for placement, boxes in timeline.boxes(n):
        dx0, dy0, dx1, dy1 = placement.dst
        for b in boxes:
            x0, y0 = max(dx0, math.floor(dx0 + b[0])), max(dy0, math.floor(dy0 + b[1]))
            x1, y1 = min(dx1, math.ceil(dx0 + b[2])), min(dy1, math.ceil(dy0 + b[3]))
            if x1 > x0 and y1 > y0:
                out.append((int(x0), int(y0), int(x1), int(y1)))
    return tuple(out)


def burn_overlays(overlays: list[Callable], frames: list[int], images: list[np.ndarray], source) -> list[np.ndarray]:
    """The master's overlays (stream -> stream) over ``images``, each at its episode frame's time,
    in one ffmpeg run."""
    if not overlays or not images:
        return images
    stream = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{OUT_W}x{OUT_H}", framerate=FPS)
    when = "0"
    for k, n in reversed(list(enumerate(frames))):      # frame k of the pipe is shown at episode frame n
        when = f"if(eq(N,{k}),{n},{when})"
    video = stream.video.filter("setpts", f"({when})/({FPS}*TB)")
    for overlay in overlays:
        video = overlay(video)
    raw = run_ffmpeg(compile_graph(video.output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough")),
                     b"".join(im.tobytes() for im in images), source)
    size = OUT_W * OUT_H * 3
    if len(raw) != size * len(images):
        raise CadreError(source, f"the overlays gave {len(raw) // size} frames for {len(images)}; "
                                 "the published frames cannot be shown")
    return [np.frombuffer(raw[k * size:(k + 1) * size], np.uint8).reshape(OUT_H, OUT_W, 3).copy()
            for k in range(len(images))]


def published_frames(setup, frames: list[int], overlays: bool = True) -> list[PublishedFrame]:
    """Episode frames ``frames`` of ``setup`` (a :class:`~pipeline.master.MasterSetup`) as published."""
    tl = setup.timeline
    out = []
    for n in frames:
        i, j = tl.locate(n)
        a = setup.analyses[i]
        image = decode_frame(a, j)
        tl(n, image)                                    # the render's masking, in place
        out.append(PublishedFrame(n, a.span.path.name, j, round(a.span.start + j / FPS, 3), image, mask_boxes(tl, n)))
    if overlays and out:
        burned = burn_overlays(setup.overlays, list(frames), [f.image for f in out], setup.analyses[0].span.path)
        out = [PublishedFrame(f.frame, f.clip, f.clip_frame, f.clip_seconds, im, f.masks) for f, im in zip(out, burned)]
    return out


def strip_frames(setup, count: int | None = None) -> list[int]:
    """Evenly spaced episode frames of the episode's own clips (bumpers left out): ``count``, or one
    per ``STRIP_SECONDS`` between ``STRIP_MIN`` and ``STRIP_MAX``; a clip none falls in gets its middle frame."""
    tl = setup.timeline
    clips = [(tl.starts[i], a.span.frame_count) for i, a in enumerate(setup.analyses)
             if a.kind == "clip" and a.span.frame_count > 0]
    total = sum(c for _, c in clips)
    if not total:
        return []
    if count is None:
        count = min(STRIP_MAX, max(STRIP_MIN, math.ceil(total / FPS / STRIP_SECONDS)))
    count = min(count, total)
    picked = set()
    for k in range(count):
        at = int((k + 0.5) * total / count)            # position along the clips laid end to end
        for start, length in clips:
            if at < length:
                picked.add(start + at)
                break
            at -= length
    for start, length in clips:
        if not any(start <= n < start + length for n in picked):
            picked.add(start + length // 2)
    return sorted(picked)
