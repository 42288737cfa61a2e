"""Accepting a proposal: an episode folder whose ``episode.toml`` points at the rush and the trims.

The footage is never copied: the clip is ``{rush = "<path in the rushes folder>", start, end}``,
read from the rushes folder that ``campaign.toml`` declares (``rushes = "..."``, written here when
missing; :mod:`pipeline.source.config` refuses a path leaving it and names a root that moved).
The episode is the same as one whose clip is the rush itself with the same trims written by hand,
so ``cadre render`` and ``cadre batch`` treat it as any episode, and its fingerprint hashes the
rush's content (the hash is remembered per path, inode, size and modification time). The folder
is written under a temporary name and renamed into place: whole or absent.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from pipeline.core.cache import atomic_write_text, file_hash, read_json_dict
from pipeline.core.errors import CadreError
from pipeline.core.resources import load_toml
from pipeline.core.textfile import read_text
from pipeline.source.config import load_settings

PROPOSALS = "proposals.json"


def proposals_path(campaign: Path) -> Path:
    return Path(campaign) / PROPOSALS


def check_root(campaign: Path, root: Path) -> None:
    """The campaign folder and the rushes folder stay apart (every sub-folder of a campaign is an
    episode; nothing is ever written among the rushes), and a campaign that declares its rushes
    folder declares this one."""
    campaign, root = Path(campaign).resolve(), Path(root).resolve()
    if campaign.is_relative_to(root):
        raise CadreError(campaign, f"the campaign folder is inside the rushes folder {root}, which is only read; "
                                   "choose a campaign folder elsewhere (-o)")
    if root.is_relative_to(campaign):
        raise CadreError(root, f"the rushes folder is inside the campaign folder {campaign}, where every sub-folder "
                               "is an episode; keep the rushes beside the campaign, not in it")
    toml = campaign / "campaign.toml"
    if toml.is_file():
        declared = load_toml(toml).get("rushes")
        if isinstance(declared, str) and (toml.parent / Path(declared).expanduser()).resolve() != root:
            raise CadreError(toml, f"declares rushes = \"{declared}\", not {root}; propose from that folder, or "
                                   "give this rushes folder its own campaign folder (-o)")


def _declare_root(campaign: Path, root: Path) -> None:
    """``rushes = "<root>"`` in ``campaign.toml`` (created, or the line put first in a file without it)."""
    toml = campaign / "campaign.toml"
    check_root(campaign, root)
    line = f"rushes = {json.dumps(str(root), ensure_ascii=False)}   # the rushes folder clips are read from (never copied)\n"
    if not toml.is_file():
        atomic_write_text(toml, line)
    elif "rushes" not in load_toml(toml):
        atomic_write_text(toml, line + read_text(toml))


def _episode_toml(p: dict) -> str:
    said = " ".join(s["text"] for s in p.get("sentences", []))
    lines = [f"# Accepted from cadre propose: {p['rush']}, {p['start']:.2f} s to {p['end']:.2f} s, score {p['score']:g}."]
    if said:
        lines.append(f"# {json.dumps(said[:150], ensure_ascii=False)}")
    lines.append(f"clips = [{{rush = {json.dumps(p['rush'], ensure_ascii=False)}, start = {p['start']:.2f}, "
                 f"end = {p['end']:.2f}}}]")
    return "\n".join(lines) + "\n"


def accept(campaign: str | Path, ids: list[str]) -> list[Path]:
    """Write one episode folder per proposal id of ``campaign``'s ``proposals.json``; returns them."""
    campaign = Path(campaign).expanduser().resolve()
    data_path = proposals_path(campaign)
    data = read_json_dict(data_path)
    if not data.get("proposals"):
        raise CadreError(data_path, "no proposals here; run cadre propose RUSHES_DIR -o "
                                    f"{campaign} first")
    root = Path(data["rushes"])
    if not root.is_dir():
        raise CadreError(root, "the rushes folder of these proposals is not there any more (moved, renamed or "
                               "unmounted?); put it back, or run cadre propose again from where it is now")
    known = {p["id"]: p for p in data["proposals"]}
    files = {r["file"]: r for r in data.get("rush_files", [])}
    chosen = []
    for ident in ids:
        if ident not in known:
            raise CadreError(data_path, f"no proposal '{ident}'; the ids are: {', '.join(known)}")
        p = known[ident]
        rush, seen = root / p["rush"], files.get(p["rush"], {})
        if not rush.is_file():
            raise CadreError(rush, "the rush is not in the rushes folder any more (moved or renamed?); put it back or "
                                   "run cadre propose again")
        if file_hash(rush) != seen.get("sha256"):
            raise CadreError(rush, "the rush changed since it was proposed; run cadre propose again")
        if (campaign / ident).exists():
            raise CadreError(campaign / ident, "already exists (accepted before?); remove it to accept the proposal again")
        chosen.append(p)
    _declare_root(campaign, root)
    made = []
    for p in chosen:
        staging = Path(tempfile.mkdtemp(prefix=".cadre-accept-", dir=campaign))
        try:
            atomic_write_text(staging / "episode.toml", _episode_toml(p))
            load_settings(staging)                  # the loader render uses accepts it, rush and trims
            staging.rename(campaign / p["id"])
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        made.append(campaign / p["id"])
    return made
