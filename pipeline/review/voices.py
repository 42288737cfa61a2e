"""Voice spans on the review page: the ``[[voice]]`` rows it lists, and a span played disguised.

A span is played as the render will disguise it: the clip's audio (48 kHz, as the audio pass reads
it) goes through :func:`pipeline.sound.voice.disguised` with the span placed by the render's own
:func:`~pipeline.sound.voice.place` (so the same seed, the same pitch wander), then is cut to the
span and written as WAV, which every browser plays. The loudness pass is left out: it changes
the level, not the voice. The same span can be played undisguised to compare.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import ffmpeg

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import compile_graph, run
from pipeline.sound.voice import PRESETS, VoiceSpan, disguised, place
from pipeline.source.normalize import AUDIO_RATE, FPS, ClipSpan, audio_input

PREVIEW_SECONDS = 120.0     # a longer span is previewed from its start, this long


def voice_rows(overrides) -> list[dict]:
    """The ``[[voice]]`` entries of ``masks.toml``, in file order (``index`` as the remove call takes it)."""
    return [{"index": i, "clip": v.clip, "start": v.start, "end": v.end, "preset": v.preset, "label": v.label}
            for i, v in enumerate(overrides.voices)]


def check_voices(overrides, spans: list[ClipSpan], source) -> None:
    """Every voice span placed as the render places it: inside its clip, on a clip with audio."""
    place(overrides.voices, spans, ["clip"] * len(spans), source)


def preview_wav(span: ClipSpan, clip: str, start, end, preset: str, disguise: bool = True) -> bytes:
    """WAV bytes of ``start``-``end`` (seconds of the clip file; ``end`` None: to its end) of
    ``span``'s audio, disguised with ``preset`` as the render would, or as it is."""
    if preset not in PRESETS:
        raise CadreError("preset", f"{preset!r} is not a voice preset; choose one of: {', '.join(PRESETS)}")
    for name, value in (("start", start), ("end", end)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise CadreError(name, f"{value!r} must be seconds of the clip")
    voice = place([VoiceSpan(clip, float(start), None if end is None else float(end), preset, where="voice span")],
                  [span], ["clip"], clip)[0]
    stream = audio_input(span)
    if disguise:
        stream = disguised(stream, [voice], span.frame_count / FPS)
    stop = min(voice.end, voice.start + PREVIEW_SECONDS)
    cut = stream.filter("atrim", start=f"{voice.start:.6f}", end=f"{stop:.6f}").filter("asetpts", "PTS-STARTPTS")
    with tempfile.TemporaryDirectory(prefix="cadre-voice-") as tmp:
        out = Path(tmp) / "span.wav"
        run(compile_graph(ffmpeg.output(cut, str(out), acodec="pcm_s16le", ar=AUDIO_RATE, f="wav"), tmp),
            source=span.path, what="the voice preview")
        return out.read_bytes()
