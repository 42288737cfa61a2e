"""The transcript type shared by every ASR engine, the caption layout and the review step.

Times are seconds on the clip's own timeline (0 = first sample of the file).

Files: the review SRT is laid out and written by :mod:`pipeline.captions.sidecars` (one cue
layout for every subtitle file) and read back here with pysubs2; the JSON follows the
openai-whisper layout (``language``, ``text``, ``segments[].words[]``), with words whose
probability is under :data:`LOW_CONFIDENCE` flagged ``"low_confidence": true`` for review.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.core.textfile import read_text

LOW_CONFIDENCE = 0.5        # words under this probability are flagged for review


@dataclass(frozen=True)
class CueMark:
    """The cue of a person's SRT a word belongs to: its timing is kept (``captions/layout.py``),
    and a problem in its text names the file and line."""
    start: float
    end: float
    file: str = ""          # the SRT's path
    line: int = 0           # the cue's timing line in that file

    def shifted(self, offset: float) -> "CueMark":
        return CueMark(self.start + offset, self.end + offset, self.file, self.line)


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0
    cue: CueMark | None = None      # set when a person's SRT timed this word

    def shifted(self, offset: float) -> "Word":
        return Word(self.start + offset, self.end + offset, self.word, self.probability,
                    self.cue.shifted(offset) if self.cue else None)

    def to_dict(self) -> dict:
        data = {"start": self.start, "end": self.end, "word": self.word, "probability": self.probability}
        if self.cue is not None:
            data["cue"] = asdict(self.cue)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Word":
        cue = data.get("cue")
        return cls(data["start"], data["end"], data["word"], data.get("probability", 1.0),
                   CueMark(**cue) if cue else None)


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
        data = {"language": self.language, "text": self.text,
                "segments": [{"start": s.start, "end": s.end, "text": s.text, "words": [w.to_dict() for w in s.words]}
                             for s in self.segments]}
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Transcript":
        segments = [
            Segment(s["start"], s["end"], s["text"], [Word.from_dict(w) for w in s.get("words", [])])
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


# ---- cues (SRT) ------------------------------------------------------------------------

@dataclass
class Cue:
    start: float
    end: float
    text: str                                  # lines joined by "\n"
    words: list[Word] = field(default_factory=list)
    line: int = 0                              # its timing line, in a file read by parse_srt

    @property
    def flat_text(self) -> str:
        return " ".join(self.text.split())


_SRT_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})")
_SRT_FORMAT = re.compile(r"</?(?:i|b|u|s)>|<font\b[^>]*>|</font>", re.IGNORECASE)


def _srt_seconds(stamp: str) -> float:
    m = _SRT_TIME.fullmatch(stamp.strip())
    if not m:
        raise ValueError(f"bad SRT time {stamp.strip()!r}")
    h, mi, s, ms = m.groups()
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse_srt(text: str) -> list[Cue]:
    """Cues of an SRT document (as edited by a person), in time order.

    The text is read literally: ``{\\fs200}``, ``<script>`` or ``\\N`` are words a person typed and
    stay as written; only SRT's own ``<i> <b> <u> <s> <font>`` markup is dropped, and the U+2060
    word joiners Cadre writes after ``{``, ``\\`` and ``<`` (captions/sidecars.py) are removed.

    Nothing a person wrote is dropped in silence: a timing line that does not read, a time that
    runs backwards, text without a timing line or two timings in one cue raise ValueError
    ``"line N: ..."`` naming the first bad line.
    """
    lines = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[tuple[int, list[str]]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if n == 1 or not lines[n - 2].strip():
            blocks.append((n, []))
        blocks[-1][1].append(line)
    cues = []
    for first, block in blocks:
        timings = [i for i, line in enumerate(block) if "-->" in line]
        if not timings:
            if len(block) == 1 and block[0].strip().isdigit():
                continue                    # a lone cue number
            raise ValueError(f"line {first}: text without a timing line; give each cue a line like "
                             "00:00:01,000 --> 00:00:02,500 and a blank line between cues")
        if len(timings) > 1:
            raise ValueError(f"line {first + timings[1]}: a second timing line in one cue; "
                             "put a blank line between cues")
        timing = timings[0]
        if timing > 1 or (timing == 1 and not block[0].strip().isdigit()):
            raise ValueError(f"line {first}: text before the timing line; the cue number, then the timing "
                             "line, then the text")
        where = first + timing
        left, right = block[timing].split("-->", 1)
        try:
            start, end = _srt_seconds(left), _srt_seconds(right.split()[0] if right.split() else "")
        except ValueError:
            raise ValueError(f"line {where}: {block[timing].strip()[:60]!r} is not a timing line; write it as "
                             "00:00:01,000 --> 00:00:02,500 (times >= 0)") from None
        if end < start:
            raise ValueError(f"line {where}: the cue ends at {end:.3f} s, before it starts at {start:.3f} s; "
                             "fix the times")
        body = [re.sub(r"[ \t]+", " ", _SRT_FORMAT.sub("", line).replace("\u2060", "")).strip()
                for line in block[timing + 1:]]
        cues.append(Cue(start, end, "\n".join(line for line in body if line), line=where))
    return sorted(cues, key=lambda c: (c.start, c.end))


def read_text_file(path: Path) -> str:
    """Subtitle text as a person may have saved it: UTF-8 (with or without BOM) or marked UTF-16;
    anything else is refused with one line (pipeline/core/textfile.py), never guessed."""
    return read_text(path).replace("\r\n", "\n").replace("\r", "\n")


def normal_srt(text: str) -> str:
    """The one SRT normaliser: an SRT document without BOM, CR line ends, trailing blanks."""
    return re.sub(r"[ \t]+\n", "\n", text.replace("\ufeff", "").replace("\r\n", "\n")).strip()


def same_subtitles(a: str, b: str) -> bool:
    """True when two SRT documents differ only in line endings and blank space."""
    return normal_srt(a) == normal_srt(b)
