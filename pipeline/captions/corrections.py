"""Human corrections: merge a person's edits of the review SRT into the machine transcript.

The SRT is the truth once a person has touched it. Cue by cue:

- a cue whose timing and text match the machine's keeps the machine words as they are;
- a cue whose text changed but whose timing did not keeps each word's timing when the number
  of words is the same, and re-times the words across the cue when it changed;
- a cue whose timing changed (or a new cue) takes the machine words under it when its text is
  unchanged, clamped into the new times, and is otherwise re-timed across the cue;
- machine words under no cue were deleted by the person and are dropped.

Re-timed words share the cue's time in proportion to their length in characters. Words a
person wrote get probability 1.0 (they are reviewed).

:func:`clip_transcript` is what render uses: the machine transcript with a person's
``<stem>.<lang>.srt`` merged in. :func:`write_review_files` is ``cadre transcribe``: it writes that
SRT (in the sidecars' own cue layout, ``captions/sidecars.py``) and the Whisper-layout JSON beside
the clip, and never overwrites a person's edits. Both live with the captions, not with speech,
because the cue layout a person edits is the captions' layout.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pipeline.captions.glyphs import caption_cmap, person_text_check
from pipeline.captions.sidecars import layout_cues, srt_text
from pipeline.captions.words import spoken_groups
from pipeline.core import cache
from pipeline.core.errors import CadreError
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.transcribe import (
    STAGE_VERSION,
    cache_key,
    machine_transcript,
    sidecar_paths,
    transcript_language,
)
from pipeline.speech.transcript import (
    LOW_CONFIDENCE,
    Cue,
    CueMark,
    Segment,
    Transcript,
    Word,
    json_text,
    normal_srt,
    parse_srt,
    read_json,
    read_text_file,
    same_subtitles,
)

TOLERANCE = 0.0015  # SRT keeps milliseconds
_PUNCT_ONLY = re.compile(r"^[?!:;»…%)\]]+$")
_OPEN_ONLY = re.compile(r"^[«(\[¿¡]+$")


@dataclass
class Token:
    text: str
    start: float
    end: float
    probability: float
    words: list[Word]


def machine_tokens(words: list[Word]) -> list[Token]:
    """Whisper words grouped into spoken words (" est" + "-ce" -> "est-ce", " lorsqu" + "'il" ->
    "lorsqu'il"): :func:`pipeline.captions.words.spoken_groups`, the tokenizer of every caption surface."""
    return [Token(w.word, w.start, w.end, w.probability, [words[i] for i in idx])
            for idx, w in spoken_groups(words)]


def human_tokens(text: str) -> list[str]:
    """Split a cue's text into words; French spaced punctuation ("bien ?", "« oui »") stays attached."""
    out: list[str] = []
    pending_open = ""
    for part in text.split():
        if _OPEN_ONLY.match(part):
            pending_open += part + " "
        elif _PUNCT_ONLY.match(part) and out:
            out[-1] += " " + part
        else:
            out.append(pending_open + part)
            pending_open = ""
    if pending_open and out:
        out[-1] += " " + pending_open.strip()
    elif pending_open:
        out.append(pending_open.strip())
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _retime(tokens: list[str], start: float, end: float) -> list[Word]:
    weights = [len(t) + 1 for t in tokens]
    total = float(sum(weights))
    out, t = [], start
    for tok, wgt in zip(tokens, weights):
        d = (end - start) * wgt / total
        out.append(Word(round(t, 3), round(t + d, 3), " " + tok, 1.0))
        t += d
    return out


def _clamp(w: Word, start: float, end: float) -> Word:
    s = min(max(w.start, start), end)
    return Word(s, min(max(w.end, s), end), w.word, w.probability)


def _merge_cue(cue: Cue, match: Cue | None, under: list[Word]) -> list[Word]:
    if match is not None and _norm(cue.text) == _norm(match.text):
        return list(match.words)
    words = match.words if match is not None else under
    mtoks, htoks = machine_tokens(words), human_tokens(cue.text)
    if match is None and [t.text for t in mtoks] == htoks:
        return [_clamp(w, cue.start, cue.end) for w in words]
    if len(mtoks) == len(htoks) and mtoks:
        return [_clamp(Word(m.start, m.end, " " + h, 1.0), cue.start, cue.end) for m, h in zip(mtoks, htoks)]
    return _retime(htoks, cue.start, cue.end)


def apply_corrections(machine: Transcript, edited: list[Cue], source: Path | str = "") -> Transcript:
    """The transcript a person approved: one segment per cue of their SRT (``source``). Each word
    carries its cue (:class:`CueMark`): captions keep the person's timing, and a problem in the
    text names the file and line."""
    machine_cues = layout_cues(machine)
    all_words = machine.words
    used: set[int] = set()
    segments = []
    for cue in edited:
        if not cue.text.strip():
            continue
        match = next((m for m in machine_cues
                      if abs(m.start - cue.start) < TOLERANCE and abs(m.end - cue.end) < TOLERANCE), None)
        under = []
        if match is None:
            for i, w in enumerate(all_words):
                if i not in used and cue.start <= (w.start + w.end) / 2 < cue.end:
                    under.append(w)
                    used.add(i)
        mark = CueMark(cue.start, cue.end, str(source), cue.line)
        words = [replace(w, cue=mark) for w in _merge_cue(cue, match, under)]
        segments.append(Segment(cue.start, cue.end, _norm(cue.text), words))
    return Transcript(machine.language, segments, list(machine.warnings))


