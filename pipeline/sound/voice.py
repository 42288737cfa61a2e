"""Voice disguise: ``[[voice]]`` spans of ``masks.toml`` changed in the one audio pass.

Each span's audio is cut out of the episode audio (sample-exact), disguised and put back; the
audio outside every span is left as it was. A disguise is two steps:

1. a change of sample rate (``asetrate``) by the preset's formant factor: the whole spectrum
   (pitch and formants, the shape of the speaker's vocal tract) moves by that factor;
2. one ``rubberband`` stage with formants *preserved*: ``tempo`` restores the duration, and
   ``pitch = pitch / formant`` moves the pitch alone on to the preset's pitch factor.

So pitch and formants move by different amounts, and a plain pitch shift back does not restore
the voice. The second step's pitch also wanders by up to :data:`WANDER` (a step every
:data:`WANDER_STEP` seconds, from a seed made of the span itself, so a render is reproducible),
which defeats undoing the shift with one fixed factor. ``robot`` adds a phase-zeroing FFT filter
that flattens the melody of the voice to a buzz.

Cost: the span is disguised in mono (the two channels averaged, then put back on both: a disguised
voice needs no stereo image, and two channels would cost rubberband twice), at :data:`RATE`, with
``pitchq = consistency`` (made for a pitch that changes; ``quality`` re-plans at each wander step
and costs a third more), and once per render. :data:`RATE` is 24 kHz, not 16: at 16 kHz the
disguise itself costs a third less, but ffmpeg's AAC encoder takes 2.4 times as long on a voice cut
off at 8 kHz (6.8 CPU s against 2.8 for 60 s), which more than undoes the saving. The disguised
span is written to a WAV in a temporary folder of this process and read by the
loudness measurement and by every encode of the audio pass, keyed by the exact ffmpeg graph and
the inputs' size and modification time (``benchmarks/bench_voice.py`` measures the cost).

What it does not do: it does not change the words, the accent, the speaking rate, pauses or
background sounds, which can identify a person to someone who knows them; nor does it remove
the voice from the unprocessed source files. Captions and transcripts are unchanged.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import random
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import ffmpeg

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import compile_graph, run
from pipeline.source.normalize import AUDIO_RATE, FPS, ClipSpan

PRESETS = {                 # name: (pitch factor, formant factor)
    "low": (0.78, 0.86),
    "high": (1.30, 1.16),
    "robot": (0.85, 0.90),
}
DEFAULT_PRESET = "low"
WANDER = 0.04               # the pitch wanders this far (as a factor) around the preset's
WANDER_STEP = 0.4           # seconds between two wander steps
FADE = 0.010                # seconds of cross-fade at each edge of a span (no click)
MIN_SECONDS = 0.2           # a shorter span cannot be disguised meaningfully
RATE = 24000               # Hz the disguise runs at: speech up to 12 kHz (see the module docstring)


@dataclass(frozen=True)
class VoiceSpan:
    """One ``[[voice]]`` entry: seconds of the clip file (``end`` None: to the clip's end)."""

    clip: str
    start: float = 0.0
    end: float | None = None
    preset: str = DEFAULT_PRESET
    label: str = ""
    where: str = "[[voice]]"    # how error messages name the entry

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and v != "" and k != "where"}


@dataclass(frozen=True)
class PlacedVoice:
    """A voice span on the episode timeline (seconds), with the seed of its wander."""

    clip: str
    clip_start: float
    clip_end: float
    start: float
    end: float
    preset: str
    seed: int
    label: str = ""

    @property
    def pitch(self) -> float:
        return PRESETS[self.preset][0]

    @property
    def formant(self) -> float:
        return PRESETS[self.preset][1]

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(pitch=self.pitch, formant=self.formant, wander=WANDER)
        return {k: v for k, v in d.items() if v != ""}


def check_overlaps(voices: list[VoiceSpan], source) -> None:
    """Two spans of one clip must not overlap: which preset would apply is undecidable."""
    by_clip: dict[str, list[VoiceSpan]] = {}
    for v in voices:
        by_clip.setdefault(v.clip, []).append(v)
    for spans in by_clip.values():
        spans.sort(key=lambda v: v.start)
        for a, b in zip(spans, spans[1:]):
            if a.end is None or b.start < a.end:
                raise CadreError(source, f"{b.where}: voice span {b.start:g}-{_end(b)} of clip '{b.clip}' overlaps "
                                         f"{a.where} ({a.start:g}-{_end(a)}); merge them or make them end-to-end")


