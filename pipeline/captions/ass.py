"""Burned-in captions: an ASS file written with pysubs2, drawn by ffmpeg's libass.

* PlayResX/Y equal the output size, so every number in the style is a pixel of the master.
* Each caption is positioned with ``\\an`` + ``\\pos`` inside the *safe rectangle*: the frame minus
  the union of the interface margins of every network rendered, so one master serves them all.
* Lines are broken by Cadre, not libass (WrapStyle 2). Before writing, each caption is measured
  with Pillow and the shipped font, using libass's own size convention (an ASS font size is the
  font's Windows ascent + descent). A caption wider or taller than the safe rectangle is first
  re-wrapped, then shrunk with ``\\fs``; it is never cut off. Shrunk captions are reported.
* Transcript text is escaped: braces and backslashes show literally and never start override tags.
* Karaoke styles write one event per spoken word, with that word in the highlight colour.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import pysubs2
from PIL import ImageFont

from pipeline.captions import typography
from pipeline.captions.glyphs import EMOJI_FONT, Coverage
from pipeline.captions.layout import Caption, chunk_text, layout, person_timed, wrap
from pipeline.captions.pacing import clip_to, pace
from pipeline.captions.styles import CaptionStyle
from pipeline.captions.words import caption_language
from pipeline.core.cache import atomic_write_text
from pipeline.core.errors import CadreError
from pipeline.core.geometry import OUTPUT
from pipeline.core.resources import font_dir
from pipeline.speech.transcript import Word

WORD_JOINER = "\u2060"      # zero-width, invisible: keeps "\" from pairing with the next character
GUARD = 4                   # px kept free between ink and the safe rectangle (hinting, bearings)
FLOOR_SIZE = 10             # smallest font size Cadre will shrink to


# ---------------------------------------------------------------- escaping

def escape(text: str) -> str:
    """Make transcript text literal for libass: ``{`` ``}`` and ``\\`` never act as tags."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\" + WORD_JOINER)
        elif ch in "{}":
            out.append("\\" + ch)
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def ass_colour(hex_colour: str) -> pysubs2.Color:
    """``#RRGGBB[AA]`` (AA = opacity) to a pysubs2 colour (ASS alpha is transparency)."""
    h = hex_colour.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    opacity = int(h[6:8], 16) if len(h) == 8 else 255
    return pysubs2.Color(r, g, b, 255 - opacity)


