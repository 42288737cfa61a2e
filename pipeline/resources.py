"""Find shipped data (``presets/``, ``assets/``) in a checkout or an installed wheel.

A unit's own presets (its branding, a house caption style) can live outside Cadre: a folder
named by ``CADRE_PRESETS`` with the same ``<kind>/<name>.toml`` layout is searched first.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import tomllib

from pipeline.errors import CadreError

_PKG = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def data_dir(name: str) -> Path:
    """Return the ``presets`` or ``assets`` folder, wherever Cadre is installed."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise CadreError(name, f"Cadre's {name}/ folder is missing; reinstall Cadre")


def preset_dirs(kind: str) -> list[Path]:
    """Where presets of one kind are looked up: ``$CADRE_PRESETS/<kind>`` first, then Cadre's own."""
    own = os.environ.get("CADRE_PRESETS", "").strip()
    return ([Path(own).expanduser() / kind] if own else []) + [data_dir("presets") / kind]


def preset_names(kind: str) -> list[str]:
    """Names of the TOML presets of one kind (``networks``, ``captions``, ``redaction``, ``branding``)."""
    return sorted({p.stem for d in preset_dirs(kind) for p in d.glob("*.toml") if not p.stem.startswith("_")})


def preset_path(kind: str, name: str) -> Path:
    for folder in preset_dirs(kind):
        path = folder / f"{name}.toml"
        if path.is_file() and "/" not in name and "\\" not in name:
            return path
    allowed = ", ".join(preset_names(kind)) or "none"
    raise CadreError(name, f"unknown {kind} preset '{name}'; choose one of: {allowed}")


def load_toml(path: Path) -> dict:
    """Parse a TOML file, turning syntax errors into one clear line."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CadreError(path, f"invalid TOML ({exc}); fix the syntax") from None
    except OSError as exc:
        raise CadreError(path, f"cannot read ({exc.strerror})") from None


def load_preset(kind: str, name: str) -> dict:
    return load_toml(preset_path(kind, name))


def asset_path(relative: str) -> Path:
    return data_dir("assets") / relative


def font_dir() -> Path:
    return asset_path("fonts")
