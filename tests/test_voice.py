"""Voice disguise: ``[[voice]]`` spans of masks.toml are validated with one-line errors, disguised
in the one audio pass (pitch and formants), left untouched outside, and still understood by Whisper."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import ffmpeg_exe
from pipeline.core.networks import master_profile
from pipeline.faces.overrides import load_overrides
from pipeline.sound.loudness import render_audio
from pipeline.sound.voice import PRESETS, WANDER, place, wander
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.transcribe import run as transcribe

AUDIO = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "audio"
RATE = 16000


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True)


def media() -> Path:
    if not AUDIO.is_dir():
        pytest.skip(f"real speech folder {AUDIO} is absent (it sits beside the checkout in CI)")
    return AUDIO


def clip_with(out: Path, *wavs: Path, audio: bool = True, seconds: float = 4.0) -> Path:
    """A small H.264 clip carrying the ``wavs`` one after the other (or no audio at all)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not audio:
        ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s=160x120:r=30:d={seconds}", "-c:v", "libx264",
               "-preset", "ultrafast", str(out))
        return out
    inputs = [a for w in wavs for a in ("-i", str(w))]
    joined = "".join(f"[{i + 1}:a]" for i in range(len(wavs))) + f"concat=n={len(wavs)}:v=0:a=1[a]"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=160x120:r=30", *inputs, "-filter_complex", joined,
           "-map", "0:v", "-map", "[a]", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", "-b:a", "128k", str(out))
    return out


def pcm(path: Path, start: float = 0.0, end: float | None = None) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE),
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    x = np.frombuffer(raw, np.float32)
    return x[int(start * RATE):None if end is None else int(end * RATE)]


def f0_median(x: np.ndarray, frame: float = 0.04, hop: float = 0.01, fmin: int = 60, fmax: int = 400) -> float:
    """Median fundamental frequency of the voiced frames (plain autocorrelation)."""
    n, h, lo, hi = int(frame * RATE), int(hop * RATE), int(RATE / fmax), int(RATE / fmin)
    floor = 0.1 * np.sqrt(np.mean(x ** 2))
    found = []
    for i in range(0, len(x) - n, h):
        f = x[i:i + n] - x[i:i + n].mean()
        if np.sqrt(np.mean(f ** 2)) < floor:
            continue
        ac = np.correlate(f, f, "full")[n - 1:]
        ac = ac / (ac[0] + 1e-12)
        k = lo + int(np.argmax(ac[lo:hi]))
        if ac[k] > 0.5:
            found.append(RATE / k)
    assert len(found) > 50, "too few voiced frames to measure a pitch"
    return float(np.median(found))


def corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def words(text: str) -> str:
    text = text.lower().replace("’", "'")
    return " ".join(t for t in (re.sub(r"[^\w'-]", "", tok) for tok in text.split()) if t)


def render(tmp_path: Path, clip: Path, masks: str | None, name: str) -> tuple[Path, list]:
    span = ClipSpan(clip, probe(clip))
    voices = []
    if masks is not None:
        (tmp_path / "masks.toml").write_text(masks)
        ov = load_overrides(tmp_path / "masks.toml", [clip.name])
        voices = place(ov.voices, [span], ["clip"], ov.path)
    out = tmp_path / f"{name}.m4a"
    render_audio([span], master_profile(), out, voices=voices)
    return out, voices


# -- bad input: one line naming the span ---------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ('[[voice]]\nclip = "1.mp4"\npreset = "chipmunk"\n', r"\[\[voice\]\] #1: preset = 'chipmunk' is not allowed; choose one of: low, high, robot"),
    ('[[voice]]\nclip = "1.mp4"\nstart = 4.0\nend = 2.0\n', r"\[\[voice\]\] #1: end = 2.0 must be after start = 4.0"),
    ('[[voice]]\nclip = "1.mp4"\nstart = -1\n', r"key '\[\[voice\]\] #1\.start': -1 is out of range: it must be 0 or more"),
    ('[[voice]]\nstart = 1\n', r"\[\[voice\]\] #1: clip is missing"),
    ('[[voice]]\nclip = "1.mp4"\npitch = 0.5\n', r"\[\[voice\]\] #1: unknown key 'pitch'"),
    ('[[voice]]\nclip = "9.mp4"\n', r"clip '9.mp4' is not in the episode"),
    ('[[voice]]\nclip = "1.mp4"\nstart = 1\nend = 3\n[[voice]]\nclip = "1.mp4"\nstart = 2.5\nend = 4\n',
     r"\[\[voice\]\] #2: voice span 2.5-4 of clip '1.mp4' overlaps \[\[voice\]\] #1 \(1-3\)"),
])
def test_bad_voice_spans_are_one_line_errors(tmp_path, body, message):
    (tmp_path / "masks.toml").write_text(body)
    with pytest.raises(CadreError, match=message) as err:
        load_overrides(tmp_path / "masks.toml", ["1.mp4"])
    assert "\n" not in str(err.value)


def test_span_outside_the_clip_or_on_a_clip_without_sound_is_refused(tmp_path):
    silent = clip_with(tmp_path / "1.mp4", audio=False, seconds=2.0)
    (tmp_path / "masks.toml").write_text('[[voice]]\nclip = "1.mp4"\n')
    ov = load_overrides(tmp_path / "masks.toml", ["1.mp4"])
    with pytest.raises(CadreError, match=r"\[\[voice\]\] #1: clip '1.mp4' has no audio") as err:
        place(ov.voices, [ClipSpan(silent, probe(silent))], ["clip"], ov.path)
    assert "\n" not in str(err.value)
    sound = clip_with(tmp_path / "2.mp4", media() / "fr/fr_fleurs_000.wav")
    (tmp_path / "masks.toml").write_text('[[voice]]\nclip = "2.mp4"\nstart = 8.0\nend = 30.0\n')
    ov = load_overrides(tmp_path / "masks.toml", ["2.mp4"])
    with pytest.raises(CadreError, match=r"\[\[voice\]\] #1: voice span 8-30 is outside clip '2.mp4'"):
        place(ov.voices, [ClipSpan(sound, probe(sound))], ["clip"], ov.path)


