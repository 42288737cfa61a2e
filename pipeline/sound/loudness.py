"""Loudness: two-pass EBU R128 normalisation to the master's target, and measuring it back."""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import compile_graph, ffmpeg_exe, last_error_line
from pipeline.sound.bleep import TONE_HZ, TONE_LEVEL
from pipeline.sound.voice import disguised
from pipeline.source.normalize import AUDIO_RATE, FPS, ClipSpan, audio_input

SILENCE_LUFS = -70.0  # below this there is nothing to normalise

# events(kind, **data) as the render sends them (``pipeline.master.Events``): each ffmpeg pass over the
# audio is a "stage" (name "loudness", step measure | normalise | check) followed by "progress" events
# in seconds of audio, read from ffmpeg's ``-progress`` output (about twice a second)
Events = Callable[..., None]
PROGRESS_PERIOD = 0.5   # seconds between ffmpeg's progress reports


@dataclass(frozen=True)
class Loudness:
    integrated: float
    true_peak: float
    lra: float
    threshold: float
    offset: float = 0.0

    @property
    def silent(self) -> bool:
        return self.integrated <= SILENCE_LUFS


def _loudnorm_json(stderr: str, source) -> dict:
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr, re.S)
    if not match:
        raise CadreError(source, f"loudness measurement failed: {last_error_line(stderr)}")
    return json.loads(match.group(0))


