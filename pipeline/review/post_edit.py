"""The post on the review page: each network's post as the render will publish it, with its checks,
and a person's edit saved to ``[post]`` of ``episode.toml`` (tomlkit keeps comments and layout; the
file is put back if the settings or the post no longer load)."""
from __future__ import annotations

from pathlib import Path

import tomlkit

from pipeline.core.errors import CadreError
from pipeline.post.model import LIST_KEYS, TEXT_KEYS
from pipeline.post.pack import episode_posts
from pipeline.review.edits import load_doc, save_checked
from pipeline.source.config import load_settings
from pipeline.source.episode import load_episode

MAX_TEXT = 20_000       # a post longer than any network takes, refused before it is written


def post_rows(session) -> dict:
    """``{"error": "", "networks": [post.json as the render writes it, plus the network's title]}``;
    a ``[post]`` that does not load is the error line, so the rest of the page still shows."""
    plan = session.plan()
    try:
        results = episode_posts(session.episode, session.networks, plan.words, plan.language)
    except CadreError as exc:
        return {"error": str(exc), "networks": []}
    titles = {n.name: n.title for n in session.networks}
    return {"error": "", "networks": [{**r.to_dict(), "network_title": titles[name]} for name, r in results.items()]}


def save_post(folder: Path, network: str, key: str, value, networks) -> None:
    """Set ``key`` of the post (``network`` "" for every network, else that network's override)."""
    if key not in TEXT_KEYS + LIST_KEYS:
        raise CadreError("post", f"'{key}' cannot be edited here; choose one of: {', '.join(TEXT_KEYS + LIST_KEYS)}")
    if network and network not in [n.name for n in networks]:
        raise CadreError("post", f"'{network}' is not one of the episode's networks")
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise CadreError("post", f"{key} must be text of at most {MAX_TEXT} characters")
    path = Path(folder) / "episode.toml"
    doc = load_doc(path)
    table = doc.setdefault("post", tomlkit.table())
    if network:
        table = table.setdefault("networks", tomlkit.table()).setdefault(network, tomlkit.table())
    if key in LIST_KEYS and value.split():
        array = tomlkit.array()
        array.extend(value.split())
        table[key] = array
    elif value.strip() and key not in LIST_KEYS:
        table[key] = tomlkit.string(value.strip("\n"), multiline="\n" in value)
    elif key in table:
        del table[key]

    def check():
        load_settings(folder)
        episode = load_episode(folder)
        episode_posts(episode, [n for n in networks if n.name in episode.settings.networks] or networks)

    save_checked(path, doc, check)
