"""``cadre doctor``: check this machine (ffmpeg, models, CPU, folders) and say what to fix."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline import healthy, run_checks


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.option("--episode", "episode", type=click.Path(path_type=Path, file_okay=False),
              help="Check the default export folder of this EPISODE folder (default: ./exports).")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Also check that this Dask scheduler answers (default: $CADRE_DASK_SCHEDULER).")
def command(as_json: bool, episode: Path | None, scheduler: str | None):
    """Can this machine render? Exit 0 if everything the default render needs is there, 1 if not."""

    checks = run_checks(episode=episode, scheduler=scheduler)
    ok = healthy(checks)
    if as_json:
        click.echo(json.dumps({"ok": ok, "checks": [c.to_dict() for c in checks]}, indent=2, ensure_ascii=False))
    else:
        _table(checks, ok)
    sys.exit(0 if ok else 1)


def _table(checks, ok: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="cadre doctor", show_lines=False)
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("finding")
    fixes = any(c.fix for c in checks)
    if fixes:
        table.add_column("fix")
    for c in checks:
        mark = "[green]ok[/]" if c.ok else ("[red]FAIL[/]" if c.required else "[yellow]warn[/]")
        row = [mark, c.name + ("" if c.required else " (optional)"), c.detail] + ([c.fix] if fixes else [])
        table.add_row(*row)
    console = Console(soft_wrap=False)
    console.print(table)
    failed = [c for c in checks if c.required and not c.ok]
    if ok:
        console.print("[green]Everything the default render needs is here.[/]")
    else:
        console.print(f"[red]{len(failed)} required check(s) failed[/]: " + "; ".join(f"{c.name}: {c.fix}" for c in failed))
