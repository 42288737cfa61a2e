"""``cadre demo [DIR]``: generate the built-in demo episode and render it."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import RenderOptions, make_demo_episode, render_episode
from pipeline.cli.progress import RenderProgress


@click.command("demo")
@click.argument("folder", type=click.Path(path_type=Path), default=Path("demo"))
@click.option("-n", "--network", "networks", multiple=True, help="Networks to render (default: all five).")
def command(folder: Path, networks):
    """Generate a demo episode in FOLDER/episode-01 and render it to FOLDER/exports."""
    episode = make_demo_episode(folder / "episode-01")
    click.echo(f"demo episode: {episode}")
    with RenderProgress(episode.name) as events:
        result = render_episode(episode, RenderOptions(networks=tuple(networks)), events)
    for network, report in result["reports"].items():
        click.echo(f"{network:16s} {Path(result['out_dir']) / network / report['outputs'][0]['file']}")
