"""Stage 2: analyse each clip once (transcript, face tracks, reframe), cached by content hash.

Changing a caption or a setting that only affects rendering never re-runs Whisper or the face
detector: both are looked up in the cache first.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from pipeline.captions.corrections import clip_transcript
from pipeline.core import cache
from pipeline.core.cache import file_hash
from pipeline.core.errors import CadreError
from pipeline.faces.analysis import analyse_faces
from pipeline.faces.settings import load_settings
from pipeline.faces.tracking import FaceTracks
from pipeline.reframe import (
    PLANNED,
    Reframer,
    auto,
    follow,
    is_vertical,
    make_reframer,
    speaker,
)
from pipeline.reframe.bounded import bounded
from pipeline.reframe.options import FRAMING, FramingOptions
from pipeline.source.normalize import FPS, ClipSpan, working_size
from pipeline.source.shots import SHOTS_VERSION, detect_shots
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.transcript import Transcript

FOLLOW_VERSION = 5   # 3: containment, headroom, pinned tracks; 4: the speaker leads; 5: face top kept (issue 14)


@dataclass
class ClipAnalysis:
    """What the analysis learnt about one clip (or a branding bumper), shared by every network."""

    span: ClipSpan
    sha256: str                     # of the clip file: the cache key's root
    reframer: Reframer              # how it is framed in 9:16 (a strategy from pipeline.reframe)
    transcript: Transcript          # machine words with a person's corrections merged
    faces: FaceTracks | None = None  # face tracks; None when face masking is off
    kind: Literal["clip", "intro", "outro"] = "clip"   # intro/outro: a branding bumper (branding/bumpers.py)


def transcribe_span(span: ClipSpan, language: str, asr: dict, progress=None) -> Transcript:
    """Machine words with a person's SRT corrections (a silent clip can still have a written SRT)."""

    # the audio stream episode.toml chose for this clip (a camera's second microphone)
    options = TranscribeOptions(language=language, **asr, audio_stream=getattr(span, "audio_pick", 0))
    return clip_transcript(Path(span.path), options, progress)


def step_progress(events, name: str, clip: str, unit: str):
    """A ``progress(done, total)`` callback for one analysis step: the step's ``stage`` event is
    sent when its work really starts (a cache hit shows nothing), then ``progress`` events in
    the step's own unit (seconds of audio, frames), so the bar moves and its ETA means something."""
    if events is None:
        return None
    started = []

    def progress(done: float, total: float) -> None:
        if not started:
            started.append(True)
            events("stage", name=name, clip=clip, total=total, unit=unit)
        events("progress", done=done, total=total, unit=unit)
    return progress


def analyse_clip(span: ClipSpan, settings, redaction=None, with_transcript: bool = True, events=None) -> ClipAnalysis:
    """Transcript, face tracks and reframe of one clip; each part is cached by its own module.
    ``events(kind, **data)``, when given, receives each step's stage and progress."""
    name = span.path.name
    transcript = (transcribe_span(span, settings.language, settings.asr, step_progress(events, "transcribe", name, "s"))
                  if with_transcript else Transcript(settings.language))
    faces = None
    if redaction is not None:
        faces = analyse_faces(span, redaction, step_progress(events, "faces", name, "frames"))
    reframer = reframe_clip(span, settings, faces, words=transcript.words)
    return ClipAnalysis(span, file_hash(span.path), reframer, transcript, faces)


