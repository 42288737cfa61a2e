"""The transcript type shared by every ASR engine, the caption layout and the review step.

Times are seconds on the clip's own timeline (0 = first sample of the file).

Files: the review SRT (and VTT) are written and read with pysubs2; the JSON follows the
openai-whisper layout (``language``, ``text``, ``segments[].words[]``), with words whose
probability is under :data:`LOW_CONFIDENCE` flagged ``"low_confidence": true`` for review.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.cache import atomic_write_text

LOW_CONFIDENCE = 0.5        # words under this probability are flagged for review
LINE_CHARS = 42             # sidecar subtitle rules: 2 lines of at most 42 characters
CUE_LINES = 2
CUE_MAX_SECONDS = 7.0
CUE_GAP = 1.0               # a pause this long starts a new cue


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0

    def shifted(self, offset: float) -> "Word":
        return Word(self.start + offset, self.end + offset, self.word, self.probability)


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    language: str
    segments: list[Segment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # e.g. "no speech found", for the review

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def to_dict(self) -> dict:
        data = {"language": self.language, "text": self.text, "segments": [asdict(s) for s in self.segments]}
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Transcript":
        segments = [
            Segment(s["start"], s["end"], s["text"], [Word(**{k: w[k] for k in ("start", "end", "word", "probability") if k in w})
                                                      for w in s.get("words", [])])
            for s in data.get("segments", [])
        ]
        return cls(data.get("language", ""), segments, list(data.get("warnings", [])))



# ---- review JSON ---------------------------------------------------------------------------

def to_review_dict(transcript: Transcript, meta: dict | None = None) -> dict:
    """The ``<stem>.<lang>.json`` content: the transcript, low-probability words flagged."""
    data = transcript.to_dict()
    for seg in data["segments"]:
        for w in seg["words"]:
            w["start"], w["end"] = round(w["start"], 3), round(w["end"], 3)
            w["probability"] = round(w["probability"], 4)
            if w["probability"] < LOW_CONFIDENCE:
                w["low_confidence"] = True
        seg["start"], seg["end"] = round(seg["start"], 3), round(seg["end"], 3)
    if meta:
        data["cadre"] = meta
    return data


def json_text(transcript: Transcript, meta: dict | None = None) -> str:
    return json.dumps(to_review_dict(transcript, meta), ensure_ascii=False, indent=1) + "\n"


def read_json(path: Path) -> tuple[Transcript, dict]:
    """A review JSON back as (transcript, cadre metadata)."""
    data = json.loads(Path(path).read_text("utf-8"))
    return Transcript.from_dict(data), data.get("cadre", {})


# ---- cues (SRT/VTT) ------------------------------------------------------------------------

@dataclass
class Cue:
    start: float
    end: float
    text: str                                  # lines joined by "\n"
    words: list[Word] = field(default_factory=list)

    @property
    def flat_text(self) -> str:
        return " ".join(self.text.split())


def words_text(words: list[Word]) -> str:
    """Join Whisper words (each carries its own leading space) into display text."""
    return "".join(w.word for w in words).strip()


def _split_lines(text: str) -> str | None:
    """Break ``text`` into at most two lines of LINE_CHARS, as balanced as the word boundaries
    allow; None when it does not fit."""
    if len(text) <= LINE_CHARS:
        return text
    fits = [i for i, c in enumerate(text) if c == " " and i <= LINE_CHARS and len(text) - i - 1 <= LINE_CHARS]
    if not fits:
        return None
    best = min(fits, key=lambda i: abs(i - len(text) / 2))
    return text[:best] + "\n" + text[best + 1:]


def layout_cues(transcript: Transcript) -> list[Cue]:
    """Cut the transcript into subtitle cues for review: at most two 42-character lines and
    7 seconds each; a new cue after a pause, or after a sentence end once the cue has some text."""
    cues: list[Cue] = []
    current: list[Word] = []
    for w in transcript.words:
        if current:
            text = words_text(current + [w])
            full = _split_lines(text) is None or w.end - current[0].start > CUE_MAX_SECONDS
            pause = w.start - current[-1].end >= CUE_GAP
            sentence = current[-1].word.rstrip().endswith((".", "?", "!", "…")) and len(words_text(current)) > 20
            if full or pause or sentence:
                cues.append(_cue(current))
                current = []
        current.append(w)
    if current:
        cues.append(_cue(current))
    for a, b in zip(cues, cues[1:]):  # no overlap after millisecond rounding
        b.start = max(b.start, a.end)
    return cues


def _cue(words: list[Word]) -> Cue:
    start = round(words[0].start, 3)
    end = round(max(words[-1].end, words[0].start + 0.1), 3)
    text = words_text(words)
    return Cue(start, end, _split_lines(text) or text, list(words))  # one over-long word stays whole


def _subs(cues: list[Cue]):
    import pysubs2

    subs = pysubs2.SSAFile()
    for cue in cues:
        subs.append(pysubs2.SSAEvent(start=int(round(cue.start * 1000)), end=int(round(cue.end * 1000)),
                                     text=cue.text.replace("\n", "\\N")))
    return subs


def srt_text(transcript: Transcript) -> str:
    return _subs(layout_cues(transcript)).to_string("srt")


def vtt_text(transcript: Transcript) -> str:
    return _subs(layout_cues(transcript)).to_string("vtt")


def parse_srt(text: str) -> list[Cue]:
    """Cues of an SRT document (as edited by a person), in time order. Raises ValueError."""
    import pysubs2

    subs = pysubs2.SSAFile.from_string(text, format_="srt")
    cues = [Cue(ev.start / 1000, ev.end / 1000, ev.plaintext.strip()) for ev in subs if not ev.is_comment]
    return sorted(cues, key=lambda c: (c.start, c.end))


def read_text_file(path: Path) -> str:
    """Subtitle text as a person may have saved it: UTF-8 (with or without BOM), else Windows-1252."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def same_subtitles(a: str, b: str) -> bool:
    """True when two SRT documents differ only in line endings and blank space."""
    def norm(t: str) -> str:
        return re.sub(r"[ \t]+\n", "\n", t.replace("\ufeff", "").replace("\r\n", "\n")).strip()
    return norm(a) == norm(b)


def write_srt(path: Path, transcript: Transcript) -> None:
    atomic_write_text(Path(path), srt_text(transcript))


def write_vtt(path: Path, transcript: Transcript) -> None:
    atomic_write_text(Path(path), vtt_text(transcript))


def write_json(path: Path, transcript: Transcript, meta: dict | None = None) -> None:
    atomic_write_text(Path(path), json_text(transcript, meta))
