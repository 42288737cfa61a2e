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

from pipeline.cli import main
from pipeline.core.ffmpeg import run
from pipeline.core.networks import master_profile, network_names
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.sound.loudness import measure_file
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
    # (a black-to-white ramp: tone-mapping bends it, an untouched PQ frame would show it straight)
    make_clip(ep / "10.mp4", size="1280x720", rate=30, duration=2, audio=True,
              source="gradients=c0=black:c1=white:x0=0:y0=0:x1=1279:y1=0:speed=0",
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
        assert sorted(p.name for p in folder.iterdir()) == [".cadre-job.json", "cover.jpg", "episode.mp4",
                                                           "episode.srt", "episode.vtt", "report.json"]
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
    """The PQ clip is tone-mapped to SDR, not shown untouched (its PQ code values read as if they
    were BT.709, which is what skipping the tone-mapping gives): the ramp keeps its order but
    hable's curve makes the upper half much brighter than the untouched frame."""
    ep, _, result = mixed_render
    frame = frame_at(Path(result["out_dir"]) / "tiktok" / "episode.mp4", 6.0)   # clip 10 starts at 5 s
    # fit: 1280x720 shown as 1080x608 at rows 656..1264, so output column c is source column c * 1280 / 1080
    shown = frame[760:1160, 40:1040].mean(axis=(0, 2))
    untouched = frame_at(ep / "10.mp4", 1.0)[100:620].mean(axis=(0, 2))
    untouched = np.interp((np.arange(40, 1040) + 0.5) * 1280 / 1080 - 0.5, np.arange(1280), untouched)
    assert shown[-50:].mean() - shown[:50].mean() > 150, "tone-mapping crushed the picture"
    assert np.all(np.diff(shown[::50]) > -2), f"the ramp lost its order: {shown[::50].round()}"
    upper = (untouched > 140) & (untouched < 200)
    lift = (shown[upper] - untouched[upper]).mean()
    assert upper.any() and lift > 25, f"upper half only {lift:.1f} levels above the untouched PQ frame: not tone-mapped"


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
    """A graph passed as ``-/filter_complex FILE`` is the graph ffmpeg runs: a window panning right
    then back left (a follow path) is read back from the decoded frames of the master."""
    import pipeline.analyse
    import pipeline.core.ffmpeg
    import pipeline.render
    from pipeline.reframe.follow import FollowPlan, FollowReframer, PathSegment, window
    from pipeline.reframe.path import Piece

    monkeypatch.setattr(pipeline.core.ffmpeg, "LONG_GRAPH", 10)   # every graph counts as long
    used = []

    def spy(stream, workdir=None):
        args = pipeline.core.ffmpeg.compile_graph(stream, workdir)
        used.append(args)
        return args
    monkeypatch.setattr(pipeline.render, "compile_graph", spy)

    # the source: grey level = column (limited-range luma 16..235 across 640 px), so a decoded
    # pixel tells which source column the window put there
    ep = tmp_path / "ep"
    ep.mkdir()
    run(["-f", "lavfi", "-i", "nullsrc=s=640x360:r=30:d=3,format=yuv444p,geq=lum='16+219*X/W':cb=128:cr=128",
         "-f", "lavfi", "-i", "sine=d=3", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv444p",
         "-c:a", "aac", "-shortest", str(ep / "1.mp4")], source=ep, what="fixture")
    size = (640, 360)
    plan = FollowPlan(size, window(size), [PathSegment(0, 90, "pan", 1, "override",
                                                   (Piece(0, 45, 10, 400, 45), Piece(45, 90, 410, -300, 45)))])
    reframer = FollowReframer(size, plan=plan)
    monkeypatch.setattr(pipeline.analyse, "reframe_clip", lambda span, settings, faces=None, **_: reframer)

    result = render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="none"))
    assert any("-/filter_complex" in args for args in used), used
    mp4 = Path(result["out_dir"]) / "tiktok" / "ep.mp4"
    assert probe(mp4).duration > 2.9
    checked = {5: None, 40: None, 60: None, 85: None}
    with av.open(str(mp4)) as c:
        for n, frame in enumerate(c.decode(video=0)):
            if n in checked:
                checked[n] = frame.to_ndarray(format="rgb24")[:, :, 1].astype(float)
    cw = reframer.cw
    for n, img in checked.items():
        assert img is not None and img.shape == (1920, 1080), n
        x = reframer.x_at(n)
        for col in (60, 540, 1020):   # output column -> source column x + col * cw / 1080
            want = (x + (col + 0.5) * cw / 1080 - 0.5) * 255 / 639
            got = img[200:1700, col].mean()
            assert abs(got - want) < 4, f"frame {n}, column {col}: grey {got:.0f}, the graph puts {want:.0f} there"


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("budget", [None, "1"])
def test_a_thread_budget_reaches_the_encoder(tmp_path, monkeypatch, budget):
    """A batch job's share of the cores (pipeline/core/threads.py) is what x264 runs with; alone, x264
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
