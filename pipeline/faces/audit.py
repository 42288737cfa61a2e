"""What a reviewer checks before publishing: the redaction report and a contact sheet of tracks.

The report (a JSON-ready dict, embedded in ``report.json``) lists every track of every clip with
its frame span, keyframe boxes and whether a person chose to keep it visible, plus the settings,
the model's sha256 and the overrides file. The contact sheet shows each track once, masked as it
will be published, in its surroundings, labelled with the id ``masks.toml`` uses.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.errors import write_failed
from pipeline.faces.detectors.centerface import model_record
from pipeline.faces.masking import mask_frame
from pipeline.faces.moving import report as moving_report
from pipeline.faces.tracking import FaceTracks, Track
from pipeline.source.normalize import ClipSpan, read_frames


def _kept(overrides, clip: str, track: Track) -> list[dict]:
    if overrides is None:
        return []
    return [e.to_dict() for e in overrides.for_clip(clip) if e.kind == "keep_track" and e.track == track.id]


def _face_model(models: set) -> dict | None:
    """Path, sha256 and whether the CenterFace weights are the pinned file (or the user's own)."""
    hashes = sorted(h for n, h in models if n == "centerface" and h)
    if not hashes:
        return None

    return model_record(hashes[0])


def redaction_report(tracks_by_clip: dict[str, FaceTracks], settings, overrides=None) -> dict:
    """The redaction section of ``report.json``."""
    models = {(t.detector, t.model_sha256) for t in tracks_by_clip.values() if not t.disabled}
    disabled = settings.method == "none"
    report = {
        "method": settings.method,
        "masking": "disabled explicitly (--redact none): no face detection ran" if disabled else "enabled",
        "settings": settings.to_dict(),
        "model": [{"name": n, "sha256": h} for n, h in sorted(models)],
        "face_model": _face_model(models),
        "overrides": overrides.to_dict() if overrides is not None else None,
        "tracked_regions": moving_report(overrides),
        "clips": {},
    }
    for name, ft in tracks_by_clip.items():
        rows = []
        for t in ft.tracks:
            first, last = ft.track_span(t)
            rows.append({
                "id": t.id,
                "detected_frames": [t.first, t.last],
                "masked_frames": [first, last],
                "masked_seconds": [round(ft.time_of(first), 3), round(ft.time_of(last + 1), 3)],
                "detections": len(t.frames),
                "max_score": round(max(t.scores), 3),
                "kept_visible": _kept(overrides, name, t),
                "boxes": [[f, *[round(v, 4) for v in b]] for f, b in zip(t.frames, t.boxes)],
            })
        report["clips"][name] = {"frames": ft.frame_count, "start": ft.start, "pad": ft.pad,
                                 "extend_frames": ft.extend, "analysis": ft.analysis, "tracks": rows}
    return report


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def contact_sheet(tracks_by_clip: dict[str, FaceTracks], spans: dict[str, ClipSpan], settings, overrides=None,
                  path: str | Path | None = None, thumb: int = 220, columns: int = 5, width: int = 1280) -> Image.Image:
    """One cell per track: its best frame, masked as published, the track box outlined.

    Green outline: masked. Orange: kept visible by ``masks.toml``. Saved to ``path`` if given.
    """
    cells: list[tuple[Image.Image, list[str]]] = []
    for name, ft in tracks_by_clip.items():
        if not ft.tracks:
            continue
        span = spans[name]
        wanted: dict[int, list[Track]] = {}
        for t in ft.tracks:
            wanted.setdefault(t.frames[t.best()], []).append(t)
        step = math.gcd(*wanted) or 1
        for index, frame in read_frames(span, width=min(width, span.info.width), every=step):
            if index not in wanted:
                continue
            h, w = frame.shape[:2]
            published = frame.copy()
            boxes = ft.boxes_at(index, overrides)
            mask_frame(published, [(b[0] * w, b[1] * h, b[2] * w, b[3] * h) for b in boxes], settings)
            for t in wanted[index]:
                cells.append(_cell(published, ft, t, name, overrides, thumb))
    label_h = 46
    rows = max(1, math.ceil(len(cells) / columns))
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + label_h)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = _font(13)
    if not cells:
        draw.text((10, 10), "no face tracks" + (" (masking disabled)" if settings.method == "none" else ""),
                  fill=(255, 255, 255), font=font)
    for k, (img, lines) in enumerate(cells):
        x, y = (k % columns) * thumb, (k // columns) * (thumb + label_h)
        sheet.paste(img, (x, y))
        for n, line in enumerate(lines):
            draw.text((x + 4, y + thumb + 2 + 14 * n), line, fill=(235, 235, 235), font=font)
    if path is not None:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            sheet.save(path, quality=90)
        except OSError as exc:   # a full disk: one line, the staging folder is removed by the caller
            Path(path).unlink(missing_ok=True)
            raise write_failed(exc, path) from None
    return sheet


def _cell(published: np.ndarray, ft: FaceTracks, t: Track, clip: str, overrides, thumb: int):
    h, w = published.shape[:2]
    k = t.best()
    b = t.boxes[k]
    pb = [v * ft.pad for v in (b[2] - b[0], b[3] - b[1])]
    cx, cy = (b[0] + b[2]) / 2 * w, (b[1] + b[3]) / 2 * h
    side = max(pb[0] * w, pb[1] * h) * 3 + 16          # the face and its surroundings
    x0 = int(np.clip(cx - side / 2, 0, max(0, w - side)))
    y0 = int(np.clip(cy - side / 2, 0, max(0, h - side)))
    x1, y1 = min(w, int(x0 + side)), min(h, int(y0 + side))
    crop = Image.fromarray(published[y0:y1, x0:x1])
    scale = thumb / max(crop.width, crop.height)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.LANCZOS)
    cell = Image.new("RGB", (thumb, thumb), (0, 0, 0))
    cell.paste(crop, (0, 0))
    kept = bool(_kept(overrides, clip, t))
    bx0 = ((cx - pb[0] * w / 2) - x0) * scale
    by0 = ((cy - pb[1] * h / 2) - y0) * scale
    bx1 = ((cx + pb[0] * w / 2) - x0) * scale
    by1 = ((cy + pb[1] * h / 2) - y0) * scale
    ImageDraw.Draw(cell).rectangle([bx0, by0, bx1, by1], outline=(255, 150, 0) if kept else (0, 220, 90), width=2)
    first, last = ft.track_span(t)
    lines = [t.id + ("  KEPT VISIBLE" if kept else ""), clip[:30],
             f"{ft.time_of(first):.1f}-{ft.time_of(last + 1):.1f} s, {len(t.frames)} detections"]
    return cell, lines
