"""Face redaction: settings from ``presets/redaction/``, the per-episode ``masks.toml`` a person
edits, and the face analysis of one clip (detect, tile, track), cached by content hash.

Masking fails closed: if the detector cannot run, :func:`analyse_faces` raises RedactionError
and the render stops. The only way to skip detection is the explicit ``none`` preset, which the
report records; manual masks from ``masks.toml`` still apply then.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from pipeline.core import cache
from pipeline.core.errors import CadreError, RedactionError
from pipeline.core.geometry import Whole
from pipeline.core.resources import load_preset, load_toml, preset_names, preset_path
from pipeline.core.values import choice, flag, number, wrong
from pipeline.faces.detectors import get_detector
from pipeline.faces.lanes import scan_frames
from pipeline.faces.params import PARAMS
from pipeline.faces.scan import (
    MAX_DETECT_PIXELS,
    ScanPlan,
    detect_frame,
    prefetched,
    scan_plan,
)
from pipeline.faces.tracking import FaceTracks, link
from pipeline.faces.turns import Turns
from pipeline.sound.voice import DEFAULT_PRESET, PRESETS, VoiceSpan, check_overlaps
from pipeline.source.normalize import FPS, ClipSpan, read_frames

ANALYSIS_VERSION = 10       # 6: fine pass (scan.py); 7: least-distance track linking; 8: revisit.py;
                            # 9: one-thread inferences side by side (lanes.py); 10: turned and dark frames (turns.py)
METHODS = ("mosaic", "solid", "blur", "none")
SHAPES = ("rect", "ellipse")
ELLIPSE_MIN_PAD = 1.85      # the inscribed ellipse of a 1.85x box holds the face box padded 1.3x


# -- settings ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RedactionSettings:
    """One redaction preset. Analysis fields change the cache key; the others only the look."""

    name: str = "mosaic"
    method: str = "mosaic"          # mosaic | solid | blur | none
    shape: str = "rect"             # rect | ellipse (inscribed in the padded box; needs pad >= 1.85)
    threshold: float = 0.3          # detector score to accept a face
    pad: float = 1.5                # box scale around the face, at least 1.3
    extend_frames: int = 15         # frames masked before the first and after the last detection
    detect_every: int = 1           # run the whole-frame detector on every k-th frame
    tile_every: int = 15            # run the tiled small-face pass on every n-th frame (revisit.py between)
    min_face_px: int = 20           # smallest face, in 1080x1920 output pixels, that must be found
    analysis_width: int = 640       # whole-frame pass: about 640x360 pixels (360x640 if vertical)
    detector: str = "centerface"
    mosaic_blocks: int = 7          # mosaic cells across the box's longer side (fewer = coarser)
    blur_strength: float = 0.3      # blur cell size as a share of the box; floor 0.2
    color: tuple[int, int, int] = (0, 0, 0)   # solid fill (RGB)
    plates: bool = False            # find number plates automatically (no offline detector: refused)

    def analysis_key(self) -> dict:
        return {k: getattr(self, k) for k in ("detector", "threshold", "detect_every", "tile_every",
                                               "min_face_px", "analysis_width")}

    def to_dict(self) -> dict:
        d = asdict(self)
        d["color"] = list(self.color)
        return d


# No number-plate detector was found that ships its weights inside a wheel under an MIT/BSD/Apache
# licence and runs offline (fast-alpr and open-image-models download their models at run time, which
# this tool never does). Until one is, plates = true is refused: masking fails closed, never skips.
NO_PLATE_DETECTOR = ("no number-plate detector can run offline here, so plates cannot be found automatically; "
                     "set plates = false and mask each plate with a moving [[mask]] region in masks.toml")

_RANGES = {
    "threshold": (0.05, 0.9), "pad": (1.3, 3.0), "extend_frames": (0, 150), "detect_every": (1, 6),
    "tile_every": (1, 30), "min_face_px": (8, 400), "analysis_width": (320, 1920),
    "mosaic_blocks": (3, 12), "blur_strength": (0.2, 1.0),
}
_CHOICES = {"method": METHODS, "shape": SHAPES, "detector": ("centerface",)}


def settings_from_dict(data: dict, source: str | Path, name: str | None = None) -> RedactionSettings:
    """Validate a preset (or overrides of one) and build the settings; errors name the file and the key
    in the words of every setting (:mod:`pipeline.core.values`)."""
    types = {f.name: f.type for f in fields(RedactionSettings) if f.name != "name"}
    values: dict = {}
    for key, value in data.items():
        if key not in types:
            raise CadreError(source, wrong(key, f"unknown redaction key; allowed keys: {', '.join(sorted(types))}"))
        if key in _CHOICES:
            value = choice(source, key, value, _CHOICES[key])
        elif key in _RANGES:
            value = number(source, key, value, *_RANGES[key], whole=types[key] == "int")
        elif key == "plates":
            value = flag(source, key, value)
        elif key == "color":
            if (not isinstance(value, (list, tuple)) or len(value) != 3
                    or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)):
                raise CadreError(source, wrong(key, f"{value!r} is not allowed; use three whole numbers 0-255, "
                                                    "e.g. [0, 0, 0]"))
            value = tuple(value)
        values[key] = value
    settings = RedactionSettings(name=name or str(values.get("method", "mosaic")), **values)
    if settings.shape == "ellipse" and settings.pad < ELLIPSE_MIN_PAD:
        raise CadreError(source, wrong("pad", f"{settings.pad} is too small for shape = \"ellipse\": the ellipse inside "
                                              f"a box padded {settings.pad}x covers only the face box padded "
                                              f"{settings.pad / math.sqrt(2):.2f}x; use pad >= {ELLIPSE_MIN_PAD} or "
                                              "shape = \"rect\""))
    if settings.plates:
        raise CadreError(source, wrong("plates", f"true: {NO_PLATE_DETECTOR}"))
    if settings.tile_every % settings.detect_every:
        raise CadreError(source, wrong("tile_every", f"{settings.tile_every} must be a multiple of "
                                                     f"detect_every ({settings.detect_every})"))
    return settings


def load_settings(name: str = "mosaic", **overrides) -> RedactionSettings:
    """Settings of preset ``name`` (``presets/redaction/<name>.toml``), with optional key overrides."""
    if name not in preset_names("redaction"):
        raise CadreError(name, f"unknown redaction preset '{name}'; choose one of: {', '.join(preset_names('redaction'))}")
    data = load_preset("redaction", name)
    data.update(overrides)
    return settings_from_dict(data, preset_path("redaction", name), name=name)


# -- the overrides file a person edits -----------------------------------------------------------
@dataclass(frozen=True)
class Override:
    """One entry of ``masks.toml``: a time span of one clip (seconds of the clip file)."""

    kind: str                                   # keep_track | keep_region | mask_region | mask_frame
    clip: str
    start: float = 0.0
    end: float | None = None
    track: str | None = None
    region: tuple[float, float, float, float] | None = None
    label: str = ""
    moving: bool = False                        # mask_region only: the region follows what it covers

    def active(self, t: float) -> bool:
        """Does the span touch the frame shown from ``t`` to ``t + 1/FPS``?"""
        return t + 1.0 / FPS > self.start and (self.end is None or t <= self.end)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if v is not None and v != "" and not (k == "moving" and not v)}
        if self.region is not None:
            d["region"] = list(self.region)
        return d


@dataclass
class MaskOverrides:
    """Decisions of the reviewer for one episode, from ``<episode>/masks.toml``::

        [[keep]]                       # leave a face visible (the officer presenting)
        clip = "01.mp4"
        track = "t00012-43-27"         # id from the contact sheet / report
        # or: region = [0.1, 0.2, 0.4, 0.7] with start/end: faces centred there stay visible

        [[mask]]                       # add a mask: plate, screen, document, house number
        clip = "01.mp4"
        region = [0.62, 0.70, 0.85, 0.80]   # x0, y0, x1, y1 as fractions of the frame
        start = 2.0                    # seconds of the clip file; omit for the whole clip
        end = 6.5
        label = "plate"
        moving = true                  # optional: follow it (region = where it is at start)

        [[voice]]                      # disguise a voice (pitch and formants); captions unchanged
        clip = "01.mp4"
        start = 3.0                    # omit start/end for the whole clip
        end = 9.5
        preset = "low"                 # low (default) | high | robot

        [[mask]]                       # black out the whole frame for a while
        clip = "02.mp4"
        whole_frame = true
        start = 10.0
        end = 12.0
    """

    path: str | None = None
    entries: list[Override] = field(default_factory=list)
    voices: list[VoiceSpan] = field(default_factory=list)
    paths: dict = field(default_factory=dict)   # moving Override -> TrackedRegion (faces/moving.py)

    def for_clip(self, clip: str) -> list[Override]:
        return [e for e in self.entries if e.clip == clip]

    def check_clips(self, clip_names) -> None:
        """Every entry must name a clip of the episode: a typo must not drop a mask silently."""
        names = set(clip_names)
        for e in [*self.entries, *self.voices]:
            if e.clip not in names:
                raise CadreError(self.path, f"clip '{e.clip}' is not in the episode; use one of: {', '.join(sorted(names))}")

    def check_tracks(self, tracks: FaceTracks) -> None:
        """A kept track must exist: after re-analysis its id may be gone, and then nothing is kept."""
        ids = {t.id for t in tracks.tracks}
        for e in self.for_clip(tracks.clip):
            if e.kind == "keep_track" and e.track not in ids:
                raise CadreError(self.path, f"keep track '{e.track}' of clip '{e.clip}' matches no face track "
                                            "(the analysis changed); pick the id again from the contact sheet")

    def apply(self, tracks: FaceTracks, frame_index: int, faces: list[tuple[str, tuple]]) -> list[tuple]:
        """Boxes at one frame after the reviewer's decisions (called by ``FaceTracks.boxes_at``)."""
        mine = self.for_clip(tracks.clip)
        if not mine:
            return [b for _, b in faces]
        self.check_tracks(tracks)
        t = tracks.time_of(frame_index)
        live = [e for e in mine if e.active(t)]
        out = []
        for tid, box in faces:
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            kept = any((e.kind == "keep_track" and e.track == tid)
                       or (e.kind == "keep_region" and e.region[0] <= cx <= e.region[2] and e.region[1] <= cy <= e.region[3])
                       for e in live)
            if not kept:
                out.append(box)
        for e in live:
            if e.kind == "mask_region" and e.moving:
                out.extend(self.moving_boxes(e, frame_index))
            elif e.kind == "mask_region":
                out.append(Whole(e.region))
            elif e.kind == "mask_frame":
                out.append(Whole((0.0, 0.0, 1.0, 1.0)))
        return out

    def moving_boxes(self, e: Override, frame_index: int) -> list[tuple]:
        """The tracked box of a moving region; fails closed (whole frame) if it was never tracked;
        none after the shot cut that ended it (the report flags that stretch)."""
        tracked = self.paths.get(e)
        if tracked is None or not tracked.boxes:
            return [Whole((0.0, 0.0, 1.0, 1.0))]
        box = tracked.box_at(frame_index)
        return [] if box is None else [Whole(box)]

    def to_dict(self) -> dict:
        return {"path": self.path, "entries": [e.to_dict() for e in self.entries]}


