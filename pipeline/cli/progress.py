"""Progress display for long commands: rich bars on a terminal, plain lines otherwise."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


class RenderProgress:
    """Receives ``events(kind, **data)`` from the pipeline and shows them."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.progress = None
        self.task = None

    def __enter__(self):
        if self.tty:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                     TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.__exit__(*exc)

    def __call__(self, kind: str, **data) -> None:
        if kind == "stage":
            text = f"{self.label}: {data['name']}" + "".join(f" {v}" for k, v in data.items()
                                                             if k in ("clip", "network"))
            if self.progress:
                if self.task is not None:
                    self.progress.remove_task(self.task)
                self.task = self.progress.add_task(text, total=data.get("frames") or None)
            else:
                click.echo(text, err=True)
        elif kind == "progress" and self.progress and self.task is not None:
            self.progress.update(self.task, completed=data["done"], total=data["total"])
        elif kind == "warning":
            click.echo(f"cadre: warning: {data['message']}", err=True)