def _end(v: VoiceSpan) -> str:
    return "end" if v.end is None else f"{v.end:g}"


def place(voices: list[VoiceSpan], spans: list[ClipSpan], kinds: list[str], source=None) -> list[PlacedVoice]:
    """Map each voice span to episode seconds; refuse a span outside its clip or on a silent clip.

    ``spans`` and ``kinds`` are the timeline's clips in order (``kind`` "clip" for the episode's own
    clips; bumpers are never disguised).
    """
    offsets, offset = {}, 0.0
    for span, kind in zip(spans, kinds):
        if kind == "clip":
            offsets[span.path.name] = (span, offset)
        offset += span.frame_count / FPS
    placed = []
    for v in voices:
        if v.clip not in offsets:
            raise CadreError(source, f"{v.where}: clip '{v.clip}' is not in the episode")
        span, base = offsets[v.clip]
        clip_end = span.start + span.frame_count / FPS
        if not span.info.has_audio:
            raise CadreError(source, f"{v.where}: clip '{v.clip}' has no audio, so there is no voice to disguise; "
                                     "remove the span")
        end = clip_end if v.end is None else v.end
        if v.start < span.start - 1e-6 or end > clip_end + 1.0 / FPS or v.start >= clip_end:
            raise CadreError(source, f"{v.where}: voice span {v.start:g}-{_end(v)} is outside clip '{v.clip}' "
                                     f"({span.start:g}-{clip_end:.3f} s)")
        end = min(end, clip_end)
        if end - v.start < MIN_SECONDS:
            raise CadreError(source, f"{v.where}: voice span {v.start:g}-{_end(v)} is shorter than "
                                     f"{MIN_SECONDS} s; give it at least {MIN_SECONDS} s")
        a, b = round(base + v.start - span.start, 3), round(base + end - span.start, 3)
        seed = int.from_bytes(hashlib.sha256(f"{v.clip}|{v.start}|{end}|{v.preset}".encode()).digest()[:4], "big")
        placed.append(PlacedVoice(v.clip, v.start, round(end, 3), a, b, v.preset, seed, v.label))
    return sorted(placed, key=lambda p: p.start)


def wander(voice: PlacedVoice) -> list[tuple[float, float]]:
    """``(seconds into the span, second-stage pitch factor)`` steps, the same on every render."""
    rng = random.Random(voice.seed)
    base = voice.pitch / voice.formant
    steps, t = [], 0.0
    while t < voice.end - voice.start:
        steps.append((round(t, 3), round(base * (1 + rng.uniform(-WANDER, WANDER)), 4)))
        t += WANDER_STEP
    return steps


def _wander_file(voice: PlacedVoice, name: str) -> Path:
    """The wander steps as an ``asendcmd`` command file (one filter, not one per step: each filter
    in a chain costs every audio frame; a list of commands inline needs ';', which the graph
    escaping mangles). Named by its contents, so the span's cache key covers it."""
    text = "".join(f"{t:.3f} {name} pitch {p};\n" for t, p in wander(voice))
    path = _folder() / f"wander-{hashlib.sha256(text.encode()).hexdigest()[:16]}.txt"
    if not path.is_file():
        part = path.with_suffix(f".{threading.get_ident()}.part")
        part.write_text(text)
        os.replace(part, path)
    return path


def _disguise(stream, voice: PlacedVoice, index: int):
    """One span's audio (timestamps from 0) disguised, in mono; its length is kept to the sample.

    The formant shift is a change of sample rate (``asetrate``: the whole spectrum moves by the
    formant factor, and the audio gets longer by its inverse); one ``rubberband`` stage then puts
    the duration back (``tempo``) and moves the pitch alone on to the preset's pitch factor, with
    formants preserved. It runs at :data:`RATE`, which keeps every speech band.
    """
    samples = int(round((voice.end - voice.start) * AUDIO_RATE))
    name = f"rubberband@voice{index}"
    steps = wander(voice)
    out = (stream.filter("asendcmd", filename=str(_wander_file(voice, name)))
           .filter("pan", "mono|c0<c0+c1").filter("aresample", RATE)
           .filter("asetrate", round(RATE * voice.formant)))
    out = out.filter(name, tempo=f"{1 / voice.formant:.6f}", pitch=f"{steps[0][1]:.4f}", formant="preserved",
                     pitchq="consistency").filter("aresample", AUDIO_RATE)
    if voice.preset == "robot":
        out = out.filter("afftfilt", real="hypot(re,im)", imag="0", win_size=1024, overlap=0.75)
    return (out.filter("aformat", sample_fmts="flt", channel_layouts="mono")
            .filter("apad").filter("atrim", end_sample=samples)
            .filter("afade", t="in", d=FADE).filter("afade", t="out", st=max(0.0, samples / AUDIO_RATE - FADE), d=FADE))