_ENTRY_KEYS = {"keep": {"clip", "track", "region", "start", "end", "note"},
               "mask": {"clip", "region", "whole_frame", "start", "end", "label", "note", "moving"},
               "voice": {"clip", "start", "end", "preset", "label", "note"}}


def load_overrides(path: str | Path | None, clip_names=None) -> MaskOverrides:
    """Read ``masks.toml`` (a missing file means no overrides) and validate every entry."""
    if path is None or not Path(path).is_file():
        return MaskOverrides(str(path) if path else None)
    path = Path(path)
    data = load_toml(path)
    for key in data:
        if key not in _ENTRY_KEYS:
            raise CadreError(path, f"unknown section '{key}'; use [[keep]], [[mask]] or [[voice]]")
    entries, voices = [], []
    for section, allowed in _ENTRY_KEYS.items():
        items = data.get(section, [])
        if not isinstance(items, list):
            raise CadreError(path, f"'{section}' must be a list of tables: write [[{section}]]")
        for n, item in enumerate(items, 1):
            if section == "voice":
                voices.append(_voice(path, n, item, allowed))
            else:
                entries.append(_entry(path, section, n, item, allowed))
    check_overlaps(voices, path)
    overrides = MaskOverrides(str(path), entries, voices)
    if clip_names is not None:
        overrides.check_clips(clip_names)
    return overrides


