"""``cadre propose RUSHES_DIR``: episodes proposed from long raw files, and accepting them."""
from __future__ import annotations

from pathlib import Path

import click

from pipeline import ProposeOptions, accept_proposals, network_names, propose_episodes


@click.command("propose")
@click.argument("rushes_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "campaign", type=click.Path(path_type=Path),
              help="Campaign folder for proposals.html and the accepted episodes (default: RUSHES_DIR-episodes "
                   "beside the rushes folder).")
@click.option("-n", "--network", "networks", multiple=True,
              help=f"Network the episodes are for (repeatable): {', '.join(network_names())}; their length limits "
                   "bound the proposals. Default: the campaign's, else all.")
@click.option("--count", type=click.IntRange(1, 500), default=20, show_default=True, help="Proposals kept, best first.")
@click.option("--accept", "accept_ids", multiple=True, metavar="ID",
              help="Accept proposal ID (repeatable): write its episode folder into the campaign, pointing at the "
                   "rush and its trims; no footage is copied.")
def command(rushes_dir: Path, campaign: Path | None, networks, count: int, accept_ids):
    """Propose episodes from the long raw files in RUSHES_DIR (read only, never copied)."""
    out = campaign or rushes_dir.expanduser().resolve().parent / f"{rushes_dir.expanduser().resolve().name}-episodes"
    if accept_ids:
        for folder in accept_proposals(out, list(accept_ids)):
            click.echo(f"accepted: {folder}  (render it with: cadre render {folder})")
        return
    result = propose_episodes(rushes_dir, out, ProposeOptions(networks=tuple(networks), count=count),
                              say=lambda line: click.echo(line, err=True))
    for p in result.proposals:
        click.echo(f"{p['id']:24s} {p['rush']}  {p['start']:8.2f} - {p['end']:8.2f} s  score {p['score']:g}")
    click.echo(f"{len(result.proposals)} proposal(s): {result.page}")
