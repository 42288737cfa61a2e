"""The contact sheet's pixels: one tile per row of the audit list (``faces/audit.py``).

Each tile is the item's frame masked exactly as the render masks it (every box of that frame,
``masks.toml`` applied, the preset's method), cropped around the item's box and outlined; a
voice span gets a tile of text. :func:`draw_sheet` also returns where each tile and box landed
on the sheet, which ``audit.contact_sheet`` writes as the sheet's index.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.faces.masking import mask_frame, to_pixels
from pipeline.faces.tracking import FaceTracks
from pipeline.source.normalize import read_frames

LABEL_LINES = 4
LINE_H = 14
GREEN, ORANGE, RED = (0, 220, 90), (255, 150, 0), (255, 60, 60)
TITLES = {"face": "FACE", "tracked_region": "TRACKED REGION", "region": "REGION", "whole_frame": "WHOLE FRAME",
          "voice": "VOICE"}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _frames(span, wanted: set[int], width: int):
    """The clip frames in ``wanted``, at ``width`` (analysis chain), masked by nobody yet."""
    if not wanted:
        return {}
    step = math.gcd(*wanted) or 1
    out = {}
    for index, frame in read_frames(span, width=min(width, span.info.width), every=step):
        if index in wanted:
            out[index] = frame
        if index >= max(wanted):
            break
    return out


def _published(frame: np.ndarray, ft: FaceTracks, index: int, overrides, settings) -> np.ndarray:
    h, w = frame.shape[:2]
    out = frame.copy()
    boxes = ft.boxes_at(index, overrides)
    mask_frame(out, to_pixels(boxes, w, h), settings)
    return out


def _labels(m) -> list[str]:
    title = "KEPT VISIBLE" if m.visible else TITLES.get(m.kind, m.kind.upper())
    how = f"voice {m.method}" if m.kind == "voice" else ("not masked" if m.visible else m.method)
    if m.flagged:
        how += "  CHECK " + ", ".join(f"{f['seconds'][0]:.1f}-{f['seconds'][1]:.1f}" for f in m.flagged)
    asked = m.kept[0] if m.visible else {**m.origin, "asked_by": m.asked_by}
    who = ("kept: " if m.visible else "") + asked["asked_by"]
    if "line" in asked:
        who += f" l.{asked['line']}"
    if asked.get("label"):
        who += f" {asked['label']}"
    return [f"{title} {m.ref}", f"{m.clip[:24]}  {m.start:.1f}-{m.end:.1f} s", how, who]


def _image_cell(published: np.ndarray, m, thumb: int) -> tuple[Image.Image, dict]:
    h, w = published.shape[:2]
    b = m.frame_box
    bx0, by0, bx1, by1 = b[0] * w, b[1] * h, b[2] * w, b[3] * h
    if m.kind == "whole_frame":
        x0, y0, x1, y1 = 0, 0, w, h
    else:
        side = max(bx1 - bx0, by1 - by0) * 1.6 + 16         # the box and its surroundings
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        x0 = int(np.clip(cx - side / 2, 0, max(0, w - side)))
        y0 = int(np.clip(cy - side / 2, 0, max(0, h - side)))
        x1, y1 = min(w, int(x0 + side)), min(h, int(y0 + side))
    crop = Image.fromarray(published[y0:y1, x0:x1])
    scale = thumb / max(crop.width, crop.height)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.LANCZOS)
    cell = Image.new("RGB", (thumb, thumb), (0, 0, 0))
    cell.paste(crop, (0, 0))
    box = [max(0.0, (bx0 - x0) * scale), max(0.0, (by0 - y0) * scale),
           min(crop.width, (bx1 - x0) * scale), min(crop.height, (by1 - y0) * scale)]
    colour = ORANGE if m.visible else RED if m.flagged else GREEN
    ImageDraw.Draw(cell).rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=colour, width=2)
    return cell, {"image": [0, 0, crop.width, crop.height], "box": box, "frame": m.show, "frame_size": [w, h],
                  "crop": [x0, y0, x1, y1], "scale": scale}


def _voice_cell(thumb: int) -> Image.Image:
    cell = Image.new("RGB", (thumb, thumb), (20, 30, 60))
    draw = ImageDraw.Draw(cell)
    mid = thumb // 2
    for k in range(12, thumb - 12, 6):     # a waveform: this tile is sound, not a picture
        amp = (thumb // 5) * abs(math.sin(k / 9.0)) * (0.4 + 0.6 * abs(math.sin(k / 31.0)))
        draw.line([(k, mid - amp), (k, mid + amp)], fill=(120, 170, 255), width=3)
    return cell


def draw_sheet(items: list, tracks_by_clip: dict[str, FaceTracks], spans: dict, settings, overrides,
               thumb: int = 220, columns: int = 5, width: int = 1280) -> tuple[Image.Image, list[dict]]:
    """The sheet image and, for each item in order, ``{"tile": [x, y, w, h], "box": [x0, y0, x1, y1]}``
    in sheet pixels (the picture part of the tile and the item's box in it), with the frame shown
    and the crop of that frame (``frame_size`` pixels) the tile was cut from."""
    cells: list[tuple[Image.Image, dict]] = []
    frames: dict[str, dict[int, np.ndarray]] = {}
    for name in dict.fromkeys(m.clip for m in items if m.show is not None):
        wanted = {m.show for m in items if m.clip == name and m.show is not None}
        ft = tracks_by_clip.get(name) or FaceTracks(name, spans[name].start, spans[name].frame_count)
        frames[name] = {i: _published(f, ft, i, overrides, settings)
                        for i, f in _frames(spans[name], wanted, width).items()}
    for m in items:
        frame = frames.get(m.clip, {}).get(m.show) if m.show is not None else None
        if frame is not None and m.frame_box is not None:
            cells.append(_image_cell(frame, m, thumb))
        else:
            cells.append((_voice_cell(thumb) if m.kind == "voice" else Image.new("RGB", (thumb, thumb)), {}))
    label_h = LABEL_LINES * LINE_H + 6
    rows = max(1, math.ceil(len(cells) / columns))
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + label_h)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = _font(13)
    if not cells:
        draw.text((10, 10), "nothing masked" + (" (masking disabled)" if settings.method == "none" else ""),
                  fill=(255, 255, 255), font=font)
    tiles = []
    for k, ((img, place), m) in enumerate(zip(cells, items)):
        x, y = (k % columns) * thumb, (k // columns) * (thumb + label_h)
        sheet.paste(img, (x, y))
        for n, line in enumerate(_labels(m)):
            draw.text((x + 4, y + thumb + 2 + LINE_H * n), line, fill=(235, 235, 235), font=font)
        tile = {"tile": [x, y, thumb, thumb]}
        if place:
            ix, iy, iw, ih = place.pop("image")
            b = place.pop("box")
            tile = {"tile": [x + ix, y + iy, iw, ih], "box": [round(x + b[0], 2), round(y + b[1], 2),
                                                              round(x + b[2], 2), round(y + b[3], 2)],
                    **{k2: (round(v, 5) if isinstance(v, float) else v) for k2, v in place.items()}}
        tiles.append(tile)
    return sheet, tiles