def _clip_span(path: Path, where: str, item: dict, allowed: set) -> tuple[str, float, float | None]:
    """The keys every masks.toml entry shares, checked: known keys only, a clip, start and end."""
    for key in item:
        if key not in allowed:
            raise CadreError(path, f"{where}: unknown key '{key}'; allowed keys: {', '.join(sorted(allowed))}")
    clip = item.get("clip")
    if not isinstance(clip, str) or not clip:
        raise CadreError(path, f"{where}: clip is missing; give the clip's file name, e.g. clip = \"01.mp4\"")
    start = number(path, f"{where}.start", item.get("start", 0.0), 0, None)
    end = item.get("end")
    if end is not None:
        end = number(path, f"{where}.end", end, 0, None)
        if end <= start:      # an empty span masks or disguises nothing: a typo, never a choice
            raise CadreError(path, f"{where}: end = {end} must be after start = {start}")
    return clip, start, end


def _entry(path: Path, section: str, n: int, item: dict, allowed: set) -> Override:
    where = f"[[{section}]] #{n}"
    clip, start, end = _clip_span(path, where, item, allowed)
    region = item.get("region")
    if region is not None:
        region = _region(path, where, region)
    common = dict(clip=clip, start=start, end=end)
    if section == "keep":
        track = item.get("track")
        if (track is None) == (region is None):
            raise CadreError(path, f"{where}: give exactly one of track = \"<id>\" or region = [x0, y0, x1, y1]")
        if track is not None:
            if not isinstance(track, str) or not track:
                raise CadreError(path, f"{where}: track = {track!r} must be a track id string from the contact sheet")
            return Override("keep_track", track=track, **common)
        return Override("keep_region", region=region, **common)
    whole = item.get("whole_frame", False)
    if not isinstance(whole, bool):
        raise CadreError(path, f"{where}: whole_frame = {whole!r} must be true or false")
    if whole == (region is not None):
        raise CadreError(path, f"{where}: give exactly one of region = [x0, y0, x1, y1] or whole_frame = true")
    label = str(item.get("label", ""))
    moving = item.get("moving", False)
    if not isinstance(moving, bool):
        raise CadreError(path, f"{where}: moving = {moving!r} must be true or false")
    if whole:
        if moving:
            raise CadreError(path, f"{where}: moving = true needs a region, not whole_frame")
        return Override("mask_frame", region=(0.0, 0.0, 1.0, 1.0), label=label, **common)
    return Override("mask_region", region=region, label=label, moving=moving, **common)


