"""Stage: transcribe a clip, once, and let a person's corrections win.

- :func:`machine_transcript` returns what Whisper heard, from the analysis cache when it can
  (key: hash of the clip's coded audio, engine, model weights, options); the model runs only
  on a miss.
- a person's corrections, and the review files ``cadre transcribe`` writes beside the clip, are
  in :mod:`pipeline.captions.corrections` (they use the captions' cue layout).

Audio streams from ffmpeg in blocks and is decoded window by window (:data:`WINDOW` seconds);
a window that ends inside speech hands its last :data:`TAIL` seconds to the next one, so
memory does not grow with clip length and no word is cut at a window edge.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.core import cache
from pipeline.core.errors import CadreError
from pipeline.speech import guards
from pipeline.speech.audio import audio_hash, audio_info, stream_audio
from pipeline.speech.engines import load_engine
from pipeline.speech.engines.base import SAMPLE_RATE, TranscribeOptions
from pipeline.speech.models import resolve
from pipeline.speech.transcript import (
    Segment,
    Transcript,
    Word,
    read_json,
)
from pipeline.speech.vad import SpeechMap, speech_regions

log = logging.getLogger(__name__)
Progress = Callable[[float, float], None]   # progress(done, total) in seconds of audio

CACHE_KIND = "transcripts"
STAGE_VERSION = 2   # 2: faster-whisper's own VAD and decoding defaults (issue 29)
WINDOW = 600.0   # seconds of audio per engine call. faster-whisper runs its VAD and computes the log-mel features
                 # of a whole call at once (+540 MB of peak at 600 s, +90 MB at 60 s), but 120 s windows re-decoded
                 # their tails: a 120 s clip took 72.5 CPU s for 230 words against 38.8 s for 242 (issue 29)
TAIL = 30.0      # seconds re-decoded by the next window when a window ends inside speech
BLOCK = 30.0     # seconds read from the decoder at a time
UNDETERMINED = "und"


def sidecar_paths(clip: Path, language: str) -> tuple[Path, Path]:
    stem = clip.with_suffix("")
    return Path(f"{stem}.{language}.srt"), Path(f"{stem}.{language}.json")


def cache_key(clip: Path, options: TranscribeOptions) -> str:
    model = resolve(options.model)
    # the concrete compute type ("auto" picks per CPU, and different types give different words)
    return cache.make_key(CACHE_KIND, STAGE_VERSION, audio_hash(clip, options.audio_stream), model.sha256,
                          options.resolved().to_dict())


def machine_transcript(clip: Path, options: TranscribeOptions, progress: Progress | None = None) -> tuple[Transcript, bool]:
    """What Whisper heard in ``clip`` and whether it came from the cache (or a sidecar JSON);
    ``progress(seconds, total)`` follows the decoding by audio time when the model runs."""
    clip = Path(clip)
    if not clip.is_file():
        raise CadreError(clip, "file not found; check the path")
    key = cache_key(clip, options)
    data = cache.load(CACHE_KIND, key)
    if data is not None:
        return Transcript.from_dict(data), True
    if options.language != "auto" and not cache.refreshing(CACHE_KIND):  # the JSON `cadre transcribe` wrote
        json_path = sidecar_paths(clip, options.language)[1]
        try:
            transcript, meta = read_json(json_path)
            if meta.get("key") == key:
                cache.store(CACHE_KIND, key, transcript.to_dict())
                return transcript, True
        except (OSError, ValueError, KeyError, TypeError):
            pass
    transcript = run(clip, options, progress)
    cache.store(CACHE_KIND, key, transcript.to_dict())
    return transcript, False


def run(clip: Path, options: TranscribeOptions, progress: Progress | None = None) -> Transcript:
    """Transcribe ``clip`` with the engine (no cache). Streams the audio window by window;
    ``progress(seconds, total)`` is told how much of the audio has been decoded."""
    info = audio_info(clip)
    language = None if options.language == "auto" else options.language
    if not info.has_audio:
        log.info("%s: no audio stream; the clip gets no captions", clip)
        return Transcript(language or UNDETERMINED, [], ["no audio stream"])
    state = _Run(clip, options, language, progress=progress, total=float(info.duration or 0.0))
    buffer = np.zeros(0, np.float32)
    offset = 0.0
    for block in stream_audio(clip, BLOCK, options.audio_stream):
        buffer = np.concatenate([buffer, block])
        if len(buffer) >= WINDOW * SAMPLE_RATE:
            used = state.window(buffer, offset, final=False)
            buffer = buffer[int(round(used * SAMPLE_RATE)):]
            offset += used
    if len(buffer):
        state.window(buffer, offset, final=True)
    state.report(state.total)
    segments = guards.clean(state.segments)
    warnings = []
    if not segments:
        warnings.append("no speech found")
        log.info("%s: no speech found; the clip gets no captions", clip)
    return Transcript(state.language or UNDETERMINED, segments, warnings)


@dataclass
class _Run:
    clip: Path
    options: TranscribeOptions
    language: str | None
    engine: object = None
    progress: Progress | None = None
    total: float = 0.0              # seconds of audio in the clip (0: unknown)

    def __post_init__(self):
        self.segments: list[Segment] = []
        self.done = 0.0

    def report(self, seconds: float) -> None:
        """Progress by audio time, never backwards (a window's tail is decoded twice)."""
        self.done = max(self.done, seconds)
        if self.progress:
            total = max(self.total, self.done)
            self.progress(round(min(self.done, total), 2), round(total, 2))

    def window(self, audio: np.ndarray, offset: float, final: bool) -> float:
        """Transcribe one window starting at ``offset`` s; return how many seconds are done."""
        length = len(audio) / SAMPLE_RATE
        cut = length if final else length - TAIL
        if guards.is_silent(audio):
            self.report(offset + length)
            return cut if not final else length
        segments = self._decode(audio, offset)
        self.report(offset + (length if final else cut))
        if final:
            self.segments.extend(_shift(s, offset) for s in segments)
            return length
        done = [s.end <= cut for s in segments]
        self.segments.extend(_shift(s, offset) for s, ok in zip(segments, done) if ok)
        rest = [s for s, ok in zip(segments, done) if not ok]
        used = min(cut, rest[0].start) if rest else cut
        return used if used >= 1.0 else cut

    def _decode(self, audio: np.ndarray, offset: float = 0.0) -> list[Segment]:
        if self.engine is None:
            self.engine = load_engine(self.options)
        speech = None
        if self.options.vad and not getattr(self.engine, "filters_speech", False):
            speech = SpeechMap(speech_regions(audio))
            if not speech.regions:
                return []
            audio = speech.join(audio)
        def decoded(t: float) -> None:   # t: seconds into the (speech-joined) window
            self.report(offset + (t + speech.locate(t)[0] if speech is not None else t))

        result = self.engine.transcribe(audio, self.options, self.language, progress=decoded)
        if self.language is None:
            self.language = result.language  # detected once, kept for the following windows
        segments = []
        for seg in result.segments:
            words = [_unjoin(w, speech) for w in seg.words if w.word.strip()]
            if words:
                segments.append(Segment(words[0].start, words[-1].end, seg.text, words))
        return segments


def _unjoin(w: Word, speech) -> Word:
    if speech is None:
        return w
    shift, region_end = speech.locate(w.start)
    start = w.start + shift
    return Word(start, max(start, min(w.end + shift, region_end)), w.word, w.probability)


def _shift(seg: Segment, offset: float) -> Segment:
    return Segment(seg.start + offset, seg.end + offset, seg.text, [w.shifted(offset) for w in seg.words])


def transcript_language(options: TranscribeOptions, machine: Transcript) -> str:
    return machine.language if options.language == "auto" else options.language