def _num(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # "-inf" for silence
        return -99.0


def _run(args: list[str], loglevel: str, events: Events | None, step: str, total: float) -> tuple[int, str]:
    """Run one ffmpeg pass; with ``events``, announce it and report its position in seconds of audio.
    Returns the exit code and ffmpeg's log (stderr)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel]
    if events is None:
        proc = subprocess.run([*cmd, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              errors="replace")
        return proc.returncode, proc.stderr
    total = round(total, 3)
    events("stage", name="loudness", step=step, total=total, unit="s")
    last = None
    with tempfile.TemporaryFile() as err:
        report = ["-progress", "pipe:1", "-nostats", "-stats_period", f"{PROGRESS_PERIOD:g}"]
        proc = subprocess.Popen([*cmd, *report, *args], stdout=subprocess.PIPE, stderr=err, text=True,
                                errors="replace")
        for line in proc.stdout:
            value = line.removeprefix("out_time_us=").strip() if line.startswith("out_time_us=") else ""
            if value.lstrip("-").isdigit():
                last = round(min(total, max(0.0, int(value) / 1e6)), 3)
                events("progress", done=last, total=total, unit="s")
        code = proc.wait()
        if code == 0 and last != total:
            events("progress", done=total, total=total, unit="s")
        err.seek(0)
        return code, err.read().decode("utf-8", "replace")


def _measure(stream, source, target: dict, events: Events | None = None, step: str = "measure",
             total: float = 0.0) -> Loudness:
    node = stream.filter("loudnorm", I=target["loudness_lufs"], TP=target["true_peak_dbtp"],
                         LRA=target["loudness_range_lu"], print_format="json")
    code, stderr = _run(compile_graph(node.output("-", format="null")), "info", events, step, total)
    if code != 0:
        raise CadreError(source, f"loudness measurement failed: {last_error_line(stderr)}")
    data = _loudnorm_json(stderr, source)
    return Loudness(_num(data["input_i"]), _num(data["input_tp"]), _num(data["input_lra"]),
                    _num(data["input_thresh"]), _num(data.get("target_offset", "0")))


QUIET_DB = -55.0   # mean level under which an audio stream holds no usable sound (a muted microphone)
SOUND_DB = -45.0   # mean level over which a stream holds sound worth publishing


def stream_levels(path: Path, count: int) -> list[float]:
    """Mean level (dBFS, ffmpeg's volumedetect) of each of the ``count`` audio streams of ``path``."""
    levels = []
    for i in range(count):
        node = ffmpeg.input(str(path))[f"a:{i}"].filter("volumedetect").output("-", format="null")
        code, stderr = _run(compile_graph(node), "info", None, "", 0.0)
        found = re.findall(r"mean_volume: (-?[0-9.]+|-inf) dB", stderr)
        if code != 0 or not found:
            raise CadreError(path, f"audio stream {i + 1} cannot be read: {last_error_line(stderr)}")
        levels.append(_num(found[-1]))
    return levels


def quiet_first_stream(path: Path, count: int) -> tuple[list[float], int | None]:
    """Levels of the streams, and the stream (from 1) that has sound when the first is near-silent."""
    levels = stream_levels(path, count)
    loud = max(range(1, count), key=lambda i: levels[i], default=None)
    if levels[0] < QUIET_DB and loud is not None and levels[loud] > SOUND_DB:
        return levels, loud + 1
    return levels, None


DC_CUTOFF_HZ = 10   # the high-pass that removes a DC offset: far below speech, settles in tens of ms


def episode_audio(spans: list[ClipSpan]):
    """All clips' audio joined in order, 48 kHz stereo (ffmpeg-python stream), without DC: a
    recorder's DC offset (0.4 of full scale on a clipped clip) would otherwise be measured as
    loudness and published as a shifted waveform."""
    streams = [audio_input(s) for s in spans]
    joined = streams[0] if len(streams) == 1 else ffmpeg.concat(*streams, v=0, a=1)
    return joined.filter("highpass", f=DC_CUTOFF_HZ)


def measure_spans(spans: list[ClipSpan], target: dict) -> Loudness:
    """Pass 1: integrated loudness, true peak and range of the joined episode audio."""
    return _measure(episode_audio(spans), spans[0].path.parent, target)


def measure_file(path: Path, target: dict, events: Events | None = None, total: float = 0.0) -> Loudness:
    """Loudness of a rendered file, read back for the report (and for the correction loop)."""
    return _measure(ffmpeg.input(str(path)).audio, path, target, events, "check", total)


def _inside(bleeps) -> str:
    return "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in bleeps)


def muted(stream, bleeps):
    """``stream`` with each ``(start, end)`` span (episode seconds) silenced."""
    if not bleeps:
        return stream
    # ``enable`` is decided per audio frame: cut the audio into 5 ms frames first
    return stream.filter("asetnsamples", n=AUDIO_RATE // 200, p=0).filter("volume", volume=0, enable=_inside(bleeps))


def with_tone(stream, bleeps, duration: float):
    """A fixed-level beep added over each span (after normalisation, so its level never varies)."""

    tone = (ffmpeg.input(f"sine=frequency={TONE_HZ}:sample_rate={AUDIO_RATE}", f="lavfi", t=f"{duration:.3f}").audio
            .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
            .filter("asetnsamples", n=AUDIO_RATE // 200, p=0)
            .filter("volume", volume=TONE_LEVEL * 8)       # lavfi's sine has an amplitude of 1/8
            .filter("volume", volume=0, enable=f"not({_inside(bleeps)})"))
    return ffmpeg.filter([stream, tone], "amix", inputs=2, duration="first", normalize=0)


CORRECTION_TOLERANCE_LU = 0.5
CORRECTION_ATTEMPTS = 6      # a short, quiet clip whose peaks need limiting takes 4 or 5 (it never costs a pass otherwise)


def render_audio(spans: list[ClipSpan], target: dict, out_path: Path, bleeps=(), bleep_sound: str = "tone",
                 voices=(), events: Events | None = None) -> Loudness:
    """Pass 2: normalise the episode audio with pass-1 figures and encode AAC to ``out_path``.

    One gain for the whole episode: loudnorm in linear mode when the peaks allow it; otherwise
    (loudnorm would fall back to a gain that varies along the episode) the gain is applied here
    ahead of a peak limiter set below the ceiling. The encoded result is measured, and a residual
    gain is applied until the integrated loudness is within ``CORRECTION_TOLERANCE_LU``.

    Silence cannot be normalised; it is kept silent (the report warns about it). ``bleeps``
    (``(start, end)`` episode seconds) are muted before both passes, so the loudness target holds
    for the audio as published; with ``bleep_sound = "tone"`` a beep of fixed level is added over
    them after normalisation. ``voices`` (:class:`pipeline.sound.voice.PlacedVoice`) are disguised
    before both passes too. ``events``, when given, receives each pass's stage and progress
    (seconds of audio: ``measure``, then ``normalise`` and ``check`` for each attempt).
    """
    total = sum(s.frame_count for s in spans) / FPS
    measured = _measure(_source(spans, bleeps, voices), spans[0].path.parent, target, events, "measure", total)
    # loudnorm's linear mode is one gain for the whole episode; where that gain would push the peaks
    # over the ceiling, loudnorm switches to a gain that varies along the episode (it pumps, and
    # it changes the sound outside a disguised voice span). Then the gain is applied here, ahead
    # of the peak limiter, which only touches the peaks.
    plain_gain = target["loudness_lufs"] - measured.integrated
    limited = not measured.silent and measured.true_peak + plain_gain > target["true_peak_dbtp"]
    gain, tried = (plain_gain if limited else 0.0), []
    for _ in range(CORRECTION_ATTEMPTS):
        _encode_audio(spans, target, out_path, bleeps, bleep_sound, measured, gain, voices, events, total, limited)
        if measured.silent:
            break
        got = measure_file(out_path, target, events, total)
        tried.append((gain, got.integrated))
        if abs(target["loudness_lufs"] - got.integrated) <= CORRECTION_TOLERANCE_LU:
            break
        gain = next_gain(tried, target["loudness_lufs"])
    else:
        best = min(tried, key=lambda t: abs(target["loudness_lufs"] - t[1]))[0]
        if best != tried[-1][0]:    # the closest attempt is the one published
            _encode_audio(spans, target, out_path, bleeps, bleep_sound, measured, best, voices, events, total, limited)
    return measured


def next_gain(tried: list[tuple[float, float]], target: float) -> float:
    """The residual gain to try next, from the (gain, loudness) pairs tried so far.

    The limiter eats part of any gain once the peaks reach it, so a dB of gain buys less than a dB
    of loudness, by an amount that changes with the gain. Until one attempt is too quiet and
    another too loud, the step is scaled by what the last step bought (at least a fifth); then
    the gain is interpolated between the closest attempt on each side, which cannot run away."""
    below = [t for t in tried if t[1] < target]
    above = [t for t in tried if t[1] > target]
    if below and above:
        (g0, l0), (g1, l1) = max(below, key=lambda t: t[1]), min(above, key=lambda t: t[1])
        guess = g0 + (target - l0) * (g1 - g0) / (l1 - l0)
        inside = min(g0, g1) < guess < max(g0, g1)
        return guess if inside else (g0 + g1) / 2
    gain, got = tried[-1]
    slope = 1.0
    if len(tried) > 1 and gain != tried[-2][0]:
        slope = min(1.0, max(0.2, (got - tried[-2][1]) / (gain - tried[-2][0])))
    return gain + (target - got) / slope


def _source(spans, bleeps, voices):
    """The episode audio with the voice spans disguised and the bleeps muted."""
    return muted(disguised(episode_audio(spans), list(voices), sum(s.frame_count for s in spans) / FPS), bleeps)


def _encode_audio(spans, target: dict, out_path: Path, bleeps, bleep_sound: str, measured: Loudness,
                  gain: float, voices=(), events: Events | None = None, total: float = 0.0,
                  limited: bool = False) -> None:
    stream = _source(spans, bleeps, voices)
    if not measured.silent and not limited:
        stream = stream.filter(
            "loudnorm", I=target["loudness_lufs"], TP=target["true_peak_dbtp"], LRA=target["loudness_range_lu"],
            measured_I=measured.integrated, measured_TP=measured.true_peak, measured_LRA=measured.lra,
            measured_thresh=measured.threshold, offset=measured.offset, linear="true")
    stream = stream.filter("aresample", AUDIO_RATE).filter("aformat", channel_layouts="stereo")
    if gain:
        # sample-peak limiter 1 dB under the true-peak ceiling leaves room for inter-sample peaks
        limit = 10 ** ((target["true_peak_dbtp"] - 1.0) / 20)
        # latency=1: the limiter's 5 ms look-ahead must not shift the sound against the picture
        stream = stream.filter("volume", f"{gain:.2f}dB").filter("alimiter", limit=f"{limit:.4f}", level=0,
                                                                  attack=5, release=50, latency=1)
    if bleeps and bleep_sound == "tone":
        stream = with_tone(stream, bleeps, sum(s.frame_count for s in spans) / FPS)
    out = stream.output(str(out_path), acodec=target["audio_codec"], ar=AUDIO_RATE, ac=2,
                        audio_bitrate=f"{target['audio_bitrate_kbps']}k", f="mp4")
    code, stderr = _run(["-y", *compile_graph(out)], "error", events, "normalise", total)
    if code != 0:
        raise CadreError(spans[0].path.parent, f"audio render failed: {last_error_line(stderr)}")