def _voice(path: Path, n: int, item: dict, allowed: set) -> VoiceSpan:
    where = f"[[voice]] #{n}"
    clip, start, end = _clip_span(path, where, item, allowed)
    preset = item.get("preset", DEFAULT_PRESET)
    if preset not in PRESETS:
        raise CadreError(path, f"{where}: preset = {preset!r} is not allowed; choose one of: {', '.join(PRESETS)}")
    return VoiceSpan(clip, start, end, preset, str(item.get("label", "")),
                     where)


def _region(path: Path, where: str, value) -> tuple[float, float, float, float]:
    if (not isinstance(value, list) or len(value) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in value)):
        raise CadreError(path, f"{where}: region = {value!r} must be [x0, y0, x1, y1], fractions of the frame from 0 to 1")
    x0, y0, x1, y1 = (float(v) for v in value)
    if x1 <= x0 or y1 <= y0:
        raise CadreError(path, f"{where}: region = {value!r} is empty; x1 must exceed x0 and y1 exceed y0")
    return (x0, y0, x1, y1)


# -- analysis ------------------------------------------------------------------------------------
def analyse_faces(span: ClipSpan, settings: RedactionSettings, progress=None, turned: bool = True) -> FaceTracks:
    """Detect and track the faces of one clip; cached by clip content, span, settings and model.
    ``progress(frames_done, frame_count)``, when given, follows the frame loop. ``turned=False``
    looks upright only (``turns.py``): detection for framing alone, never for masking.

    Raises RedactionError when the detector cannot run or the clip could not be read to its end:
    a frame that was never analysed must not be rendered unmasked.
    """

    frame_count = span.frame_count
    if settings.method == "none":
        return FaceTracks(span.path.name, span.start, frame_count, [], settings.pad, settings.extend_frames,
                          settings.detector, "", True, {"method": "none"})
    detector = get_detector(settings.detector, settings.threshold)
    plan = scan_plan(span.info.width, span.info.height, settings)
    key = cache.make_key("faces", ANALYSIS_VERSION, PARAMS.key(), *span.content_key(), *([] if turned else ["upright only"]),
                         settings.analysis_key(), detector.model_sha256)
    cached = cache.load("faces", key)
    if cached is not None:
        tracks = FaceTracks.from_dict(cached)
        tracks.clip, tracks.pad, tracks.extend = span.path.name, settings.pad, settings.extend_frames
        return tracks

    frames = prefetched(read_frames(span, width=plan.read_size[0], every=settings.detect_every))
    turns = Turns(enabled=turned)
    detections = scan_frames(detector, frames, plan, settings.tile_every, frame_count, settings.detect_every, progress,
                             turns)
    last = max(detections, default=-1)
    if frame_count and last < frame_count - settings.detect_every - 2:
        raise RedactionError(span.path, f"face analysis read only {last + 1} of {frame_count} frames; "
                                        "the clip cannot be decoded to its end - export it again")
    max_gap = max(PARAMS.gap_fine_passes * settings.tile_every, PARAMS.min_gap)
    tracks = FaceTracks(span.path.name, span.start, frame_count, link(detections, max_gap), settings.pad,
                        settings.extend_frames, detector.name, detector.model_sha256, False,
                        {"plan": plan.to_dict(), "analysed_frames": len(detections), **settings.analysis_key(),
                         "turns": turns.summary()})
    cache.store("faces", key, tracks.to_dict())
    return tracks


__all__ = ["RedactionSettings", "MaskOverrides", "Override", "FaceTracks", "analyse_faces", "load_settings",
           "load_overrides", "settings_from_dict", "scan_plan", "detect_frame", "ScanPlan", "MAX_DETECT_PIXELS",
           "METHODS", "SHAPES"]