def _tag_colour(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return f"&H{h[4:6]}{h[2:4]}{h[0:2]}&".upper()


# ---------------------------------------------------------------- measuring

def _os2_em_ratio(path: Path) -> float:
    """units_per_em / (usWinAscent + usWinDescent): libass maps an ASS size to this many em."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        upm = font["head"].unitsPerEm
        os2 = font["OS/2"] if "OS/2" in font else None
        height = os2.usWinAscent + os2.usWinDescent if os2 is not None else 0
    return upm / height if height else 1.0


class Measure:
    """Text widths in pixels as libass will draw them, from the shipped font files.

    Characters in ``fallback_chars`` (emoji the caption font lacks) are measured with the
    ``fallback`` font, as :func:`font_runs` makes libass draw them.
    """

    def __init__(self, font_path: Path, fallback: Path | None = None, fallback_chars: frozenset[int] = frozenset()):
        self.path = font_path
        self.em = _os2_em_ratio(font_path)
        self.fallback = fallback
        self.fallback_chars = fallback_chars if fallback is not None else frozenset()
        self.fallback_em = _os2_em_ratio(fallback) if fallback is not None else 1.0

    @lru_cache(maxsize=64)
    def _font(self, size: float, fallback: bool = False) -> ImageFont.FreeTypeFont:
        if fallback:
            return ImageFont.truetype(str(self.fallback), size * self.fallback_em)
        return ImageFont.truetype(str(self.path), size * self.em)

    def width(self, text: str, size: float) -> float:
        return sum(self._font(size, fb).getlength(run) for run, fb in font_runs(text, self.fallback_chars))


def font_runs(text: str, fallback_chars: frozenset[int]) -> list[tuple[str, bool]]:
    """``text`` cut into runs, each with True when the fallback (emoji) font draws it."""
    runs: list[tuple[str, bool]] = []
    for ch in text:
        fb = ord(ch) in fallback_chars
        if runs and runs[-1][1] == fb:
            runs[-1] = (runs[-1][0] + ch, fb)
        else:
            runs.append((ch, fb))
    return runs


# ---------------------------------------------------------------- placement

@dataclass(frozen=True)
class Box:
    """The area text may use, in pixels of the frame."""
    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


def text_box(style: CaptionStyle, safe: tuple[int, int, int, int], size: tuple[int, int]) -> Box:
    """The safe rectangle shrunk by the ink a style adds around glyphs (outline or box, shadow)."""
    left, top, right, bottom = safe
    pad = (style.box_padding if style.box else style.outline) + GUARD
    return Box(left + pad, top + pad, size[0] - right - pad - style.shadow, size[1] - bottom - pad - style.shadow)


@dataclass
class Placed:
    caption: Caption
    lines: list[list[tuple[int, str]]]     # per line: (word index in the caption, display text)
    size: int
    shrunk: bool


def _display_words(caption: Caption, style: CaptionStyle, language: str) -> list[str]:
    out = []
    for w in caption.words:
        text = typography.apply(w.word, language)
        if style.case == "upper":
            text = text.upper()
        elif style.case == "lower":
            text = text.lower()
        out.append(text)
    return out


def _split_long(word: str, measure: Measure, size: int, limit: float) -> list[str]:
    """Cut a single token wider than the frame into pieces that fit (last resort)."""
    pieces, cur = [], ""
    for ch in word:
        if cur and measure.width(cur + ch, size) > limit:
            pieces.append(cur)
            cur = ""
        cur += ch
    return [*pieces, cur] if cur else pieces


Unit = list[tuple[int, str]]     # (word index in the caption, display text) kept on one line


def place(caption: Caption, style: CaptionStyle, box: Box, measure: Measure, language: str) -> Placed:
    """Choose lines and font size so the caption fits ``box``.

    In order: the layout's lines; a pixel re-wrap; shrinking down to ``min_size``; more lines
    (first keeping names and numbers whole, then at any space); finally cutting over-long tokens
    and shrinking below ``min_size``. Never cut off.
    """
    texts = _display_words(caption, style, language)
    chunk_units: list[Unit] = []
    space_units: list[Unit] = []
    i = 0
    for chunk in caption.chunks:
        idx = range(i, i + len(chunk))
        chunk_units.append([(j, texts[j]) for j in idx])
        space_units.extend([(j, piece)] for j in idx for piece in texts[j].split(" ") if piece)
        i += len(chunk)

    def cut_units(size: int) -> list[Unit]:
        return [[(j, piece)] for unit in space_units for j, text in unit
                for piece in _split_long(text, measure, size, box.width)]

    def attempt(units: list[Unit], size: int, max_lines: int, starts=None):
        unit_text = [" ".join(t for _, t in u) for u in units]
        starts = starts or wrap(unit_text, lambda t: measure.width(t, size), box.width, max_lines)
        if starts is None:
            return None
        bounds = [*starts, len(units)]
        lines = [[pair for u in units[a:b] for pair in u] for a, b in zip(bounds, bounds[1:])]
        too_wide = any(measure.width(" ".join(t for _, t in line), size) > box.width for line in lines)
        if too_wide or len(lines) * size > box.height:
            return None
        return lines

    def most_lines(size: int) -> int:
        return max(1, int(box.height // size))

    size = style.size
    lines = attempt(chunk_units, size, style.max_lines, caption.line_starts) or \
        attempt(chunk_units, size, style.max_lines)
    if lines:
        return Placed(caption, lines, size, False)
    for s in range(style.size - 1, style.min_size - 1, -1):
        lines = attempt(chunk_units, s, style.max_lines)
        if lines:
            return Placed(caption, lines, s, True)
    s = style.min_size
    for units in (chunk_units, space_units, cut_units(s)):
        lines = attempt(units, s, most_lines(s))
        if lines:
            return Placed(caption, lines, s, True)
    for s in range(style.min_size - 1, FLOOR_SIZE - 1, -1):
        lines = attempt(cut_units(s), s, most_lines(s))
        if lines:
            return Placed(caption, lines, s, True)
    return Placed(caption, [[pair] for unit in cut_units(FLOOR_SIZE) for pair in unit], FLOOR_SIZE, True)


# ---------------------------------------------------------------- writing

def _family(path: Path) -> str:
    return ImageFont.truetype(str(path), 20).getname()[0]


def _anchor(style: CaptionStyle, box: Box, n_lines: int, size: int) -> tuple[int, int, int]:
    """(\\an alignment, x, y) of a block of ``n_lines`` lines, kept entirely inside ``box``."""
    x = round((box.left + box.right) / 2)
    block = n_lines * size
    if style.position == "top":
        y = min(box.top + style.offset, box.bottom - block)
        return 8, x, round(y)
    if style.position == "middle":
        centre = (box.top + box.bottom) / 2 + style.offset
        centre = min(max(centre, box.top + block / 2), box.bottom - block / 2)
        return 5, x, round(centre)
    y = max(box.bottom - style.offset, box.top + block)
    return 2, x, round(y)


def _ass_style(style: CaptionStyle) -> pysubs2.SSAStyle:
    return pysubs2.SSAStyle(
        fontname=style.font_family, fontsize=style.size, bold=style.bold,
        primarycolor=ass_colour(style.colour), secondarycolor=ass_colour(style.highlight),
        outlinecolor=ass_colour(style.box_colour if style.box else style.outline_colour),
        backcolor=ass_colour(style.shadow_colour),
        borderstyle=3 if style.box else 1,
        outline=style.box_padding if style.box else style.outline, shadow=style.shadow,
        alignment=pysubs2.Alignment.BOTTOM_CENTER, marginl=0, marginr=0, marginv=0)


@dataclass(frozen=True)
class Fonts:
    """How to switch to the emoji font and back inside a caption line."""
    family: str                             # the caption font's family name
    fallback_family: str = ""
    fallback_chars: frozenset[int] = frozenset()

    def text(self, raw: str) -> str:
        """Escaped ``raw`` with each emoji run set in the fallback font: {\\fnNoto Emoji}🚨{\\fnRoboto}."""
        out = []
        for run, fb in font_runs(raw, self.fallback_chars):
            run = escape(run)
            out.append("{\\fn" + self.fallback_family + "}" + run + "{\\fn" + self.family + "}" if fb else run)
        return "".join(out)


def _line_text(line: list[tuple[int, str]], style: CaptionStyle, current: int | None,
               fonts: Fonts | None = None) -> str:
    parts = []
    for j, text in line:
        text = fonts.text(text) if fonts is not None else escape(text)
        if current is not None and j == current:
            text = "{\\1c" + _tag_colour(style.highlight) + "}" + text + "{\\1c" + _tag_colour(style.colour) + "}"
        parts.append(text)
    return " ".join(parts)


def _events(placed: Placed, style: CaptionStyle, box: Box, fonts: Fonts | None = None) -> list[pysubs2.SSAEvent]:
    cap = placed.caption
    an, x, y = _anchor(style, box, len(placed.lines), placed.size)
    head = f"{{\\an{an}\\pos({x},{y})" + (f"\\fs{placed.size}" if placed.size != style.size else "") + "}"

    def text(current):
        return head + "\\N".join(_line_text(line, style, current, fonts) for line in placed.lines)

    ms = lambda t: int(round(t * 1000))  # noqa: E731
    if not style.karaoke:
        return [pysubs2.SSAEvent(start=ms(cap.start), end=ms(cap.end), style="Caption", text=text(None))]
    words = cap.words
    events = []
    for j in range(len(words)):
        a = cap.start if j == 0 else max(words[j].start, cap.start)
        b = cap.end if j + 1 == len(words) else min(words[j + 1].start, cap.end)
        if ms(b) - ms(a) >= 10:
            events.append(pysubs2.SSAEvent(start=ms(a), end=ms(b), style="Caption", text=text(j)))
    return events


def write_ass(words: Sequence[Word], style: CaptionStyle, safe: tuple[int, int, int, int], path: Path,
              size: tuple[int, int] = OUTPUT.size, language: str | None = "fr",
              duration: float | None = None) -> dict:
    """Lay out ``words`` (seconds on the episode timeline, which lasts ``duration``) and write the
    ASS file to ``path``. Captions a person timed keep their cue's times (``layout.py``).

    ``safe`` is (left, top, right, bottom) margins in pixels. Returns a report:
    ``{"events": int, "captions": int, "size": [w, h], "shrunk": [{"start", "end", "text", "size", "style_size"}],
    "paced": [...], "left_out_glyphs": [...], "warning": str | None}``: ``paced`` lists the captions
    extended or moved to keep the style's ``max_cps`` and ``min_duration`` (``pacing.py``);
    ``left_out_glyphs`` the characters no shipped font can draw (``glyphs.py``).
    """
    box = text_box(style, safe, size)
    if box.width < style.size or box.height < style.min_size:
        raise CadreError(path, f"the safe zone {safe} leaves no room for captions in a {size[0]}x{size[1]} frame; "
                               "render fewer networks together or use smaller margins")
    emoji = font_dir() / EMOJI_FONT
    coverage = Coverage(style.font_path, emoji if emoji.is_file() else None)
    extra = coverage.fallback_chars()
    measure = Measure(style.font_path, coverage.fallback, extra)
    fonts = Fonts(style.font_family, _family(coverage.fallback) if coverage.fallback else "", extra)
    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(size[0]), "PlayResY": str(size[1]), "WrapStyle": "2",
                      "ScaledBorderAndShadow": "yes", "Title": "Cadre captions"})
    subs.styles.clear()
    subs.styles["Caption"] = _ass_style(style)
    shrunk = []
    words = [replace(w, word=text) for w in words if (text := coverage.drawable(w.word, w.start, w.cue)).strip()]
    captions = layout(words, style.rules, caption_language(language))
    paced = pace(captions, [" ".join(c.line_texts) for c in captions], style.max_cps, style.min_duration,
                 [person_timed(c) for c in captions])
    captions = clip_to(captions, duration)
    for cap in captions:
        placed = place(cap, style, box, measure, language)
        if placed.shrunk:
            shrunk.append({"start": round(cap.start, 3), "end": round(cap.end, 3),
                           "text": " ".join(chunk_text(c) for c in cap.chunks),
                           "size": placed.size, "style_size": style.size})
        subs.events.extend(_events(placed, style, box, fonts))
    atomic_write_text(Path(path), subs.to_string("ass"))
    return {"events": len(subs.events), "captions": len(captions), "size": list(size), "shrunk": shrunk,
            "paced": paced, "left_out_glyphs": coverage.report(), "warning": coverage.warning()}


def burn(stream, ass_path: Path):
    """Draw the captions of ``ass_path`` on an ffmpeg-python video stream with libass.

    ``fontsdir`` points at Cadre's shipped fonts, so captions draw even with no system fonts.
    """
    return stream.filter("ass", filename=str(Path(ass_path).resolve()), fontsdir=str(font_dir().resolve()))
