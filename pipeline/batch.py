"""A campaign: every episode folder under CAMPAIGN_DIR, rendered for every network it names.

One broken episode never stops the others; the summary says which failed and why.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .api import RenderOptions, render_episode
from .episode import VIDEO_EXTS
from .errors import CadreError


@dataclass
class JobResult:
    episode: str
    status: str            # done | failed
    detail: str = ""
    networks: tuple[str, ...] = ()


def find_episodes(campaign: Path) -> list[Path]:
    if not campaign.is_dir():
        raise CadreError(campaign, "campaign folder not found; pass the folder that holds the episode folders")
    from natsort import natsorted

    folders = [p for p in campaign.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "exports"
               and (any(f.suffix.lower() in VIDEO_EXTS for f in p.iterdir()) or (p / "episode.toml").is_file())]
    if not folders:
        raise CadreError(campaign, "no episode folders with clips found; make one sub-folder of clips per episode")
    return natsorted(folders)


def run_batch(campaign: str | Path, options: RenderOptions, events=lambda kind, **d: None) -> list[JobResult]:
    campaign = Path(campaign)
    results = []
    for folder in find_episodes(campaign):
        events("stage", name="episode", clip=folder.name)
        try:
            out = render_episode(folder, options, events)
            results.append(JobResult(folder.name, "done", out["out_dir"], tuple(out["reports"])))
        except CadreError as exc:
            results.append(JobResult(folder.name, "failed", str(exc)))
    return results
