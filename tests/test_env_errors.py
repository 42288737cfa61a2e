"""Issue 12, environment bad input: a broken model store, face model, cache folder, ffmpeg or a
full disk gives exit 1, one line `cadre: error: <file>: <what and fix>`, nothing published and
the sources untouched. Each case runs the real `cadre` in a subprocess with its own environment."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.faces.detectors.centerface import PINNED_SHA256, model_path
from tests.conftest import make_clip, tree_hashes

CADRE = str(Path(sys.executable).with_name("cadre"))


def cadre(*args, **env) -> subprocess.CompletedProcess:
    full = {**os.environ, **{k: str(v) for k, v in env.items() if v is not None}}
    for key in [k for k, v in env.items() if v is None]:
        full.pop(key, None)
    return subprocess.run([CADRE, *map(str, args)], capture_output=True, text=True, env=full, timeout=600)


def assert_one_error(proc, *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("cadre:")]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("cadre: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def assert_nothing_published(episode: Path, before: dict, exports: Path | None = None) -> None:
    assert tree_hashes(episode) == before, "source folder changed"
    exports = exports or episode.parent / "exports"
    assert not exports.exists() or not [p for p in exports.rglob("*") if p.is_file()], \
        f"output left behind: {list(exports.rglob('*'))}"


@pytest.fixture
def episode(tmp_path) -> Path:
    folder = tmp_path / "ep"
    make_clip(folder / "1.mp4", size="320x180", duration=3.0)
    return folder


# -- Whisper model store --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_store() -> Path:
    from pipeline.speech.models import resolve

    model = resolve("base")   # assembled from the part packages into the test cache once
    return model.path


@pytest.mark.parametrize("damage", ["truncated", "same-size"])
def test_damaged_whisper_model(real_store, tmp_path, damage):
    store = tmp_path / "models"
    shutil.copytree(real_store, store / "base")
    model_bin = store / "base" / "model.bin"
    size = model_bin.stat().st_size
    if damage == "truncated":
        os.truncate(model_bin, size // 2)
    else:   # another file of the same size: one byte in the middle differs
        with open(model_bin, "r+b") as fh:
            fh.seek(size // 2)
            byte = fh.read(1)
            fh.seek(size // 2)
            fh.write(bytes([byte[0] ^ 0xFF]))
    assert model_bin.stat().st_size == (size // 2 if damage == "truncated" else size)
    from tests.test_transcribe import need_media, video_with

    # real speech: on a tone the voice detector finds nothing and the model is (rightly) never loaded
    clip = video_with(need_media() / "fr" / "fr_fleurs_000.wav", tmp_path / "clips" / "1.mp4", seconds=4)
    before = tree_hashes(clip.parent)
    # a fresh cache: a cached transcript would (rightly) not need the model at all
    proc = cadre("transcribe", clip, CADRE_MODELS_DIR=store, CADRE_CACHE_DIR=tmp_path / "cache")
    assert_one_error(proc, str(model_bin), "checksum mismatch", "cadre models install --force")
    assert tree_hashes(clip.parent) == before, "transcribe wrote beside the clip"


# -- CenterFace weights ----------------------------------------------------------------------------
@pytest.fixture
def altered_model(tmp_path) -> tuple[Path, str]:
    """A copy of centerface.onnx with one weight byte changed: still loads, but is not the pinned file."""
    import hashlib

    data = bytearray(model_path().read_bytes())
    assert hashlib.sha256(data).hexdigest() == PINNED_SHA256
    data[len(data) // 2] ^= 0x01
    path = tmp_path / "models" / "centerface-copy.onnx"
    path.parent.mkdir()
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_face_model_without_sha_variable(episode, altered_model):
    path, _ = altered_model
    before = tree_hashes(episode)
    proc = cadre("render", episode, "-n", "tiktok", "--captions", "none", CADRE_FACE_MODEL=path,
                 CADRE_FACE_MODEL_SHA256=None)
    assert_one_error(proc, str(path), "not the pinned CenterFace", "set CADRE_FACE_MODEL_SHA256")
    assert_nothing_published(episode, before)


def test_face_model_sha_mismatch(episode, altered_model):
    path, _ = altered_model
    before = tree_hashes(episode)
    proc = cadre("render", episode, "-n", "tiktok", "--captions", "none", CADRE_FACE_MODEL=path,
                 CADRE_FACE_MODEL_SHA256=PINNED_SHA256)
    assert_one_error(proc, str(path), "does not match CADRE_FACE_MODEL_SHA256")
    assert_nothing_published(episode, before)


def test_own_face_model_with_its_sha_is_used_and_reported(episode, altered_model):
    path, digest = altered_model
    proc = cadre("render", episode, "-n", "tiktok", "--captions", "none", CADRE_FACE_MODEL=path,
                 CADRE_FACE_MODEL_SHA256=digest.upper())
    assert proc.returncode == 0, proc.stderr
    report = json.loads((episode.parent / "exports" / "ep" / "tiktok" / "report.json").read_text())
    assert report["redaction"]["face_model"] == {"path": str(path), "sha256": digest, "pinned": False}


def test_pinned_face_model_is_reported(tmp_path):
    from pipeline.faces.audit import redaction_report
    from pipeline.faces.detectors.centerface import CenterFace
    from pipeline.faces.settings import load_settings
    from pipeline.faces.tracking import FaceTracks

    detector = CenterFace()
    assert detector.model_pinned and detector.model_sha256 == PINNED_SHA256
    tracks = FaceTracks("1.mp4", 0.0, 10, [], 1.3, 15, detector.name, detector.model_sha256, False, {})
    report = redaction_report({"1.mp4": tracks}, load_settings("mosaic"))
    assert report["face_model"] == {"path": str(model_path()), "sha256": PINNED_SHA256, "pinned": True}


# -- cache folder -----------------------------------------------------------------------------------
def test_cache_dir_is_a_file(episode, tmp_path):
    bogus = tmp_path / "cache-file"
    bogus.write_text("not a folder")
    before = tree_hashes(episode)
    proc = cadre("render", episode, "-n", "tiktok", "--captions", "none", CADRE_CACHE_DIR=bogus)
    assert_one_error(proc, str(bogus), "is a file, not a folder", "CADRE_CACHE_DIR")
    assert_nothing_published(episode, before)


def test_cache_dir_read_only(episode, tmp_path, mount_tmpfs):
    ro = mount_tmpfs(tmp_path / "ro-cache", "ro,size=1m")
    before = tree_hashes(episode)
    proc = cadre("render", episode, "-n", "tiktok", "--captions", "none", CADRE_CACHE_DIR=ro)
    assert_one_error(proc, str(ro), "not writable (read-only file system)", "CADRE_CACHE_DIR")
    assert_nothing_published(episode, before)


def test_missing_cache_dir_is_created(tmp_path, monkeypatch):
    from pipeline.core.cache import cache_dir

    target = tmp_path / "new" / "cache"
    monkeypatch.setenv("CADRE_CACHE_DIR", str(target))
    assert cache_dir() == target and target.is_dir()


# -- ffmpeg -----------------------------------------------------------------------------------------
def test_ffmpeg_missing(episode, tmp_path):
    gone = tmp_path / "no-such-ffmpeg"
    before = tree_hashes(episode)
    proc = cadre("render", episode, "-n", "tiktok", "--captions", "none", CADRE_FFMPEG=gone)
    assert_one_error(proc, str(gone), "CADRE_FFMPEG does not exist", "unset it")
    assert_nothing_published(episode, before)


def test_ffmpeg_without_libass(episode, tmp_path):
    from pipeline.core.ffmpeg import ffmpeg_exe

    wrapper = tmp_path / "bin" / "ffmpeg"
    wrapper.parent.mkdir()
    wrapper.write_text(f"""#!/bin/sh
