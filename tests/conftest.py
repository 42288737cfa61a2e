"""Shared fixtures: real media generated with the real ffmpeg, and the shared real media folder."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("CADRE_X264_PRESET", "superfast")   # speed, not quality (ultrafast cannot make High profile)
os.environ.setdefault("CADRE_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "test-cache"))

from pipeline.core.ffmpeg import run  # noqa: E402

SHARED_MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media"


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"real media folder {SHARED_MEDIA} is absent (it sits beside the checkout in CI)")
    return SHARED_MEDIA


def make_clip(path: Path, *, size="1920x1080", rate=30, duration=3.0, audio=True, extra_video=(),
              vcodec=("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"), source="testsrc2") -> Path:
    """Write a synthetic clip with ffmpeg's test sources (and a 440 Hz tone when ``audio``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sep = ":" if "=" in source else "="
    args = ["-f", "lavfi", "-i", f"{source}{sep}s={size}:r={rate}:d={duration}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:d={duration}:sample_rate=44100"]
    args += [*extra_video, *vcodec]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    run([*args, str(path)], source=path, what="fixture")
    return path


@pytest.fixture
def clip_factory(tmp_path):
    def factory(name="1.mp4", folder="episode", **kwargs):
        return make_clip(tmp_path / folder / name, **kwargs)
    return factory


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def french_transcripts(shared_media) -> dict:
    """The real model's transcripts of the real French clips, ``{"<file>:<fr|auto>": Transcript}``
    (the language asked for is the key's suffix); cached after the first run."""
    from pipeline.core.cache import cache_dir
    from pipeline.speech import transcribe as stage
    from pipeline.speech.engines.base import TranscribeOptions

    os.environ.setdefault("CADRE_MODELS_DIR", str(cache_dir() / "models"))
    out = {}
    for wav in sorted((shared_media / "audio" / "fr").glob("*.wav")):
        for lang in ("fr", "auto"):
            out[f"{wav.name}:{lang}"] = stage.machine_transcript(wav, TranscribeOptions(threads=2, language=lang))[0]
    return out


@pytest.fixture
def mount_tmpfs(tmp_path):
    """Mount a small tmpfs (root only); skipped where mounting is not permitted."""
    mounted = []

    def mount(folder: Path, options: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or 'mount failed'}): "
                        "needs root and CAP_SYS_ADMIN")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], capture_output=True)