def test_the_wander_is_seeded_by_the_span():
    (a,) = place_one("low", 1.0, 9.0)
    (b,) = place_one("low", 1.0, 9.0)
    (c,) = place_one("low", 1.0, 9.5)
    assert wander(a) == wander(b) != wander(c)
    base = PRESETS["low"][0] / PRESETS["low"][1]
    assert all(abs(p / base - 1) <= WANDER + 1e-3 for _, p in wander(a))


def place_one(preset, start, end):
    from pipeline.sound.voice import VoiceSpan

    class Info:
        has_audio, duration = True, 20.0
    span = ClipSpan(Path("1.mp4"), Info())
    return place([VoiceSpan("1.mp4", start, end, preset)], [span], ["clip"])


# -- real speech ---------------------------------------------------------------------------------

def test_disguised_span_moves_pitch_keeps_the_rest_and_stays_intelligible(tmp_path):
    """fleurs_000 (10.2 s) then fleurs_001 (23.4 s); the second speaker is disguised with the default."""
    m = media()
    clip = clip_with(tmp_path / "1.mp4", m / "fr/fr_fleurs_000.wav", m / "fr/fr_fleurs_001.wav")
    plain, _ = render(tmp_path, clip, None, "plain")
    masked, (voice,) = render(tmp_path, clip, '[[voice]]\nclip = "1.mp4"\nstart = 10.2\n', "masked")
    assert (voice.preset, voice.start) == ("low", 10.2) and voice.end > 33.0

    # outside the span: the same audio as a render without disguise
    before = corr(pcm(plain, 0, 10.1), pcm(masked, 0, 10.1))
    assert before >= 0.99, before
    # inside: the pitch moved by the preset's factor (the wander averages out)
    f_plain, f_masked = f0_median(pcm(plain, 10.3)), f0_median(pcm(masked, 10.3))
    ratio = f_masked / f_plain
    assert abs(ratio - PRESETS["low"][0]) <= 0.05, (f_plain, f_masked, ratio)
    assert corr(pcm(plain, 10.3), pcm(masked, 10.3)) < 0.3     # not the same waveform at all

    # Whisper still understands the disguised speaker: WER within 10 points of the undisguised span
    import jiwer

    ref = words(next(line.split("\t")[-1] for line in (m / "references.tsv").read_text().splitlines()
                     if line.startswith("fr/fr_fleurs_001.wav")))
    wers = {}
    for name, path in (("plain", plain), ("masked", masked)):
        wav = tmp_path / f"{name}-span.wav"
        ffmpeg("-ss", "10.2", "-i", str(path), "-ac", "1", "-ar", "16000", str(wav))
        text = " ".join(w.word for w in transcribe(wav, TranscribeOptions(language="fr", threads=2)).words)
        wers[name] = jiwer.wer(ref, words(text)) * 100
    assert wers["masked"] - wers["plain"] <= 10, wers


@pytest.mark.parametrize("preset", ["high", "robot"])
def test_other_presets(tmp_path, preset):
    clip = clip_with(tmp_path / "1.mp4", media() / "fr/fr_fleurs_001.wav")
    plain, _ = render(tmp_path, clip, None, "plain")
    masked, _ = render(tmp_path, clip, f'[[voice]]\nclip = "1.mp4"\nstart = 0\nend = 8\npreset = "{preset}"\n',
                       "masked")
    assert corr(pcm(plain, 8.2), pcm(masked, 8.2)) >= 0.99     # outside the span: the undisguised sound
    f_plain, f_masked = f0_median(pcm(plain, 0.2, 7.8)), f0_median(pcm(masked, 0.2, 7.8))
    if preset == "high":
        assert abs(f_masked / f_plain - PRESETS["high"][0]) <= 0.06, (f_plain, f_masked)
    else:   # robot: the melody is gone, the voice buzzes at the FFT hop rate (48000 / 256)
        assert abs(f_masked - 187.5) <= 8, (f_plain, f_masked)


def test_a_clip_replaced_between_two_renders_is_disguised_anew(tmp_path):
    """A span is disguised once per process and reused by every pass; a clip replaced in place
    (same name, as in a review session) is new input, and its span is disguised from the new sound."""
    from pipeline.sound import voice

    wav = media() / "fr/fr_fleurs_001.wav"
    clip = tmp_path / "1.mp4"

    def four_seconds_from(offset: float) -> None:   # the same length, format and name: only the sound differs
        ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=160x120:r=30", "-ss", str(offset), "-i", str(wav),
               "-map", "0:v", "-map", "1:a", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast",
               "-c:a", "aac", "-b:a", "128k", str(clip))

    masks = '[[voice]]\nclip = "1.mp4"\nstart = 1.0\nend = 3.0\n'
    four_seconds_from(0.0)
    first, _ = render(tmp_path, clip, masks, "first")
    four_seconds_from(6.0)
    second, _ = render(tmp_path, clip, masks, "second")
    voice._RENDERED.clear()
    fresh, _ = render(tmp_path, clip, masks, "fresh")
    assert corr(pcm(second, 1.1, 2.9), pcm(fresh, 1.1, 2.9)) >= 0.99
    assert abs(corr(pcm(first, 1.1, 2.9), pcm(second, 1.1, 2.9))) < 0.3
