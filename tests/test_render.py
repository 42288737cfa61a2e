"""Issue 2: an episode folder in, checked vertical files for five networks out.

Everything is read back from the written files: decoded pixels, duration, codecs, loudness.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.sound.loudness import measure_file
from pipeline.cli import main
from pipeline.ffmpeg import run
from pipeline.networks import master_profile, network_names
from pipeline.source.probe import probe

from tests.conftest import make_clip, tree_hashes


def frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if frame.time >= t:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame at {t}s in {path}")


def colour_halves(path: Path, *, size: str, top: str, bottom: str, duration=3, post="", vcodec=None, audio=False):
    """A clip whose upper half is ``top`` and lower half ``bottom`` (as displayed)."""
    w, h = map(int, size.split("x"))
    args = ["-f", "lavfi", "-i", f"color=c={top}:s={w}x{h // 2}:r=30:d={duration}",
            "-f", "lavfi", "-i", f"color=c={bottom}:s={w}x{h // 2}:r=30:d={duration}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=300:d={duration}"]
    args += ["-filter_complex", f"[0:v][1:v]vstack{post}[v]", "-map", "[v]"] + (["-map", "2:a", "-c:a", "aac"] if audio else [])
    args += list(vcodec or ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
    run([*args, str(path)], source=path, what="fixture")
    return path


@pytest.fixture(scope="module")
def mixed_render(tmp_path_factory):
    """Three clips of different kinds in one episode, rendered for all five networks."""
    root = tmp_path_factory.mktemp("mixed")
    ep = root / "episode"
    ep.mkdir()
    # 1: 16:9 H.264 25 fps with sound and phone metadata (GPS, device)
    make_clip(ep / "1.mp4", size="1280x720", rate=25, duration=3,
              extra_video=("-metadata", "location=+48.8566+002.3522/", "-metadata", "make=PolicePhone",
                           "-metadata", "model=X1"))
    # 2: portrait phone clip stored sideways with rotation metadata, HEVC, no audio: red on top as displayed
    sideways = colour_halves(root / "sideways.mov", size="720x1280", top="red", bottom="blue",
                             post=",transpose=2", duration=2,
                             vcodec=("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                                     "-tag:v", "hvc1", "-pix_fmt", "yuv420p"))
    run(["-display_rotation", "-90", "-i", str(sideways), "-c", "copy", str(ep / "2.mov")], source=ep, what="fixture")
    # 10: 10-bit HDR (PQ, BT.2020) HEVC with variable frame rate; natural order puts it after 2
    make_clip(ep / "10.mp4", size="1280x720", rate=30, duration=2, audio=True,
              extra_video=("-vf", "setpts='(N/30+0.012*sin(N))/TB'", "-fps_mode", "vfr"),
              vcodec=("-c:v", "libx265", "-preset", "ultrafast",
                      "-x265-params", "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
                      "-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020", "-color_trc", "smpte2084",
                      "-colorspace", "bt2020nc"))
    before = tree_hashes(ep)
    result = render_episode(ep, RenderOptions(caption_style="none", redact="none"))
    return ep, before, result


def test_probe_reads_rotation_hdr_and_audio(mixed_render):
    ep, _, _ = mixed_render
    rotated = probe(ep / "2.mov")
    assert (rotated.width, rotated.height, rotated.rotation % 180) == (720, 1280, 90)
    assert rotated.video_codec == "hevc" and not rotated.has_audio
    hdr = probe(ep / "10.mp4")
    assert hdr.hdr and hdr.bit_depth == 10


def test_every_network_gets_a_checked_file(mixed_render):
    ep, before, result = mixed_render
    out = Path(result["out_dir"])
    assert out == ep.parent / "exports" / "episode"
    profile = master_profile()
    for net in network_names():
        folder = out / net
        assert sorted(p.name for p in folder.iterdir()) == ["cover.jpg", "episode.mp4", "episode.srt",
                                                           "episode.vtt", "report.json"]
        mp4 = folder / "episode.mp4"
        with av.open(str(mp4)) as c:
            v, a = c.streams.video[0], c.streams.audio[0]
            assert (v.codec_context.name, v.profile, v.codec_context.pix_fmt) == ("h264", "High", "yuv420p")
            assert (v.codec_context.width, v.codec_context.height) == (1080, 1920)
            assert float(v.average_rate) == 30
            assert v.frames == 7 * 30
            assert (a.codec_context.name, a.codec_context.sample_rate, a.codec_context.channels) == ("aac", 48000, 2)
            tags = {k.lower(): val for k, val in c.metadata.items()}
            assert not any(k for k in tags if "location" in k or k in ("make", "model"))
        report = json.loads((folder / "report.json").read_text())
        measured = report["outputs"][0]
        assert abs(measured["duration_s"] - 7.0) < 0.1
        assert measured["size_bytes"] == mp4.stat().st_size
        assert all(c["ok"] for c in measured["checks"])
        assert report["redaction"]["mode"] == "none"
    loud = measure_file(out / "tiktok" / "episode.mp4", profile)
    assert abs(loud.integrated - profile["loudness_lufs"]) <= 1.0
    assert loud.true_peak <= profile["true_peak_dbtp"] + 0.5
    assert tree_hashes(ep) == before, "render modified the source folder"


def test_masters_are_shared_not_reencoded(mixed_render):
    _, _, result = mixed_render
    out = Path(result["out_dir"])
    sizes = {(out / n / "episode.mp4").read_bytes() for n in network_names()}
    assert len(sizes) == 1


def test_rotation_and_clip_order(mixed_render):
    _, _, result = mixed_render
    mp4 = Path(result["out_dir"]) / "tiktok" / "episode.mp4"
    frame = frame_at(mp4, 3.5)  # clip 2 (after 3 s of clip 1): vertical, passes through scaled
    top, bottom = frame[200:800].reshape(-1, 3).mean(0), frame[1100:1700].reshape(-1, 3).mean(0)
    assert top[0] > 180 and top[2] < 80, f"rotation not applied: top is {top}"
    assert bottom[2] > 180 and bottom[0] < 80, f"rotation not applied: bottom is {bottom}"


def test_hdr_is_tone_mapped(mixed_render):
    _, _, result = mixed_render
    frame = frame_at(Path(result["out_dir"]) / "tiktok" / "episode.mp4", 6.0)
    # testsrc2 tone-mapped to SDR keeps visible structure: not crushed to one flat colour
    assert frame[700:1200].std() > 20


def test_fit_keeps_whole_frame_over_blurred_copy(tmp_path):
    ep = tmp_path / "ep"
    ep.mkdir()
    colour_halves(ep / "1.mp4", size="1920x1080", top="yellow", bottom="blue", audio=True, duration=3)
    result = render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="none",
                                              reframe="fit"))
    frame = frame_at(Path(result["out_dir"]) / "tiktok" / "ep.mp4", 1.0)
    # foreground: 1080x608 centred (rows 656..1264); yellow upper half, blue lower half, nothing cut off
    assert frame[700:900, 100:980].mean(axis=(0, 1))[2] < 90          # yellow: little blue
    assert frame[1050:1250, 100:980].mean(axis=(0, 1))[2] > 150        # blue
    # background above the foreground: blurred, darkened copy, not black bars
    band = frame[100:500, 100:980].astype(float)
    assert 30 < band.mean() < 230


def test_crop_follows_focus_point(tmp_path):
    ep = tmp_path / "ep"
    ep.mkdir()
    run(["-f", "lavfi", "-i", "color=c=red:s=960x1080:r=30:d=3", "-f", "lavfi", "-i", "color=c=lime:s=960x1080:r=30:d=3",
         "-f", "lavfi", "-i", "sine=d=3", "-filter_complex", "[0:v][1:v]hstack[v]", "-map", "[v]", "-map", "2:a",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(ep / "1.mp4")],
        source=ep, what="fixture")
    (ep / "episode.toml").write_text('reframe = "crop"\nfocus = [0.1, 0.5]\nnetworks = ["youtube-shorts"]\n')
    result = render_episode(ep, RenderOptions(caption_style="none", redact="none"))
    frame = frame_at(Path(result["out_dir"]) / "youtube-shorts" / "ep.mp4", 1.0)
    mean = frame.reshape(-1, 3).mean(0)
    assert mean[0] > 200 and mean[1] < 60, f"crop ignored the focus point: {mean}"
    plan = json.loads((Path(result["out_dir"]) / "plan.json").read_text())
    assert plan["clips"][0]["reframe"] == {"strategy": "crop", "focus": [0.1, 0.5]}


def test_awkward_folder_names_and_rerender(tmp_path):
    ep = tmp_path / "Campagne été, \"nuit\": 1 ; ép'2"
    make_clip(ep / "1.mp4", size="640x360", duration=3)
    runner = CliRunner()
    args = ["render", str(ep), "-n", "tiktok", "--redact", "none", "--captions", "none"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    mp4 = tmp_path / "exports" / ep.name / "tiktok" / f"{ep.name}.mp4"
    assert mp4.is_file()
    second = runner.invoke(main, args)
    assert second.exit_code == 0, second.output
    assert not list((tmp_path / "exports" / ep.name).glob(".cadre-staging-*"))


def test_silent_clip_gets_a_silent_track_but_snapchat_refuses(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="640x360", duration=6, audio=False)
    result = render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="none"))
    with av.open(str(Path(result["out_dir"]) / "tiktok" / "ep.mp4")) as c:
        assert len(c.streams.audio) == 1
    outcome = CliRunner().invoke(main, ["render", str(ep), "-n", "snapchat", "--redact", "none"])
    assert outcome.exit_code == 1
    assert "Snapchat Spotlight requires" in outcome.output


def test_snapchat_over_60s_is_refused_unless_split(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", duration=62, rate=15)
    refused = CliRunner().invoke(main, ["render", str(ep), "-n", "snapchat", "--redact", "none", "--captions", "none"])
    assert refused.exit_code == 1 and "--split" in refused.output
    result = render_episode(ep, RenderOptions(networks=("snapchat",), caption_style="none", redact="none", split=True))
    folder = Path(result["out_dir"]) / "snapchat"
    parts = sorted(folder.glob("*.mp4"))
    assert [p.name for p in parts] == ["ep-part1.mp4", "ep-part2.mp4"]
    total = 0.0
    for p in parts:
        info = probe(p)
        assert 5 <= info.duration <= 60.05
        total += info.duration
        assert (folder / f"{p.stem}.srt").is_file()
    assert abs(total - 62) < 0.2


def test_4k_hevc_source(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="3840x2160", duration=1.5, rate=30,
              vcodec=("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"))
    assert probe(ep / "1.mp4").video_codec == "hevc"
    result = render_episode(ep, RenderOptions(networks=("youtube-shorts",), caption_style="none", redact="none",
                                              reframe="crop"))
    with av.open(str(Path(result["out_dir"]) / "youtube-shorts" / "ep.mp4")) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height, v.frames) == (1080, 1920, 45)


def test_long_filter_graph_goes_through_a_file(tmp_path, monkeypatch):
    import pipeline.ffmpeg

    monkeypatch.setattr(pipeline.ffmpeg, "LONG_GRAPH", 10)   # every graph counts as long
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="640x360", duration=3)
    result = render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="none"))
    assert probe(Path(result["out_dir"]) / "tiktok" / "ep.mp4").duration > 2.9


def test_short_dynamic_speech_reaches_the_loudness_target(tmp_path, shared_media):
    """loudnorm alone lands ~1 LU low on a short, peaky speech loop; the correction pass fixes it."""
    ep = tmp_path / "ep"
    ep.mkdir()
    run(["-f", "lavfi", "-i", "testsrc2=s=640x360:d=6", "-stream_loop", "-1",
         "-i", str(shared_media / "audio" / "fr" / "fr_fleurs_002.wav"), "-t", "6",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(ep / "1.mp4")], source=ep, what="fixture")
    result = render_episode(ep, RenderOptions(networks=("youtube-shorts",), caption_style="none", redact="none"))
    loud = measure_file(Path(result["out_dir"]) / "youtube-shorts" / "ep.mp4", master_profile())
    assert abs(loud.integrated + 14) <= 0.5 and loud.true_peak <= -1.5


@pytest.mark.parametrize("budget", [None, "1"])
def test_a_thread_budget_reaches_the_encoder(tmp_path, monkeypatch, budget):
    """A batch job's share of the cores (pipeline/threads.py) is what x264 runs with; alone, x264
    picks its own count. x264 writes its settings into the stream, so read them back."""
    if budget:
        monkeypatch.setenv("CADRE_THREADS", budget)
    else:
        monkeypatch.delenv("CADRE_THREADS", raising=False)
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="640x360", duration=3)
    result = render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="none"))
    data = (Path(result["out_dir"]) / "tiktok" / "ep.mp4").read_bytes()
    threads = int(re.search(rb"x264 - core .*? threads=(\d+) ", data).group(1))
    if budget:
        assert threads == 1
    elif (os.cpu_count() or 1) > 1:
        assert threads > 1
