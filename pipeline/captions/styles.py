"""Caption styles: TOML presets in ``presets/captions/`` loaded into a validated :class:`CaptionStyle`.

A preset is a flat table of the fields below. A campaign, an episode or the command line can
override any field by name (``load_style("social", {"size": 90})``). Every value is checked, so a
typo or an out-of-range number fails with one line naming the key and the allowed values.
Sizes are pixels of the 1080x1920 master (ASS font size: the height of one text line).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PIL import ImageFont

from pipeline.captions.layout import LayoutRules
from pipeline.core.errors import CadreError
from pipeline.core.resources import font_dir, load_preset, preset_path
from pipeline.core.values import choice, colour, flag, number, wrong

POSITIONS = ("bottom", "middle", "top")
CASES = ("none", "upper", "lower")
_CHOICES = {"position": POSITIONS, "case": CASES}

# Numeric fields and their allowed ranges (inclusive); a field declared int takes whole numbers.
RANGES: dict[str, tuple[float, float]] = {
    "size": (20, 200),
    "min_size": (12, 200),
    "outline": (0, 20),
    "shadow": (0, 20),
    "box_padding": (0, 60),
    "offset": (0, 600),
    "max_chars_per_line": (6, 60),
    "max_lines": (1, 4),
    "max_words": (0, 40),
    "max_cps": (5, 40),
    "min_duration": (0.2, 5.0),
    "max_duration": (1.0, 15.0),
    "pause": (0.1, 3.0),
    "linger": (0.0, 3.0),
}


@dataclass(frozen=True)
class CaptionStyle:
    name: str
    font: str = "Roboto-Bold.ttf"       # a file in assets/fonts/
    size: int = 80
    min_size: int = 40                  # shrink a caption that cannot fit down to this first
    bold: bool = True
    case: str = "none"                  # none | upper | lower
    colour: str = "#FFFFFF"             # "#RRGGBB" or "#RRGGBBAA" (AA = opacity)
    karaoke: bool = False               # highlight the word being spoken
    highlight: str = "#FFD400"
    outline: float = 6.0
    outline_colour: str = "#000000"
    shadow: float = 0.0
    shadow_colour: str = "#00000080"
    box: bool = False                   # opaque box behind each line instead of an outline
    box_colour: str = "#000000B3"
    box_padding: float = 14.0
    position: str = "bottom"            # bottom | middle | top of the safe zone
    offset: int = 0                     # px inward from that edge of the safe zone
    max_chars_per_line: int = 18
    max_lines: int = 2
    max_words: int = 0                  # 0 = no limit
    max_cps: float = 20.0
    min_duration: float = 0.8
    max_duration: float = 4.0
    pause: float = 0.5                  # a gap this long between words ends a caption
    linger: float = 0.4                 # how long a caption may stay on into a silence

    @property
    def font_path(self) -> Path:
        return font_dir() / self.font

    @property
    def font_family(self) -> str:
        return ImageFont.truetype(str(self.font_path), 20).getname()[0]

    @property
    def rules(self) -> LayoutRules:
        return LayoutRules(max_chars_per_line=self.max_chars_per_line, max_lines=self.max_lines,
                           max_cps=self.max_cps, min_duration=self.min_duration,
                           max_duration=self.max_duration, max_words=self.max_words,
                           pause=self.pause, linger=self.linger)


_FIELDS = {f.name: f for f in fields(CaptionStyle) if f.name != "name"}


def _check(key: str, value, source) -> object:
    """One field's value, worded as every setting is (:mod:`pipeline.core.values`)."""
    if key in RANGES:
        return number(source, key, value, *RANGES[key], whole=_FIELDS[key].type == "int")
    if _FIELDS[key].type == "bool":
        return flag(source, key, value)
    if key in _CHOICES:
        return choice(source, key, value, _CHOICES[key])
    if key == "highlight" or key.endswith("colour"):
        return colour(source, key, value)
    if not isinstance(value, str):
        raise CadreError(source, wrong(key, f"{value!r} must be text"))
    return value


def _check_font(font: str, source) -> None:
    path = font_dir() / font
    if "/" in font or "\\" in font or not path.is_file():
        shipped = ", ".join(sorted(p.name for p in font_dir().glob("*.[ot]tf")))
        raise CadreError(source, wrong("font", f"{font!r} is not in {font_dir()}; put the font file there or use one "
                                               f"of: {shipped}"))
    try:
        ImageFont.truetype(str(path), 20)
    except OSError:
        raise CadreError(path, "is not a usable TrueType/OpenType font; replace the file") from None


def make_style(name: str, values: dict, source=None) -> CaptionStyle:
    """Validate ``values`` (preset fields) and build the style; ``source`` names the file in errors."""
    source = source or name
    checked = {}
    for key, value in values.items():
        if key not in _FIELDS:
            raise CadreError(source, wrong(key, f"unknown caption style key; allowed keys: {', '.join(_FIELDS)}"))
        checked[key] = _check(key, value, source)
    style = CaptionStyle(name=name, **checked)
    if style.min_size > style.size:
        raise CadreError(source, wrong("min_size", f"{style.min_size} must not exceed size ({style.size})"))
    if style.min_duration > style.max_duration:
        raise CadreError(source, wrong("min_duration", f"{style.min_duration:g} must not exceed max_duration "
                                                       f"({style.max_duration:g})"))
    _check_font(style.font, source)
    return style


def load_style(name: str, overrides: dict | None = None) -> CaptionStyle:
    """The preset ``presets/captions/<name>.toml`` with ``overrides`` (campaign, episode or CLI) applied.

    Unknown name, unknown key, bad value or missing font raise :class:`CadreError`.
    """
    values = load_preset("captions", name)
    source = preset_path("captions", name)
    style = make_style(name, values, source)
    if overrides:
        style = make_style(name, {**values, **overrides}, f"{source} (with overrides {sorted(overrides)})")
    return style
