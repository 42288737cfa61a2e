"""Sidecar subtitles (SRT and WebVTT), written with pysubs2: one cue layout for every subtitle file.

The export's ``<episode>.srt/.vtt``, the ``cadre transcribe`` review SRT and the review page all
use :func:`cues`, which follows subtitle rules:

* display words (:func:`pipeline.captions.words.display_words`): elisions joined, typography of
  the language set *before* anything is measured;
* the accessibility layout (:data:`pipeline.captions.layout.ACCESSIBLE`): at most 42 characters a
  line and 2 lines, counted after typography; a cue that still breaks them (one very long word, a
  long name) is re-flowed and split into more cues;
* reading speed at most ``ACCESSIBLE.max_cps`` (17) characters a second and at least
  ``ACCESSIBLE.min_duration`` (1 s) on screen, the same numbers the layout used
  (:func:`pipeline.captions.pacing.pace`: extended into the following silence first), no overlap.

Text is kept literal: in SRT a word joiner (U+2060) follows every ``{`` and ``\\`` and every ``<``
that could open a tag, so no player reads style codes; WebVTT escapes ``& < >``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import pysubs2

from pipeline.captions.layout import (
    ACCESSIBLE,
    Caption,
    LayoutRules,
    layout,
    person_timed,
)
from pipeline.captions.pacing import clip_to, pace
from pipeline.captions.words import caption_language
from pipeline.core.cache import atomic_write_text
from pipeline.speech.transcript import Cue, Transcript, Word

WORD_JOINER = "\u2060"


# ---------------------------------------------------------------- escaping

def srt_literal(text: str) -> str:
    """Text no SRT player reads as markup: ``{\\...}`` style codes, ``<b>`` tags, ``\\N`` breaks."""
    text = text.replace("\\", "\\" + WORD_JOINER).replace("{", "{" + WORD_JOINER)
    return re.sub(r"<(?=[A-Za-z/!?])", "<" + WORD_JOINER, text)


def vtt_literal(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\" + WORD_JOINER)        # pysubs2 would turn "\N" into a break


# ---------------------------------------------------------------- the rules

def _split_word(w: Word, limit: int) -> list[Word]:
    """A word longer than a line, cut into line-sized pieces sharing its time."""
    if len(w.word) <= limit:
        return [w]
    pieces = [w.word[i:i + limit] for i in range(0, len(w.word), limit)]
    step = (w.end - w.start) / len(pieces)
    return [Word(w.start + k * step, w.start + (k + 1) * step, p, w.probability) for k, p in enumerate(pieces)]


def _reflow(cap: Caption, rules: LayoutRules) -> list[Caption]:
    """``cap`` as captions that keep the line rules: words filled greedily, ``max_lines`` lines each."""
    words = [piece for w in cap.words for piece in _split_word(w, rules.max_chars_per_line)]
    lines: list[list[Word]] = []
    for w in words:
        if lines and len(" ".join(x.word for x in lines[-1] + [w])) <= rules.max_chars_per_line:
            lines[-1].append(w)
        else:
            lines.append([w])
    out = []
    for k in range(0, len(lines), rules.max_lines):
        group = lines[k:k + rules.max_lines]
        flat = [w for line in group for w in line]
        starts, n = [], 0
        for line in group:
            starts.append(n)
            n += len(line)
        out.append(Caption(flat[0].start, flat[-1].end, [(w,) for w in flat], starts))
    out[0].start, out[-1].end = min(out[0].start, cap.start), max(out[-1].end, cap.end)
    return out


def _legal(cap: Caption, rules: LayoutRules) -> bool:
    lines = cap.line_texts
    return len(lines) <= rules.max_lines and all(len(line) <= rules.max_chars_per_line for line in lines)


def captions(words: Sequence[Word], language: str | None, rules: LayoutRules = ACCESSIBLE,
             duration: float | None = None) -> list[Caption]:
    """Subtitle captions for ``words`` (seconds on one timeline) under the subtitle rules; none
    ends after ``duration`` (the video's length), and one that would start after it is left out
    (a person's cue there is reported by ``pacing.person_cue_warnings``)."""
    caps: list[Caption] = []
    for cap in layout(words, rules, language):
        caps.extend([cap] if _legal(cap, rules) else _reflow(cap, rules))
    pace(caps, [" ".join(c.line_texts) for c in caps], rules.max_cps, rules.min_duration,
         [person_timed(c) for c in caps])
    return clip_to(caps, duration)


def cues(words: Sequence[Word], language: str | None) -> list[Cue]:
    """Subtitle cues (lines joined by ``\\n``); each cue's words are its display words."""
    return [Cue(round(c.start, 3), round(c.end, 3), c.text, [Word(w.start, w.end, " " + w.word, w.probability)
                                                              for w in c.words])
            for c in captions(words, language)]


def layout_cues(transcript: Transcript) -> list[Cue]:
    """The review cues of a transcript (``cadre transcribe`` SRT, review page), in its detected language."""
    return cues(transcript.words, caption_language(transcript.language))


# ---------------------------------------------------------------- files

def _subs(cue_list: Sequence[Cue], vtt: bool, protect: bool = True) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    for cue in cue_list:
        lines = cue.text.split("\n")
        if protect:
            lines = [vtt_literal(line) if vtt else srt_literal(line) for line in lines]
        subs.events.append(pysubs2.SSAEvent(start=int(round(cue.start * 1000)), end=int(round(cue.end * 1000)),
                                            text="\\N".join(lines)))
    return subs


def srt_of(cue_list: Sequence[Cue], protect: bool = True) -> str:
    """SRT text of ``cue_list``. ``protect``: a player must show ``<``, ``{`` and ``\\`` as typed
    (published sidecars); ``False`` keeps a person's own review file byte for byte as typed."""
    return _subs(cue_list, vtt=False, protect=protect).to_string("srt", keep_ssa_tags=True)


def vtt_of(cue_list: Sequence[Cue]) -> str:
    return _subs(cue_list, vtt=True).to_string("vtt", keep_ssa_tags=True)


def srt_text(transcript: Transcript) -> str:
    """The ``cadre transcribe`` review SRT of a transcript: the sidecars' own cue layout."""
    return srt_of(layout_cues(transcript))


def write_sidecars(words: Sequence[Word], srt_path: Path, vtt_path: Path, language: str | None = "fr",
                   rules: LayoutRules = ACCESSIBLE, duration: float | None = None) -> None:
    """Write ``srt_path`` and ``vtt_path`` for ``words`` (seconds on the video's timeline, which
    lasts ``duration`` seconds: no cue ends after it)."""
    cue_list = [Cue(c.start, c.end, c.text) for c in captions(words, caption_language(language), rules,
                                                                duration=duration)]
    atomic_write_text(Path(srt_path), srt_of(cue_list))
    atomic_write_text(Path(vtt_path), vtt_of(cue_list))
