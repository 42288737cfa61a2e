"""Stage: transcribe a clip, once, and let a person's corrections win.

- :func:`machine_transcript` returns what Whisper heard, from the analysis cache when it can
  (key: hash of the clip's coded audio, engine, model weights, options); the model runs only
  on a miss.
- :func:`clip_transcript` is what render uses: the machine transcript, with the words of a
  human-edited ``<stem>.<lang>.srt`` beside the clip merged in. It never writes beside the clip.
- :func:`write_review_files` is ``cadre transcribe``: it writes ``<stem>.<lang>.srt`` and
  ``<stem>.<lang>.json`` beside the clip, and never overwrites a person's edits.

Audio streams from ffmpeg in blocks and is decoded window by window (:data:`WINDOW` seconds);
a window that ends inside speech hands its last :data:`TAIL` seconds to the next one, so
memory does not grow with clip length and no word is cut at a window edge.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline import cache
from pipeline.errors import CadreError
from pipeline.speech import guards
from pipeline.speech.audio import audio_hash, audio_info, stream_audio
from pipeline.speech.corrections import apply_corrections
from pipeline.speech.engines import load_engine
from pipeline.speech.engines.base import SAMPLE_RATE, TranscribeOptions
from pipeline.speech.models import resolve
from pipeline.speech.transcript import (
    LOW_CONFIDENCE,
    Segment,
    Transcript,
    Word,
    json_text,
    layout_cues,
    parse_srt,
    read_json,
    read_text_file,
    same_subtitles,
    srt_text,
)
from pipeline.speech.vad import SpeechMap, speech_regions

log = logging.getLogger(__name__)

CACHE_KIND = "transcripts"
STAGE_VERSION = 1
WINDOW = 600.0   # seconds of audio per engine call
TAIL = 30.0      # seconds re-decoded by the next window when a window ends inside speech
BLOCK = 30.0     # seconds read from the decoder at a time
UNDETERMINED = "und"


def sidecar_paths(clip: Path, language: str) -> tuple[Path, Path]:
    stem = clip.with_suffix("")
    return Path(f"{stem}.{language}.srt"), Path(f"{stem}.{language}.json")


def cache_key(clip: Path, options: TranscribeOptions) -> str:
    model = resolve(options.model)
    # the concrete compute type ("auto" picks per CPU, and different types give different words)
    return cache.make_key(CACHE_KIND, STAGE_VERSION, audio_hash(clip), model.sha256, options.resolved().to_dict())


def _meta(key: str, options: TranscribeOptions, srt: str) -> dict:
    return {"key": key, "engine": options.engine, "model": options.model, "options": options.to_dict(),
            "stage_version": STAGE_VERSION, "srt_sha256": _sha(srt)}


def _sha(text: str) -> str:
    import hashlib
    return hashlib.sha256(_normal_srt(text).encode("utf-8")).hexdigest()


def _normal_srt(text: str) -> str:
    import re
    return re.sub(r"[ \t]+\n", "\n", text.replace("\ufeff", "").replace("\r\n", "\n")).strip()


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


def machine_transcript(clip: Path, options: TranscribeOptions) -> tuple[Transcript, bool]:
    """What Whisper heard in ``clip`` and whether it came from the cache (or a sidecar JSON)."""
    clip = Path(clip)
    if not clip.is_file():
        raise CadreError(clip, "file not found; check the path")
    key = cache_key(clip, options)
    data = cache.load(CACHE_KIND, key)
    if data is not None:
        return Transcript.from_dict(data), True
    if options.language != "auto":  # the JSON beside the clip, written by `cadre transcribe`
        json_path = sidecar_paths(clip, options.language)[1]
        try:
            transcript, meta = read_json(json_path)
            if meta.get("key") == key:
                cache.store(CACHE_KIND, key, transcript.to_dict())
                return transcript, True
        except (OSError, ValueError, KeyError, TypeError):
            pass
    transcript = run(clip, options)
    cache.store(CACHE_KIND, key, transcript.to_dict())
    return transcript, False


def run(clip: Path, options: TranscribeOptions) -> Transcript:
    """Transcribe ``clip`` with the engine (no cache). Streams the audio window by window."""
    info = audio_info(clip)
    language = None if options.language == "auto" else options.language
    if not info.has_audio:
        log.info("%s: no audio stream; the clip gets no captions", clip)
        return Transcript(language or UNDETERMINED, [], ["no audio stream"])
    state = _Run(clip, options, language)
    buffer = np.zeros(0, np.float32)
    offset = 0.0
    for block in stream_audio(clip, BLOCK):
        buffer = np.concatenate([buffer, block])
        if len(buffer) >= WINDOW * SAMPLE_RATE:
            used = state.window(buffer, offset, final=False)
            buffer = buffer[int(round(used * SAMPLE_RATE)):]
            offset += used
    if len(buffer):
        state.window(buffer, offset, final=True)
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

    def __post_init__(self):
        self.segments: list[Segment] = []

    def window(self, audio: np.ndarray, offset: float, final: bool) -> float:
        """Transcribe one window starting at ``offset`` s; return how many seconds are done."""
        length = len(audio) / SAMPLE_RATE
        cut = length if final else length - TAIL
        if guards.is_silent(audio):
            return cut if not final else length
        segments = self._decode(audio)
        if final:
            self.segments.extend(_shift(s, offset) for s in segments)
            return length
        done = [s.end <= cut for s in segments]
        self.segments.extend(_shift(s, offset) for s, ok in zip(segments, done) if ok)
        rest = [s for s, ok in zip(segments, done) if not ok]
        used = min(cut, rest[0].start) if rest else cut
        return used if used >= 1.0 else cut

    def _decode(self, audio: np.ndarray) -> list[Segment]:
        speech = None
        if self.options.vad:
            speech = SpeechMap(speech_regions(audio))
            if not speech.regions:
                return []
            audio = speech.join(audio)
        if self.engine is None:
            self.engine = load_engine(self.options)
        result = self.engine.transcribe(audio, self.options, self.language)
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


def _language_of(options: TranscribeOptions, machine: Transcript) -> str:
    return machine.language if options.language == "auto" else options.language


def human_cues(srt: Path):
    try:
        return parse_srt(read_text_file(srt))
    except Exception as exc:  # pysubs2 raises several kinds on malformed files
        raise CadreError(srt, f"cannot read these subtitles ({exc.__class__.__name__}); fix the file, "
                              "or delete it to use the machine transcript") from None


def clip_transcript(path: Path, options: TranscribeOptions) -> Transcript:
    """The transcript render uses: cached machine words, with a person's SRT edits winning."""
    path = Path(path)
    machine, _ = machine_transcript(path, options)
    srt, json_path = sidecar_paths(path, _language_of(options, machine))
    if not srt.is_file():
        return machine
    if machine_wrote(read_text_file(srt), srt_text(machine), json_path):
        return machine
    return apply_corrections(machine, human_cues(srt))


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
    srt, json_path = sidecar_paths(path, _language_of(options, machine))
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
