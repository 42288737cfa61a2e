"""Stage 4: render the master. One ffmpeg pass decodes, normalises, reframes and joins the clips;
Python touches the full-resolution frames only to mask faces; the same pass burns captions,
overlays branding and encodes H.264 with the normalised audio.

Without masks the whole job is a single ffmpeg process. With masks, frames stream
decoder -> Python (mask) -> encoder as yuv420p, one frame at a time, so memory does not grow with
length; Python converts to RGB only the rectangle around a frame's masks (``faces.planes``).
"""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import ffmpeg
import numpy as np

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import command, compile_graph, last_error_line
from pipeline.core.heap import trim
from pipeline.core.threads import ffmpeg_input_options
from pipeline.faces.detectors import release as release_detectors
from pipeline.faces.planes import I420Masker, frame_size, planes, to_rgb
from pipeline.reframe import OUT_H, OUT_W, Reframer
from pipeline.source.normalize import FPS, ClipSpan, video_input
from pipeline.speech.engines import release as release_engines


class MaskFn(Protocol):
    """The masks of the episode's frames (``master.MaskTimeline``)."""

    def boxes(self, n: int) -> list:
        """Episode frame ``n``'s placements, each with the boxes to mask relative to its ``dst``."""

    def draw(self, frame: np.ndarray, work: list) -> bool:
        """Mask ``work`` (what :meth:`boxes` gave) on a full-size RGB ``frame`` in place."""


Progress = Callable[[int, int], None]          # (frames done, frames total)


@dataclass
class MasterJob:
    spans: list[ClipSpan]
    reframers: list[Reframer]
    audio_path: Path
    out_path: Path
    profile: dict
    maxrate_kbps: int
    mask: MaskFn | None = None
    overlays: list[Callable] = field(default_factory=list)   # stream -> stream (branding, captions)
    keyframes: list[float] = field(default_factory=list)     # forced key frames (part boundaries)

    @property
    def total_frames(self) -> int:
        return sum(s.frame_count for s in self.spans)


def reframed_video(job: MasterJob):
    """Normalised, reframed clips joined into one 1080x1920 30 fps stream of exact frame count."""
    parts = []
    for span, reframer in zip(job.spans, job.reframers):
        v = reframer.graph(video_input(span)).filter("format", "yuv420p")
        # exact frame count per clip keeps audio, masks and captions in step
        v = v.filter("tpad", stop_mode="clone", stop=2).filter("trim", end_frame=span.frame_count)
        parts.append(v.filter("setpts", "PTS-STARTPTS"))
    return parts[0] if len(parts) == 1 else ffmpeg.concat(*parts, v=1, a=0)


def _encoder_output(job: MasterJob, video, tmp_out: Path):
    for overlay in job.overlays:
        video = overlay(video)
    video = video.filter("format", job.profile["pix_fmt"])
    audio = ffmpeg.input(str(job.audio_path)).audio
    kwargs = {
        "vcodec": job.profile["video_codec"], "profile:v": job.profile["profile"],
        "preset": job.profile["x264_preset"], "crf": job.profile["crf"],
        "maxrate": f"{job.maxrate_kbps}k", "bufsize": f"{2 * job.maxrate_kbps}k",
        "r": FPS, "fps_mode": "cfr", "acodec": "copy", "movflags": "+faststart",
        "map_metadata": -1, "map_chapters": -1, "f": "mp4",
        "metadata:s:v": "handler_name=", "metadata:s:a": "handler_name=", **ffmpeg_input_options(),
    }
    if job.keyframes:
        kwargs["force_key_frames"] = ",".join(f"{t:.3f}" for t in job.keyframes)
    return ffmpeg.output(video, audio, str(tmp_out), **kwargs)


