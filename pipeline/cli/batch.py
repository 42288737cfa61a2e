"""``cadre batch CAMPAIGN_DIR``: every episode for every network, incremental; exit 3 if any failed."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline import (
    EXECUTORS,
    BatchFailed,
    BatchOptions,
    BatchResult,
    RenderOptions,
    run_batch,
)
from pipeline.cli.progress import BatchProgress
from pipeline.cli.render import render_options


def batch_options(func):
    """Options shared by ``batch`` and ``watch``."""
    options = [
        click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
                     help="Output folder (default: CAMPAIGN_DIR/exports)."),
        click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None,
                     help="Jobs at once (default: cores, at most 4; with Dask: the workers' threads)."),
        click.option("--executor", default="local", show_default=True,
                     help=f"Where jobs run: {', '.join(EXECUTORS)}."),
        click.option("--scheduler", metavar="URL", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
                                                        "(without it, --executor dask starts a local cluster)."),
        click.option("--require-approval", is_flag=True, default=False,
                     help="An episode unapproved or changed since cadre approve fails (as require_approval = true "
                          "in campaign.toml asks); the others are published."),
    ]
    for option in reversed(options):
        func = option(func)
    return render_options(func)


def make_options(campaign_dir: Path, out_dir, networks, redact, caption_style, reframe, split, language, x264_preset,
                 jobs, executor, scheduler, force=False, require_approval=False, reanalyse=False) -> BatchOptions:
    render = RenderOptions(networks=networks, out_dir=out_dir, redact=redact, caption_style=caption_style,
                           reframe=reframe, split=split, language=language, x264_preset=x264_preset,
                           skip_unknown_networks=True, require_approval=True if require_approval else None,
                           reanalyse=reanalyse or force)
    return BatchOptions(render, jobs, force, executor, scheduler)


@click.command("batch")
@click.argument("campaign_dir", type=click.Path(path_type=Path))
@batch_options
@click.option("--force", is_flag=True, help="Render everything again, even outputs that are up to date "
                                           "(implies --reanalyse).")
@click.option("--reanalyse", is_flag=True, help="Run Whisper and the face detector again even when the cache has "
                                                "their results; the new results replace the cached ones.")
@click.option("--json", "json_lines", is_flag=True, help="Print one JSON event per line on stdout (for automation).")
def command(campaign_dir: Path, out_dir, networks, redact, caption_style, reframe, split, language, x264_preset,
            jobs, executor, scheduler, require_approval, force, reanalyse, json_lines):
    """Render every episode of CAMPAIGN_DIR for every network; skip what is up to date."""
    options = make_options(campaign_dir, out_dir, networks, redact, caption_style, reframe, split, language,
                           x264_preset, jobs, executor, scheduler, force, require_approval, reanalyse)
    with BatchProgress(campaign_dir.name, json_lines) as events:
        result = run_batch(campaign_dir, options, events)
    if not json_lines:
        print_summary(result)
    check_result(result)


def check_result(result: BatchResult) -> None:
    failed = result.failed
    if failed:
        episodes = {r.episode for r in result.rows}
        bad = {r.episode for r in failed}
        raise BatchFailed(result.campaign_dir or result.campaign, f"{len(bad)} of {len(episodes)} episodes failed ({len(failed)} of "
                                           f"{len(result.rows)} outputs); see the summary above"
                                           + (f" and {result.report_html}" if result.report_html else ""))


def print_summary(result: BatchResult) -> None:
    """The episode x network table: rich on a terminal, aligned plain text otherwise."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"campaign {result.campaign}")
        for col in ("episode", "network", "status", "duration", "size", "reason"):
            table.add_column(col, overflow="fold")
        colour = {"done": "green", "skipped": "dim", "failed": "bold red"}
        for r in result.rows:
            table.add_row(r.episode, r.network, f"[{colour.get(r.status, '')}]{r.status}[/]",
                          f"{r.duration_s:.1f} s" if r.duration_s is not None else "",
                          f"{r.size_bytes / 1e6:.1f} MB" if r.size_bytes is not None else "",
                          r.reason if r.status != "skipped" else "")
        Console().print(table)
    else:
        width_e = max([len("episode")] + [len(r.episode) for r in result.rows])
        width_n = max([len("network")] + [len(r.network) for r in result.rows])
        click.echo(f"{'episode':{width_e}}  {'network':{width_n}}  {'status':7}  reason")
        for r in result.rows:
            click.echo(f"{r.episode:{width_e}}  {r.network:{width_n}}  {r.status:7}  "
                       f"{r.reason if r.status != 'skipped' else ''}".rstrip())
    counts = ", ".join(f"{result.count(s)} {s}" for s in ("done", "skipped", "failed"))
    click.echo(f"{counts} in {result.elapsed:.1f} s on {result.executor}"
               + (f"; report: {result.report_html}" if result.report_html else ""))
