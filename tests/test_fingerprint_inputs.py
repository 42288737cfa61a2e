"""One fingerprint of what is published (issue #13): each input, changed in turn, voids a sign-off
*and* makes the batch re-render; a file's modification time or an unrelated file does neither.

Every change here is a real change on disk (a clip re-ordered or trimmed, a preset file edited, a
logo or font replaced, other Whisper weights installed under the same name, another Cadre
version); the approval and the batch's record are made before it, from the real analysis.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline import approve
from pipeline.campaign.jobs import plan_episode
from pipeline.core.cache import cache_dir, sha256_file
from pipeline.core.errors import CadreError
from pipeline.core.resources import data_dir
from pipeline.orchestrator import RenderOptions, prepare
from pipeline.signoff.fingerprint import write_record
from pipeline.speech.models import store_dir
from tests.test_review_fixtures import face_clip, make_episode

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def house(tmp_path, monkeypatch):
    """A unit's own presets (``CADRE_PRESETS``): a caption style, a redaction, a branding with a logo
    and an intro still, and a TikTok preset, copied from Cadre's own so that they work."""
    presets = tmp_path / "house"
    for kind, src, dst in [("captions", "classic", "house"), ("redaction", "mosaic", "house"),
                           ("networks", "tiktok", "tiktok")]:
        (presets / kind).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir("presets") / kind / f"{src}.toml", presets / kind / f"{dst}.toml")
    (presets / "branding").mkdir()
    shutil.copyfile(data_dir("assets") / "logo.png", presets / "logo.png")
    shutil.copyfile(data_dir("assets") / "logo.png", presets / "intro.png")
    (presets / "branding" / "house.toml").write_text(
        f'intro = "{presets / "intro.png"}"\nstill_seconds = 1.0\n'
        f'[logo]\nfile = "{presets / "logo.png"}"\nwidth = 160\nposition = "top-right"\n', "utf-8")
    monkeypatch.setenv("CADRE_PRESETS", str(presets))
    return presets