def _run_single(args: list[str], total: int, progress: Progress | None, source) -> list[str]:
    cmd = command("-progress", "pipe:1", "-nostats", *args)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        for line in proc.stdout:
            if progress and line.startswith("frame="):
                progress(min(total, int(line.split("=", 1)[1] or 0)), total)
        code = proc.wait()
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
        if code != 0:
            raise CadreError(source, f"render failed: {last_error_line(text)}")
        return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _run_masked(job: MasterJob, tmp_out: Path, progress: Progress | None, source, grab: dict) -> list[str]:
    """Decoder -> Python -> encoder in yuv420p, the format both ends work in: a frame without masks
    goes through untouched, a masked one changes only where its masks are (faces.planes). The
    frames ``grab`` names are kept in it, as the encoder is handed them (flat I420)."""
    dec_args = compile_graph(reframed_video(job).output("pipe:", format="rawvideo", pix_fmt="yuv420p"),
                             job.out_path.parent)
    raw = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="yuv420p", s=f"{OUT_W}x{OUT_H}", framerate=FPS)
    enc_args = compile_graph(_encoder_output(job, raw.video, tmp_out))
    size = frame_size(OUT_W, OUT_H)
    total = job.total_frames
    masker = I420Masker(OUT_W, OUT_H, job.mask.draw)
    with tempfile.TemporaryFile() as dec_err, tempfile.TemporaryFile() as enc_err:
        dec = subprocess.Popen(command(*dec_args), stdout=subprocess.PIPE, stderr=dec_err)
        enc = subprocess.Popen(command(*enc_args), stdin=subprocess.PIPE, stderr=enc_err)
        buf = bytearray(size)
        frame = np.frombuffer(buf, np.uint8)
        n = 0
        try:
            while dec.stdout.readinto(memoryview(buf)) == size:
                masker(frame, job.mask.boxes(n))
                if n in grab:
                    grab[n] = frame.copy()
                enc.stdin.write(buf)
                n += 1
                if progress and n % 15 == 0:
                    progress(n, total)
        except BaseException:
            dec.kill()
            enc.kill()
            dec.wait()
            enc.wait()
            raise
        finally:
            dec.stdout.close()
            try:
                enc.stdin.close()
            except BrokenPipeError:
                pass
        dec_code, enc_code = dec.wait(), enc.wait()
        for code, err, what in ((dec_code, dec_err, "decoding"), (enc_code, enc_err, "encoding")):
            if code != 0:
                err.seek(0)
                msg = last_error_line(err.read().decode("utf-8", "replace"))
                raise CadreError(source, f"render failed while {what}: {msg}")
        if n != total:
            raise CadreError(source, f"render produced {n} of {total} frames; a clip could not be fully decoded")
        if progress:
            progress(n, total)
        dec_err.seek(0)   # damage the decoder concealed: reported as in the unmasked path
        return [ln.strip() for ln in dec_err.read().decode("utf-8", "replace").splitlines() if ln.strip()]


def release_memory() -> None:
    """Before the encode, which runs two ffmpeg processes beside this one (the render's peak is
    the sum of all three): drop the face detector's networks (their arenas held about 350 MB after
    a 1080p analysis) and the Whisper model, and hand what the analysis freed (Whisper's buffers,
    decoded frames, the contact sheet) back to the system, which glibc otherwise keeps."""
    release_detectors()
    release_engines()
    trim()


def encode_master(job: MasterJob, progress: Progress | None = None, grab: dict | None = None) -> list[str]:
    """Encode ``job`` to ``job.out_path`` through a temporary name; nothing is left on failure.

    Returns what the decoders reported on the way (damaged packets that ffmpeg concealed), for
    the report: the master is still whole, but a person should look at those moments. The masked
    frames ``grab`` names (its keys) are stored in it as RGB, masked, before the overlays: what the
    contact sheet shows, without decoding them again. Without masks nothing is stored.
    """
    release_memory()
    tmp_out = job.out_path.with_name(f".{job.out_path.stem}.part.mp4")
    source = job.spans[0].path.parent
    notes: list[str] = []
    try:
        if job.mask is None:
            args = compile_graph(_encoder_output(job, reframed_video(job), tmp_out), job.out_path.parent)
            notes = _run_single(args, job.total_frames, progress, source)
        else:
            kept = dict.fromkeys(grab or ())
            notes = _run_masked(job, tmp_out, progress, source, kept)
            for n, flat in kept.items():
                if flat is not None:
                    grab[n] = to_rgb(*planes(flat, OUT_W, OUT_H))
        tmp_out.replace(job.out_path)
    finally:
        tmp_out.unlink(missing_ok=True)
    return notes
