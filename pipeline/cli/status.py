"""``cadre status CAMPAIGN_DIR|EPISODE_DIR``: up to date, approved, published and warnings pending,
one row per episode and network, without rendering or analysing anything."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline import CampaignStatus, RenderOptions, status
from pipeline.cli.render import render_options


@click.command("status")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder the batch wrote to (default: exports/ beside the episodes).")
@render_options
@click.option("--json", "as_json", is_flag=True, help="Print the rows as one JSON document (for automation).")
def command(folder: Path, out_dir, networks, redact, caption_style, reframe, split, language, x264_preset, as_json):
    """Where each episode x network of FOLDER stands: up to date, stale (and why), never rendered;
    approved (by whom, when); published (when, sha256); warnings pending. Give the same options as
    the batch you would run; without them, the episode and campaign settings are used."""
    options = RenderOptions(networks=networks, out_dir=out_dir, redact=redact, caption_style=caption_style,
                            reframe=reframe, split=split, language=language, x264_preset=x264_preset)
    result = status(folder, options)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
    else:
        print_table(result)


def _approval(r) -> str:
    if r.approved:
        return f"by {r.approved_by} {r.approved_at}"
    return f"no: {r.approval}" if r.approval else "no"


def _published(r) -> str:
    return f"{r.published_at} sha256 {r.sha256[:12]}" if r.published_at and r.sha256 else (r.published_at or "")


def print_table(result: CampaignStatus) -> None:
    """The episode x network table: rich on a terminal, aligned plain text otherwise."""
    colour = {"up to date": "green", "stale": "yellow", "never rendered": "dim", "not configured": "dim",
              "error": "bold red"}
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{result.kind} {result.folder.name}")
        for col in ("episode", "network", "state", "approved", "published", "warnings pending"):
            table.add_column(col, overflow="fold")
        for r in result.rows:
            state = f"[{colour.get(r.state, '')}]{r.state}[/]" + (f"\n{r.reason}" if r.reason else "")
            table.add_row(r.episode, r.network, state, _approval(r), _published(r), "\n".join(r.warnings))
        Console().print(table)
    else:
        for r in result.rows:
            click.echo(f"{r.episode}  {r.network}  {r.state}" + (f" ({r.reason})" if r.reason else "")
                       + f"  approved: {_approval(r)}" + (f"  published: {_published(r)}" if r.published_at else "")
                       + (f"  warnings: {'; '.join(r.warnings)}" if r.warnings else ""))
    counts = {}
    for r in result.rows:
        counts[r.state] = counts.get(r.state, 0) + 1
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()) + f" ({len(result.rows)} rows in {result.elapsed:.2f} s)")
