"""Branding: an optional logo or watermark and an optional title card, from ``presets/branding/``.

Both are drawn once with Pillow into small RGBA PNGs (cached by content) and laid over the video by
ffmpeg in the render pass, always inside the safe rectangle of every network being rendered.
Optional intro/outro files (a clip, or a still shown for ``still_seconds``) are validated here and
joined to the episode by ``bumpers.py``; the logo and title card stay off them.

Preset layout::

    [logo]                   # omit the table for no logo
    file = "logo.png"        # in assets/, or an absolute path
    width = 200              # px
    position = "top-right"   # top-left | top-right | bottom-left | bottom-right
    margin = 16              # px inside the safe zone
    opacity = 0.85

    [title]                  # omit the table for no title card
    seconds = 2.5
    size = 72
    colour = "#FFFFFF"
    box_colour = "#000000B3"
    position = "middle"      # top | middle | bottom
    text = ""                # fallback when the episode has no title

    intro = ""               # optional clip or still image in assets/, before the episode
    outro = ""               # after it
    still_seconds = 2.0      # how long a still intro/outro is shown
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from pipeline.core.cache import atomic_write_bytes, cache_dir
from pipeline.core.errors import CadreError
from pipeline.core.geometry import OUTPUT
from pipeline.core.resources import asset_path, font_dir, load_preset, preset_path
from pipeline.core.values import choice, colour, number, wrong

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
PLACES = ("top", "middle", "bottom")
TITLE_FONT = "Roboto-Bold.ttf"


@dataclass(frozen=True)
class Logo:
    path: Path
    width: int = 200
    position: str = "top-right"
    margin: int = 16
    opacity: float = 0.85


@dataclass(frozen=True)
class TitleCard:
    seconds: float = 2.5
    size: int = 72
    colour: str = "#FFFFFF"
    box_colour: str = "#000000B3"
    position: str = "middle"
    text: str = ""


@dataclass(frozen=True)
class Branding:
    name: str
    logo: Logo | None = None
    title: TitleCard | None = None
    intro: Path | None = None
    outro: Path | None = None
    still_seconds: float = 2.0


# ---------------------------------------------------------------- loading

def _number(table: dict, where: str, key: str, lo: float, hi: float, default, source, whole=False):
    return number(source, where + key, table.get(key, default), lo, hi, whole)


def _unknown(table: dict, allowed: set, where: str, source) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise CadreError(source, wrong(where + extra[0], f"unknown key; allowed keys: {', '.join(sorted(allowed))}"))


def _asset(value, key: str, source) -> Path:
    if not isinstance(value, str) or not value:
        raise CadreError(source, wrong(key, f"{value!r} must be a file name in assets/ or an absolute path"))
    path = Path(value) if Path(value).is_absolute() else asset_path(value)
    if not path.is_file():
        raise CadreError(source, wrong(key, f"{value!r} is not a file (looked for {path}); add it or fix the name"))
    return path


def check_image(path: Path, what: str = "logo") -> tuple[int, int]:
    """Size of the image at ``path``; CadreError if it is not an image Pillow can read."""
    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            im.load()
            return im.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CadreError(path, f"the {what} is not a readable image ({exc.__class__.__name__}); "
                               "use a PNG (with transparency) or JPEG file") from None


def make_branding(name: str, data: dict, source=None) -> Branding:
    source = source or name
    _unknown(data, {"logo", "title", "intro", "outro", "still_seconds"}, "", source)
    logo = title = None
    if "logo" in data:
        t = data["logo"]
        _unknown(t, {"file", "width", "position", "margin", "opacity"}, "logo.", source)
        path = _asset(t.get("file"), "logo.file", source)
        check_image(path)
        logo = Logo(path, _number(t, "logo.", "width", 16, 1000, 200, source, True),
                    choice(source, "logo.position", t.get("position", "top-right"), CORNERS),
                    _number(t, "logo.", "margin", 0, 300, 16, source, True),
                    _number(t, "logo.", "opacity", 0.05, 1.0, 0.85, source))
    if "title" in data:
        t = data["title"]
        _unknown(t, {"seconds", "size", "colour", "box_colour", "position", "text"}, "title.", source)
        text = t.get("text", "")
        if not isinstance(text, str):
            raise CadreError(source, wrong("title.text", f"{text!r} must be text"))
        title = TitleCard(_number(t, "title.", "seconds", 0.5, 10, 2.5, source),
                          _number(t, "title.", "size", 24, 160, 72, source, True),
                          colour(source, "title.colour", t.get("colour", "#FFFFFF")),
                          colour(source, "title.box_colour", t.get("box_colour", "#000000B3")),
                          choice(source, "title.position", t.get("position", "middle"), PLACES), text)
    intro = _asset(data["intro"], "intro", source) if data.get("intro") else None
    outro = _asset(data["outro"], "outro", source) if data.get("outro") else None
    return Branding(name, logo, title, intro, outro, _number(data, "", "still_seconds", 0.5, 10, 2.0, source))


def load_branding(name: str) -> Branding:
    """The preset ``presets/branding/<name>.toml``; CadreError on an unknown name or a bad value."""
    return make_branding(name, load_preset("branding", name), preset_path("branding", name))


# ---------------------------------------------------------------- drawing

def _rgba(hex_colour: str) -> tuple[int, int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), int(h[6:8], 16) if len(h) == 8 else 255


def _cached_png(image: Image.Image, *key) -> Path:
    path = cache_dir() / "branding" / (hashlib.sha256(repr(key).encode()).hexdigest()[:24] + ".png")
    if not path.is_file():
        from io import BytesIO

        buf = BytesIO()
        image.save(buf, "PNG")
        atomic_write_bytes(path, buf.getvalue())
    return path


def _safe_rect(safe, size) -> tuple[int, int, int, int]:
    left, top, right, bottom = safe
    return left, top, size[0] - right, size[1] - bottom


def logo_image(logo: Logo, safe, size=OUTPUT.size) -> tuple[Image.Image, tuple[int, int]]:
    """The logo scaled and faded, and its top-left position inside the safe zone."""
    x0, y0, x1, y1 = _safe_rect(safe, size)
    check_image(logo.path)
    with Image.open(logo.path) as im:
        im = im.convert("RGBA")
    width = min(logo.width, x1 - x0 - 2 * logo.margin)
    height = max(1, round(im.height * width / im.width))
    if height > (y1 - y0) - 2 * logo.margin:
        height = (y1 - y0) - 2 * logo.margin
        width = max(1, round(im.width * height / im.height))
    im = im.resize((width, height), Image.LANCZOS)
    alpha = im.getchannel("A").point(lambda a: round(a * logo.opacity))
    im.putalpha(alpha)
    x = x0 + logo.margin if logo.position.endswith("left") else x1 - logo.margin - width
    y = y0 + logo.margin if logo.position.startswith("top") else y1 - logo.margin - height
    return im, (x, y)


def _wrap(text: str, font: ImageFont.FreeTypeFont, limit: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(lines[-1] + " " + word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def title_image(card: TitleCard, text: str, safe, size=OUTPUT.size) -> tuple[Image.Image, tuple[int, int]]:
    """The title card (text on a rounded box) and its top-left position inside the safe zone."""
    x0, y0, x1, y1 = _safe_rect(safe, size)
    pad = round(card.size * 0.45)
    limit = x1 - x0 - 2 * pad
    font_size = card.size
    while True:
        font = ImageFont.truetype(str(font_dir() / TITLE_FONT), font_size)
        lines = _wrap(" ".join(text.split()), font, limit)
        widest = max(font.getlength(line) for line in lines)
        line_h = round(font_size * 1.2)
        if (widest <= limit and len(lines) <= 3 and len(lines) * line_h + 2 * pad <= y1 - y0) or font_size <= 12:
            break
        font_size -= 2
    w = round(min(widest, limit)) + 2 * pad
    h = len(lines) * line_h + 2 * pad
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=pad, fill=_rgba(card.box_colour))
    for i, line in enumerate(lines):
        draw.text((w / 2, pad + i * line_h + line_h / 2), line, font=font, fill=_rgba(card.colour), anchor="mm")
    x = x0 + (x1 - x0 - w) // 2
    y = {"top": y0, "middle": y0 + (y1 - y0 - h) // 2, "bottom": y1 - h}[card.position]
    return im, (x, y)


# ---------------------------------------------------------------- ffmpeg

def overlay(stream, branding: Branding, safe: tuple[int, int, int, int], window: tuple[float, float],
            title: str | None = None, size: tuple[int, int] = OUTPUT.size):
    """Lay the logo (the episode's clips) and the title card (their first seconds) over an
    ffmpeg-python stream. ``window`` is where the episode's own clips lie on the timeline, between
    the intro and the outro (which carry their own branding).

    ``title`` is the episode title; without it the preset's ``title.text`` is used, if any.
    """
    start, end = window
    if branding.logo:
        im, (x, y) = logo_image(branding.logo, safe, size)
        png = _cached_png(im, "logo", branding.logo, branding.logo.path.stat().st_mtime_ns, safe, size)
        stream = ffmpeg.overlay(stream, ffmpeg.input(str(png)), x=x, y=y, eof_action="repeat",
                                enable=f"between(t,{start:.3f},{end:.3f})")
    text = (title or (branding.title.text if branding.title else "")).strip()
    if branding.title and text:
        im, (x, y) = title_image(branding.title, text, safe, size)
        png = _cached_png(im, "title", branding.title, text, safe, size)
        stop = min(start + branding.title.seconds, end)
        stream = ffmpeg.overlay(stream, ffmpeg.input(str(png)), x=x, y=y, eof_action="repeat",
                                enable=f"between(t,{start:.3f},{stop:.3f})")
    return stream
