"""What a reviewer checks before publishing: everything masked, listed once, from one data model.

:func:`audit_items` builds a list of :class:`Masked` rows, one per thing hidden or deliberately
left visible: each face track of every clip, each tracked (moving) region, each fixed region, each
whole-frame span and each disguised voice span, with its time range, how it is hidden (the
preset's method, or the voice preset) and who asked for it (the face detector, a ``masks.toml``
entry named by its section number and line, the review page). Both writers use that one list:
:func:`redaction_report` (the ``redaction`` section of ``report.json``, key ``masked``) and
:func:`contact_sheet` (``contact-sheet.jpg`` and its index ``contact-sheet.json``, drawn by
:mod:`pipeline.faces.sheet`).
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.core.errors import write_failed
from pipeline.core.resources import load_toml
from pipeline.core.textfile import read_text
from pipeline.faces.detectors.centerface import model_record
from pipeline.faces.moving import report as moving_report
from pipeline.faces.sheet import draw_sheet
from pipeline.faces.tracking import FaceTracks, Track
from pipeline.source.normalize import FPS, ClipSpan

REVIEW_NOTE = "cadre review"     # the note the review page writes on the entries it adds


@dataclass(frozen=True)
class Masked:
    """One thing the published episode hides (or, for a kept face, deliberately shows)."""

    kind: str                     # face | tracked_region | region | whole_frame | voice
    clip: str
    ref: str                      # the track id, or the masks.toml entry ("[[mask]] #2")
    start: float                  # seconds of the clip file
    end: float
    method: str                   # mosaic | blur | solid, or the voice preset (low | high | robot)
    asked_by: str                 # face detector | masks.toml | review page
    origin: dict                  # detector and model, or the entry (line, label, note)
    frames: tuple[int, int] | None = None        # first and last clip frame masked (video items)
    episode: tuple[float, float] | None = None   # the same span on the episode timeline, seconds
    region: tuple | None = None   # where it was drawn (fraction of the frame), regions only
    flagged: tuple = ()           # spans a person must check ({"seconds", "why"}): tracking lost or ended
    kept: tuple = ()              # face: the [[keep]] decisions that leave it visible
    show: int | None = None       # the clip frame the contact sheet shows
    frame_box: tuple | None = None   # the mask box at ``show`` (fraction of the frame)

    @property
    def visible(self) -> bool:
        return bool(self.kept)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["visible"] = self.visible
        for key in ("start", "end", "frames", "episode", "region", "frame_box", "flagged", "kept"):
            d[key] = _lists(d[key])
        return {k: v for k, v in d.items() if v is not None and v != [] and v != ""}


def _lists(value):
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value


# -- who asked -----------------------------------------------------------------------------------
def preset_origin(episode_folder: Path, used: str, file_value: str, off: dict | None = None) -> dict:
    """Where the redaction preset in force came from: the command line, ``episode.toml``,
    ``campaign.toml`` (the campaign's preset) or Cadre's default."""
    if off:
        return {"requested_by": off.get("requested_by", ""), "source": off.get("source", "")}
    if used != file_value:
        return {"requested_by": f"--redact {used}", "source": "command line"}
    for path in (episode_folder / "episode.toml", episode_folder.parent / "campaign.toml"):
        if path.is_file() and load_toml(path).get("redaction") == used:
            return {"requested_by": path.name, "source": str(path)}
    return {"requested_by": "default", "source": "presets/redaction (Cadre's default preset)"}


def entry_origins(path: str | Path | None) -> dict[str, dict]:
    """``"[[mask]] #2"`` -> ``{"line", "note"}`` for each entry of ``masks.toml``."""
    if not path or not Path(path).is_file():
        return {}
    data = load_toml(Path(path))
    counts: dict[str, int] = {}
    out: dict[str, dict] = {}
    for number, line in enumerate(read_text(path).splitlines(), 1):
        m = re.match(r"\s*\[\[\s*(keep|mask|voice)\s*\]\]", line)
        if m:
            section = m.group(1)
            counts[section] = counts.get(section, 0) + 1
            out[f"[[{section}]] #{counts[section]}"] = {"file": str(path), "line": number}
    for section in ("keep", "mask", "voice"):
        for n, item in enumerate(data.get(section) or [], 1):
            where = f"[[{section}]] #{n}"
            out.setdefault(where, {"file": str(path)})
            if isinstance(item, dict) and item.get("note"):
                out[where]["note"] = str(item["note"])
    return out


def _asked(origins: dict, where: str, label: str = "") -> tuple[str, dict]:
    origin = {"entry": where, **origins.get(where, {})}
    if label:
        origin["label"] = label
    return ("review page" if REVIEW_NOTE in origin.get("note", "") else "masks.toml"), origin


def _numbered(overrides) -> list[tuple[str, object]]:
    """Each override with its masks.toml name: sections are read in order keep, then mask."""
    counts: dict[str, int] = {}
    out = []
    for e in overrides.entries if overrides is not None else []:
        section = "keep" if e.kind.startswith("keep") else "mask"
        counts[section] = counts.get(section, 0) + 1
        out.append((f"[[{section}]] #{counts[section]}", e))
    return out


# -- the list ------------------------------------------------------------------------------------
def _active_frames(ft: FaceTracks, start: float, end: float | None) -> tuple[int, int] | None:
    """First and last frame a ``masks.toml`` span touches (``Override.active``'s rule)."""
    live = [i for i in range(ft.frame_count)
            if ft.time_of(i) + 1.0 / FPS > start and (end is None or ft.time_of(i) <= end)]
    return (live[0], live[-1]) if live else None


def _kept_by(ft: FaceTracks, t: Track, numbered, origins: dict) -> list[dict]:
    """The [[keep]] entries that leave track ``t`` visible (by id, or a region around its centre)."""
    out = []
    for where, e in numbered:
        if e.clip != ft.clip or not e.kind.startswith("keep"):
            continue
        if e.kind == "keep_track":
            hit = e.track == t.id
        else:
            hit = any(e.active(ft.time_of(f)) and e.region[0] <= (b[0] + b[2]) / 2 <= e.region[2]
                      and e.region[1] <= (b[1] + b[3]) / 2 <= e.region[3] for f, b in zip(t.frames, t.boxes))
        if hit:
            asked, origin = _asked(origins, where)
            out.append({**origin, "asked_by": asked, "start": e.start, "end": e.end,
                        **({"track": e.track} if e.track else {})})
    return out


def audit_items(tracks_by_clip: dict[str, FaceTracks], settings, overrides=None, voices=(),
                offsets: dict[str, float] | None = None) -> list[Masked]:
    """Everything masked, clip by clip: faces, then ``masks.toml`` regions and spans, then voices.

    ``voices`` are the placed ``[[voice]]`` spans (``sound.voice.PlacedVoice``); ``offsets`` maps a
    clip to the episode second of its frame 0, for the episode-timeline spans."""
    offsets = offsets or {}
    origins = entry_origins(getattr(overrides, "path", None))
    numbered = _numbered(overrides)
    paths = getattr(overrides, "paths", {})
    checks = dict(zip(paths, moving_report(overrides)))   # moving.report's rows follow ``paths``' order
    method = "solid" if settings.method == "none" else settings.method   # manual masks under "none"
    items: list[Masked] = []

    def on_episode(clip: str, ft: FaceTracks, a: float, b: float):
        return None if clip not in offsets else (offsets[clip] + a - ft.start, offsets[clip] + b - ft.start)

    for name, ft in tracks_by_clip.items():
        for t in ft.tracks:
            first, last = ft.track_span(t)
            a, b = ft.time_of(first), ft.time_of(last + 1)
            show = t.frames[t.best()]
            box = next((bx for tid, bx in ft.track_boxes_at(show) if tid == t.id), tuple(t.boxes[t.best()]))
            items.append(Masked("face", name, t.id, a, b, settings.method, "face detector",
                                {"detector": ft.detector, "model_sha256": ft.model_sha256,
                                 "max_score": round(max(t.scores), 3), "detections": len(t.frames)},
                                (first, last), on_episode(name, ft, a, b), kept=tuple(_kept_by(ft, t, numbered, origins)),
                                show=show, frame_box=box))
        for where, e in numbered:
            if e.clip != name or not e.kind.startswith("mask"):
                continue
            tracked = paths.get(e) if e.moving else None
            if tracked is not None and tracked.boxes:
                frames = (tracked.first, tracked.first + len(tracked.boxes) - 1)
                box = tracked.box_at(frames[0])
            else:
                frames = _active_frames(ft, e.start, e.end)
                box = (0.0, 0.0, 1.0, 1.0) if e.kind == "mask_frame" or e.moving else e.region
            if frames is None:
                continue
            a, b = ft.time_of(frames[0]), ft.time_of(frames[1] + 1)
            kind = "whole_frame" if e.kind == "mask_frame" else "tracked_region" if e.moving else "region"
            asked, origin = _asked(origins, where, e.label)
            flagged = tuple({"seconds": c["seconds"], "why": c.get("why", "lost: mask grown and held")}
                            for c in checks.get(e, {}).get("check", []))
            items.append(Masked(kind, name, where, a, b, method, asked, origin, frames, on_episode(name, ft, a, b),
                                None if kind == "whole_frame" else tuple(e.region), flagged, show=frames[0], frame_box=box))
    spans_where = {(v.clip, v.start): v.where for v in getattr(overrides, "voices", [])}
    for v in voices:
        asked, origin = _asked(origins, spans_where.get((v.clip, v.clip_start), "[[voice]]"), v.label)
        origin.update(pitch=v.pitch, formant=v.formant)
        items.append(Masked("voice", v.clip, origin["entry"], v.clip_start, v.clip_end, v.preset, asked, origin,
                            episode=(v.start, v.end)))
    return items


# -- report.json -----------------------------------------------------------------------------------
def _face_model(models: set) -> dict | None:
    """Path, sha256 and whether the CenterFace weights are the pinned file (or the user's own)."""
    hashes = sorted(h for n, h in models if n == "centerface" and h)
    if not hashes:
        return None

    return model_record(hashes[0])


def redaction_report(tracks_by_clip: dict[str, FaceTracks], settings, overrides=None,
                     items: list[Masked] | None = None, preset: dict | None = None) -> dict:
    """The redaction section of ``report.json``; ``masked`` is the audit list (see :func:`audit_items`)."""
    models = {(t.detector, t.model_sha256) for t in tracks_by_clip.values() if not t.disabled}
    disabled = settings.method == "none"
    if items is None:
        items = audit_items(tracks_by_clip, settings, overrides)
    report = {
        "method": settings.method,
        "masking": "disabled explicitly (--redact none): no face detection ran" if disabled else "enabled",
        "preset": {"name": settings.name, "method": settings.method, **(preset or {})},
        "settings": settings.to_dict(),
        "model": [{"name": n, "sha256": h} for n, h in sorted(models)],
        "face_model": _face_model(models),
        "overrides": overrides.to_dict() if overrides is not None else None,
        "tracked_regions": moving_report(overrides),
        "masked": [m.to_dict() for m in items],
        "clips": {},
    }
    kept = {(m.clip, m.ref): _lists(list(m.kept)) for m in items if m.kind == "face"}   # by id or by region
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
                "kept_visible": kept.get((name, t.id), []),
                "boxes": [[f, *[round(v, 4) for v in b]] for f, b in zip(t.frames, t.boxes)],
            })
        report["clips"][name] = {"frames": ft.frame_count, "start": ft.start, "pad": ft.pad,
                                 "extend_frames": ft.extend, "analysis": ft.analysis, "tracks": rows}
    return report


