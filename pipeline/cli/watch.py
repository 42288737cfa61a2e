"""``cadre watch CAMPAIGN_DIR``: re-render an episode when clips are added or edited there."""
from __future__ import annotations

import signal
from pathlib import Path

import click

from pipeline import CampaignWatcher, WatchOptions
from pipeline.cli.batch import batch_options, make_options, print_summary
from pipeline.cli.progress import BatchProgress


class WatchDisplay(BatchProgress):
    """Plain lines (or JSON) for a long-running watch: one batch display per run, and its summary."""

    def __init__(self, label: str, json_lines: bool):
        super().__init__(label, json_lines)
        self.tty = False   # a watch runs for hours: log lines, not bars

    def _on_watch_start(self, campaign, settle, **_):
        self._line(f"watching {campaign} (files must stay unchanged {settle:g} s before they are read; "
                   "Ctrl-C to stop)")

    def _on_watch_run(self, episodes, **_):
        self._line(f"changes settled in: {', '.join(episodes)}")

    def _on_batch_done(self, **_):
        pass


@click.command("watch")
@click.argument("campaign_dir", type=click.Path(path_type=Path))
@batch_options
@click.option("--settle", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True,
              help="Seconds a file must stop changing before it is read.")
@click.option("--json", "json_lines", is_flag=True, help="Print one JSON event per line on stdout.")
def command(campaign_dir: Path, out_dir, networks, redact, caption_style, reframe, split, language, x264_preset,
            jobs, executor, scheduler, require_approval, settle, json_lines):
    """Watch CAMPAIGN_DIR and re-render each episode whose clips, captions or settings change."""
    options = make_options(campaign_dir, out_dir, networks, redact, caption_style, reframe, split, language,
                           x264_preset, jobs, executor, scheduler, require_approval=require_approval)
    display = WatchDisplay(campaign_dir.name, json_lines)

    def events(kind, **data):
        display(kind, **data)

    watcher = CampaignWatcher(campaign_dir, WatchOptions(options, settle), events)
    original = watcher.runner

    def runner(campaign, batch_options, events):
        result = original(campaign, batch_options, events)
        if not json_lines:
            print_summary(result)
        return result

    watcher.runner = runner
    try:
        watcher.run()
    except KeyboardInterrupt as exc:
        if getattr(exc, "signum", signal.SIGINT) != signal.SIGINT:
            raise   # SIGTERM, SIGHUP: one line and exit 143, 129, as for every command
        click.echo("stopped", err=True)
