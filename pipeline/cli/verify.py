"""``cadre verify FILE [--trust CA.pem]``: who signed a published file, when, what was done to it,
and whether it changed since; exit 1 for a changed, unsigned, untrusted or invalid file."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline import verification_lines, verify_file


@click.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--trust", type=click.Path(path_type=Path), default=None,
              help="The unit's CA certificate (PEM): the signer must chain to it.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(file: Path, trust: Path | None, as_json: bool):
    """Check the content credentials (C2PA) of a published MP4 or cover."""
    result = verify_file(file, trust)
    if as_json:
        data = {k: v for k, v in vars(result).items() if k != "manifest"}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in verification_lines(result):
            click.echo(line)
    sys.exit(0 if result.ok else 1)
