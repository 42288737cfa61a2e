"""Issue 20: progress that moves. Face analysis reports frames, transcription reports seconds of
audio, each step announces itself with a total and a unit, and a rendered episode's events carry
them in order (``--json`` prints the same events)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.faces.redaction import analyse_faces, load_settings
from pipeline.orchestrator import RenderOptions, render_episode
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


def test_render_events_name_each_step_with_its_unit(tmp_path):
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=3)
    events = []
    render_episode(ep, RenderOptions(networks=("tiktok",), caption_style="none", redact="mosaic",
                                     language="fr"), lambda kind, **data: events.append((kind, data)))
    stages = [d for k, d in events if k == "stage"]
    names = [s["name"] for s in stages]
    faces = [s for s in stages if s["name"] == "faces"]
    if faces:   # the face step ran (not a cache hit): it said its total and unit, then moved
        assert faces[0]["unit"] == "frames" and faces[0]["total"] > 0
    assert "render" in names
    progress = [d for k, d in events if k == "progress"]
    assert progress and all("done" in p and "total" in p for p in progress)
