"""What the caption font can draw: no caption is burned with a missing-glyph box.

libass draws a character the font lacks as an empty box (or nothing), which on a published video
reads as a typo. Before captions are laid out, every character is checked against the font's
character map (fontTools):

- an emoji the caption font lacks is drawn with the shipped monochrome emoji font (Noto Emoji,
  :data:`EMOJI_FONT`), in the caption colour: ``ass.py`` switches fonts for each such run, because
  libass here has no fontconfig and never falls back to another font by itself;
- an emoji or pictographic symbol no shipped font has is left out of the burned captions, with a
  warning; the SRT/VTT sidecars keep it;
- a letter, digit or punctuation mark the font lacks stops the render only when a person wrote it
  (a word timed by a person's SRT): the one line names that SRT file and line, never the font;
- in a *machine* transcript, a letter outside the episode's language and script (Hangul '것' in a
  French episode) or one the font lacks is a recognition error: :func:`misreads` drops it (a word
  left with other letters is kept, marked doubtful), with one warning naming the clip and time.
  A bidirectional control character (which can make a line read otherwise than it is stored) is
  refused in a person's text, naming the file and line, and dropped from Whisper's.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from pipeline.captions.styles import load_style
from pipeline.core.errors import CadreError

EMOJI_FONT = "NotoEmoji.ttf"      # in assets/fonts, OFL (LICENSE-NotoEmoji.txt)

# never drawn as glyphs: joiners and presentation selectors that only shape their neighbours
INVISIBLE = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0xFE0E, 0xFE0F, 0x20E3}
# bidirectional controls: they reorder what is shown, so a caption could read otherwise than it is stored
BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}

# scripts a letter is judged by (the first word of its Unicode name); others are not judged
_JUDGED = {"LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "HANGUL", "CJK", "HIRAGANA", "KATAKANA",
           "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "TAMIL", "TELUGU", "KANNADA", "MALAYALAM",
           "SINHALA", "THAI", "LAO", "TIBETAN", "MYANMAR", "KHMER", "GEORGIAN", "ARMENIAN", "ETHIOPIC",
           "BOPOMOFO", "FULLWIDTH", "HALFWIDTH"}
_ASIAN_WIDTHS = {"FULLWIDTH", "HALFWIDTH"}
# a language's own scripts, besides Latin (names and brands are written in Latin everywhere)
_SCRIPTS = {"ru": {"CYRILLIC"}, "uk": {"CYRILLIC"}, "be": {"CYRILLIC"}, "bg": {"CYRILLIC"}, "sr": {"CYRILLIC"},
            "mk": {"CYRILLIC"}, "kk": {"CYRILLIC"}, "mn": {"CYRILLIC"}, "tg": {"CYRILLIC"}, "el": {"GREEK"},
            "ar": {"ARABIC"}, "fa": {"ARABIC"}, "ur": {"ARABIC"}, "ps": {"ARABIC"}, "he": {"HEBREW"},
            "yi": {"HEBREW"}, "ko": {"HANGUL", "CJK"} | _ASIAN_WIDTHS,
            "ja": {"CJK", "HIRAGANA", "KATAKANA"} | _ASIAN_WIDTHS, "zh": {"CJK", "BOPOMOFO"} | _ASIAN_WIDTHS,
            "yue": {"CJK"} | _ASIAN_WIDTHS, "hi": {"DEVANAGARI"}, "mr": {"DEVANAGARI"}, "ne": {"DEVANAGARI"},
            "sa": {"DEVANAGARI"}, "bn": {"BENGALI"}, "as": {"BENGALI"}, "pa": {"GURMUKHI"}, "gu": {"GUJARATI"},
            "ta": {"TAMIL"}, "te": {"TELUGU"}, "kn": {"KANNADA"}, "ml": {"MALAYALAM"}, "si": {"SINHALA"},
            "th": {"THAI"}, "lo": {"LAO"}, "bo": {"TIBETAN"}, "my": {"MYANMAR"}, "km": {"KHMER"},
            "ka": {"GEORGIAN"}, "hy": {"ARMENIAN"}, "am": {"ETHIOPIC"}}


def script(ch: str) -> str | None:
    """The script of a letter (``LATIN``, ``HANGUL``, ``CJK``...), None for anything else."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    first = unicodedata.name(ch, "").split(" ")[0]
    first = "CJK" if first.startswith("CJK") else first
    return first if first in _JUDGED else None


