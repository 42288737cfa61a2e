"""``cadre preview EPISODE_DIR --at SECONDS``: one published frame as a PNG."""
from __future__ import annotations

from pathlib import Path

import click

from ..api import RenderOptions
from ..preview import preview_frame


@click.command("preview")
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--at", "at", type=float, required=True, help="Time in the episode, seconds.")
@click.option("-n", "--network", "networks", multiple=True, help="Network(s) whose safe zone applies (default: the episode's).")
@click.option("-o", "--out", "out_png", type=click.Path(path_type=Path), help="PNG to write (default: preview-<t>.png beside the episode).")
@click.option("--margins/--no-margins", default=False, help="Draw each network's interface margins over the frame.")
@click.option("--redact", help="Redaction preset, or 'none'.")
@click.option("--captions", "caption_style", help="Caption style preset, or 'none'.")
def command(episode_dir: Path, at: float, networks, out_png, margins, redact, caption_style):
    """Write the frame at --at seconds exactly as it will be published."""
    out_png = out_png or episode_dir.resolve().parent / f"preview-{episode_dir.name}-{at:.2f}s.png"
    options = RenderOptions(networks=networks, redact=redact, caption_style=caption_style)
    click.echo(preview_frame(episode_dir, at, out_png, options, margins))
