"""Sidecar subtitles (SRT and WebVTT) written with pysubs2.

They follow the accessibility layout (:data:`pipeline.captions.layout.ACCESSIBLE`: at most 42 characters a
line, 2 lines, about 17 characters a second), not the short burned-in social layout. Text is kept
literal: no ASS tag processing, backslashes defused, and ``& < >`` escaped in WebVTT.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import pysubs2

from pipeline.cache import atomic_write_text
from pipeline.captions import typography
from pipeline.captions.layout import ACCESSIBLE, Caption, LayoutRules, layout
from pipeline.speech.transcript import Word

_WORD_JOINER = "\u2060"


def _literal(text: str) -> str:
    # pysubs2 always turns "\N", "\n" and "\h" into whitespace; a zero-width joiner keeps them literal.
    return re.sub(r"\\(?=[Nnh])", "\\\\" + _WORD_JOINER, text)


def _srt(text: str) -> str:
    # SRT players read <b>, <i>, <font ...> as markup; a zero-width joiner after "<" keeps it text.
    return re.sub(r"<(?=[A-Za-z/])", "<" + _WORD_JOINER, text)


def _vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _subs(captions: list[Caption], language: str, vtt: bool) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    for cap in captions:
        lines = [typography.apply(line, language) for line in cap.line_texts]
        lines = [_literal(_vtt(line) if vtt else _srt(line)) for line in lines]
        subs.events.append(pysubs2.SSAEvent(start=int(round(cap.start * 1000)), end=int(round(cap.end * 1000)),
                                            text="\\N".join(lines)))
    return subs


def write_sidecars(words: Sequence[Word], srt_path: Path, vtt_path: Path, language: str = "fr",
                   rules: LayoutRules = ACCESSIBLE) -> None:
    """Write ``srt_path`` and ``vtt_path`` for ``words`` (seconds on the episode timeline)."""
    captions = layout(words, rules)
    atomic_write_text(Path(srt_path), _subs(captions, language, vtt=False).to_string("srt", keep_ssa_tags=True))
    atomic_write_text(Path(vtt_path), _subs(captions, language, vtt=True).to_string("vtt", keep_ssa_tags=True))