@pytest.fixture
def episode(tmp_path, house):
    folder = make_episode(tmp_path / "campaign", toml='caption_style = "house"\nredaction = "house"\n'
                                                      'branding = "house"\n')
    face_clip(folder / "2.mp4", seconds=1.5)
    toml = (folder / "episode.toml").read_text("utf-8").replace('networks = ["tiktok", "youtube-shorts"]',
                                                                 'networks = ["tiktok"]')
    (folder / "episode.toml").write_text(toml + 'clips = ["1.mp4", {file = "2.mp4", start = 0.0, end = 1.2}]\n',
                                         "utf-8")
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def _append_byte(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\0")


def _other_whisper_weights(tmp_path: Path, monkeypatch) -> None:
    """The default model name installed again with other weights (one byte more) and a manifest
    that matches them, as a unit re-installing 'base' from another source would have."""
    src = store_dir() / "base"
    if not (src / "cadre-model.json").is_file():
        pytest.skip(f"the default Whisper model is not installed in {store_dir()} (run the demo once)")
    dst = tmp_path / "models" / "base"
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name not in ("model.bin", "cadre-model.json"):
            os.symlink(f, dst / f.name)
    shutil.copyfile(src / "model.bin", dst / "model.bin")
    _append_byte(dst / "model.bin")
    manifest = json.loads((src / "cadre-model.json").read_text("utf-8"))
    manifest["files"]["model.bin"] = sha256_file(dst / "model.bin")
    (dst / "cadre-model.json").write_text(json.dumps(manifest), "utf-8")
    monkeypatch.setenv("CADRE_MODELS_DIR", str(dst.parent))


def _other_font(tmp_path: Path, monkeypatch) -> None:
    """Cadre's assets with another caption font file under the same name (a re-installed font)."""
    import pipeline.signoff.fingerprint as fp

    assets = tmp_path / "assets"
    shutil.copytree(data_dir("assets"), assets)
    _append_byte(assets / "fonts" / "Roboto-Bold.ttf")
    real = fp.data_dir
    monkeypatch.setattr(fp, "data_dir", lambda name: assets if name == "assets" else real(name))


def _other_face_model(tmp_path: Path, monkeypatch) -> None:
    from pipeline.faces.detectors.centerface import model_path

    other = tmp_path / "other.onnx"
    shutil.copyfile(model_path(), other)
    _append_byte(other)
    monkeypatch.setenv("CADRE_FACE_MODEL", str(other))
    monkeypatch.setenv("CADRE_FACE_MODEL_SHA256", sha256_file(other))


def _other_version(tmp_path: Path, monkeypatch) -> None:
    import pipeline.signoff.fingerprint as fp

    monkeypatch.setattr(fp, "__version__", fp.__version__ + ".post1")


# (what changes, how, the part of the fingerprint the batch names)
CHANGES = [
    ("clip contents", lambda ep, t, m: _append_byte(ep / "1.mp4"), "clips"),
    ("clip order", lambda ep, t, m: _edit(ep / "episode.toml", 'clips = ["1.mp4", {file = "2.mp4", start = 0.0, end = 1.2}]',
                                          'clips = [{file = "2.mp4", start = 0.0, end = 1.2}, "1.mp4"]'), "clips"),
    ("clip trim", lambda ep, t, m: _edit(ep / "episode.toml", "end = 1.2", "end = 1.4"), "clips"),
    ("caption file", lambda ep, t, m: _edit(ep / "1.fr.srt", "Dupond", "Dupont"), "edits"),
    ("masks.toml", lambda ep, t, m: (ep / "masks.toml").write_text(
        '[[mask]]\nclip = "1.mp4"\nregion = [0.1, 0.1, 0.3, 0.3]\n', "utf-8"), "edits"),
    ("episode.toml setting", lambda ep, t, m: _edit(ep / "episode.toml", 'title = "Revue"', 'title = "Revue 2"'),
     "settings"),
    ("campaign.toml setting", lambda ep, t, m: (ep.parent / "campaign.toml").write_text('bleep = ["Lilas"]\n', "utf-8"),
     "settings"),
    ("caption style preset", lambda ep, t, m: _edit(t / "house" / "captions" / "house.toml", "size = 60", "size = 62"),
     "presets"),
    ("redaction preset", lambda ep, t, m: _edit(t / "house" / "redaction" / "house.toml", "mosaic_blocks = 7",
                                                "mosaic_blocks = 6"), "redaction"),
    ("branding preset", lambda ep, t, m: _edit(t / "house" / "branding" / "house.toml", "width = 160", "width = 150"),
     "presets"),
    ("logo file", lambda ep, t, m: _append_byte(t / "house" / "logo.png"), "presets"),
    ("intro file", lambda ep, t, m: _append_byte(t / "house" / "intro.png"), "presets"),
    ("caption font", lambda ep, t, m: _other_font(t, m), "presets"),
    ("network preset", lambda ep, t, m: _edit(t / "house" / "networks" / "tiktok.toml", "max_duration_s = 600",
                                              "max_duration_s = 180"), "presets"),
    ("Whisper weights", lambda ep, t, m: _other_whisper_weights(t, m), "asr_model"),
    ("face model", lambda ep, t, m: _other_face_model(t, m), "face_model"),
    ("Cadre version", lambda ep, t, m: _other_version(t, m), "cadre"),
]


def _batch_plan(episode: Path, out: Path):
    return plan_episode(episode, RenderOptions(out_dir=out), False, str(cache_dir()))


@pytest.mark.parametrize("what, change, part", CHANGES, ids=[c[0] for c in CHANGES])
def test_each_input_voids_the_approval_and_re_renders(episode, tmp_path, monkeypatch, what, change, part):
    out = tmp_path / "out"
    approve(episode, "Cne Martin")
    before = _batch_plan(episode, out)
    assert not before.error, before.error
    write_record(out, before.name, "tiktok", before.fingerprint, before.inputs, [], 1.0)
    prepare(episode, RenderOptions(require_approval=True))          # unchanged: accepted

    change(episode, tmp_path, monkeypatch)

    with pytest.raises(CadreError, match="changed since Cne Martin approved it"):
        prepare(episode, RenderOptions(require_approval=True))
    after = _batch_plan(episode, out)
    assert after.fingerprint != before.fingerprint, what
    assert part in after.stale.get("tiktok", ""), (what, after.stale)


def test_nothing_else_voids_the_approval_or_re_renders(episode, tmp_path):
    """Modification times, an unrelated file in the episode or campaign folder: the same fingerprint."""
    out = tmp_path / "out"
    approve(episode, "Cne Martin")
    before = _batch_plan(episode, out)
    write_record(out, before.name, "tiktok", before.fingerprint, before.inputs, [], 1.0)
    for f in ("1.mp4", "2.mp4", "1.fr.srt", "episode.toml"):
        os.utime(episode / f, (7, 7))
    (episode / "notes.txt").write_text("tournage du 12\n", "utf-8")
    (episode / "2.fr.txt").write_text("brouillon\n", "utf-8")
    (episode.parent / "planning.xlsx").write_bytes(b"PK\0\0")
    prepare(episode, RenderOptions(require_approval=True))
    after = _batch_plan(episode, out)
    assert after.fingerprint == before.fingerprint
    assert "changed" not in after.stale.get("tiktok", "")
