"""The post as data: ``[post]`` in ``episode.toml`` (defaults in ``campaign.toml``).

::

    [post]
    text = "Appel à témoins : le {date}, un cycliste a été renversé à {title}."
    date = 2026-12-05              # what {date} shows (TOML date or text)
    hashtags = ["#AppelÀTémoins", "Gendarmerie"]
    mentions = ["@prefet35"]
    cta = "Vous avez vu quelque chose ? Appelez le 17."
    phone = "17"                   # optional
    link = "https://www.gendarmerie.interieur.gouv.fr"   # optional
    title = "Appel à témoins"      # networks with a title (YouTube)

    [post.networks.youtube-shorts] # per-network overrides, same keys
    hashtags = ["#Shorts", "#AppelÀTémoins"]

The settings loader (``source/config.py``) merges ``[post]`` of the campaign and the episode key by
key; every key is validated here (:func:`read_post_table`), where the file can still be named.
The text of each network's post is :meth:`Post.render`; ``{title}`` is the episode title,
``{date}`` the ``date`` key (a template naming a key that does not exist is refused).
"""
from __future__ import annotations

import datetime as _dt
import string
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.resources import load_preset, preset_path

TEXT_KEYS = ("text", "title", "cta", "phone", "link")
LIST_KEYS = ("hashtags", "mentions")
KEYS = TEXT_KEYS + LIST_KEYS + ("date", "networks")
FIELDS = ("title", "date")             # what a template may name


@dataclass(frozen=True)
class Post:
    """One network's post, before its template is filled."""

    network: str
    text: str = ""
    title: str = ""
    cta: str = ""
    phone: str = ""
    link: str = ""
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    date: str = ""
    episode_title: str = ""
    language: str = "fr"
    source: str = ""                    # the file the [post] table came from (for error lines)

    def fill(self, template: str, key: str) -> str:
        values = {"title": self.episode_title, "date": shown_date(self.date, self.language)}
        try:
            names = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
        except ValueError as exc:
            raise CadreError(self.source, f"key 'post.{key}': {exc}; write {{{{ and }}}} for a literal brace") from None
        for name in names:
            if name not in values:
                raise CadreError(self.source, f"key 'post.{key}': {{{name}}} is not a field; use "
                                              + " or ".join(f"{{{f}}}" for f in FIELDS))
            if name == "date" and not self.date:
                raise CadreError(self.source, f"key 'post.{key}' uses {{date}} but [post] has no date; "
                                              "add date = 2026-12-05")
        return template.format_map(values)

    def lines(self) -> list[str]:
        """The post's text as published (``post.txt``): the text, the call to action with the phone
        and link, then the mentions and hashtags; the title (networks that have one) is apart."""
        out = self.fill(self.text, "text").strip().splitlines() if self.text.strip() else []
        tail = [self.fill(self.cta, "cta").strip()] if self.cta.strip() else []
        tail += [v.strip() for v in (self.phone, self.link) if v.strip()]
        if tail:
            out += ([""] if out else []) + tail
        tags = " ".join([_mark(m, "@") for m in self.mentions] + [_mark(h, "#") for h in self.hashtags])
        if tags:
            out += ([""] if out else []) + [tags]
        return out

    def render(self) -> str:
        return "\n".join(self.lines()) + "\n" if self.lines() else ""

    def rendered_title(self) -> str:
        return self.fill(self.title, "title").strip() if self.title else ""

    def to_dict(self) -> dict:
        return {"network": self.network, "title": self.rendered_title(), "text": self.render(),
                "hashtags": list(self.hashtags), "mentions": list(self.mentions), "cta": self.cta,
                "phone": self.phone, "link": self.link, "date": self.date}


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")


def shown_date(value: str, language: str | None) -> str:
    """A date as a French post writes it (``2026-12-01`` -> ``1er décembre 2026``); other text as it is."""
    try:
        day = _dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        day = None
    if day is None or language not in ("fr", None, "auto"):
        return value
    return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def _mark(word: str, sign: str) -> str:
    word = word.strip()
    return word if word.startswith(sign) else sign + word


def _fail(path, key: str, problem: str):
    raise CadreError(path, f"key 'post.{key}': {problem}")


