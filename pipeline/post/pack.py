"""The post pack: each network's post built, checked and written as ``post.txt`` and ``post.json``.

:func:`episode_posts` builds and checks every network's post once per render (and for the review
page, ``cadre status`` and the approval); a post with a ``block`` finding refuses its network
(:func:`refusals`: nothing is published for it, the others go on). :func:`write_post` writes the
two files beside the network's video. :func:`post_hashes` is what the approval fingerprint holds:
an edit to any network's post after sign-off voids it and names that post.

Phone numbers and links said in the captions are checked too when the campaign declares its
allowed contacts (``handles.toml``); without that file only the posts are held to 17 and 112.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from pipeline.core.networks import network_names
from pipeline.post.checks import Finding, blocking, caption_findings, check_post
from pipeline.post.handles import read_handles
from pipeline.post.model import Post, load_limits, posts_for
from pipeline.speech.transcript import Word

POST_TXT = "post.txt"
POST_JSON = "post.json"


@dataclass(frozen=True)
class PostResult:
    network: str
    post: Post | None                     # None: the episode has no [post] (captions checked only)
    text: str
    title: str
    findings: tuple[Finding, ...]

    @property
    def blocked(self) -> bool:
        return bool(blocking(self.findings))

    @property
    def sha256(self) -> str:
        return post_hash(self.text, self.title)

    def to_dict(self) -> dict:
        data = self.post.to_dict() if self.post else {"network": self.network}
        return {**data, "title": self.title, "text": self.text, "sha256": self.sha256, "blocked": self.blocked,
                "findings": [f.to_dict() for f in self.findings]}

    def reason(self) -> str:
        bad = blocking(self.findings)
        return (f"its post is blocked ({len(bad)} problem(s)): " + "; ".join(map(str, bad[:6]))
                + (f" and {len(bad) - 6} more" if len(bad) > 6 else "")
                + "; fix [post] in episode.toml or handles.toml, then render again")


def post_hash(text: str, title: str) -> str:
    return hashlib.sha256(json.dumps([title, text], ensure_ascii=False).encode("utf-8")).hexdigest()


def build_posts(episode, networks: Sequence) -> dict[str, Post]:
    """Each network's :class:`Post` (unchecked); empty when the episode has no ``[post]``."""
    return posts_for(episode.settings, episode.name, episode.folder, [n.name for n in networks], network_names())


def post_hashes(episode, networks: Sequence) -> dict[str, str]:
    """network -> sha256 of its post's title and text, for the approval fingerprint."""
    out = {}
    for name, post in build_posts(episode, networks).items():
        limits = load_limits(name)
        out[name] = post_hash(post.render(), post.rendered_title() if limits.has_title else "")
    return out


def episode_posts(episode, networks: Sequence, words: Sequence[Word] | None = None,
                  language: str | None = None) -> dict[str, PostResult]:
    """Every network's post, built and checked; ``words`` (the plan's caption words on the episode
    timeline) are checked for phone numbers and links when the campaign has a ``handles.toml``."""
    settings = episode.settings
    words = [w if isinstance(w, Word) else Word(**w) for w in words or []]
    posts = build_posts(episode, networks)
    handles = read_handles(Path(episode.folder).parent, tuple(network_names()))
    language = language or (settings.language if settings.language != "auto" else None)
    glossary = (settings.asr or {}).get("glossary", ())
    spoken = caption_findings(words, language, handles) if words and handles.path else []
    out = {}
    for net in networks:
        post = posts.get(net.name)
        if post is None and not spoken:
            continue
        limits = load_limits(net.name)
        found = check_post(post, net.title, limits, handles, language, glossary, settings.spellcheck) if post else []
        title = post.rendered_title() if post and limits.has_title else ""
        out[net.name] = PostResult(net.name, post, post.render() if post else "", title, tuple(found + spoken))
    return out


def refusals(results: dict[str, PostResult]) -> dict[str, str]:
    """network -> why, for every network whose post (or captions' contacts) is blocked."""
    return {name: r.reason() for name, r in results.items() if r.blocked}


def warnings(results: dict[str, PostResult]) -> list[str]:
    return [f"post {name}: {f}" for name, r in results.items() for f in r.findings if f.severity == "warn"]


def write_post(result: PostResult, out_dir: Path) -> dict:
    """``post.txt`` (the text to paste) and ``post.json`` (text, title, hashtags, mentions, checks)
    in ``out_dir``; returns the post's section of ``report.json`` (no file when the episode has no
    ``[post]``: only its captions' contacts were checked)."""
    summary = {"sha256": result.sha256, "findings": [f.to_dict() for f in result.findings]}
    if result.post is None:
        return {"files": [], **summary}
    (Path(out_dir) / POST_TXT).write_text(result.text, "utf-8")
    (Path(out_dir) / POST_JSON).write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return {"files": [POST_TXT, POST_JSON], "title": result.title, **summary}


def read_post(out_dir: Path) -> dict | None:
    """A published network folder's ``post.json`` (status and the campaign page), or None."""
    try:
        data = json.loads((Path(out_dir) / POST_JSON).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