# the real ffmpeg, but its filter list hides libass (as a build without --enable-libass would)
for arg in "$@"; do
  if [ "$arg" = "-filters" ]; then
    "{ffmpeg_exe()}" "$@" | grep -v -E '^ *[A-Z.|]+ +(ass|subtitles) '
    exit 0
  fi
done
exec "{ffmpeg_exe()}" "$@"
""")
    wrapper.chmod(0o755)
    listing = subprocess.run([str(wrapper), "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    assert " loudnorm " in listing and " ass " not in listing and " subtitles " not in listing
    before = tree_hashes(episode)
    proc = cadre("render", episode, "-n", "tiktok", CADRE_FFMPEG=wrapper)
    assert_one_error(proc, str(wrapper), "lacks the `ass` filter", "unset CADRE_FFMPEG")
    assert_nothing_published(episode, before)


# -- a full disk ------------------------------------------------------------------------------------
def test_disk_fills_during_encode(tmp_path, mount_tmpfs):
    episode = tmp_path / "ep"
    make_clip(episode / "1.mp4", size="640x360", duration=4.0)
    out = mount_tmpfs(tmp_path / "small-disk", "size=2m")
    before = tree_hashes(episode)
    proc = cadre("render", episode, "-o", out, "-n", "tiktok", "--captions", "none", "--redact", "none")
    line = assert_one_error(proc, "is full (No space left on device)")
    assert str(out) in line, line
    assert list(out.iterdir()) == [], f"partial output left: {list(out.rglob('*'))}"
    assert tree_hashes(episode) == before