# -- contact sheet ---------------------------------------------------------------------------------
def index_path(sheet: str | Path) -> Path:
    """The contact sheet's index: ``contact-sheet.json`` beside ``contact-sheet.jpg``."""
    return Path(sheet).with_suffix(".json")


def contact_sheet(tracks_by_clip: dict[str, FaceTracks], spans: dict[str, ClipSpan], settings, overrides=None,
                  path: str | Path | None = None, thumb: int = 220, columns: int = 5, width: int = 1280,
                  items: list[Masked] | None = None, preset: dict | None = None, published: list | None = None):
    """One tile per masked thing (:func:`audit_items`), masked as published, its box outlined, then
    the strip of ``published`` frames (``pipeline.published.published_frames``: whole output
    frames as the master publishes them, every mask outlined), where a missed face shows.

    Green outline: masked; orange: a face kept visible by ``masks.toml``; red: a tracked region
    with spans to check. Saved to ``path`` if given, with its index ``contact-sheet.json`` beside it:
    per item, the row of the audit list (``frame_box``: the mask box as fractions of the frame) plus
    where it is on the sheet, in sheet pixels (``tile`` [x, y, w, h], ``box`` [x0, y0, x1, y1]), the
    clip ``frame`` shown and the ``crop`` of it (pixels of a ``frame_size`` frame) scaled by ``scale``;
    and ``published``, per strip frame: the episode ``frame`` and ``seconds``, the ``clip``,
    ``clip_frame`` and ``clip_seconds``, its ``tile`` and its masks' outlines (``masks``, sheet pixels).
    Returns the image."""
    if items is None:
        items = audit_items(tracks_by_clip, settings, overrides)
    sheet, tiles, strip = draw_sheet(items, tracks_by_clip, spans, settings, overrides, thumb, columns, width,
                                     published)
    if path is None:
        return sheet
    index = {"sheet": Path(path).name, "size": [sheet.width, sheet.height],
             "preset": {"name": getattr(settings, "name", settings.method), "method": settings.method,
                        **(preset or {})},
             "items": [{**m.to_dict(), **tile} for m, tile in zip(items, tiles)],
             "published": strip}
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path, quality=90)
        index_path(path).write_text(json.dumps(index, indent=1, ensure_ascii=False), "utf-8")
    except OSError as exc:   # a full disk: one line, the staging folder is removed by the caller
        Path(path).unlink(missing_ok=True)
        index_path(path).unlink(missing_ok=True)
        raise write_failed(exc, path) from None
    return sheet
