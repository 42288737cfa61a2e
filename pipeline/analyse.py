"""Stage 2: analyse each clip once (transcript, face tracks, reframe), cached by content hash.

Changing a caption or a setting that only affects rendering never re-runs Whisper or the face
detector: both are looked up in the cache first.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cache import file_hash
from .normalize import ClipSpan, working_size
from .reframe import Reframer, make_reframer
from .transcript import Transcript


@dataclass
class ClipAnalysis:
    span: ClipSpan
    sha256: str
    reframer: Reframer
    transcript: Transcript
    faces: object | None = None     # pipeline.redaction.FaceTracks, None when masking is off


def transcribe_span(span: ClipSpan, language: str, asr: dict) -> Transcript:
    if not span.info.has_audio:
        return Transcript(language if language != "auto" else "", [])
    from .asr.base import TranscribeOptions
    from .transcribe import clip_transcript

    return clip_transcript(Path(span.path), TranscribeOptions(language=language, **asr))


def analyse_clip(span: ClipSpan, settings, redaction=None, with_transcript: bool = True) -> ClipAnalysis:
    """Transcript, face tracks and reframe of one clip; each part is cached by its own module."""
    reframer = make_reframer(settings.reframe, working_size(span.info), settings.focus)
    transcript = transcribe_span(span, settings.language, settings.asr) if with_transcript else Transcript(settings.language)
    faces = None
    if redaction is not None:
        from .redaction import analyse_faces

        faces = analyse_faces(span, redaction)
    return ClipAnalysis(span, file_hash(span.path), reframer, transcript, faces)