def language_scripts(language: str | None) -> set[str] | None:
    """The scripts a transcript in ``language`` is written in; None when the language is not known."""
    code = (language or "").lower().split("-")[0].split("_")[0]
    if code in ("", "auto", "und") or not code.isalpha():
        return None
    return {"LATIN"} | _SCRIPTS.get(code, set())


def _describe(chars) -> str:
    return ", ".join(f"'{ch}' (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')})"
                     for ch in dict.fromkeys(chars))


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def misreads(words: list, language: str | None, clip: str, offset: float = 0.0,
             drawable=None) -> tuple[list, list[str]]:
    """Machine ``words`` without recognition errors, and one warning per word that had one.

    An error is a letter outside ``language``'s scripts, a bidirectional control, or (with
    ``drawable``, a set of code points) a letter or mark no caption font can draw. The character is
    dropped; a word left with no letter or digit is dropped, one left with some is marked doubtful
    (probability 0). Words a person timed (``word.cue``) are theirs and kept as they are.
    ``offset`` turns the words' times into times in ``clip``."""
    scripts = language_scripts(language)
    out, notes = [], []
    for w in words:
        if w.cue is not None:
            out.append(w)
            continue
        bad = [ch for ch in w.word if ord(ch) in BIDI
               or (scripts is not None and script(ch) not in (None, *scripts))
               or (drawable is not None and not _drawn(ch, drawable))]
        if not bad:
            out.append(w)
            continue
        kept = "".join(ch for ch in w.word if ch not in bad)
        keep = any(c.isalnum() for c in kept)
        if keep:
            out.append(replace(w, word=kept, probability=0.0))
        heard = f"'{w.word.strip()}'" if keep else "a word"
        notes.append(f"{clip} at {_clock(w.start + offset)}: Whisper wrote {heard} with {_describe(bad)}, "
                     f"{'outside the script of ' + repr(language) if scripts else 'which no caption font has'}; "
                     f"taken as a recognition error: {'marked doubtful' if keep else 'left out of the captions'} "
                     "(listen there and correct the clip's .srt in cadre review if a word is missing)")
    return out, notes


def _drawn(ch: str, cmap) -> bool:
    cp = ord(ch)
    return cp in cmap or ch.isspace() or cp in INVISIBLE or _pictographic(ch)


def person_text_check(text: str, cmap, file, line: int) -> None:
    """Stop on a character of a person's caption text that cannot be burned: a bidirectional
    control, or (``cmap``: what the caption fonts draw; None: no burned captions) a letter no
    caption font can draw. The one line names the SRT ``file`` and the cue's ``line``."""
    where = f"line {line}: " if line else ""
    for ch in text:
        if ord(ch) in BIDI:
            raise CadreError(file, f"{where}the caption contains the bidirectional control {_describe(ch)}, "
                                   "which can make a caption read otherwise than it is written; delete it")
        if cmap is not None and not _drawn(ch, cmap):
            raise CadreError(file, f"{where}the caption contains {_describe(ch)}, which the caption font cannot "
                                   "draw; correct the word, or use a caption style whose font has it")


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

    def drawable(self, text: str, at: float, cue=None) -> str:
        """``text`` without the emoji no font can draw. A person's text (``cue``: the word's
        :class:`CueMark`) with a letter the font lacks or a bidirectional control stops the render,
        naming the SRT file and line; a machine word loses the character (``misreads`` warned)."""
        cmap = charmap(str(self.font_path))
        extra = self.fallback_chars()
        if cue is not None:
            person_text_check(text, cmap | extra, cue.file or self.font_path, cue.line)
        out = []
        for ch in text:
            cp = ord(ch)
            if cp in cmap or ch.isspace() or (cp in extra and _pictographic(ch) and cp not in INVISIBLE):
                out.append(ch)
            elif cp in INVISIBLE or _pictographic(ch):
                if cp not in INVISIBLE:
                    self.left_out[ch] = self.left_out.get(ch, 0) + 1
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


def caption_cmap(style_name: str) -> frozenset[int] | None:
    """What the caption style ``style_name`` can burn (its font and the emoji font); None for ``"none"``."""
    if style_name == "none":
        return None
    font = load_style(style_name).font_path
    emoji = font.parent / EMOJI_FONT
    return charmap(str(font)) | (charmap(str(emoji)) if emoji.is_file() else frozenset())
