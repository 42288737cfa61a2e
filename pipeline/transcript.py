"""The transcript type shared by every ASR engine, the caption layout and the review step.

Times are seconds on the clip's own timeline (0 = first sample of the file).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


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

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def to_dict(self) -> dict:
        return {"language": self.language, "text": self.text, "segments": [asdict(s) for s in self.segments]}

    @classmethod
    def from_dict(cls, data: dict) -> "Transcript":
        segments = [
            Segment(s["start"], s["end"], s["text"], [Word(**{k: w[k] for k in ("start", "end", "word", "probability") if k in w})
                                                      for w in s.get("words", [])])
            for s in data.get("segments", [])
        ]
        return cls(data.get("language", ""), segments)
