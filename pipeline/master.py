"""The master job, built once for every consumer: the published render, the review proxy and the
one-frame preview all see the same timeline (intro and outro bumpers included), the same words
(bleeps applied), the same masks (``masks.toml`` included) and the same overlays (branding, then
captions). Only what happens after differs: the render encodes 1080x1920 at the network bit rate,
the proxy scales down and encodes fast, the preview reads one frame.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pipeline.analyse import ClipAnalysis, analyse_clip
from pipeline.branding.bumpers import body_window, bumper_analyses
from pipeline.branding.overlay import load_branding, overlay
from pipeline.captions.ass import burn, write_ass
from pipeline.captions.corrections import check_person_captions
from pipeline.captions.glyphs import caption_cmap, misreads
from pipeline.captions.layout import ACCESSIBLE
from pipeline.captions.pacing import person_cue_warnings
from pipeline.captions.styles import load_style
from pipeline.captions.words import caption_language
from pipeline.core.errors import CadreError
from pipeline.core.networks import Network, SafeZone, combined_safe_zone
from pipeline.faces.masking import mask_frame
from pipeline.faces.moving import follow_overrides
from pipeline.faces.overrides import MaskOverrides, load_overrides
from pipeline.faces.settings import RedactionSettings
from pipeline.plan import ClipPlan, EditPlan, episode_words, plan_parts
from pipeline.reframe import Placement
from pipeline.render import MasterJob
from pipeline.sound.bleep import Bleep, censor
from pipeline.sound.bleep import spans as bleep_spans
from pipeline.sound.loudness import Loudness, render_audio
from pipeline.sound.voice import PlacedVoice
from pipeline.sound.voice import place as place_voices
from pipeline.source.episode import Episode
from pipeline.source.normalize import FPS, ClipSpan

Box = tuple[float, float, float, float]


class MaskTimeline:
    def __init__(self, analyses: list[ClipAnalysis], settings, overrides=None):
        self.analyses = analyses
        self.settings = settings
        self.overrides = overrides
        # moving regions are tracked once here (cached), before any frame asks for its boxes
        follow_overrides(overrides, [a.span for a in analyses if a.kind == "clip"])
        self.starts = []
        total = 0
        for a in analyses:
            self.starts.append(total)
            total += a.span.frame_count
        self.total = total

    def locate(self, n: int) -> tuple[int, int]:
        """Episode frame ``n`` as (clip index, frame index within that clip)."""
        i = bisect_right(self.starts, n) - 1
        return i, n - self.starts[i]

    def boxes(self, n: int) -> list[tuple[Placement, list[Box]]]:
        """For episode frame ``n``: each placement with the boxes to mask, relative to its ``dst``."""
        i, j = self.locate(n)
        a = self.analyses[i]
        if a.faces is None:
            return []
        faces = a.faces.boxes_at(j, self.overrides)
        if not faces:
            return []
        out = []
        for placement in a.reframer.placements(j):
            mapped = [m for m in (placement.map_box(b) for b in faces) if m]
            if mapped:
                out.append((placement, mapped))
        return out

    def any_masks(self) -> bool:
        return any(self.boxes(n) for n in range(self.total))

    def __call__(self, n: int, frame: np.ndarray) -> bool:
        """Mask output frame ``n`` in place; placements in drawing order, holes left untouched."""
        return self.draw(frame, self.boxes(n))

    def draw(self, frame: np.ndarray, work: list[tuple[Placement, list[Box]]]) -> bool:
        """Mask ``work`` (what :meth:`boxes` gives for a frame) on the RGB ``frame`` in place."""
        for placement, boxes in work:
            x0, y0, x1, y1 = placement.dst
            kept = [(h, frame[h[1]:h[3], h[0]:h[2]].copy()) for h in placement.holes]
            mask_frame(frame[y0:y1, x0:x1], boxes, self.settings)
            for (hx0, hy0, hx1, hy1), pixels in kept:
                frame[hy0:hy1, hx0:hx1] = pixels
        return bool(work)


Events = Callable[..., None]   # events(kind, **data): "stage", "progress", "warning"


def no_events(kind, **data) -> None:
    pass


@dataclass(frozen=True)
class Prepared:
    """An episode with everything checked before any work starts (see ``orchestrator.prepare``)."""

    episode: Episode
    networks: list[Network]
    profile: dict                      # the master encode (presets/master.toml), x264 preset applied
    redaction: RedactionSettings       # the preset in force ("none": no detector, manual masks only)
    redaction_off: dict | None         # who turned face masking off, when they did

    @property
    def settings(self):
        return self.episode.settings


@dataclass
class MasterSetup:
    """The master's timeline, words, masks and overlays; :meth:`job` turns it into an encode."""

    analyses: list[ClipAnalysis]       # intro + the episode's clips + outro, in timeline order
    plan: EditPlan
    safe: SafeZone
    timeline: MaskTimeline
    overlays: list[Callable]           # stream -> stream: branding, then captions
    captions: dict | None              # what write_ass placed (shrunk captions, warnings)
    bleeps: list[Bleep]

    @property
    def spans(self) -> list[ClipSpan]:
        return [a.span for a in self.analyses]

    @property
    def overrides(self) -> MaskOverrides:
        return self.timeline.overrides

    @property
    def voices(self) -> list[PlacedVoice]:
        """The ``[[voice]]`` spans of ``masks.toml`` on the episode timeline (checked against the clips)."""
        return place_voices(self.overrides.voices if self.overrides else [], self.spans,
                            [a.kind for a in self.analyses], self.overrides.path if self.overrides else None)

    def audio(self, prepared: Prepared, out_path: Path, profile: dict | None = None,
              events: Events | None = None) -> Loudness:
        """The master's sound: loudness-normalised, with the bleeps and disguised voices, over the same timeline.
        ``events`` receives each loudness pass's stage and progress (seconds of audio)."""
        return render_audio(self.spans, profile or prepared.profile, out_path,
                            [(b.start, b.end) for b in self.bleeps], prepared.settings.bleep_sound, self.voices,
                            events)

    def job(self, audio_path: Path, out_path: Path, profile: dict, maxrate_kbps: int,
            extra_overlays: tuple[Callable, ...] = (), keyframes: tuple[float, ...] = ()) -> MasterJob:
        mask = self.timeline if self.timeline.any_masks() else None
        return MasterJob(self.spans, [a.reframer for a in self.analyses], audio_path, out_path, profile,
                         maxrate_kbps, mask, [*self.overlays, *extra_overlays], list(keyframes))


