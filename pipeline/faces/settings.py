"""Face redaction presets (``presets/redaction/*.toml``): how faces are found and how they are masked.

A preset is a flat table of the fields of :class:`RedactionSettings`; every value is checked in the
words of every setting (:mod:`pipeline.core.values`). Its analysis fields (:meth:`analysis_key`)
change the face analysis's cache key (``analysis.py``); the others only the look of the masks.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.resources import load_preset, preset_names, preset_path
from pipeline.core.values import choice, flag, number, wrong

METHODS = ("mosaic", "solid", "blur", "none")
SHAPES = ("rect", "ellipse")
ELLIPSE_MIN_PAD = 1.85      # the inscribed ellipse of a 1.85x box holds the face box padded 1.3x


@dataclass(frozen=True)
class RedactionSettings:
    """One redaction preset. Analysis fields change the cache key; the others only the look."""

    name: str = "mosaic"
    method: str = "mosaic"          # mosaic | solid | blur | none
    shape: str = "rect"             # rect | ellipse (inscribed in the padded box; needs pad >= 1.85)
    threshold: float = 0.3          # detector score to accept a face
    pad: float = 1.5                # box scale around the face, at least 1.3
    extend_frames: int = 15         # frames masked before the first and after the last detection
    detect_every: int = 1           # run the whole-frame detector on every k-th frame
    tile_every: int = 15            # run the tiled small-face pass on every n-th frame (revisit.py between)
    min_face_px: int = 20           # smallest face, in 1080x1920 output pixels, that must be found
    analysis_width: int = 640       # whole-frame pass: about 640x360 pixels (360x640 if vertical)
    detector: str = "centerface"
    mosaic_blocks: int = 7          # mosaic cells across the box's longer side (fewer = coarser)
    blur_strength: float = 0.3      # blur cell size as a share of the box; floor 0.2
    color: tuple[int, int, int] = (0, 0, 0)   # solid fill (RGB)
    plates: bool = False            # find number plates automatically (no offline detector: refused)

    def analysis_key(self) -> dict:
        return {k: getattr(self, k) for k in ("detector", "threshold", "detect_every", "tile_every",
                                               "min_face_px", "analysis_width")}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["color"] = list(self.color)
        return d


# No number-plate detector was found that ships its weights inside a wheel under an MIT/BSD/Apache
# licence and runs offline (fast-alpr and open-image-models download their models at run time, which
# this tool never does). Until one is, plates = true is refused: masking fails closed, never skips.
NO_PLATE_DETECTOR = ("no number-plate detector can run offline here, so plates cannot be found automatically; "
                     "set plates = false and mask each plate with a moving [[mask]] region in masks.toml")

_RANGES = {
    "threshold": (0.05, 0.9), "pad": (1.3, 3.0), "extend_frames": (0, 150), "detect_every": (1, 6),
    "tile_every": (1, 30), "min_face_px": (8, 400), "analysis_width": (320, 1920),
    "mosaic_blocks": (3, 12), "blur_strength": (0.2, 1.0),
}
_CHOICES = {"method": METHODS, "shape": SHAPES, "detector": ("centerface",)}


def settings_from_dict(data: dict, source: str | Path, name: str | None = None) -> RedactionSettings:
    """Validate a preset (or overrides of one) and build the settings; errors name the file and the key
    in the words of every setting (:mod:`pipeline.core.values`)."""
    types = {f.name: f.type for f in fields(RedactionSettings) if f.name != "name"}
    values: dict = {}
    for key, value in data.items():
        if key not in types:
            raise CadreError(source, wrong(key, f"unknown redaction key; allowed keys: {', '.join(sorted(types))}"))
        if key in _CHOICES:
            value = choice(source, key, value, _CHOICES[key])
        elif key in _RANGES:
            value = number(source, key, value, *_RANGES[key], whole=types[key] == "int")
        elif key == "plates":
            value = flag(source, key, value)
        elif key == "color":
            if (not isinstance(value, (list, tuple)) or len(value) != 3
                    or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)):
                raise CadreError(source, wrong(key, f"{value!r} is not allowed; use three whole numbers 0-255, "
                                                    "e.g. [0, 0, 0]"))
            value = tuple(value)
        values[key] = value
    settings = RedactionSettings(name=name or str(values.get("method", "mosaic")), **values)
    if settings.shape == "ellipse" and settings.pad < ELLIPSE_MIN_PAD:
        raise CadreError(source, wrong("pad", f"{settings.pad} is too small for shape = \"ellipse\": the ellipse inside "
                                              f"a box padded {settings.pad}x covers only the face box padded "
                                              f"{settings.pad / math.sqrt(2):.2f}x; use pad >= {ELLIPSE_MIN_PAD} or "
                                              "shape = \"rect\""))
    if settings.plates:
        raise CadreError(source, wrong("plates", f"true: {NO_PLATE_DETECTOR}"))
    if settings.tile_every % settings.detect_every:
        raise CadreError(source, wrong("tile_every", f"{settings.tile_every} must be a multiple of "
                                                     f"detect_every ({settings.detect_every})"))
    return settings


def load_settings(name: str = "mosaic", **overrides) -> RedactionSettings:
    """Settings of preset ``name`` (``presets/redaction/<name>.toml``), with optional key overrides."""
    if name not in preset_names("redaction"):
        raise CadreError(name, f"unknown redaction preset '{name}'; choose one of: {', '.join(preset_names('redaction'))}")
    data = load_preset("redaction", name)
    data.update(overrides)
    return settings_from_dict(data, preset_path("redaction", name), name=name)

