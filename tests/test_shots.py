"""Shot boundaries (PySceneDetect, headless OpenCV) on the normalised clip, with real ffmpeg."""
from __future__ import annotations

from pathlib import Path

from pipeline.core import cache
from pipeline.core.ffmpeg import run
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe
from pipeline.source.shots import Shots, detect_shots


def _two_shots(path: Path, size="640x360") -> Path:
    """2 s of testsrc2 then, with a hard cut, 2 s of a mandelbrot zoom (30 fps)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run(["-f", "lavfi", "-i", f"testsrc2=s={size}:r=30:d=2", "-f", "lavfi", "-i", f"mandelbrot=s={size}:r=30",
         "-filter_complex", "[1]trim=duration=2,setpts=PTS-STARTPTS[b];[0][b]concat=n=2:v=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], source=path, what="fixture")
    return path


def test_hard_cut_found_at_its_frame(tmp_path):
    path = _two_shots(tmp_path / "cut.mp4")
    shots = detect_shots(ClipSpan(path, probe(path)))
    assert shots.frame_count == 120
    assert len(shots.cuts) == 1 and abs(shots.cuts[0] - 60) <= 1
    assert shots.ranges() == [(0, shots.cuts[0]), (shots.cuts[0], 120)]
    assert len(shots.motion_x) == len(shots.motion_share) == 120


def test_trimmed_span_counts_frames_from_its_start(tmp_path):
    path = _two_shots(tmp_path / "cut.mp4")
    shots = detect_shots(ClipSpan(path, probe(path), start=1.0))
    assert shots.frame_count == 90 and len(shots.cuts) == 1 and abs(shots.cuts[0] - 30) <= 1


def test_continuous_motion_is_one_shot(tmp_path):
    """A moving test pattern (and the motion cue following it) is not a cut."""
    path = tmp_path / "one.mp4"
    run(["-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=3", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", str(path)], source=path, what="fixture")
    shots = detect_shots(ClipSpan(path, probe(path)))
    assert shots.cuts == [] and shots.ranges() == [(0, 90)]


def test_shots_are_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    path = _two_shots(tmp_path / "cut.mp4")
    span = ClipSpan(path, probe(path))
    first = detect_shots(span)
    assert any((tmp_path / "cache" / "shots").rglob("*.json"))

    def no_decode(*a, **k):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr("pipeline.source.shots.read_frames", no_decode)
    again = detect_shots(span)
    assert again.cuts == first.cuts and Shots.from_dict(first.to_dict()).ranges() == again.ranges()
    assert cache.cache_dir() == tmp_path / "cache"
