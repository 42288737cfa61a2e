"""The ASR engine interface and the options every engine understands.

An engine turns 16 kHz mono float32 audio into segments with word timestamps and word
probabilities (the shared :mod:`pipeline.speech.transcript` types). Streaming, caching, guards and
corrections live outside the engines, so each engine module stays a thin adapter.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from pipeline.core.errors import CadreError
from pipeline.speech.precision import check_name, resolve_compute_type
from pipeline.speech.transcript import Segment

SAMPLE_RATE = 16000
ENGINES = ("faster-whisper", "openai-whisper")
LANGUAGES = frozenset((  # the codes multilingual Whisper knows
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt "
    "la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc "
    "ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue").split())

# Decoding settings shared by both engines: faster-whisper's own defaults. Cadre's own stages (no
# conditioning on previous text, a 2 s silence-hallucination skip, a blocked VAD) did not beat them
# on held-back French speech by more than a paired bootstrap 95 % interval (issue 29,
# benchmarks/bench_speech.py, which measures them again), so none is used.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
COMPRESSION_RATIO_THRESHOLD = 2.4
LOGPROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
CONDITION_ON_PREVIOUS_TEXT = True
HALLUCINATION_SILENCE_THRESHOLD = None


def decoding(options: "TranscribeOptions", logprob: str = "log_prob_threshold") -> dict:
    """The decoding arguments both engines pass to their ``transcribe``, by faster-whisper's names
    (openai-whisper spells the log-probability threshold ``logprob_threshold``): word timestamps on."""
    return {"beam_size": options.beam_size, "best_of": options.beam_size, "temperature": TEMPERATURES,
            "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD, logprob: LOGPROB_THRESHOLD,
            "no_speech_threshold": NO_SPEECH_THRESHOLD, "condition_on_previous_text": CONDITION_ON_PREVIOUS_TEXT,
            "initial_prompt": options.prompt, "word_timestamps": True,
            "hallucination_silence_threshold": HALLUCINATION_SILENCE_THRESHOLD}


@dataclass(frozen=True)
class TranscribeOptions:
    """How to transcribe. Every field that changes the words is part of the cache key."""

    language: str = "fr"              # ISO code, or "auto" to detect it
    engine: str = "faster-whisper"    # or "openai-whisper"
    model: str = "base"               # a model name in the store, or a CTranslate2 model folder
    beam_size: int = 5
    vad: bool = True                  # skip non-speech (Silero VAD) before decoding
    initial_prompt: str | None = None
    glossary: tuple[str, ...] = ()    # names of units, places, ranks: biases the spelling
    compute_type: str = "auto"        # faster-whisper only: auto (best this CPU offers, asr/precision.py), int16, int8, float32...
    threads: int = field(default=0, compare=False)  # 0 = all cores; does not change the words
    audio_stream: int | str = 0       # the clip's audio stream heard (0 = first) or "mix" (episode.toml's clips)

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise CadreError(self.engine, f"unknown ASR engine; choose one of: {', '.join(ENGINES)}")
        if self.language != "auto" and self.language not in LANGUAGES:
            raise CadreError(self.language, "unknown language; use a Whisper language code (fr, en, es, ...) or auto")
        object.__setattr__(self, "glossary", tuple(self.glossary))

        check_name(self.compute_type)

    def resolved(self) -> TranscribeOptions:
        """These options with ``compute_type`` made concrete for this CPU (``auto`` -> a type from
        :data:`pipeline.speech.precision.AUTO_ORDER`); a CadreError if the CPU lacks the type asked for.
        The cache key and ``report.json`` use the resolved options."""
        if self.engine != "faster-whisper":
            return self
        from dataclasses import replace

        concrete = resolve_compute_type(self.compute_type)
        return self if concrete == self.compute_type else replace(self, compute_type=concrete)

    @property
    def prompt(self) -> str | None:
        """The text shown to the decoder before the audio: initial prompt, then the glossary."""
        parts = [self.initial_prompt.strip()] if self.initial_prompt and self.initial_prompt.strip() else []
        if self.glossary:
            parts.append(", ".join(g.strip() for g in self.glossary if g.strip()) + ".")
        return " ".join(parts) or None

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("threads")
        if self.audio_stream == 0:    # the first stream, as always: keys made before the choice existed hold
            data.pop("audio_stream")
        data["glossary"] = list(self.glossary)
        if self.engine != "faster-whisper":
            data.pop("compute_type")
        return data


@dataclass
class EngineResult:
    language: str
    segments: list[Segment]


class Engine:
    """One loaded model. ``transcribe`` is called once per audio window."""

    name: str = ""

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions, language: str | None,
                   progress: Callable[[float], None] | None = None) -> EngineResult:
        """Transcribe ``audio`` (16 kHz mono float32). ``language=None`` means detect it.

        Times in the result are seconds from the first sample of ``audio``; ``progress(seconds)``,
        when given, is told how far into ``audio`` the decoding has gone (an engine that cannot
        tell leaves it to the caller, which reports each window).
        """
        raise NotImplementedError
