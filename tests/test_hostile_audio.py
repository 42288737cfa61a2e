"""Issue 28 items 5 and 7: two mono microphone tracks (a professional camera's layout) and a DC
offset. Inputs are built with the real ffmpeg; the published sound is decoded and measured."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.core.ffmpeg import command, run
from tests.conftest import SHARED_MEDIA, tree_hashes

FAST = ["-n", "youtube-shorts", "--redact", "none"]
SECONDS = 6.0


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def cadre_lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("cadre:")]


def speech_source() -> list[str]:
    """ffmpeg input arguments for a mono voice: real French speech when the shared media is here,
    else a tone (the level checks hold either way; only the caption check needs speech)."""
    wav = SHARED_MEDIA / "audio" / "fr" / "fr_fleurs_000.wav"
    return ["-i", str(wav)] if wav.is_file() else ["-f", "lavfi", "-i", f"sine=f=300:d={SECONDS}:sample_rate=48000"]


@pytest.fixture(scope="module")
def two_mics(tmp_path_factory) -> bytes:
    """A MOV with one video and two mono PCM streams: microphone 1 left muted (hiss at -70 dB),
    microphone 2 with the voice."""
    out = tmp_path_factory.mktemp("mics") / "two.mov"
    run(["-f", "lavfi", "-i", f"testsrc2=s=320x180:r=30:d={SECONDS}",
         "-f", "lavfi", "-i", f"anoisesrc=a=0.0004:c=pink:d={SECONDS}:sample_rate=48000", *speech_source(),
         "-filter_complex", "[2:a]loudnorm=I=-23:TP=-2[voice]",      # a microphone's level, whatever the file's
         "-map", "0:v", "-map", "1:a", "-map", "[voice]", "-t", str(SECONDS), "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", "-ar", "48000", "-ac", "1", str(out)], source=out, what="fixture")
    return out.read_bytes()


@pytest.fixture
def episode(tmp_path, two_mics) -> Path:
    folder = tmp_path / "ep"
    folder.mkdir()
    (folder / "1.mov").write_bytes(two_mics)
    return folder


def published(tmp_path: Path) -> Path:
    return tmp_path / "exports" / "ep" / "youtube-shorts"


def samples(path: Path) -> np.ndarray:
    """The published sound, 48 kHz stereo float32, shape (n, 2)."""
    raw = subprocess.run(command("-i", str(path), "-map", "0:a:0", "-f", "f32le", "-ac", "2", "-ar", "48000", "-"),
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32).reshape(-1, 2)


def level_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def test_the_first_stream_is_used_and_a_silent_one_is_named(tmp_path, episode):
    from pipeline.source.probe import probe

    assert probe(episode / "1.mov").audio_streams == 2
    before = tree_hashes(episode)
    result = cli("render", episode, *FAST, "--captions", "none")
    assert result.exit_code == 0, result.output
    warnings = [ln for ln in cadre_lines(result.output) if "audio stream" in ln]
    assert len(warnings) == 1, result.output
    assert "'1.mov'" in warnings[0] and "first audio stream is near-silent" in warnings[0]
    assert "stream 2 has sound" in warnings[0] and "audio_stream = 2" in warnings[0], warnings[0]
    report = json.loads((published(tmp_path) / "report.json").read_text())
    assert report["audio_streams"] == [{"clip": "1.mov", "streams": 2, "used": 1, "chosen_by": "default (the first)",
                                        "levels_db": report["audio_streams"][0]["levels_db"]}]
    quiet, loud = report["audio_streams"][0]["levels_db"]
    assert quiet < -55 < -45 < loud
    assert tree_hashes(episode) == before


@pytest.mark.parametrize("choice", [2, "mix"])
def test_episode_toml_chooses_the_stream(tmp_path, episode, choice):
    value = json.dumps(choice)
    (episode / "episode.toml").write_text(f'clips = [{{file = "1.mov", audio_stream = {value}}}]\n')
    result = cli("render", episode, *FAST)
    assert result.exit_code == 0, result.output
    assert not [ln for ln in cadre_lines(result.output) if "audio stream" in ln], result.output
    out = published(tmp_path)
    report = json.loads((out / "report.json").read_text())
    assert report["audio_streams"] == [{"clip": "1.mov", "streams": 2, "used": choice, "chosen_by": "episode.toml"}]
    # the published sound is the voice, normalised: the hiss of the first stream alone could not be
    # (pink noise has no silence between words; the voice has its pauses)
    sound = samples(out / "ep.mp4")
    assert len(sound) == pytest.approx(SECONDS * 48000, rel=0.01)
    blocks = np.array([level_db(b) for b in np.array_split(sound[:, 0], 60)])
    assert blocks.max() > -25
    if (SHARED_MEDIA / "audio" / "fr").is_dir():
        srt = (out / "ep.srt").read_text("utf-8")
        assert len([ln for ln in srt.splitlines() if ln and not ln[0].isdigit()]) >= 1, srt   # words heard


@pytest.mark.parametrize("value,needle", [("3", "audio_stream = 3, but the clip has 2 audio streams"),
                                          ("0", "from 1 (the first)"), ('"both"', "from 1 (the first)")])
def test_a_stream_that_is_not_there_is_one_line(tmp_path, episode, value, needle):
    (episode / "episode.toml").write_text(f'clips = [{{file = "1.mov", audio_stream = {value}}}]\n')
    before = tree_hashes(episode)
    result = cli("render", episode, *FAST)
    assert result.exit_code == 1
    lines = cadre_lines(result.output)
    assert len(lines) == 1 and "episode.toml" in lines[0] and needle in lines[0], result.output
    assert tree_hashes(episode) == before


def test_two_microphones_in_mkv_render(tmp_path, two_mics):
    """The same layout in Matroska, the transcription included (it used to map both streams)."""
    folder = tmp_path / "ep"
    folder.mkdir()
    src = tmp_path / "two.mov"
    src.write_bytes(two_mics)
    run(["-i", str(src), "-map", "0", "-c", "copy", str(folder / "1.mkv")], source=src, what="fixture")
    result = cli("render", folder, *FAST)
    assert result.exit_code == 0, result.output
    assert "Nothing was written" not in result.output


# -- 7. a DC offset ----------------------------------------------------------------------------------
def test_dc_offset_is_removed_before_loudness(tmp_path):
    """A clipped clip whose samples sit 0.4 above zero: published centred on zero."""
    folder = tmp_path / "ep"
    folder.mkdir()
    clip = folder / "1.mp4"
    run(["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=4", "-f", "lavfi", "-i",
         "aevalsrc=clip(0.8*sin(2*PI*220*t)+0.4\\,-1\\,1):s=48000:d=4", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", "-f", "mov", str(clip)], source=clip, what="fixture")
    source = subprocess.run(command("-i", str(clip), "-f", "f32le", "-ac", "1", "-"), capture_output=True,
                            check=True).stdout
    assert np.frombuffer(source, np.float32).mean() == pytest.approx(0.38, abs=0.03)   # the input is off-centre
    result = cli("render", folder, *FAST, "--captions", "none")
    assert result.exit_code == 0, result.output
    sound = samples(published(tmp_path) / "ep.mp4")
    body = sound[4800:-4800]                     # the high-pass settles in its first tens of ms
    assert abs(float(body.mean())) < 0.01, body.mean()
    assert level_db(body) > -20                  # the tone itself is kept
