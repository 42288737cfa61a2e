"""One review session: the episode as the page shows it, read from the files on every request.

Nothing is kept here that is not on disk: the captions come from the clips' SRT files (or the
machine transcript until a person saves one), the mask decisions from ``masks.toml``, the bleep
list from ``episode.toml``, the approval from ``approval.json``. The analysis (face tracks and the
machine words, both cached by content hash) is loaded once and again after a settings change.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.analyse import transcribe_span
from pipeline.captions.corrections import human_cues, machine_tokens
from pipeline.captions.sidecars import layout_cues
from pipeline.core.errors import NotFound
from pipeline.core.networks import combined_safe_zone
from pipeline.faces.overrides import load_overrides
from pipeline.master import analyse_episode, build_plan
from pipeline.orchestrator import RenderOptions, prepare
from pipeline.review import edits
from pipeline.review.checks import network_checks
from pipeline.review.state import episode_state
from pipeline.review.voices import check_voices
from pipeline.signoff.fingerprint import analysis_settings
from pipeline.sound.bleep import fold, split_word
from pipeline.source.config import load_settings
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.transcribe import machine_transcript, sidecar_paths
from pipeline.speech.transcript import (
    LOW_CONFIDENCE,
    Cue,
    Transcript,
    parse_srt,
    read_text_file,
)


@dataclass
class ClipView:
    name: str
    span: object
    analysis: object
    machine: Transcript
    srt: Path


@dataclass
class ReviewSession:
    folder: Path
    options: RenderOptions = field(default_factory=RenderOptions)

    def __post_init__(self):
        self.folder = Path(self.folder).resolve()
        self.options = replace(self.options, require_approval=False)   # reviewing is how one gets approved
        self.lock = threading.RLock()
        self.loudness = None
        self.load()

    # -- loading ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        """Settings, networks and redaction read again (a person may have edited episode.toml)."""
        self.prepared = prepare(self.folder, self.options)
        p = self.prepared
        self.episode, self.networks, self.profile, self.redaction, self.redaction_off = (
            p.episode, p.networks, p.profile, p.redaction, p.redaction_off)

    def load(self) -> None:
        with self.lock:
            self._prepare()
            self.analyses = analyse_episode(self.episode, self.redaction)
            self.clips = {}
            for a in self.analyses:
                machine = _machine(a, self.episode.settings)
                lang = self.episode.settings.language
                lang = machine.language if lang == "auto" else lang
                self.clips[a.span.path.name] = ClipView(a.span.path.name, a.span, a, machine,
                                                        sidecar_paths(Path(a.span.path), lang)[0])

    def clip(self, name) -> ClipView:
        """A clip of the episode by its exact file name; anything else is refused."""
        if not isinstance(name, str) or name not in self.clips:
            raise NotFound(self.folder, f"{name!r} is not a clip of this episode")
        return self.clips[name]

    @property
    def masks_path(self) -> Path:
        return self.folder / "masks.toml"

    def overrides(self):
        return load_overrides(self.masks_path, list(self.clips))

    def check_masks(self) -> None:
        """``masks.toml`` as render reads it: entries, kept tracks, voice spans inside clips with sound."""
        ov = self.overrides()
        for a in self.analyses:
            if a.faces is not None:
                ov.check_tracks(a.faces)
        check_voices(ov, [a.span for a in self.analyses], self.masks_path)

    def check_settings(self) -> None:
        load_settings(self.folder)

    # -- captions -----------------------------------------------------------------------------
    def cues(self, clip: ClipView) -> tuple[list[Cue], str]:
        """The clip's cues as the SRT file holds them, or the machine's layout until one is saved."""
        if clip.srt.is_file():
            return human_cues(clip.srt), "file"
        return layout_cues(clip.machine), "machine"

    def save_cues(self, clip: ClipView, cues: list[edits.CueEdit]) -> bool:
        with self.lock:
            changed = edits.write_srt(clip.srt, cues)
            parse_srt(read_text_file(clip.srt))      # what render will read back
            return changed

    def replace_all(self, find: str, replacement: str, whole_word: bool, case: bool) -> dict:
        counts = {}
        with self.lock:
            for clip in self.clips.values():
                cues, _ = self.cues(clip)
                new, n = edits.replace_in([edits.CueEdit(c.start, c.end, c.text) for c in cues],
                                          find, replacement, whole_word, case)
                if n:
                    self.save_cues(clip, new)
                    counts[clip.name] = n
        return counts

    def low_confidence(self, clip: ClipView, cue: Cue) -> set[str]:
        """Folded words the machine was unsure of under ``cue``."""

        out = set()
        # a machine-layout cue carries its words (reading-speed pacing may have moved its times);
        # a person's cue is matched by time
        words = cue.words if cue.words else [w for w in clip.machine.words
                                              if cue.start <= (w.start + w.end) / 2 < cue.end]
        for tok in machine_tokens(words):
            if tok.probability < LOW_CONFIDENCE:
                out.add(fold(split_word(tok.text)[1]))
        return out

    # -- everything the page shows --------------------------------------------------------------
    def state(self) -> dict:
        with self.lock:
            before = analysis_settings(self.episode.settings)
            self._prepare()
            if analysis_settings(self.episode.settings) != before:   # episode.toml edited by hand
                self.load()
            return episode_state(self, network_checks(self))

    def plan(self):
        """The edit plan with the captions as saved now (the SRTs are read again, the machine words
        come from the cache), so the checks and bleeps follow every edit."""

        st = self.episode.settings
        analyses = [replace(a, transcript=transcribe_span(a.span, st.language, st.asr)) for a in self.analyses]
        return build_plan(self.episode, analyses, self.networks, combined_safe_zone(self.networks), parts=False)


def _machine(analysis, settings) -> Transcript:
    """What Whisper heard in the clip (cached; the SRT a person edits is read separately)."""
    if not analysis.span.info.has_audio:
        return Transcript(settings.language, [])

    return machine_transcript(Path(analysis.span.path), TranscribeOptions(language=settings.language,
                                                                          **settings.asr))[0]