# ---------------------------------------------------------------- the review files beside a clip

def _meta(key: str, options: TranscribeOptions, srt: str) -> dict:
    return {"key": key, "engine": options.engine, "model": options.model, "options": options.to_dict(),
            "stage_version": STAGE_VERSION, "srt_sha256": _sha(srt)}


def _sha(text: str) -> str:
    return hashlib.sha256(normal_srt(text).encode("utf-8")).hexdigest()


def machine_wrote(srt_text_now: str, machine_srt: str, json_path: Path) -> bool:
    """True when an SRT is still as Cadre wrote it: equal to the machine layout, or to the
    layout recorded in the JSON when it was written (an older Cadre may have cut cues differently)."""
    if same_subtitles(srt_text_now, machine_srt):
        return True
    try:
        _, meta = read_json(json_path)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return meta.get("srt_sha256") == _sha(srt_text_now)


def human_cues(srt: Path) -> list[Cue]:
    """A person's SRT as cues; read and parsed once while the file stays the same (a render checks it
    before the analysis, then merges it)."""
    stat = Path(srt).stat()
    return list(_parsed(str(srt), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=64)
def _parsed(srt: str, mtime_ns: int, size: int) -> tuple[Cue, ...]:
    try:
        return tuple(parse_srt(read_text_file(Path(srt))))
    except ValueError as exc:   # names the first bad line
        raise CadreError(srt, f"{exc}; or delete the file to use the machine transcript") from None


def person_srt(clip: Path, language: str) -> Path | None:
    """The clip's SRT when a person wrote or edited it (not as ``cadre transcribe`` left it, by the
    record in its JSON); None otherwise, or when that cannot be told without Whisper."""
    srt, json_path = sidecar_paths(Path(clip), language)
    if not srt.is_file():
        return None
    try:
        _, meta = read_json(json_path)
        if meta.get("srt_sha256") == _sha(read_text_file(srt)):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return srt


def check_person_captions(episode) -> None:
    """Before any analysis: each clip's SRT a person wrote reads (one line naming the first bad line)
    and can be burned (no bidirectional control, no letter the caption font lacks: the error names
    the SRT file and the cue's line)."""
    settings = episode.settings
    if settings.language in ("auto", "", None):
        return                    # the SRT's name depends on the language Whisper detects
    cmap = caption_cmap(settings.caption_style)
    for span in episode.spans:
        srt = person_srt(span.path, settings.language)
        if srt is not None:
            for cue in human_cues(srt):
                person_text_check(cue.text, cmap, srt, cue.line)


def clip_transcript(path: Path, options: TranscribeOptions, progress=None) -> Transcript:
    """The transcript render uses: cached machine words, with a person's SRT edits winning.
    ``progress(seconds, total)`` follows Whisper by audio time when it has to run."""
    path = Path(path)
    machine, _ = machine_transcript(path, options, progress)
    srt, json_path = sidecar_paths(path, transcript_language(options, machine))
    if not srt.is_file():
        return machine
    if machine_wrote(read_text_file(srt), srt_text(machine), json_path):
        return machine
    return apply_corrections(machine, human_cues(srt), srt)


@dataclass
class SidecarReport:
    clip: Path
    srt: Path | None
    json: Path | None
    cached: bool
    kept_edits: bool
    cues: int
    low_confidence: int
    warnings: list[str]


def write_review_files(path: Path, options: TranscribeOptions, overwrite: bool = False) -> SidecarReport:
    """``cadre transcribe`` for one clip: write the review SRT and JSON beside it.

    A SRT a person has edited is left alone unless ``overwrite``. Files whose content would not
    change are not rewritten. A clip without an audio stream gets no files.
    """

    path = Path(path)
    machine, cached = machine_transcript(path, options)
    low = sum(1 for w in machine.words if w.probability < LOW_CONFIDENCE)
    if "no audio stream" in machine.warnings:
        return SidecarReport(path, None, None, cached, False, 0, 0, machine.warnings)
    srt, json_path = sidecar_paths(path, transcript_language(options, machine))
    machine_srt = srt_text(machine)
    kept = False
    if srt.is_file():
        current = read_text_file(srt)
        kept = not machine_wrote(current, machine_srt, json_path) and not overwrite
        if not kept and current != machine_srt:
            cache.atomic_write_text(srt, machine_srt)
    else:
        cache.atomic_write_text(srt, machine_srt)
    body = json_text(machine, _meta(cache_key(path, options), options, machine_srt))
    if not json_path.is_file() or json_path.read_text("utf-8") != body:
        cache.atomic_write_text(json_path, body)
    return SidecarReport(path, srt, json_path, cached, kept, len(layout_cues(machine)), low, machine.warnings)
