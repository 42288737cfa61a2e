"""``cadre``: a thin click layer over the pipeline library.

Each command lives in its own module here; errors a user can fix are raised as CadreError by the
library and printed as one line, ``cadre: error: <file>: <problem and fix>``.
"""
from __future__ import annotations

import errno
import importlib
import sys

import click

from pipeline import CadreError, __version__, internal_error

COMMAND_MODULES = ["render", "batch", "watch", "presets", "transcribe", "models", "preview", "demo", "review", "approve", "doctor", "status", "verify"]


class CadreGroup(click.Group):
    """Errors a user can fix print as one line (exit 1, 3 for a failed batch); click's own usage
    errors, exits and aborts pass through; anything else is a bug: one line naming the log file that
    holds the traceback (``pipeline/crash.py``), exit 1; Ctrl-C: one line, exit 130."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CadreError as exc:
            click.echo(f"cadre: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("cadre: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # a bug: never a traceback on the terminal (CADRE_DEBUG=1 shows it)
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise   # output piped into `head`: click handles it quietly
            click.echo(f"cadre: {internal_error(exc, f'cadre {ctx.invoked_subcommand or ctx.info_name}')}", err=True)
            sys.exit(1)


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
