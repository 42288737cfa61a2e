"""Find shipped data (``presets/``, ``assets/``) in a checkout or an installed wheel.

A unit's own presets (its branding, a house caption style) can live outside Cadre: a folder
named by ``CADRE_PRESETS`` with the same ``<kind>/<name>.toml`` layout is searched first.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import tomllib

from pipeline.core.errors import CadreError
from pipeline.core.textfile import read_text

_PKG = Path(__file__).resolve().parent.parent   # the pipeline package (this file is pipeline/core/resources.py)


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
    """Parse a TOML file, turning syntax errors, text that is not UTF-8 (textfile.py) and the
    non-numbers TOML allows (``nan``, ``inf``) into one clear line."""
    text = read_text(path)
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise CadreError(path, f"invalid TOML ({exc}); fix the syntax") from None
    bad = _non_finite(data)
    if bad is not None:
        key, value = bad
        raise CadreError(path, f"key '{key}': {value} is not a number Cadre can use (nan and inf are refused); "
                               "write a finite number")
    return data


def _non_finite(value, key: str = "") -> tuple[str, float] | None:
    """The first ``nan``/``inf`` in parsed TOML, with its dotted key (lists numbered from 1)."""
    if isinstance(value, float) and not math.isfinite(value):
        return key, value
    items = value.items() if isinstance(value, dict) else (
        ((f"#{i}", v) for i, v in enumerate(value, 1)) if isinstance(value, list) else ())
    for k, v in items:
        found = _non_finite(v, f"{key} {k}" if str(k).startswith("#") else (f"{key}.{k}" if key else str(k)))
        if found is not None:
            return found
    return None


def load_preset(kind: str, name: str) -> dict:
    return load_toml(preset_path(kind, name))


def asset_path(relative: str) -> Path:
    return data_dir("assets") / relative


def font_dir() -> Path:
    return asset_path("fonts")