def _fields(path, table: dict, where: str, networks: tuple[str, ...]) -> dict:
    out: dict = {}
    for key, value in table.items():
        name = f"{where}{key}"
        if key not in KEYS or (key == "networks" and where):
            allowed = [k for k in KEYS if not (k == "networks" and where)]
            _fail(path, name, f"unknown key; allowed keys: {', '.join(allowed)}")
        if key in TEXT_KEYS:
            if not isinstance(value, str):
                _fail(path, name, f"{value!r} must be text")
            out[key] = value
        elif key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                _fail(path, name, f"{value!r} must be a list of words, e.g. {key} = [\"{'@' if key == 'mentions' else '#'}exemple\"]")
            sign = "@" if key == "mentions" else "#"
            for v in value:
                if len(v.strip().split()) != 1 or v.strip().lstrip(sign) == "":
                    _fail(path, name, f"{v!r} must be one {sign}word without spaces")
            out[key] = tuple(v.strip() for v in value)
        elif key == "date":
            if isinstance(value, (_dt.date, _dt.datetime)):
                value = value.isoformat()
            if not isinstance(value, str):
                _fail(path, name, f"{value!r} must be a date (2026-12-05) or text")
            out[key] = value
        elif key == "networks":
            if not isinstance(value, dict):
                _fail(path, name, "must be a table: write [post.networks.tiktok]")
            per = {}
            for net, sub in value.items():
                if net not in networks:
                    _fail(path, f"networks.{net}", f"unknown network; choose from: {', '.join(networks)}")
                if not isinstance(sub, dict):
                    _fail(path, f"networks.{net}", "must be a table of post keys")
                per[net] = _fields(path, sub, f"networks.{net}.", networks)
            out[key] = per
    return out


def post_source(episode_dir: Path) -> Path:
    """The file a ``[post]`` table is named by in error lines: the episode's when it has one."""
    own = Path(episode_dir) / "episode.toml"
    return own if own.is_file() else Path(episode_dir).parent / "campaign.toml"


def read_post_table(table: dict | None, source, networks: tuple[str, ...]) -> dict:
    """``[post]`` validated: ``{key: value, "networks": {name: {key: value}}}``."""
    if not table:
        return {}
    if not isinstance(table, dict):
        raise CadreError(source, "key 'post': must be a table: write [post]")
    return _fields(source, table, "", networks)


def posts_for(settings, episode_name: str, episode_dir: Path, networks: list[str], all_networks) -> dict[str, Post]:
    """One :class:`Post` per network from the episode's settings; empty when there is no ``[post]``."""
    source = post_source(episode_dir)
    table = read_post_table(getattr(settings, "post", None), source, tuple(all_networks))
    if not table:
        return {}
    base = {k: v for k, v in table.items() if k != "networks"}
    title = settings.title or episode_name
    out = {}
    for name in networks:
        values = {**base, **table.get("networks", {}).get(name, {})}
        out[name] = replace(Post(name, episode_title=title, language=settings.language, source=str(source)), **values)
    return out


@dataclass(frozen=True)
class Limits:
    """A network's published post limits (``[post]`` in its preset); None: the network publishes none."""

    max_text: int | None = None
    text_unit: str = "chars"             # chars | utf16 | bytes
    has_title: bool = False
    max_title: int | None = None
    max_hashtags: int | None = None
    max_mentions: int | None = None
    forbidden: str = ""                  # characters the network refuses in its text fields

    def measure(self, text: str, unit: str | None = None) -> int:
        unit = unit or self.text_unit
        if unit == "bytes":
            return len(text.encode("utf-8"))
        if unit == "utf16":
            return len(text.encode("utf-16-le")) // 2
        return len(text)


LIMIT_KEYS = {"max_text": int, "text_unit": str, "has_title": bool, "max_title": int, "max_hashtags": int,
              "max_mentions": int, "forbidden": str}


def load_limits(network: str) -> Limits:
    """``[post]`` of ``presets/networks/<network>.toml``: each limit with the public page it comes
    from in a comment; a limit a network does not publish is absent (nothing is checked)."""
    raw = load_preset("networks", network).get("post", {})
    path = preset_path("networks", network)
    for key, value in raw.items():
        kind = LIMIT_KEYS.get(key)
        if kind is None or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CadreError(path, f"key 'post.{key}': unknown or of the wrong type; allowed: "
                                   + ", ".join(f"{k} ({t.__name__})" for k, t in LIMIT_KEYS.items()))
    if raw.get("text_unit", "chars") not in ("chars", "utf16", "bytes"):
        raise CadreError(path, "key 'post.text_unit': choose one of: chars, utf16, bytes")
    return Limits(**raw)
