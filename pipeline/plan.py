"""Stage 3: the edit plan. One serialisable description of an episode's output: which frames of
which clips, on what timeline, with which words, reframing, masking and networks. Its key decides
whether a render is still up to date.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

from pipeline.core.cache import make_key
from pipeline.core.errors import CadreError
from pipeline.core.networks import Network
from pipeline.core.version import __version__
from pipeline.source.normalize import FPS
from pipeline.speech.transcript import Word


@dataclass
class ClipPlan:
    file: str
    sha256: str
    start: float
    end: float
    frames: int
    offset: float          # where the clip begins on the episode timeline, seconds
    reframe: dict
    kind: str = "clip"     # "intro" / "outro": a branding bumper, not one of the episode's clips


@dataclass
class EditPlan:
    episode: str
    title: str
    language: str
    clips: list[ClipPlan]
    networks: list[str]
    safe_zone: dict
    caption_style: str
    redaction: str
    branding: str
    words: list[Word] = field(default_factory=list)   # on the episode timeline, bleeps applied
    parts: dict[str, list[list[float]]] = field(default_factory=dict)   # network -> [[start, end], ...]
    version: str = __version__

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.clips)

    @property
    def duration(self) -> float:
        return self.frames / FPS

    def to_dict(self) -> dict:
        """The plan as ``plan.json`` holds it (the only place words become dicts)."""
        data = asdict(replace(self, words=[]))
        data["words"] = [w.to_dict() for w in self.words]
        return data

    def key(self) -> str:
        return make_key(self.to_dict())


def _on_timeline(start: float, end: float, clip: ClipPlan) -> tuple[float, float]:
    return (round(max(start, clip.start) - clip.start + clip.offset, 3),
            round(min(end, clip.end) - clip.start + clip.offset, 3))


def episode_words(clip_words: list[tuple[ClipPlan, list[Word]]]) -> list[Word]:
    """Words of every clip moved onto the episode timeline; words outside a trim are dropped
    (a person's cue is cut to the trim with them)."""
    out = []
    for clip, words in clip_words:
        for w in words:
            if w.end <= clip.start or w.start >= clip.end:
                continue
            start, end = _on_timeline(w.start, w.end, clip)
            cue = w.cue and replace(w.cue, **dict(zip(("start", "end"), _on_timeline(w.cue.start, w.cue.end, clip))))
            out.append(Word(start, end, w.word, w.probability, cue))
    return out


def plan_parts(duration: float, network: Network, split: bool, source) -> list[list[float]]:
    """Cut points for a network: one part, or equal numbered parts when ``split`` is asked for."""
    if duration < network.min_duration_s:
        raise CadreError(source, f"episode lasts {duration:.1f} s but {network.title} needs at least "
                                 f"{network.min_duration_s:g} s; add footage or drop -n {network.name}")
    if duration <= network.max_duration_s:
        return [[0.0, round(duration, 3)]]
    if not split:
        raise CadreError(source, f"episode lasts {duration:.1f} s, over {network.title}'s limit of "
                                 f"{network.max_duration_s:g} s; trim it, or pass --split to export numbered parts")
    count = math.ceil(duration / network.max_duration_s)
    # cut on whole frames so stream-copied parts start on the forced key frames
    frames = int(round(duration * FPS))
    cuts = [round(frames * i / count) / FPS for i in range(count + 1)]
    if cuts[1] - cuts[0] < network.min_duration_s:
        raise CadreError(source, f"parts would be shorter than {network.title}'s minimum; trim the episode")
    return [[round(a, 3), round(b, 3)] for a, b in zip(cuts, cuts[1:])]
