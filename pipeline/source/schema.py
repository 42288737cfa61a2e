"""The settings schema: one table of every key of ``campaign.toml`` and ``episode.toml``.

Each :class:`Key` says what its value is (kind, choices or range), where it may be set, how an
episode's value meets the campaign's, and what it changes. From this table come the checks of
:mod:`pipeline.source.config` and their wording, :data:`RENDER_ONLY` (settings that never change a
clip's analysis, :mod:`pipeline.signoff.fingerprint`) and :data:`NOT_APPROVED` (settings a sign-off does
not cover, :mod:`pipeline.signoff.approval`). Every error reads ``key 'K': <value> <what is wrong>; <what
is allowed>``, after the file's name, in the words of :mod:`pipeline.core.values`, which the presets'
checks share.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.core.errors import CadreError
from pipeline.core.networks import network_names
from pipeline.core.resources import load_toml, preset_names, preset_path

LANGUAGE = re.compile(r"^(auto|[a-z]{2,3})$")
X264_PRESETS = ("superfast", "veryfast", "faster", "fast", "medium", "slow", "slower")   # ultrafast: no High profile


@dataclass(frozen=True)
class Key:
    kind: str                           # text | language | choice | flag | pair | names | terms | table | custom
    choices: tuple | Callable[[], list[str]] = ()   # choice / names: the values allowed (or a function giving them)
    lo: float | None = None             # pair: each number's range
    hi: float | None = None
    episode_only: bool = False          # the episode's own content: not in campaign.toml
    render_only: bool = False           # changes the render, never a clip's analysis
    approved: bool = True               # part of what a sign-off covers
    merge: str = "replace"              # an episode's value over the campaign's: replace | union | by_key
    locked: object = None               # a campaign value an episode cannot undo (it may only repeat it)

    def allowed(self) -> list[str]:
        return list(self.choices() if callable(self.choices) else self.choices)


def _presets(kind: str, none: bool) -> Callable[[], list[str]]:
    return lambda: sorted(set(preset_names(kind)) | ({"none"} if none else set()))


SCHEMA: dict[str, Key] = {
    "title": Key("text", episode_only=True, render_only=True),
    "language": Key("language"),
    "clips": Key("custom", episode_only=True, render_only=True),
    "networks": Key("names", network_names, render_only=True),
    "reframe": Key("choice", ("fit", "crop", "follow", "auto")),
    "focus": Key("pair", lo=0.0, hi=1.0),
    "caption_style": Key("choice", _presets("captions", True), render_only=True),
    "redaction": Key("choice", _presets("redaction", False)),   # masking off: refused in campaign.toml (config.py)
    "branding": Key("choice", _presets("branding", True), render_only=True),
    "split": Key("flag", render_only=True),
    "asr": Key("custom", merge="by_key"),
    "reframe_spans": Key("custom", episode_only=True),
    "bleep": Key("terms", render_only=True, merge="union"),
    "bleep_sound": Key("choice", ("tone", "mute"), render_only=True),
    "require_approval": Key("flag", render_only=True, approved=False, locked=True),
    "spellcheck": Key("choice", ("off", "warn", "block"), render_only=True),
    "post": Key("table", render_only=True, merge="by_key"),
    "provenance": Key("choice", ("off", "sign", "required"), render_only=True, locked="required"),
    "signing": Key("table", render_only=True, merge="by_key"),
    "rushes": Key("custom", render_only=True),   # campaign.toml only: the folder rush clips are read from
}

RENDER_ONLY = frozenset(k for k, spec in SCHEMA.items() if spec.render_only)
NOT_APPROVED = frozenset(k for k, spec in SCHEMA.items() if not spec.approved)
CAMPAIGN_KEYS = frozenset(k for k, spec in SCHEMA.items() if not spec.episode_only)


def masking_off(name: str) -> bool:
    """Whether the redaction preset ``name`` turns face masking off (``none``, or a preset of that method)."""
    if name == "none":
        return True
    try:
        return load_toml(preset_path("redaction", name)).get("method") == "none"
    except Exception:  # an unknown preset is refused by its own check  # noqa: BLE001
        return False


def x264_preset(option: str | None = None) -> str | None:
    """The one place the encoder preset is resolved: ``--x264-preset``, else ``$CADRE_X264_PRESET``,
    checked at once, before anything runs (None: the master preset's own)."""
    chosen = option or os.environ.get("CADRE_X264_PRESET") or None
    if chosen is not None and chosen not in X264_PRESETS:
        source = "--x264-preset" if option else "CADRE_X264_PRESET"
        why = " (it cannot make the High profile of the master)" if chosen == "ultrafast" else ""
        raise CadreError(source, f"{chosen!r} is not allowed{why}; choose one of: {', '.join(X264_PRESETS)}")
    return chosen
