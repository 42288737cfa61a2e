"""Issue 20: progress that moves. Face analysis reports frames, transcription and the loudness passes
report seconds of audio, each step announces itself with a total and a unit, and a rendered episode's events carry
them in order (``--json`` prints the same events)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.faces.analysis import analyse_faces
from pipeline.faces.settings import load_settings
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.sound import loudness
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe
from pipeline.speech import transcribe as stage
from pipeline.speech.engines.base import TranscribeOptions
from tests.conftest import make_clip

AUDIO = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "audio"


def test_face_analysis_reports_every_frame_step(tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    clip = make_clip(tmp_path / "1.mp4", size="320x180", rate=30, duration=2)
    info = probe(clip)
    span = ClipSpan(clip, info, 0.0, info.duration)
    seen = []
    analyse_faces(span, load_settings("mosaic"), lambda done, total: seen.append((done, total)))
    assert seen, "no progress from the frame loop"
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and len(set(dones)) > 10
    assert all(t == span.frame_count for _, t in seen) and dones[-1] >= span.frame_count - 3


def test_transcription_reports_audio_time(tmp_path, monkeypatch):
    if not AUDIO.is_dir():
        pytest.skip("real speech folder is absent")
    monkeypatch.setattr(stage, "WINDOW", 8.0)
    monkeypatch.setattr(stage, "TAIL", 3.0)
    monkeypatch.setattr(stage, "BLOCK", 2.0)
    seen = []
    stage.run(AUDIO / "fr/fr_fleurs_000.wav", TranscribeOptions(threads=2),
              lambda done, total: seen.append((done, total)))
    dones = [d for d, _ in seen]
    assert len(seen) >= 3 and dones == sorted(dones)
    total = seen[-1][1]
    assert total > 5 and abs(dones[-1] - total) < 0.05
    assert any(0 < d < total * 0.8 for d in dones), "progress only at the end"


@pytest.mark.slow
def test_render_events_name_each_step_with_its_unit(tmp_path, monkeypatch):
    """A fresh cache, so the face analysis runs: its step says its total in frames, then moves
    through them, before the render."""
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=3)
    events = []
    render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="mosaic",
                                     language="fr"), lambda kind, **data: events.append((kind, data)))
    stages = [d for k, d in events if k == "stage"]
    names = [s["name"] for s in stages]
    assert "faces" in names and "render" in names, names
    assert names.index("faces") < names.index("render")
    at = next(i for i, (k, d) in enumerate(events) if k == "stage" and d["name"] == "faces")
    faces = events[at][1]
    frames = 3 * 30                       # clips are analysed at the output rate
    assert faces["unit"] == "frames" and faces["total"] == frames, faces
    moved = []
    for kind, data in events[at + 1:]:
        if kind == "stage":
            break
        moved.append(data)
    dones = [d["done"] for d in moved]
    assert all(d["unit"] == "frames" and d["total"] == frames for d in moved), moved
    assert len(dones) > 5 and dones == sorted(dones) and dones[-1] >= frames - 3, dones
    progress = [d for k, d in events if k == "progress"]
    assert progress and all("done" in p and "total" in p for p in progress)


def _loudness_passes(events) -> list[tuple[dict, list[float]]]:
    """Each loudness pass's stage event and the ``done`` values reported during it."""
    passes, current = [], None
    for kind, data in events:
        if kind == "stage":
            current = (data, []) if data.get("name") == "loudness" else None
            if current:
                passes.append(current)
        elif kind == "progress" and current is not None:
            assert data["unit"] == "s" and data["total"] == current[0]["total"]
            current[1].append(data["done"])
    return passes


def test_loudness_passes_report_seconds_of_audio(tmp_path, monkeypatch):
    """A 24 s episode's render: the measure, normalise and check passes each announce their total
    in seconds of audio, then move through it (ffmpeg's own -progress positions, increasing)."""
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(loudness, "PROGRESS_PERIOD", 0.05)   # many reports however fast the machine
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="160x90", rate=15, duration=24)
    events = []
    render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="none", language="fr"),
                   lambda kind, **data: events.append((kind, data)))
    passes = _loudness_passes(events)
    steps = [s["step"] for s, _ in passes]
    assert steps[:3] == ["measure", "normalise", "check"], steps
    for step, dones in passes:
        assert step["unit"] == "s" and abs(step["total"] - 24.0) < 0.1, step
        assert dones == sorted(dones), (step["step"], dones)
        assert dones and dones[-1] == step["total"], (step["step"], dones)
    middle = [d for _, dones in passes for d in dones if 0 < d < 24.0]
    assert len(middle) >= 3, passes   # the bar moves during each pass, not only at its end
    # the encode comes after the audio, still in frames
    render = next(i for i, (k, d) in enumerate(events) if k == "stage" and d["name"] == "render")
    last_loudness = max(i for i, (k, d) in enumerate(events) if k == "stage" and d["name"] == "loudness")
    assert last_loudness < render


def test_batch_json_carries_loudness_progress(tmp_path, monkeypatch):
    """``cadre batch --json`` prints the same steps: a ``job_stage`` per loudness pass and
    ``job_progress`` events in seconds of audio."""
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    campaign = tmp_path / "c"
    make_clip(campaign / "ep1" / "1.mp4", size="160x90", rate=15, duration=20)
    result = CliRunner().invoke(main, ["batch", str(campaign), "-n", "tiktok", "--redact", "none", "--captions",
                                       "none", "-j", "1", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [json.loads(ln) for ln in result.output.splitlines() if ln.startswith("{")]
    stages = [ln for ln in lines if ln["event"] == "job_stage" and ln.get("name") == "loudness"]
    assert [s["step"] for s in stages][:3] == ["measure", "normalise", "check"], stages
    seconds = [ln for ln in lines if ln["event"] == "job_progress" and ln.get("unit") == "s"]
    assert seconds and all(abs(s["total"] - 20.0) < 0.1 for s in seconds)
    assert any(s["done"] == s["total"] for s in seconds)
