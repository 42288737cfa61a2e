"""Episode and campaign settings: ``episode.toml`` over ``campaign.toml`` over built-in defaults.

Every key is checked here against the one table of keys (:data:`pipeline.source.schema.SCHEMA`),
so a typo or a wrong value stops the run with one line that names the file, the key and what is
allowed, always in the same words.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.resources import load_toml
from pipeline.core.values import choice, number, wrong
from pipeline.source.schema import CAMPAIGN_KEYS, LANGUAGE, SCHEMA, masking_off
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.precision import AUTO, KNOWN_TYPES

REFRAMES = SCHEMA["reframe"].choices
SPAN_STRATEGIES = ("fit", "crop", "follow")
SPAN_KEYS = ("clip", "start", "end", "shot", "strategy", "focus", "track", "note")
_TOML_TYPES = {"str": str, "int": int, "bool": bool, "tuple": list, "float": float}
_KIND_WORDS = {str: "a string", int: "a whole number", bool: "true or false", list: "a list", float: "a number"}
# [asr]: the fields of TranscribeOptions, read from it, but for the language (its own key), the threads
# (the machine's) and the audio stream (each clip's: clips = [{file = "1.mp4", audio_stream = 2}])
NOT_ASR = ("language", "threads", "audio_stream")
ASR_KEYS = {f.name: _TOML_TYPES[str(f.type).split("[")[0].split(" |")[0]] for f in fields(TranscribeOptions)
            if f.name not in NOT_ASR}


ROTATIONS = (0, 90, 180, 270)


@dataclass(frozen=True)
class ClipRef:
    file: str
    start: float = 0.0
    end: float | None = None
    rotate: int = 0          # degrees clockwise that make the picture upright (a camera mounted upside down)
    audio_stream: int | str | None = None   # which audio stream, from 1, or "mix"; None: the first
    rush: bool = False       # ``file`` is a path inside the campaign's rushes folder (``rush = "..."``), not the episode's


@dataclass(frozen=True)
class ReframeSpan:
    """An ``[[reframe_spans]]`` entry: how one time span (seconds of the clip file) or one shot
    (1-based, as numbered in plan.json and ``cadre preview --crop-window``) of a clip is framed."""

    clip: str
    start: float = 0.0
    end: float | None = None
    shot: int | None = None
    strategy: str | None = None                  # fit | crop | follow; None: crop when focus is given
    focus: tuple[float, float] | None = None     # crop centre (crop), or where to look without faces (follow)
    track: str | None = None                     # follow: the face track to keep in frame (id from the review page)

    @property
    def effective_strategy(self) -> str:
        return self.strategy or ("follow" if self.track is not None else "crop")


@dataclass(frozen=True)
class Settings:
    title: str = ""
    language: str = "fr"
    clips: tuple[ClipRef, ...] = ()
    networks: tuple[str, ...] = ("tiktok", "snapchat", "instagram-reels", "youtube-shorts", "facebook-reels")
    reframe: str = "fit"
    focus: tuple[float, float] = (0.5, 0.5)
    caption_style: str = "social"
    redaction: str = "mosaic"
    branding: str = "none"
    split: bool = False
    asr: dict = field(default_factory=dict)
    reframe_spans: tuple[ReframeSpan, ...] = ()
    bleep: tuple[str, ...] = ()          # terms muted in the audio and replaced in captions (bleep.py)
    bleep_sound: str = "tone"            # tone | mute: what replaces the audio of a bleeped word
    require_approval: bool = False       # render/batch refuse an unapproved or changed episode (approval.py)
    spellcheck: str = "warn"             # off | warn | block: the caption spelling check (captions/spelling.py)
    post: dict = field(default_factory=dict)      # [post]: the post around the video (checked by pipeline/post/model.py)
    provenance: str = "off"              # off | sign | required: C2PA content credentials (pipeline/post/provenance.py)
    signing: dict = field(default_factory=dict)   # [signing]: unit, key, certs (checked by pipeline/post/provenance.py)
    unknown_networks: tuple[str, ...] = ()   # names in campaign.toml that are not networks (never set by hand)
    rushes: str = ""                     # campaign.toml's rushes folder, resolved ("": none declared)

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        # the keys added for rushes appear only when used, so the fingerprints of other episodes stay as they were
        out["clips"] = [{k: v for k, v in vars(c).items() if k != "rush" or v} for c in self.clips]
        if not self.rushes:
            del out["rushes"]
        out["reframe_spans"] = [vars(r) for r in self.reframe_spans]
        return out

    def spans_for(self, clip: str) -> list[ReframeSpan]:
        return [r for r in self.reframe_spans if r.clip == clip]


def _fail(path: Path, key: str, problem: str) -> None:
    raise CadreError(path, wrong(key, problem))


def _number(path, key, value, lo=None, hi=None) -> float:
    return number(path, key, value, lo, hi)


def _pair(path, key, value, lo: float, hi: float) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        _fail(path, key, f"{value!r} must be [x, y] with each {'between %g and %g' % (lo, hi)}")
    return tuple(_number(path, key, v, lo, hi) for v in value)


def _clip(path: Path, episode_dir: Path, item) -> ClipRef:
    if isinstance(item, str):
        item = {"file": item}
    if not isinstance(item, dict) or ("file" in item) == ("rush" in item):
        _fail(path, "clips", f"{item!r} must be a file name or a table like {{file = \"1.mp4\", start = 2.0, end = 9.5}} "
                             "(or {rush = \"A001.mp4\", ...} for a file of the campaign's rushes folder)")
    unknown = set(item) - {"file", "rush", "start", "end", "rotate", "audio_stream"}
    if unknown:
        _fail(path, "clips", f"unknown key(s) {sorted(unknown)}; allowed: file (or rush), start, end, rotate, audio_stream")
    rush = "rush" in item
    name = item["rush" if rush else "file"]
    if not isinstance(name, str) or not name:
        _fail(path, f"clips.{'rush' if rush else 'file'}", f"{name!r} must be a file name")
    if rush:    # inside the rushes root: checked once the campaign's root is known (_check_rushes)
        if Path(name).is_absolute():
            _fail(path, "clips.rush", f"'{name}' must be a path inside the rushes folder (relative to it), "
                                      "not an absolute path")
    elif not (episode_dir / name).resolve().is_relative_to(episode_dir.resolve()):
        _fail(path, "clips.file", f"'{name}' points outside the episode folder; use a file inside {episode_dir}")
    start = _number(path, "clips.start", item.get("start", 0.0), 0, None)
    end = item.get("end")
    if end is not None:
        end = _number(path, "clips.end", end, 0, None)
        if end <= start:
            _fail(path, "clips.end", f"{end} must be after start {start}")
    rotate = item.get("rotate", 0)
    if isinstance(rotate, bool) or rotate not in ROTATIONS:
        _fail(path, "clips.rotate", f"{rotate!r} is not allowed; use 90, 180 or 270 (degrees clockwise that make "
                                    "the picture upright), or leave it out")
    stream = item.get("audio_stream")
    if stream is not None and stream != "mix" and (isinstance(stream, bool) or not isinstance(stream, int) or stream < 1):
        _fail(path, "clips.audio_stream", f"{stream!r} is not allowed; give the audio stream to use, from 1 (the "
                                          "first), or \"mix\" to mix them all")
    return ClipRef(name, start, end, int(rotate), stream, rush)


def _parse(path: Path, data: dict, episode_dir: Path | None, campaign: bool) -> dict:
    """The keys of one file, each checked as :data:`SCHEMA` says."""
    allowed = CAMPAIGN_KEYS if campaign else SCHEMA.keys()
    out: dict = {}
    for key, value in data.items():
        spec = SCHEMA.get(key)
        if key not in allowed:
            where = " (it belongs in each episode's episode.toml)" if spec is not None else ""
            _fail(path, key, f"unknown key{where}; allowed keys: {', '.join(sorted(allowed))}")
        out[key] = _value(path, key, spec, value, episode_dir, campaign)
        if campaign and key == "redaction" and masking_off(value):
            # face masking is turned off for one episode by a person, never for a whole campaign
            _fail(path, key, f"{value!r} turns face masking off, which cannot be set for a whole campaign; put "
                             f"redaction = \"{value}\" in that episode's episode.toml, or use cadre render --redact none")
        if campaign and key == "networks":
            # one wrong name must not stop the whole campaign: kept aside, reported per episode
            allowed_names = spec.allowed()
            out[key] = tuple(v for v in value if v in allowed_names)
            out["unknown_networks"] = tuple(str(v) for v in value if v not in allowed_names)
    return out


def _value(path: Path, key: str, spec, value, episode_dir: Path | None, campaign: bool):
    """One value checked by its kind in :data:`SCHEMA`."""
    kind = spec.kind
    if kind == "text":
        if not isinstance(value, str):
            _fail(path, key, f"{value!r} must be a string")
        return value
    if kind == "language":
        if not isinstance(value, str) or not LANGUAGE.match(value):
            _fail(path, key, f"{value!r} must be 'auto' or a language code such as 'fr' or 'en'")
        return value
    if kind == "choice":
        return choice(path, key, value, spec.allowed())
    if kind == "flag":
        if not isinstance(value, bool):
            _fail(path, key, f"{value!r} must be true or false")
        return value
    if kind == "pair":
        return _pair(path, key, value, spec.lo, spec.hi)
    if kind == "names":
        if not isinstance(value, list) or not value:
            _fail(path, key, f"must be a non-empty list; choose from: {', '.join(spec.allowed())}")
        if campaign:
            return tuple(value)            # sorted out by _parse: unknown names are kept aside
        return tuple(choice(path, key, v, spec.allowed()) for v in value)
    if kind == "terms":
        return _bleep(path, value)
    if kind == "table":   # its keys are checked where they are used
        if not isinstance(value, dict):
            _fail(path, key, f"must be a table: write [{key}]")
        return _plain(value)
    if key == "clips":
        if not isinstance(value, list):
            _fail(path, key, "must be a list of file names or tables")
        return tuple(_clip(path, episode_dir, item) for item in value)
    if key == "asr":
        return _asr(path, value)
    if key == "rushes":
        if not campaign:
            _fail(path, key, "is declared once, in the campaign's campaign.toml, not in an episode; move it there")
        if not isinstance(value, str) or not value.strip():
            _fail(path, key, f"{value!r} must be the path of the rushes folder, e.g. rushes = \"/media/rushes\"")
        return str((path.parent / Path(value).expanduser()).resolve())
    if key == "reframe_spans":
        if not isinstance(value, list):
            _fail(path, key, "must be a list of tables: write [[reframe_spans]]")
        return tuple(_reframe_span(path, episode_dir, n, item) for n, item in enumerate(value, 1))
    raise AssertionError(f"settings key {key!r} has no check")   # SCHEMA and this function disagree


def _reframe_span(path: Path, episode_dir: Path, n: int, item) -> ReframeSpan:
    """One ``[[reframe_spans]]`` table::

        [[reframe_spans]]
        clip = "02.mp4"
        start = 4.0            # seconds of the clip file (or: shot = 3)
        end = 9.5              # omit for the end of the clip
        strategy = "fit"       # fit | crop | follow
        focus = [0.3, 0.5]     # crop centre as fractions of the frame (strategy crop or follow)
        track = "t00012-40-35" # follow: the person to keep in frame (track id from the review page)
    """
    key = f"reframe_spans #{n}"
    if not isinstance(item, dict):
        _fail(path, key, "must be a table like {clip = \"1.mp4\", start = 2.0, end = 6.0, strategy = \"fit\"}")
    unknown = set(item) - set(SPAN_KEYS)
    if unknown:
        _fail(path, key, f"unknown key(s) {sorted(unknown)}; allowed: {', '.join(SPAN_KEYS)}")
    clip = item.get("clip")
    if not isinstance(clip, str) or not clip:
        _fail(path, f"{key}.clip", "is missing; give the clip's file name, e.g. clip = \"01.mp4\"")
    if episode_dir is not None and not (episode_dir / clip).is_file():
        _fail(path, f"{key}.clip", f"'{clip}' is not a clip of the episode folder; use a file name from {episode_dir}")
    shot = item.get("shot")
    if shot is not None:
        number(path, f"{key}.shot", shot, 1, None, whole=True)   # shots as numbered in plan.json and cadre preview
        if "start" in item or "end" in item:
            _fail(path, key, "give either shot = N or start/end seconds, not both")
    start = _number(path, f"{key}.start", item.get("start", 0.0), 0, None)
    end = item.get("end")
    if end is not None:
        end = _number(path, f"{key}.end", end, 0, None)
        if end <= start:
            _fail(path, f"{key}.end", f"{end} must be after start {start}")
    strategy = item.get("strategy")
    if strategy is not None:
        strategy = choice(path, f"{key}.strategy", strategy, SPAN_STRATEGIES)
    focus = item.get("focus")
    if focus is not None:
        focus = _pair(path, f"{key}.focus", focus, 0.0, 1.0)
        if strategy == "fit":
            _fail(path, f"{key}.focus", "does nothing with strategy = \"fit\" (the whole frame shows); "
                                        "remove it or use strategy = \"crop\"")
    track = item.get("track")
    if track is not None:
        if not isinstance(track, str) or not track:
            _fail(path, f"{key}.track", f"{track!r} must be a face track id as shown on the review page, e.g. \"t00012-40-35\"")
        if strategy not in (None, "follow"):
            _fail(path, f"{key}.track", f"only works with strategy = \"follow\", not {strategy!r}")
    if strategy is None and focus is None and track is None:
        _fail(path, key, "says nothing; give strategy = \"fit\" | \"crop\" | \"follow\" and/or focus = [x, y]")
    return ReframeSpan(clip, start, end, shot, strategy, focus, track)


def _plain(value):
    """A TOML table with its dates as ISO text (settings are hashed and written as JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def _bleep(path: Path, value) -> tuple[str, ...]:
    """``bleep = ["Dupont", "12 rue des Lilas"]``: words or phrases to mute and hide in captions."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        _fail(path, "bleep", f"{value!r} must be a list of words or phrases, e.g. bleep = [\"Dupont\", \"12 rue des Lilas\"]")
    return tuple(v.strip() for v in value)


def _asr(path: Path, value) -> dict:
    if not isinstance(value, dict):
        _fail(path, "asr", "must be a table")
    for k, v in value.items():
        if k not in ASR_KEYS:
            _fail(path, f"asr.{k}", f"unknown key; allowed keys: {', '.join(ASR_KEYS)}")
        if not isinstance(v, ASR_KEYS[k]) or (ASR_KEYS[k] is int and isinstance(v, bool)):
            _fail(path, f"asr.{k}", f"{v!r} must be {_KIND_WORDS[ASR_KEYS[k]]}")
    if "compute_type" in value:   # the name only: whether this CPU offers it is checked when the model loads
        if value["compute_type"] not in (AUTO, *KNOWN_TYPES):
            _fail(path, "asr.compute_type", f"{value['compute_type']!r} is not a compute type; "
                                            f"use auto (the default) or one of {', '.join(KNOWN_TYPES)}")
    return dict(value)


def load_settings(episode_dir: Path, overrides: dict | None = None) -> Settings:
    """Settings of one episode: defaults, then ``../campaign.toml``, then ``episode.toml``, then CLI."""
    merged: dict = {}
    campaign = episode_dir.parent / "campaign.toml"
    if campaign.is_file():
        merged.update(_parse(campaign, load_toml(campaign), episode_dir, campaign=True))
    episode = episode_dir / "episode.toml"
    if episode.is_file():
        ep = _parse(episode, load_toml(episode), episode_dir, campaign=False)
        for key, value in ep.items():
            spec = SCHEMA.get(key)
            if spec is None or key not in merged:
                continue
            if spec.locked is not None and merged[key] == spec.locked and value != spec.locked:
                _fail(episode, key, f"campaign.toml sets {key} = {_toml(spec.locked)} for every episode; "
                                    "an episode cannot turn it off (remove the key)")
            if spec.merge == "by_key":        # tables: the campaign's keys stay unless the episode sets them
                ep[key] = {**merged[key], **value}
            elif spec.merge == "union":       # privacy lists add up, never replace each other
                ep[key] = tuple(dict.fromkeys(merged[key] + value))
        merged.update(ep)
    settings = replace(Settings(), **merged)
    _check_rushes(settings, episode, campaign)
    if overrides:
        settings = replace(settings, **{k: v for k, v in overrides.items() if v not in (None, ())})
    return settings


def rush_path(settings: Settings, ref: ClipRef) -> Path:
    """Where a ``rush = "..."`` clip is: inside the campaign's rushes folder."""
    return Path(settings.rushes) / ref.file


def _check_rushes(settings: Settings, episode: Path, campaign: Path) -> None:
    """Clips taken from the rushes folder: declared, there, inside it (no ``..`` or link out of it)."""
    for ref in settings.clips:
        if not ref.rush:
            continue
        if not settings.rushes:
            _fail(episode, "clips.rush", f"'{ref.file}' is a rush, but {campaign} declares no rushes folder; "
                                         "add rushes = \"/path/to/rushes\" to it")
        root = Path(settings.rushes)
        if not root.is_dir():
            _fail(campaign, "rushes", f"'{root}' is not a folder (moved, renamed or unmounted?); set rushes in "
                                      f"{campaign.name} to where the rushes are now")
        target = rush_path(settings, ref).resolve()
        if not target.is_relative_to(root.resolve()):
            _fail(episode, "clips.rush", f"'{ref.file}' points outside the rushes folder {root}; use a file inside it")
        if not target.is_file():
            _fail(episode, "clips.rush", f"'{ref.file}' is not in the rushes folder {root} (moved or renamed?); "
                                         "put it back or correct the name")


def _toml(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'


def _schema_matches_settings() -> None:
    """Every key of :class:`Settings` has its row in :data:`SCHEMA` and the reverse (checked on import)."""
    keys = {f.name for f in fields(Settings)} - {"unknown_networks"}
    if keys != set(SCHEMA):
        raise AssertionError(f"Settings and SCHEMA disagree: {sorted(keys ^ set(SCHEMA))}")


_schema_matches_settings()
