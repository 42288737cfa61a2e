"""The episode as JSON for the page and the offline export: captions with their flagged words,
face tracks with their keep/mask decision, manual and moving regions, voice spans, bleeps, checks,
approval, and the last approval and publication from the audit log."""
from __future__ import annotations

from pipeline.branding.bumpers import bumper_analyses
from pipeline.captions.glyphs import caption_cmap, misreads
from pipeline.captions.spelling import allowed_words, is_unknown
from pipeline.captions.words import caption_language
from pipeline.review.history import history
from pipeline.review.post_edit import post_rows
from pipeline.review.voices import voice_rows
from pipeline.signoff.approval import approval_status
from pipeline.sound.bleep import fold, matches, spans, split_word
from pipeline.source.normalize import FPS


def _tokens(text: str, low: set[str], terms, allowed: set[str] | None = None) -> list[dict]:
    """Each word of a cue's text, marked when the machine was unsure of it, it is bleeped, or it is
    in no dictionary (``allowed``: the glossary and words.txt; None: no spelling check)."""
    out = []
    for n, line in enumerate(text.split("\n")):
        words = line.split()
        hits = matches(words, terms) if terms else []
        bleeped = {i for a, b in hits for i in range(a, b + 1)}
        for i, w in enumerate(words):
            out.append({"text": w, "low": fold(split_word(w)[1]) in low, "bleep": i in bleeped,
                        "spell": allowed is not None and i not in bleeped and is_unknown(w, allowed),
                        "newline": n > 0 and i == 0})
    return out


def misread_lines(clip, settings) -> list[str]:
    """The recognition errors render leaves out of this clip's captions (``captions/glyphs.misreads``)."""
    language = caption_language(settings.language, clip.machine.language)
    return misreads(clip.machine.words, language, clip.name, drawable=caption_cmap(settings.caption_style))[1]


def caption_rows(session) -> list[dict]:
    terms = session.episode.settings.bleep
    settings = session.episode.settings
    allowed = allowed_words((settings.asr or {}).get("glossary", ())) if settings.spellcheck != "off" else None
    rows = []
    intro, _ = bumper_analyses(settings)
    offset = sum(a.span.frame_count for a in intro) / FPS     # where the clip starts on the proxy
    for clip in session.clips.values():
        cues, source = session.cues(clip)
        rows.append({
            "clip": clip.name, "source": source, "srt": clip.srt.name,
            "start": clip.span.start, "duration": round(clip.span.duration, 3), "offset": round(offset, 3),
            "warnings": list(clip.machine.warnings) + misread_lines(clip, settings) if source == "machine" else [],
            "cues": [{"start": round(c.start, 3), "end": round(c.end, 3), "text": c.text,
                      "tokens": _tokens(c.text, session.low_confidence(clip, c), terms, allowed)} for c in cues],
        })
        offset += clip.span.frame_count / FPS
    return rows


def track_rows(session, overrides) -> list[dict]:
    rows = []
    for a in session.analyses:
        ft = a.faces
        if ft is None or ft.disabled:
            continue
        name = a.span.path.name
        for t in ft.tracks:
            first, last = ft.track_span(t)
            kept = any(e.kind == "keep_track" and e.track == t.id for e in overrides.for_clip(name))
            rows.append({"clip": name, "id": t.id, "kept": kept, "detections": len(t.frames),
                         "from": round(ft.time_of(first), 2), "to": round(ft.time_of(last + 1), 2),
                         "best": round(ft.time_of(t.frames[t.best()]), 2), "score": round(max(t.scores), 3)})
    return rows


def mask_rows(overrides) -> list[dict]:
    rows = [e for e in overrides.entries if e.kind in ("mask_region", "mask_frame")]
    return [{"index": i, "clip": e.clip, "region": list(e.region), "start": e.start, "end": e.end,
             "label": e.label, "whole_frame": e.kind == "mask_frame", "moving": e.moving} for i, e in enumerate(rows)]


def keep_region_rows(overrides) -> list[dict]:
    return [{"clip": e.clip, "region": list(e.region), "start": e.start, "end": e.end}
            for e in overrides.entries if e.kind == "keep_region"]


def episode_state(session, checks: list[dict]) -> dict:
    ep = session.episode
    st = ep.settings
    overrides = session.overrides()
    plan = session.plan()
    approval = approval_status(session.prepared)
    return {
        "episode": ep.name, "title": st.title or ep.name, "language": st.language,
        "duration": round(plan.duration, 3), "fps": FPS,
        "redaction": session.redaction.method if session.redaction else "none",
        "clips": caption_rows(session),
        "tracks": track_rows(session, overrides),
        "masks": mask_rows(overrides),
        "keep_regions": keep_region_rows(overrides),
        "voices": voice_rows(overrides),
        "bleep": {"terms": list(st.bleep), "sound": st.bleep_sound,
                  "spans": [b.to_dict() for b in spans(plan.words, plan.duration)]},
        "checks": checks,
        "approval": approval.to_dict(),
        "history": history(session, approval),
        "posts": post_rows(session),           # each network's post and its checks (post.js)
    }