def reframe_clip(span: ClipSpan, settings, faces=None, words=()) -> Reframer:
    """The clip's reframer. ``follow``/``auto`` and ``[[reframe_spans]]`` overrides get a plan from
    the clip's shots and face tracks (``faces`` when masking ran, else a lighter detection run for
    framing only, which never turns masking on); with several people, the main face is the one whose
    mouth moves while ``words`` are spoken (``reframe/speaker.py``). The plan is cached with the other
    analysis."""
    size = working_size(span.info)
    name = settings.reframe
    overrides = settings.spans_for(span.path.name)
    if is_vertical(size) or (name not in PLANNED and not overrides):
        return make_reframer(name, size, settings.focus)

    frame_count = span.frame_count
    need_faces = name in PLANNED or any(o.effective_strategy == "follow" for o in overrides)
    tracks = _framing_tracks(span, faces) if need_faces else []
    strategy = name
    if name == "auto" and auto.choose(size, tracks, frame_count) == "fit":
        strategy = "fit"
        if not overrides:
            return make_reframer("fit", size, settings.focus)

    shots = detect_shots(span)
    key = plan_key(span, size, strategy, settings.focus, overrides, tracks, shots.cuts, words)
    cached = cache.load("follow", key)
    if cached is not None:
        plan = follow.FollowPlan.from_dict(cached)
    else:
        resolved = _resolve_overrides(span, overrides, shots, tracks)
        sections = follow.sections(shots.ranges(), frame_count, strategy, settings.focus, resolved)
        sections = bounded(sections, tracks)     # a long crowd shot in parts its memory allows (bounded.py)
        sections = speaker.assign(span, sections, tracks, words)
        plan = follow.plan_clip(sections, tracks, shots, size, settings.focus[1])
        cache.store("follow", key, plan.to_dict())
    return make_reframer(name, size, settings.focus, plan)


def plan_key(span: ClipSpan, size, strategy: str, focus, overrides, tracks, cuts, words,
             options: FramingOptions = FRAMING) -> str:
    """Cache key of a clip's framing plan: its inputs (the clip's content and span, strategy, focus,
    overrides, face tracks, cuts, word times), the plan's versions and every tunable of ``options``
    (:mod:`pipeline.reframe.options`, which the planning modules read)."""
    return cache.make_key("follow", FOLLOW_VERSION, SHOTS_VERSION, *span.content_key(), size, strategy, focus,
                          [vars(o) for o in overrides], [t.to_dict() for t in tracks], cuts,
                          [(round(w.start, 3), round(w.end, 3)) for w in words], options.key())


def _framing_tracks(span: ClipSpan, faces) -> list:
    """Face tracks to frame by: the masking analysis when it ran, else detection for framing only."""
    if faces is not None and not faces.disabled:
        return faces.tracks

    # framing needs upright people: the turned passes (privacy's, turns.py) would only add work
    return analyse_faces(span, load_settings("mosaic", **asdict(FRAMING.detection)), turned=False).tracks


def _resolve_overrides(span: ClipSpan, overrides, shots, tracks=()) -> list[tuple]:
    """``[[reframe_spans]]`` of one clip as frame ranges of the used part of the clip:
    ``(start, end, strategy, focus, track)``; a ``track`` id must be one of the clip's face tracks."""
    out = []
    ranges = shots.ranges()
    ids = sorted(t.id for t in tracks)
    for o in overrides:
        track = getattr(o, "track", None)
        if track is not None and track not in ids:
            raise CadreError(span.path.parent / "episode.toml",
                             f"reframe_spans: track = {track!r} of clip '{span.path.name}' does not exist; "
                             + (f"its face tracks are: {', '.join(ids)}" if ids else "no face was found in it"))
        if o.shot is not None:
            if o.shot > len(ranges):
                raise CadreError(span.path.parent / "episode.toml",
                                 f"reframe_spans: shot = {o.shot} of clip '{span.path.name}' does not exist; "
                                 f"it has {len(ranges)} shot(s) (numbered in plan.json and by cadre preview --crop-window)")
            a, b = ranges[o.shot - 1]
        else:
            a = int(round((o.start - span.start) * FPS))
            b = span.frame_count if o.end is None else int(round((o.end - span.start) * FPS))
        a, b = max(0, a), min(span.frame_count, b)
        if b > a:
            out.append((a, b, o.effective_strategy, o.focus, track))
    return out
