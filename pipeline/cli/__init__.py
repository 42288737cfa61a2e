"""``cadre``: a thin click layer over the pipeline library.

Each command lives in its own module here; errors a user can fix are raised as CadreError by the
library and printed as one line, ``cadre: error: <file>: <problem and fix>``.
"""
from __future__ import annotations

import atexit
import errno
import importlib
import os
import sys

import click

from pipeline import (
    CadreError,
    Interrupted,
    __version__,
    check_output,
    handle_signals,
    internal_error,
    restore_signals,
    stop_children,
    stop_received,
)

COMMAND_MODULES = ["render", "batch", "watch", "presets", "transcribe", "models", "preview", "demo", "review", "approve", "doctor", "status", "verify", "propose"]


class CadreGroup(click.Group):
    """Errors a user can fix print as one line (exit 1, 3 for a failed batch); click's own usage
    errors, exits and aborts pass through; anything else is a bug: one line naming the log file that
    holds the traceback (``pipeline/core/crash.py``), exit 1; Ctrl-C, SIGTERM, SIGHUP: children stopped,
    staging removed, one line, exit 130, 143, 129 (``pipeline/core/interrupt.py``)."""

    def invoke(self, ctx):
        previous = handle_signals()
        try:
            try:
                check_output()      # a broken presets/master.toml: one line, whatever the command
                result = super().invoke(ctx)
                if stop_received() is not None:   # swallowed on its way up: the run was still stopped
                    raise stop_received()
                return result
            except Exception as exc:
                if stop_received() is not None and not isinstance(exc, click.exceptions.Exit):
                    raise stop_received() from exc   # what the stop signal turned into on its way up
                raise
        except CadreError as exc:
            click.echo(f"cadre: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt as exc:
            stop_children()   # anything started while the run was unwinding
            signalled = isinstance(exc, Interrupted)
            name = exc.name if signalled else "SIGINT"
            click.echo("cadre: interrupted" + ("" if name == "SIGINT" else f" by {name}"), err=True)
            if signalled:   # never wait for a worker thread still busy with the abandoned run
                atexit._run_exitfuncs()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(exc.exit_code)
            sys.exit(130)
        except Exception as exc:  # a bug: never a traceback on the terminal (CADRE_DEBUG=1 shows it)
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise   # output piped into `head`: click handles it quietly
            click.echo(f"cadre: {internal_error(exc, f'cadre {ctx.invoked_subcommand or ctx.info_name}')}", err=True)
            sys.exit(1)
        finally:
            restore_signals(previous, say=lambda line: click.echo(line, err=True))


def entry() -> None:
    """The ``cadre`` program: :func:`main`, then the process ends at once. A stop signal while the
    interpreter shuts down would kill it silently (Python restores the default handlers there), so
    the shutdown's own work (atexit, flushing) runs with Cadre's handlers still in place."""
    try:
        main(prog_name="cadre")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            click.echo(exc.code, err=True)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
