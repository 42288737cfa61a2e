"""What is said in a rush, as sentences with times: Whisper on the voiced passages only.

Voice activity (:mod:`pipeline.propose.listen`) marks the passages; each passage (with a little
room) is decoded by the project's ASR engine on its own (:func:`pipeline.speech.engines.load_engine`,
the same model, options and hallucination guards as the render), cached by the rush's content, the
passage and the options. One passage per call: Whisper base drops a sentence that opens a
30 s window before a long silence (the first FLEURS passage of the test rush, with or without
faster-whisper's VAD), so unrelated passages are never decoded together. The words are grouped
into the words a listener hears by the captions' tokenizer (:func:`pipeline.captions.words.spoken_groups`),
then into sentences: a sentence ends on ``. ? ! …`` or on a long pause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.captions.words import spoken_groups
from pipeline.core import cache
from pipeline.core.ffmpeg import run
from pipeline.speech import guards
from pipeline.speech.engines import load_engine
from pipeline.speech.engines.base import SAMPLE_RATE, TranscribeOptions
from pipeline.speech.models import resolve
from pipeline.speech.transcript import Segment, Word

VERSION = 1
ROOM = 0.3          # seconds decoded before and after each voiced passage
_END = re.compile(r"[.?!…]+[\s»\"”')\]]*$")


@dataclass(frozen=True)
class Sentence:
    words: tuple[Word, ...]
    complete: bool            # ends on its own punctuation, not only on a pause
    opens: bool               # begins after a sentence end (or a long pause), not mid-sentence

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


def _audio(path: Path, start: float, end: float) -> np.ndarray:
    out = run(["-ss", f"{start:.3f}", "-i", str(path), "-t", f"{end - start:.3f}", "-map", "0:a:0", "-ac", "1",
               "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:"], source=path, what="audio decoding",
              capture_stdout=True)
    data = out.stdout
    return np.frombuffer(data[:len(data) - len(data) % 4], np.float32).copy()


def heard(path: Path, content: str, passages: list[tuple[float, float]], duration: float, language: str,
          asr: dict, progress=None) -> list[Word]:
    """The words said in the voiced ``passages`` of the rush at ``path`` (``content``: its hash),
    one Word per spoken word, in rush seconds; ``progress(done, total)`` in seconds of speech."""
    options = TranscribeOptions(language=language, **asr)
    base = cache.make_key("propose-words", VERSION, content, resolve(options.model).sha256,
                          options.resolved().to_dict(), ROOM)
    total = sum(b - a for a, b in passages)
    done, pieces, engine = 0.0, [], None
    for a, b in passages:
        key = cache.make_key(base, round(a, 3), round(b, 3))
        data = cache.load("propose", key)
        if data is None:
            engine = engine or load_engine(options)
            start, end = max(0.0, a - ROOM), min(duration, b + ROOM)
            result = engine.transcribe(_audio(path, start, end), options, None if language == "auto" else language)
            segments = guards.clean([Segment(s.start + start, s.end + start, s.text, [w.shifted(start) for w in s.words])
                                     for s in result.segments])
            data = {"words": [w.to_dict() for s in segments for w in s.words if w.word.strip()]}
            cache.store("propose", key, data)
        pieces += [Word.from_dict(w) for w in data["words"]]
        done += b - a
        if progress:
            progress(round(done, 2), round(total, 2))
    return [w for _, w in spoken_groups(pieces)]


def sentences(words: list[Word], pause: float) -> list[Sentence]:
    """``words`` cut into sentences: after ``. ? ! …``, or where the speaker pauses ``pause`` s."""
    out: list[Sentence] = []
    current: list[Word] = []
    opens = True
    for i, w in enumerate(words):
        current.append(w)
        ends = bool(_END.search(w.word))
        gap = words[i + 1].start - w.end if i + 1 < len(words) else float("inf")
        if ends or gap >= pause:
            out.append(Sentence(tuple(current), ends, opens))
            current, opens = [], True
    if current:
        out.append(Sentence(tuple(current), False, opens))
    return out
