"""What the caption font can draw: no caption is burned with a missing-glyph box.

libass draws a character the font lacks as an empty box (or nothing), which on a published video
reads as a typo. Before captions are laid out, every character is checked against the font's
character map (fontTools):

- an emoji the caption font lacks is drawn with the shipped monochrome emoji font (Noto Emoji,
  :data:`EMOJI_FONT`), in the caption colour: ``ass.py`` switches fonts for each such run, because
  libass here has no fontconfig and never falls back to another font by itself;
- an emoji or pictographic symbol no shipped font has is left out of the burned captions, with a
  warning; the SRT/VTT sidecars keep it;
- a letter, digit or punctuation mark the font lacks (a name in another script, a stray Whisper
  character) stops the render with one line naming the character, its time and the fix.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.errors import CadreError

EMOJI_FONT = "NotoEmoji.ttf"      # in assets/fonts, OFL (LICENSE-NotoEmoji.txt)

# never drawn as glyphs: joiners and presentation selectors that only shape their neighbours
INVISIBLE = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0xFE0E, 0xFE0F, 0x20E3}


@lru_cache(maxsize=8)
def charmap(font_path: str) -> frozenset[int]:
    """Code points the font maps to a glyph."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(font_path, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except Exception as exc:  # fontTools raises many types for a damaged file
        raise CadreError(font_path, f"cannot read the font's character map ({exc}); replace the font file") from None


def _pictographic(ch: str) -> bool:
    """Emoji, pictographs and their modifiers: safe to leave out of a caption."""
    cp = ord(ch)
    return (unicodedata.category(ch) in ("So", "Sk") or 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F)


@dataclass
class Coverage:
    """Checks caption text against one font; collects what it leaves out."""
    font_path: Path
    fallback: Path | None = None                             # the emoji font, for pictographs only
    left_out: dict[str, int] = field(default_factory=dict)   # character -> occurrences

    def fallback_chars(self) -> frozenset[int]:
        """Code points drawn with the fallback font: pictographs it has and the caption font lacks."""
        if self.fallback is None:
            return frozenset()
        return charmap(str(self.fallback)) - charmap(str(self.font_path))

    def drawable(self, text: str, at: float) -> str:
        """``text`` without the emoji no font can draw; raises on a missing letter."""
        cmap = charmap(str(self.font_path))
        extra = self.fallback_chars()
        out = []
        for ch in text:
            cp = ord(ch)
            if cp in cmap or ch.isspace() or (cp in extra and _pictographic(ch) and cp not in INVISIBLE):
                out.append(ch)
            elif cp in INVISIBLE or _pictographic(ch):
                if cp not in INVISIBLE:
                    self.left_out[ch] = self.left_out.get(ch, 0) + 1
            else:
                name = unicodedata.name(ch, "unnamed character")
                raise CadreError(self.font_path, f"the caption at {at:.1f} s contains '{ch}' (U+{cp:04X} {name}), "
                                                 "which this caption font cannot draw; correct the word in the "
                                                 "clip's .srt, or use a caption style whose font has it")
        return "".join(out)

    def report(self) -> list[dict]:
        return [{"char": ch, "codepoint": f"U+{ord(ch):04X}", "name": unicodedata.name(ch, ""), "count": n}
                for ch, n in sorted(self.left_out.items())]

    def warning(self) -> str | None:
        if not self.left_out:
            return None
        chars = " ".join(f"{ch} (U+{ord(ch):04X})" for ch in sorted(self.left_out))
        return (f"no caption font has a glyph for {chars}; left out of the burned captions, kept in the "
                "SRT/VTT files")
