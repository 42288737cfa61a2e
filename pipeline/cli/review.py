"""``cadre review EPISODE_DIR``: the local review page; ``--export`` writes a read-only HTML copy."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import CadreError, review_export, review_page


def _missing(exc: ModuleNotFoundError) -> CadreError:
    return CadreError("cadre review", f"the review page needs {exc.name}; install it with "
                                      "pip install 'cadre[review]' (starlette, uvicorn, tomlkit)")


@click.command("review")
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--export", "export", is_flag=True, help="Write a read-only single-file HTML copy instead of serving.")
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path),
              help="Where --export writes (default: exports/<episode>/review-<episode>.html beside the episode).")
@click.option("--no-proxy", is_flag=True, help="Do not render the proxy video at start (the page can ask for it).")
def command(episode_dir: Path, port: int, export: bool, out_path: Path | None, no_proxy: bool):
    """Check and correct captions and masking in a local page, then sign off."""
    try:
        if export:
            click.echo(review_export(episode_dir, out_path))
            return
        click.echo(f"analysing {episode_dir} (cached after the first time)…", err=True)
        server = review_page(episode_dir, port, proxy=not no_proxy)
    except ModuleNotFoundError as exc:
        if exc.name in ("starlette", "uvicorn", "tomlkit"):
            raise _missing(exc) from None
        raise
    click.echo(f"review page (this machine only; the address holds the session key): {server.url}")
    click.echo("press Ctrl+C to stop", err=True)
    server.serve_forever()
