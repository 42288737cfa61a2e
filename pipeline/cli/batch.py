"""``cadre batch CAMPAIGN_DIR``: every episode for every network; exit 3 if any failed."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..api import RenderOptions
from ..batch import run_batch
from ..errors import BatchFailed
from .progress import RenderProgress
from .render import render_options


@click.command("batch")
@click.argument("campaign_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Output folder (default: CAMPAIGN_DIR/exports).")
@render_options
def command(campaign_dir: Path, out_dir, networks, redact, caption_style, reframe, split, language, x264_preset):
    """Render every episode of CAMPAIGN_DIR for every network."""
    options = RenderOptions(networks=networks, out_dir=out_dir or campaign_dir / "exports", redact=redact,
                            caption_style=caption_style, reframe=reframe, split=split, language=language,
                            x264_preset=x264_preset)
    with RenderProgress(campaign_dir.name) as events:
        results = run_batch(campaign_dir, options, events)
    table = Table(title=f"campaign {campaign_dir.name}")
    for col in ("episode", "status", "detail"):
        table.add_column(col)
    for r in results:
        table.add_row(r.episode, r.status, r.detail if r.status == "failed" else ", ".join(r.networks))
    Console(stderr=not sys.stdout.isatty()).print(table)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise BatchFailed(campaign_dir, f"{len(failed)} of {len(results)} episodes failed; see the table above")
