"""``cadre presets``: list presets, or show one."""
from __future__ import annotations

import click

from pipeline import preset_names, preset_path

KINDS = ["networks", "captions", "redaction", "branding"]


@click.command("presets")
@click.argument("kind", required=False, type=click.Choice(KINDS))
@click.argument("name", required=False)
def command(kind: str | None, name: str | None):
    """List presets, or show the TOML of KIND NAME."""
    if kind and name:
        click.echo(preset_path(kind, name).read_text("utf-8"), nl=False)
        return
    for k in [kind] if kind else KINDS:
        click.echo(f"{k}: {', '.join(preset_names(k)) or '-'}")
