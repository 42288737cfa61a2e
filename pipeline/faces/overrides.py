"""The ``masks.toml`` a reviewer edits: faces kept visible, regions and whole frames masked, voices disguised.

:func:`load_overrides` reads and checks the file (a missing file means no overrides); a
:class:`MaskOverrides` then decides, frame by frame, which boxes of a clip's face tracks are masked
(``FaceTracks.boxes_at`` calls :meth:`MaskOverrides.apply`) and carries the ``[[voice]]`` spans the
audio pass disguises (``sound/voice.py``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.geometry import Whole
from pipeline.core.resources import load_toml
from pipeline.core.values import number
from pipeline.faces.tracking import FaceTracks
from pipeline.sound.voice import DEFAULT_PRESET, PRESETS, VoiceSpan, check_overlaps
from pipeline.source.normalize import FPS


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

