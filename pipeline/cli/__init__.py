"""``cadre``: a thin click layer over the pipeline library.

Each command lives in its own module here; errors a user can fix are raised as CadreError by the
library and printed as one line, ``cadre: error: <file>: <problem and fix>``.
"""
from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..errors import CadreError

COMMAND_MODULES = ["render", "batch", "watch", "presets", "transcribe", "models", "preview", "demo", "review", "approve"]


class CadreGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CadreError as exc:
            click.echo(f"cadre: error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=CadreGroup)
@click.version_option(__version__, prog_name="cadre")
def main() -> None:
    """Cadre: raw footage in, checked vertical clips out, offline."""


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # command not built yet
        if _exc.name != f"{__name__}.{_name}":
            raise
        continue
    for _cmd in getattr(_module, "commands", [getattr(_module, "command", None)]):
        if _cmd is not None:
            main.add_command(_cmd)
