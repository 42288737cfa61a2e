"""Every text file Cadre reads (TOML, SRT, VTT, word lists) is decoded here, in one way.

UTF-8 is the format, with or without a byte-order mark; a file with a UTF-16 or UTF-32 byte-order
mark (Windows "Unicode") is decoded as it says. Anything else — a legacy Windows or Mac encoding,
UTF-16 without a mark, a binary file — is refused with one line naming the file, the line and the
fix, never guessed: a wrong guess would publish a wrong word.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from pipeline.core.errors import CadreError

_BOMS = (  # longest first: the UTF-32-LE mark begins with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
FIX = "save it as UTF-8 (in your editor: Save As, encoding UTF-8)"


def decode_text(raw: bytes, path: str | Path) -> str:
    """The text of a file's bytes; CadreError naming the line when it is not text Cadre can trust."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                raise CadreError(path, f"is marked as {encoding.upper().replace('-SIG', '')} but is not valid "
                                       f"{encoding.upper().replace('-SIG', '')} text; {FIX}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        if b"\x00" in raw:
            raise CadreError(path, f"line {line}: is not a text file (UTF-16 without a byte-order mark, or "
                                   f"binary data); {FIX}") from None
        raise CadreError(path, f"line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 (the file was saved in a "
                               f"legacy encoding such as Windows-1252); {FIX}") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise CadreError(path, f"line {line}: contains NUL bytes, so it is not a text file (UTF-16 without a "
                               f"byte-order mark, or binary data); {FIX}")
    return text


def read_text(path: str | Path) -> str:
    """A text file as Cadre reads every text file (see :func:`decode_text`); OSError as CadreError."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CadreError(path, f"cannot read ({exc.strerror}); check the file exists and is readable") from None
    return decode_text(raw, path)
