"""``cadre approve EPISODE_DIR --by NAME``: sign an episode off as it is now."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import approval_path, approve


@click.command("approve")
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--by", "by", required=True, help="Name of the person signing off.")
def command(episode_dir: Path, by: str):
    """Record who approved EPISODE_DIR, and a hash of everything that decides its output."""
    record = approve(episode_dir, by)
    click.echo(f"approved by {record.by} at {record.at} ({record.hash[:12]}): {approval_path(episode_dir)}")
