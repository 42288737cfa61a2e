"""``cadre render EPISODE_DIR``: one episode, checked files for each network."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import RenderOptions, network_names, render_episode
from pipeline.cli.progress import RenderProgress


def render_options(func):
    """Options shared by ``render`` and ``batch``."""
    options = [
        click.option("-n", "--network", "networks", multiple=True,
                     help=f"Network to export for (repeatable): {', '.join(network_names())}. "
                          "Default: those in episode/campaign.toml, else all."),
        click.option("--redact", help="Redaction preset (mosaic, solid, blur). 'none' disables face masking "
                                      "and is recorded in the report."),
        click.option("--captions", "caption_style", help="Caption style preset, or 'none'."),
        click.option("--reframe", help="How 16:9 footage becomes 9:16: fit, crop, follow (keeps the subject in frame) or auto."),
        click.option("--split/--no-split", default=None, help="Split episodes longer than a network allows into parts."),
        click.option("--language", help="Speech language code, or 'auto'."),
        click.option("--x264-preset", help="Encoder speed/quality preset (or CADRE_X264_PRESET); a preset the "
                                           "master cannot use is refused before any work."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("render")
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Output folder (default: exports/ beside the episode).")
@render_options
@click.option("--require-approval", is_flag=True, default=False,
              help="Refuse an episode that is unapproved or changed since cadre approve (as campaign.toml can ask).")
@click.option("--reanalyse", is_flag=True, help="Run Whisper and the face detector again even when the cache has "
                                                "their results; the new results replace the cached ones.")
def command(episode_dir: Path, out_dir: Path | None, networks, redact, caption_style, reframe, split, language, x264_preset,
            require_approval, reanalyse):
    """Render EPISODE_DIR to a checked vertical file per network."""
    options = RenderOptions(networks=networks, out_dir=out_dir, redact=redact, caption_style=caption_style,
                            reframe=reframe, split=split, language=language, x264_preset=x264_preset,
                            require_approval=True if require_approval else None, reanalyse=reanalyse)
    with RenderProgress(episode_dir.name) as events:
        result = render_episode(episode_dir, options, events)
    for network, report in result["reports"].items():
        for out in report["outputs"]:
            loud = out.get("loudness") or {}
            click.echo(f"{network:16s} {Path(result['out_dir']) / network / out['file']}  "
                       f"{out['duration_s']:.1f} s  {out['size_bytes'] / 1e6:.1f} MB  "
                       f"{loud.get('integrated_lufs', float('nan')):.1f} LUFS")