_RENDERED: dict[tuple, Path] = {}     # graph and inputs -> disguised span WAV, for this process
_KEEP = 64                            # spans kept; the oldest WAV is removed beyond this
_LOCK = threading.Lock()
_TMP: list[Path] = []
_FOLDER_LOCK = threading.Lock()


def _folder() -> Path:
    with _FOLDER_LOCK:      # the wander files are written outside _LOCK: two threads may ask at once
        if not _TMP:
            _TMP.append(Path(tempfile.mkdtemp(prefix="cadre-voice-")))
            atexit.register(shutil.rmtree, _TMP[0], True)
        return _TMP[0]


def _inputs_state(args: list[str]) -> tuple:
    """Size and modification time of the graph's input files (a clip replaced in place is new input)."""
    state = []
    for flag, name in zip(args, args[1:]):
        if flag == "-i":
            path = name.removeprefix("file:")
            st = os.stat(path) if os.path.isfile(path) else None
            state.append((path, st and st.st_size, st and st.st_mtime_ns))
    return tuple(state)


def _rendered(stream, voice: PlacedVoice, index: int):
    """The disguised span as an input stream (48 kHz stereo), computed once and reused by each pass."""
    cut = stream.filter("atrim", start=f"{voice.start:.6f}", end=f"{voice.end:.6f}").filter("asetpts", "PTS-STARTPTS")
    placeholder = "/cadre-voice-span.wav"
    args = compile_graph(_disguise(cut, voice, index).output(placeholder, acodec="pcm_f32le", f="wav"))
    key = (tuple(args), _inputs_state(args))
    with _LOCK:
        path = _RENDERED.get(key)
        if path is None or not path.is_file():
            path = Path(tempfile.mkstemp(prefix="span-", suffix=".wav", dir=_folder())[1])
            run(["-y", *[("file:" + str(path)) if a == "file:" + placeholder else a for a in args]],
                source=voice.clip, what=f"voice disguise of {voice.start:g}-{voice.end:g} s")
            _RENDERED[key] = path
            while len(_RENDERED) > _KEEP:
                _RENDERED.pop(next(iter(_RENDERED))).unlink(missing_ok=True)
    return (ffmpeg.input(str(path)).audio.filter("pan", "stereo|c0<c0|c1<c0")
            .filter("aformat", sample_fmts="fltp", channel_layouts="stereo"))


def disguised(stream, voices: list[PlacedVoice], duration: float):
    """``stream`` (episode audio, 48 kHz) with each voice span disguised and the rest untouched."""
    if not voices:
        return stream
    edges = [0.0]
    for v in voices:
        edges += [v.start, v.end]
    edges.append(duration)
    pieces = len(edges) - 1
    kept = [k for k in range(0, pieces, 2) if edges[k + 1] - edges[k] > 0]
    split = stream.filter_multi_output("asplit", len(kept)) if len(kept) > 1 else None
    parts, outlet = [], 0
    for k in range(pieces):
        a, b = edges[k], edges[k + 1]
        if k % 2:   # the disguised span, rendered once by its own ffmpeg run (see _rendered)
            parts.append(_rendered(stream, voices[k // 2], k // 2))
            continue
        if b - a <= 0:
            continue
        # cut by timestamps, not sample counts: a stream may start after 0 (a start-time offset),
        # and the untouched pieces keep their timestamps, so concat chains them as they were
        cut = {"start": f"{a:.6f}"} if k else {}
        if k < pieces - 1:
            cut["end"] = f"{b:.6f}"
        part = (stream if split is None else split[outlet]).filter("atrim", **cut)
        outlet += 1
        # fade the untouched audio into and out of the disguised spans (FADE only)
        if k > 0:
            part = part.filter("afade", t="in", st=f"{a:.6f}", d=FADE)
        if k < pieces - 1:
            part = part.filter("afade", t="out", st=f"{max(a, b - FADE):.6f}", d=FADE)
        parts.append(part)
    return parts[0] if len(parts) == 1 else ffmpeg.concat(*parts, v=0, a=1)


def report(voices: list[PlacedVoice]) -> list[dict]:
    """The ``voices`` list of the redaction report."""
    return [v.to_dict() for v in voices]
