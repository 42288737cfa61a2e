"""Bleeping: terms from episode.toml are found in the words, replaced in captions and sidecars,
muted or toned in the audio, and listed (by time, not by name) in the redaction report."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.sound.bleep import PLACEHOLDER, censor, find, spans
from pipeline.source.config import load_settings
from pipeline.speech.transcript import Word
from tests.test_review_fixtures import make_episode


def words(*texts, step=0.5):
    return [Word(i * step, i * step + 0.4, t, 0.9) for i, t in enumerate(texts)]


def test_terms_match_whatever_the_case_accents_and_punctuation():
    w = words(" Bonjour", " madame", " LEFÈVRE,", " d'Amélie", " lefevre")
    out = censor(w, ["Lefèvre", "amelie"])
    assert [x.word for x in out] == [" Bonjour", " madame", f" {PLACEHOLDER},", f" d'{PLACEHOLDER}", f" {PLACEHOLDER}"]
    assert out[2].start == w[2].start and out[2].probability == 1.0


def test_a_phrase_matches_consecutive_words_and_becomes_one_placeholder():
    w = words(" au", " 12", " rue", " des", " Lilas.", " Merci")
    out = censor(w, ["12 rue des Lilas"])
    assert [x.word for x in out] == [" au", f" {PLACEHOLDER}.", " Merci"]
    assert (out[1].start, out[1].end) == (w[1].start, w[4].end)


def test_whisper_word_pieces_are_joined_before_matching():
    w = words(" Du", "pont", " arrive")
    assert [x.word for x in censor(w, ["Dupont"])] == [f" {PLACEHOLDER}", " arrive"]


def test_no_partial_word_matches():
    w = words(" Dupontel", " Dupon")
    assert find(w, ["Dupont"]) == [] and censor(w, ["Dupont"]) == w


def test_audio_spans_are_padded_merged_and_clipped():
    w = censor(words(" Dupont", " Dupont", " et", " encore", " Dupont", step=0.5), ["Dupont"])
    out = spans(w, duration=2.3)
    assert [(b.start, b.end, b.words) for b in out] == [(0.0, 1.05, 2), (1.85, 2.3, 1)]


def test_settings_validate_and_add_up(tmp_path):
    ep = tmp_path / "c" / "ep"
    ep.mkdir(parents=True)
    (tmp_path / "c" / "campaign.toml").write_text('bleep = ["Dupont"]\nbleep_sound = "mute"\n')
    (ep / "episode.toml").write_text('bleep = ["12 rue des Lilas", "Dupont"]\n')
    st = load_settings(ep)
    assert st.bleep == ("Dupont", "12 rue des Lilas") and st.bleep_sound == "mute"
    for bad in ('bleep = "Dupont"', 'bleep = [""]', "bleep = [3]", 'bleep_sound = "beep"'):
        (ep / "episode.toml").write_text(bad + "\n")
        with pytest.raises(CadreError, match="bleep"):
            load_settings(ep)


def audio_of(path, rate=48000) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le",
                          "pipe:"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a.astype(np.float64) ** 2))) if len(a) else 0.0


def peak_hz(a: np.ndarray, rate=48000) -> float:
    spectrum = np.abs(np.fft.rfft(a * np.hanning(len(a))))
    return float(np.fft.rfftfreq(len(a), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("sound", ["mute", "tone"])
def test_render_audio_mutes_or_tones_the_spans(tmp_path, sound):
    from pipeline.core.networks import master_profile
    from pipeline.sound.loudness import render_audio
    from pipeline.source.normalize import ClipSpan
    from pipeline.source.probe import probe

    folder = make_episode(tmp_path)
    clip = folder / "1.mp4"
    out = tmp_path / "a.m4a"
    render_audio([ClipSpan(clip, probe(clip))], master_profile(), out, [(0.5, 1.0)], sound)
    a = audio_of(out)
    inside, before, after = a[int(0.55 * 48000):int(0.95 * 48000)], a[:int(0.45 * 48000)], a[int(1.1 * 48000):int(1.9 * 48000)]
    assert rms(before) > 0.05 and rms(after) > 0.05                      # the 440 Hz tone of the clip
    assert peak_hz(before) == pytest.approx(440, abs=5)
    if sound == "mute":
        assert rms(inside) < 0.002
    else:
        assert rms(inside) > 0.05 and peak_hz(inside) == pytest.approx(1000, abs=5)   # the clip's 440 Hz is gone


def test_render_bleeps_captions_sidecars_audio_and_report(tmp_path):
    """One real render: 'Dupond' said at 0.1-0.9 s (by the person's SRT) is bleeped everywhere."""
    from pipeline.orchestrator import RenderOptions, render_episode

    folder = make_episode(tmp_path / "c", toml='bleep = ["dupond"]\nbleep_sound = "mute"\n')
    result = render_episode(folder, RenderOptions(networks=("youtube-shorts",), out_dir=tmp_path / "out"))
    out = tmp_path / "out" / "ep" / "youtube-shorts"
    srt = (out / "ep.srt").read_text("utf-8")
    assert PLACEHOLDER in srt and "Dupond" not in srt and "Lilas" in srt
    assert "Dupond" not in (out / "ep.vtt").read_text("utf-8")
    assert "Dupond" not in (tmp_path / "out" / "ep" / "plan.json").read_text("utf-8")
    report = json.loads((out / "report.json").read_text("utf-8"))
    bleeps = report["redaction"]["bleeps"]
    assert bleeps["terms"] == 1 and bleeps["sound"] == "mute" and len(bleeps["spans"]) == 1
    span = bleeps["spans"][0]
    assert span["start"] < 0.9 and span["end"] > 0.9                     # covers the word's end
    assert "dupond" not in json.dumps(report).lower()                     # the report names no term
    a = audio_of(out / "ep.mp4")
    assert rms(a[int((span["start"] + 0.05) * 48000):int((span["end"] - 0.05) * 48000)]) < 0.002
    assert rms(a[int(1.2 * 48000):int(1.8 * 48000)]) > 0.05
    assert result["reports"]["youtube-shorts"]["redaction"]["bleeps"] == bleeps


def test_one_occurrence_is_bleeped_by_writing_the_placeholder_in_the_caption(tmp_path):
    """A person replaces one 'Dupond' by *** in the clip's SRT (or in cadre review's caption
    editor): that occurrence is muted in the audio, the other one is kept."""
    from pipeline.orchestrator import RenderOptions, render_episode

    srt = ("1\n00:00:00,100 --> 00:00:00,900\nBonjour monsieur ***\n\n"
           "2\n00:00:01,000 --> 00:00:01,900\nIl parle à Dupond\n")
    folder = make_episode(tmp_path / "c", srt=srt, toml='bleep_sound = "mute"\n')
    render_episode(folder, RenderOptions(networks=("youtube-shorts",), out_dir=tmp_path / "out"))
    out = tmp_path / "out" / "ep" / "youtube-shorts"
    captions = (out / "ep.srt").read_text("utf-8")
    assert PLACEHOLDER in captions and "Dupond" in captions
    spans_ = json.loads((out / "report.json").read_text("utf-8"))["redaction"]["bleeps"]["spans"]
    assert len(spans_) == 1 and 0.3 < spans_[0]["start"] < spans_[0]["end"] <= 1.05
    a = audio_of(out / "ep.mp4")
    assert rms(a[int((spans_[0]["start"] + 0.05) * 48000):int((spans_[0]["end"] - 0.05) * 48000)]) < 0.002
    assert rms(a[int(1.2 * 48000):int(1.8 * 48000)]) > 0.05              # the second Dupond is heard
