"""Branding intro and outro: the unit's own bumper, joined before and after the episode's clips.

A bumper is a trusted asset from ``assets/`` (or an absolute path) named by the branding preset:

- a video clip is used whole; a still image becomes a silent clip of ``still_seconds``, made
  once with ffmpeg and cached by the image's content;
- it is framed with ``fit`` (a logo animation is never cropped) and its sound is normalised with
  the episode's;
- it is neither transcribed nor face-analysed: no caption runs over it, and the logo and title
  card are laid over the episode's own clips only (:func:`body_window`).
"""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.analyse import ClipAnalysis
from pipeline.branding.overlay import check_image, load_branding
from pipeline.core.cache import cache_dir, file_hash, make_key
from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import run
from pipeline.reframe import make_reframer
from pipeline.source.normalize import FPS, ClipSpan, working_size
from pipeline.source.probe import probe
from pipeline.speech.transcript import Transcript

STILL_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
KINDS = ("intro", "outro")


def _still_clip(image: Path, seconds: float) -> Path:
    """A silent H.264 clip showing ``image`` for ``seconds``, cached by content."""

    check_image(image, "branding intro/outro")
    out = cache_dir() / "bumpers" / f"{make_key('still', file_hash(image), seconds)[:24]}.mp4"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.part.mp4")
    try:
        run(["-loop", "1", "-framerate", str(FPS), "-i", str(image), "-f", "lavfi", "-i",
             "anullsrc=r=48000:cl=stereo", "-t", f"{seconds:.3f}", "-map", "0:v", "-map", "1:a",
             "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
             "-crf", "12", "-c:a", "aac", str(tmp)], source=image, what="making a clip of the still image")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def bumper_span(path: Path, still_seconds: float) -> ClipSpan:
    """The whole bumper as a clip span (a still image made into a clip first)."""
    clip = _still_clip(path, still_seconds) if path.suffix.lower() in STILL_SUFFIXES else path
    try:
        info = probe(clip)
    except CadreError as exc:
        raise CadreError(path, f"the branding intro/outro is not a usable clip or image ({exc}); "
                               "replace the file or remove it from the branding preset") from None
    return ClipSpan(clip, info)


def bumper_spans(branding) -> dict[str, ClipSpan]:
    """``{"intro": span, "outro": span}`` for the bumpers a branding preset names."""
    out = {}
    for kind in KINDS:
        path = getattr(branding, kind)
        if path is not None:
            out[kind] = bumper_span(path, branding.still_seconds)
    return out


def bumper_analysis(span: ClipSpan, language: str, kind: str) -> ClipAnalysis:
    """What the render needs of a bumper: framed with ``fit``; no words, no faces to mask."""

    return ClipAnalysis(span, file_hash(span.path), make_reframer("fit", working_size(span.info)),
                        Transcript(language), None, kind)


def bumper_analyses(settings) -> tuple[list[ClipAnalysis], list[ClipAnalysis]]:
    """The episode branding's intro and outro, each an empty list or one analysis."""
    if settings.branding == "none":
        return [], []

    spans = bumper_spans(load_branding(settings.branding))
    return tuple([bumper_analysis(spans[k], settings.language, k)] if k in spans else [] for k in KINDS)


def with_bumpers(settings, analyses: list[ClipAnalysis]) -> list[ClipAnalysis]:
    """The episode's clip analyses with its branding's intro first and outro last."""
    intro, outro = bumper_analyses(settings)
    return intro + analyses + outro


def body_window(clips) -> tuple[float, float]:
    """Start and end (seconds) of the episode's own clips on the timeline, between the bumpers."""
    start = sum(c.frames for c in clips if c.kind == "intro") / FPS
    end = sum(c.frames for c in clips if c.kind != "outro") / FPS
    return start, end
