"""A proposal's score, as a list of reasons anyone can check against the footage.

Each :class:`Reason` says what was measured and how many points it gave: complete sentences, a
clear start, an ending on a sentence end, speech density, the campaign glossary's words, sound
events, motion, people in frame (faces counted on the thumbnail frames), and the seconds of dead
picture (black, blank, snow), which cost points. The score is their sum.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pipeline.propose.listen import Sound
from pipeline.propose.look import Picture
from pipeline.propose.stretches import Stretch
from pipeline.propose.words import Sentence


@dataclass(frozen=True)
class Reason:
    what: str
    points: float

    def to_dict(self) -> dict:
        return {"what": self.what, "points": round(self.points, 2)}


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if c.isalnum() or c.isspace())


def glossary_hits(text: str, glossary) -> list[str]:
    """Glossary entries said in ``text`` (case and accents ignored, whole words)."""
    words = f" {' '.join(_plain(text).split())} "
    return [g for g in glossary if _plain(g).strip() and f" {' '.join(_plain(g).split())} " in words]


def reasons(stretch: Stretch, sentences: list[Sentence], sound: Sound, picture: Picture, glossary,
            moving: float) -> list[Reason]:
    """Every reason for ``stretch`` but the people in frame (:func:`people_reason`, from the thumbnails)."""
    out: list[Reason] = []
    inside = [s for s in sentences if s.start >= stretch.start - 0.01 and s.end <= stretch.end + 0.01]
    if stretch.basis == "speech" and stretch.words:
        complete = [s for s in inside if s.complete]
        if complete:
            out.append(Reason(f"{len(complete)} complete sentence{'s' * (len(complete) > 1)}", min(3.0, len(complete))))
        first = next((s for s in sentences if s.end > stretch.start), None)
        if first is not None and first.opens and first.start >= stretch.start:
            out.append(Reason("clear start: opens on the start of a sentence", 1.0))
        else:
            out.append(Reason("opens mid-sentence", -1.0))
        if inside and inside[-1].complete and inside[-1].words[-1] is stretch.words[-1]:
            out.append(Reason("ends on the end of a sentence", 1.0))
        spoken = sum(w.end - w.start for w in stretch.words)
        density = spoken / max(stretch.length, 0.1)
        out.append(Reason(f"speech {density:.0%} of the time, {len(stretch.words) / max(stretch.length, 0.1):.1f} "
                          "words a second", round(3.0 * density, 2)))
        hits = glossary_hits(" ".join(w.word for w in stretch.words), glossary)
        if hits:
            out.append(Reason("glossary: " + ", ".join(hits), min(3.0, float(len(hits)))))
    else:
        out.append(Reason("no speech: proposed from motion and sound", 0.0))
    events = sound.events_in(stretch.start, stretch.end)
    for kind in sorted({k for _, k in events}):
        times = [t for t, k in events if k == kind]
        out.append(Reason(f"{kind} at {', '.join(_clock(t) for t in times[:3])}", 2.0 if kind == "siren" else 1.0))
    secs = range(int(stretch.start), min(picture.seconds, int(stretch.end) + 1))
    motion = [picture.motion[s] for s in secs if not picture.dead[s]]
    if motion:
        share = sum(m >= moving for m in motion) / len(motion)
        if share > 0:
            out.append(Reason(f"picture moves {share:.0%} of the time", round(2.0 * share, 2)))
    dead = sum(picture.dead[s] for s in secs)
    if dead:
        out.append(Reason(f"{dead} s of black, blank or snowy picture", round(-2.0 * dead / max(len(secs), 1), 2)))
    return out


def people_reason(faces: list[int]) -> Reason | None:
    """The most faces seen on one thumbnail frame."""
    most = max(faces, default=0)
    if not most:
        return None
    return Reason(f"{most} {'person' if most == 1 else 'people'} in frame", min(2.0, 0.5 * most))


def total(items: list[Reason]) -> float:
    return round(sum(r.points for r in items), 2)


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:04.1f}"