def analyse_episode(episode: Episode, redaction, events: Events = no_events) -> list[ClipAnalysis]:
    analyses = []
    for i, span in enumerate(episode.spans):
        events("stage", name="analyse", clip=span.path.name, index=i, count=len(episode.spans))
        analyses.append(analyse_clip(span, episode.settings, redaction, events=events))
    return analyses


def build_plan(episode: Episode, analyses: list[ClipAnalysis], networks, safe, parts: bool = True,
               warn: Callable[[str], None] = lambda message: None) -> EditPlan:
    """The edit plan; ``warn`` receives each recognition error left out of the captions (``glyphs.misreads``)."""
    clips, offset = [], 0.0
    for a in analyses:
        s = a.span
        clips.append(ClipPlan(s.path.name, a.sha256, s.start, s.start + s.duration, s.frame_count, round(offset, 3),
                              a.reframer.describe(), a.kind))
        offset += s.frame_count / FPS
    st = episode.settings
    # "auto": the language Whisper detected, so captions and sidecars get its typography
    detected = next((a.transcript.language for a in analyses if a.transcript.words), None)
    language = caption_language(st.language, detected) or st.language
    # bleeped first (a misread name is still muted), then recognition errors left out, clip by clip
    censored = censor(episode_words([(c, a.transcript.words) for c, a in zip(clips, analyses)]), st.bleep)
    drawable, words = caption_cmap(st.caption_style), []
    for c in clips:
        end = c.offset + c.frames / FPS
        kept, notes = misreads([w for w in censored if c.offset <= w.start < end or (c is clips[-1] and w.start >= end)],
                               language, c.file, c.start - c.offset, drawable)
        words += kept
        for note in notes:
            warn(note)
    plan = EditPlan(episode.name, st.title or episode.name, language, clips, [n.name for n in networks],
                    vars(safe), st.caption_style, st.redaction, st.branding, words)
    if parts:
        plan.parts = {n.name: plan_parts(plan.duration, n, st.split, episode.folder) for n in networks}
    return plan


def build_overlays(settings, plan: EditPlan, safe: SafeZone, workdir: Path) -> tuple[list[Callable], dict | None]:
    """Branding, then captions: ffmpeg-python steps applied to the masked frames, in that order."""
    overlays, captions = [], None
    if settings.branding != "none":
        brand = load_branding(settings.branding)
        window = body_window(plan.clips)
        overlays.append(lambda v: overlay(v, brand, safe.margins(), window, title=plan.title))
    words = plan.words
    if settings.caption_style != "none" and words:
        ass_path = workdir / "captions.ass"
        captions = write_ass(words, load_style(settings.caption_style), safe.margins(), ass_path,
                             language=plan.language, duration=plan.duration)
        overlays.append(lambda v: burn(v, ass_path))
    return overlays, captions


def load_episode_overrides(episode: Episode) -> MaskOverrides:
    return load_overrides(episode.folder / "masks.toml", [s.path.name for s in episode.spans])


def duration_refusals(prepared: Prepared) -> dict[str, str]:
    """Each network's duration limit, from the probed lengths, before any analysis runs: network
    name -> why that network cannot take the episode. The other networks still render."""
    intro, outro = bumper_analyses(prepared.settings)
    frames = sum(a.span.frame_count for a in intro + outro) + sum(s.frame_count for s in prepared.episode.spans)
    refused = {}
    for n in prepared.networks:
        try:
            plan_parts(frames / FPS, n, prepared.settings.split, prepared.episode.folder)
        except CadreError as exc:
            refused[n.name] = exc.message
    return refused


def plan_master(prepared: Prepared, workdir: Path, events: Events = no_events, parts: bool = True) -> MasterSetup:
    """Analyse (from the cache when it can), plan and lay out the master of ``prepared``'s episode.
    ``workdir`` receives the caption file; ``parts=False`` skips the per-network split plan."""
    episode, settings = prepared.episode, prepared.settings
    safe = combined_safe_zone(prepared.networks)
    check_person_captions(episode)         # a person's SRT that cannot be burned stops before the analysis
    intro, outro = bumper_analyses(settings)
    analyses = intro + analyse_episode(episode, prepared.redaction, events) + outro
    notes: list[str] = []
    plan = replace(build_plan(episode, analyses, prepared.networks, safe, parts, notes.append),
                   redaction=prepared.redaction.name)
    notes += person_cue_warnings(plan.words, plan.duration, ACCESSIBLE.max_cps, ACCESSIBLE.min_duration, 1 / FPS)
    for note in notes:
        events("warning", message=note)
    bleeps = bleep_spans(plan.words, plan.duration)
    overlays, captions = build_overlays(settings, plan, safe, workdir)
    if captions is not None and notes:
        captions["caption_warnings"] = notes
    timeline = MaskTimeline(analyses, prepared.redaction, load_episode_overrides(episode))
    return MasterSetup(analyses, plan, safe, timeline, overlays, captions, bleeps)
