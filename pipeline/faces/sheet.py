"""The contact sheet's pixels: one tile per row of the audit list (``faces/audit.py``), then a
strip of evenly spaced published frames.

Each tile is the item's frame masked exactly as the render masks it (every box of that frame,
``masks.toml`` applied, the preset's method), cropped around the item's box and outlined; a
voice span gets a tile of text. The strip (:func:`draw_strip`) shows whole output frames as the
master publishes them (``pipeline.published``: reframed, masked, captioned) with every mask
outlined, so a face that was not masked is in plain sight of the person who signs off.
:func:`draw_sheet` also returns where each tile, frame and box landed on the sheet, which
``audit.contact_sheet`` writes as the sheet's index.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.faces.masking import mask_frame, to_pixels
from pipeline.faces.tracking import FaceTracks
from pipeline.source.normalize import read_frames

LABEL_LINES = 4
MAX_TILES = 300        # tiles on one sheet (5 across: about 16,600 px tall, 55 MB while drawn)
LINE_H = 14
GREEN, ORANGE, RED = (0, 220, 90), (255, 150, 0), (255, 60, 60)
STRIP_TITLE = "PUBLISHED FRAMES, evenly spaced, masks outlined: a face with no outline is published as is"
TITLES = {"face": "FACE", "tracked_region": "TRACKED REGION", "region": "REGION", "whole_frame": "WHOLE FRAME",
          "voice": "VOICE"}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _frames(span, wanted: set[int], width: int):
    """The clip frames in ``wanted``, at ``width`` (analysis chain), masked by nobody yet, one at a
    time as they are decoded (holding them all cost a frame per face track: gigabytes for a crowd)."""
    if not wanted:
        return
    yield from read_frames(span, width=min(width, span.info.width), only=wanted)


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


def draw_strip(frames: list, cell: int = 220, columns: int = 5, title: str = STRIP_TITLE,
               labels: bool = True) -> tuple[Image.Image, list[dict]]:
    """Published frames (``pipeline.published.PublishedFrame``), ``columns`` a row, each ``cell``
    px wide, every mask outlined in green, under ``title``. Returns the image and, per frame, its
    place (``tile`` [x, y, w, h]) and its masks' outlines (``masks``) in the image's pixels, with
    the episode ``frame``, ``seconds``, ``clip``, ``clip_frame``, ``clip_seconds`` and ``scale``."""
    font = _font(13)
    head = LINE_H + 8 if title else 0
    label_h = 2 * LINE_H + 6 if labels else 0
    size = [(cell, max(1, round(cell * f.image.shape[0] / f.image.shape[1]))) for f in frames]
    row_h = max((h for _, h in size), default=0) + label_h
    rows = math.ceil(len(frames) / columns)
    image = Image.new("RGB", (columns * cell, head + rows * row_h), (24, 24, 24))
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((4, 4), title, fill=(255, 255, 255), font=font)
    placed = []
    for k, (f, (w, h)) in enumerate(zip(frames, size)):
        x, y = (k % columns) * cell, head + (k // columns) * row_h
        scale = w / f.image.shape[1]
        image.paste(Image.fromarray(f.image).resize((w, h), Image.LANCZOS), (x, y))
        boxes = [[round(x + b[0] * scale, 2), round(y + b[1] * scale, 2), round(x + b[2] * scale, 2),
                  round(y + b[3] * scale, 2)] for b in f.masks]
        for b in boxes:
            draw.rectangle([b[0], b[1], max(b[0], b[2] - 1), max(b[1], b[3] - 1)], outline=GREEN, width=2)
        if labels:
            lines = [f"{f.clip[:22]}  {f.clip_seconds:.1f} s", f"episode {f.seconds:.1f} s  {len(boxes)} masked"]
            for n, line in enumerate(lines):
                draw.text((x + 4, y + h + 2 + LINE_H * n), line, fill=(235, 235, 235), font=font)
        placed.append({"frame": f.frame, "seconds": round(f.seconds, 3), "clip": f.clip, "clip_frame": f.clip_frame,
                       "clip_seconds": f.clip_seconds, "tile": [x, y, w, h], "scale": round(scale, 5),
                       "masks": boxes})
    return image, placed


def drawn_items(items: list, limit: int | None = None) -> list[int]:
    """Which items (positions, in order) get a tile: all of them up to ``limit``; past it, every
    item a person asked for or that is not a masked face (kept faces, regions, whole-frame spans,
    voices) and then the face tracks masked longest. A crowd filmed for ten minutes has thousands
    of tracks: one tile each made a sheet too tall for a JPEG and gigabytes to draw."""
    limit = MAX_TILES if limit is None else limit
    if len(items) <= limit:
        return list(range(len(items)))
    faces = [k for k, m in enumerate(items) if m.kind == "face" and not m.visible]
    first = [k for k, m in enumerate(items) if not (m.kind == "face" and not m.visible)]
    room = max(0, limit - len(first))
    longest = sorted(faces, key=lambda k: (-(items[k].end - items[k].start), k))[:room]
    return sorted(first + longest)


def draw_sheet(items: list, tracks_by_clip: dict[str, FaceTracks], spans: dict, settings, overrides,
               thumb: int = 220, columns: int = 5, width: int = 1280,
               published: list | None = None) -> tuple[Image.Image, list[dict], list[dict]]:
    """The sheet image and, for each item in order, ``{"tile": [x, y, w, h], "box": [x0, y0, x1, y1]}``
    in sheet pixels (the picture part of the tile and the item's box in it), with the frame shown
    and the crop of that frame (``frame_size`` pixels) the tile was cut from; then, below the
    tiles, the strip of ``published`` frames (:func:`draw_strip`) and its places in sheet pixels."""
    drawn = drawn_items(items)
    cut: dict[int, tuple[Image.Image, dict]] = {}    # item -> its cell, cut while its frame streams past
    for name in dict.fromkeys(items[k].clip for k in drawn if items[k].show is not None):
        at: dict[int, list[int]] = {}
        for k in drawn:
            if items[k].clip == name and items[k].show is not None and items[k].frame_box is not None:
                at.setdefault(items[k].show, []).append(k)
        ft = tracks_by_clip.get(name) or FaceTracks(name, spans[name].start, spans[name].frame_count)
        for i, f in _frames(spans[name], set(at), width):
            shown = _published(f, ft, i, overrides, settings)
            for k in at[i]:
                cut[k] = _image_cell(shown, items[k], thumb)
    cells = [cut.get(k) or (_voice_cell(thumb) if items[k].kind == "voice" else Image.new("RGB", (thumb, thumb)), {})
             for k in drawn]
    label_h = LABEL_LINES * LINE_H + 6
    rows = max(1, math.ceil((len(cells) + (len(drawn) < len(items))) / columns))
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + label_h)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = _font(13)
    if not cells:
        draw.text((10, 10), "nothing masked" + (" (masking disabled)" if settings.method == "none" else ""),
                  fill=(255, 255, 255), font=font)
    tiles: list[dict] = [{"tile": None} for _ in items]     # an item left off the sheet has no tile
    for k, (i, (img, place)) in enumerate(zip(drawn, cells)):
        m = items[i]
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
        tiles[i] = tile
    if len(drawn) < len(items):
        k = len(drawn)
        x, y = (k % columns) * thumb, (k // columns) * (thumb + label_h)
        left = [f"+{len(items) - len(drawn)} masked face tracks", "not drawn: the sheet shows",
                "the longest ones; all are", "in contact-sheet.json"]
        for n, line in enumerate(left):
            draw.text((x + 8, y + 8 + LINE_H * n), line, fill=(235, 235, 235), font=font)
    if not published:
        return sheet, tiles, []
    strip, placed = draw_strip(published, thumb, columns)
    both = Image.new("RGB", (sheet.width, sheet.height + strip.height), (24, 24, 24))
    both.paste(sheet, (0, 0))
    both.paste(strip, (0, sheet.height))
    for p in placed:
        p["tile"][1] += sheet.height
        p["masks"] = [[b[0], round(b[1] + sheet.height, 2), b[2], round(b[3] + sheet.height, 2)] for b in p["masks"]]
    return both, tiles, placed
