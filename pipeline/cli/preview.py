"""``cadre preview EPISODE_DIR --at SECONDS``: one published frame as a PNG (or, with
``--crop-window``, the source frame with the reframe window drawn over it)."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import RenderOptions, crop_window_frame, preview_frame


@click.command("preview")
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--at", "at", type=float, required=True, help="Time in the episode, seconds.")
@click.option("-n", "--network", "networks", multiple=True, help="Network(s) whose safe zone applies (default: the episode's).")
@click.option("-o", "--out", "out_png", type=click.Path(path_type=Path), help="PNG to write (default: preview-<t>.png beside the episode).")
@click.option("--margins/--no-margins", default=False, help="Draw each network's interface margins over the frame.")
@click.option("--crop-window", is_flag=True, default=False,
              help="Instead, draw the reframe window (shot, still/pan/fit) over the source frame.")
@click.option("--reframe", help="Reframe strategy (fit, crop, follow, auto); default: the episode's.")
@click.option("--redact", help="Redaction preset, or 'none'.")
@click.option("--captions", "caption_style", help="Caption style preset, or 'none'.")
def command(episode_dir: Path, at: float, networks, out_png, margins, crop_window, reframe, redact, caption_style):
    """Write the frame at --at seconds exactly as it will be published."""
    suffix = "-window" if crop_window else ""
    out_png = out_png or episode_dir.resolve().parent / f"preview-{episode_dir.name}-{at:.2f}s{suffix}.png"
    options = RenderOptions(networks=networks, redact=redact, caption_style=caption_style, reframe=reframe)
    if crop_window:
        click.echo(crop_window_frame(episode_dir, at, out_png, options))
    else:
        click.echo(preview_frame(episode_dir, at, out_png, options, margins))
