"""Small embedded pictures for ``campaign.html``: each episode's cover and the masked tiles of its
contact sheet, as ``data:`` URIs of small JPEGs, so the page needs no other file to be read.

Only pictures that were published masked are embedded, and the page fails closed: a tile is cut
from ``contact-sheet.jpg`` at the place its index (``contact-sheet.json``, written with the sheet
by :func:`pipeline.faces.audit.contact_sheet`) gives, and only for a thing that was masked. A face
a person chose to leave visible, every tile of an episode rendered with face masking off, and
every tile of a sheet whose index does not match its image are left out (the page says so in words).
"""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from PIL import Image

COVER = (135, 240)        # 9:16, as on a phone
TILE = 96                 # the longer side of a contact-sheet thumbnail
MAX_TILES = 24            # per episode; the count and the contact sheet link say the rest
PICTURE_KINDS = ("face", "tracked_region", "region", "whole_frame")


def _jpeg_uri(im: Image.Image, quality: int = 72) -> str:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def cover(path: Path, size: tuple[int, int] = COVER) -> str:
    """The cover (taken from the published, masked master) as a small JPEG data URI; "" when unreadable."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail(size)
            return _jpeg_uri(im)
    except (OSError, ValueError, Image.DecompressionBombError):
        return ""


def read_index(ep_out: Path) -> dict:
    try:
        data = json.loads((ep_out / "contact-sheet.json").read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _rect(value) -> list[float] | None:
    if isinstance(value, list) and len(value) == 4 and all(isinstance(v, (int, float)) for v in value):
        return [float(v) for v in value]
    return None


def _embeddable(item: dict, masking_off: bool) -> bool:
    """A masked picture whose tile and mask box (sheet pixels, the box inside the tile) are known."""
    tile, box = _rect(item.get("tile")), _rect(item.get("box"))
    if masking_off or item.get("kind") not in PICTURE_KINDS or item.get("visible") or not tile or not box:
        return False
    x, y, w, h = tile
    return x - 1 <= box[0] < box[2] <= x + w + 1 and y - 1 <= box[1] < box[3] <= y + h + 1


def sheet_tiles(ep_out: Path, limit: int = MAX_TILES) -> dict:
    """The episode's masked things from its contact sheet: ``{"items": [...], "count", "embedded",
    "why_not"}``. Each item has ``kind, clip, ref, start, end, method, visible``, and for a masked
    picture ``uri`` (a JPEG of its tile at most ``TILE`` px) and ``box`` (the mask's box in the
    thumbnail's pixels)."""
    index = read_index(ep_out)
    items = [i for i in index.get("items") or [] if isinstance(i, dict)]
    method = str((index.get("preset") or {}).get("method", ""))
    out = {"items": [], "count": len(items), "embedded": 0, "why_not": "", "method": method}
    if not index:
        return out
    masking_off = method == "none"
    if masking_off:
        out["why_not"] = "face masking was off for this episode: no picture is shown"
    try:
        sheet = Image.open(ep_out / "contact-sheet.jpg")
        sheet.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        sheet = None
        out["why_not"] = out["why_not"] or "the contact sheet cannot be read: no picture is shown"
    if sheet is not None and list(sheet.size) != list(index.get("size") or []):
        sheet = None   # not the image this index describes: never guess where a tile is
        out["why_not"] = out["why_not"] or "the contact sheet does not match its index: no picture is shown"
    for item in items:
        row = {k: item.get(k) for k in ("kind", "clip", "ref", "start", "end", "method", "asked_by")}
        row["visible"] = bool(item.get("visible"))
        if sheet is not None and out["embedded"] < limit and _embeddable(item, masking_off):
            x, y, w, h = (int(round(v)) for v in item["tile"])
            scale = TILE / max(w, h, 1)
            tile = sheet.crop((x, y, x + w, y + h)).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                           Image.LANCZOS)
            b = _rect(item["box"])   # the mask's box in sheet pixels
            row["uri"] = _jpeg_uri(tile)
            row["box"] = [round((b[0] - x) * scale, 1), round((b[1] - y) * scale, 1),
                          round((b[2] - x) * scale, 1), round((b[3] - y) * scale, 1)]
            out["embedded"] += 1
        out["items"].append(row)
    if sheet is not None:
        sheet.close()
    return out
