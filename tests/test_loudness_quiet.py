"""A short episode of quiet, peaky real speech (the first second of two recordings: breath, room
tone and the first syllables, -42 LUFS with peaks 22 dB above it) still reaches the loudness
target: the limiter needs several attempts to be driven there, and none may run away."""
from __future__ import annotations

from pipeline.core.ffmpeg import run
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.sound.loudness import measure_file, next_gain

TARGET = {"loudness_lufs": -14.0, "true_peak_dbtp": -2.0, "loudness_range_lu": 11.0}


def test_short_quiet_speech_reaches_the_target(shared_media, tmp_path):
    folder = tmp_path / "ep"
    folder.mkdir()
    for name, wav, seconds in [("1.mp4", "fr_fleurs_002.wav", 1.0), ("2.mp4", "fr_fleurs_001.wav", 1.2)]:
        run(["-f", "lavfi", "-i", "testsrc2=s=640x360:r=30", "-i", str(shared_media / "audio" / "fr" / wav),
             "-t", str(seconds), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", "-c:a", "aac", str(folder / name)], source=folder, what="fixture")
    (folder / "episode.toml").write_text('caption_style = "none"\nbranding = "none"\nnetworks = ["youtube-shorts"]\n',
                                         "utf-8")
    render_episode(folder, RenderOptions(redact="none", out_dir=tmp_path / "out"))
    published = next((tmp_path / "out").rglob("*.mp4"))
    got = measure_file(published, TARGET)
    assert abs(got.integrated - TARGET["loudness_lufs"]) <= 1.0, got
    assert got.true_peak <= TARGET["true_peak_dbtp"] + 0.5, got


def test_next_gain_brackets_once_it_has_overshot():
    # what a limiter does: loudness bought per dB falls as the gain grows
    tried = [(0.0, -24.4), (10.4, -18.6)]
    g = next_gain(tried, -14.0)
    assert g > 10.4 + 4.6                                     # steps further than the plain miss
    tried += [(18.6, -17.2), (34.5, -11.0)]
    g = next_gain(tried, -14.0)
    assert 18.6 < g < 34.5                                    # bracketed: never outside the two sides
