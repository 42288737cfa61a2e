"""Frames exactly as the master publishes them, only those decoded: the clip frame through its
reframe, masked by the master's :class:`~pipeline.master.MaskTimeline`, then the master's
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
from dataclasses import dataclass, replace

import ffmpeg
import numpy as np

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import command, compile_graph, last_error_line
from pipeline.reframe import OUT_H, OUT_W, FollowReframer
from pipeline.source.normalize import FPS, ClipSpan, video_input

STRIP_MIN, STRIP_MAX = 8, 12     # published frames per episode in the strip (and at least one per clip)
STRIP_SECONDS = 5.0              # one frame per this many seconds between those bounds
RUN_GAP = 90                     # frames (3 s): strip frames of a clip closer than this are decoded in one run


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


def frame_window(span: ClipSpan, first: int, last: int) -> ClipSpan:
    """The part of ``span`` from its frame ``first`` to its frame ``last``. The start is rounded
    down to the millisecond the seek is given in: rounded up (frame 2 at 0.0667 s sought at 0.067),
    the seek drops that frame and every frame read is the next one."""
    start = math.floor((span.start + first / FPS) * 1000) / 1000
    return replace(span, start=start, end=span.start + (last + 1.5) / FPS)   # the same take, the same streams


def decode_frames(a, js: list[int], size: tuple[int, int] = (OUT_W, OUT_H), reframe: bool = True) -> list[np.ndarray]:
    """Frames ``js`` (ascending) of clip analysis ``a`` as RGB ``size``, in one ffmpeg run from the
    first to the last: through the clip's reframe (the output picture), or with ``reframe=False``
    as the normalised source at ``size``."""
    # a few frames before the first are decoded too: the clip's last frame alone is a window so
    # short at the end of the file that the fps filter gives nothing
    first = max(0, js[0] - 3)
    one = frame_window(a.span, first, js[-1])
    graph = reframe_at(a.reframer, first) if reframe else (lambda stream: stream)
    picked = graph(video_input(one)).filter("select", "+".join(f"eq(n,{j - first})" for j in js))
    w, h = size
    raw = run_ffmpeg(compile_graph(picked.output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough")),
                     None, a.span.path)
    got = len(raw) // (w * h * 3)
    if got < len(js):
        raise CadreError(a.span.path, f"no frame could be decoded at clip frame {js[got]}; the clip may be "
                                      "damaged: export it again")
    return [np.frombuffer(raw[k * w * h * 3:(k + 1) * w * h * 3], np.uint8).reshape(h, w, 3).copy()
            for k in range(len(js))]


def decode_frame(a, j: int, size: tuple[int, int] = (OUT_W, OUT_H), reframe: bool = True) -> np.ndarray:
    """Frame ``j`` of clip analysis ``a`` (see :func:`decode_frames`)."""
    return decode_frames(a, [j], size, reframe)[0]


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
    # frame k of the pipe is shown at episode frame n: a flat sum, however many frames (no nesting)
    when = "+".join(f"{n}*eq(N,{k})" for k, n in enumerate(frames))
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


def _runs(located: list[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
    """(episode frame, clip, clip frame) in order, grouped into runs decoded together: the same
    clip, each frame at most ``RUN_GAP`` after the one before (further apart, a seek is cheaper)."""
    runs: list[list[tuple[int, int, int]]] = []
    for n, i, j in located:
        if runs and runs[-1][-1][1] == i and j - runs[-1][-1][2] <= RUN_GAP:
            runs[-1].append((n, i, j))
        else:
            runs.append([(n, i, j)])
    return runs


def published_frames(setup, frames: list[int], overlays: bool = True, masked: dict | None = None) -> list[PublishedFrame]:
    """Episode frames ``frames`` (ascending) of ``setup`` (a :class:`~pipeline.master.MasterSetup`)
    as published. Only those frames are decoded (with what lies between two of them less than
    ``RUN_GAP`` apart, read in the same run rather than seeking from a keyframe again); none when
    ``masked`` holds them all, masked RGB frames the render kept (``render.encode_master``)."""
    tl = setup.timeline
    out = []
    for run in _runs([(n, *tl.locate(n)) for n in frames]):
        a = setup.analyses[run[0][1]]
        js = [j for _, _, j in run]
        images = [(masked or {}).get(n) for n, _, _ in run]
        if any(image is None for image in images):
            images = decode_frames(a, js)
            for (n, _, _), image in zip(run, images):
                tl(n, image)                            # the render's masking, in place
        for (n, _, j), image in zip(run, images):
            out.append(PublishedFrame(n, a.span.path.name, j, round(a.span.start + j / FPS, 3), image,
                                      mask_boxes(tl, n)))
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
