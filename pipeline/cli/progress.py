"""Progress display for long commands: rich bars on a terminal, plain lines otherwise."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


class _Display:
    """A rich progress display on a terminal (``columns()``), nothing otherwise."""

    tty = False
    progress = None

    def columns(self) -> tuple:
        return (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn())

    def __enter__(self):
        if self.tty:
            self.progress = Progress(*self.columns(), console=Console(stderr=True), transient=True)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.__exit__(*exc)


class RenderProgress(_Display):
    """Receives ``events(kind, **data)`` from the pipeline and shows them."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.task = None

    def __call__(self, kind: str, **data) -> None:
        if kind == "stage":
            text = f"{self.label}: {data['name']}" + "".join(f" {v}" for k, v in data.items()
                                                             if k in ("clip", "network", "step"))
            if self.progress:
                if self.task is not None:
                    self.progress.remove_task(self.task)
                self.task = self.progress.add_task(text, total=data.get("frames") or data.get("total") or None)
            else:
                click.echo(text, err=True)
        elif kind == "progress" and self.progress and self.task is not None:
            self.progress.update(self.task, completed=data["done"], total=data["total"])
        elif kind == "warning":
            click.echo(f"cadre: warning: {data['message']}", err=True)
        elif kind == "refused":
            click.echo(f"cadre: warning: {data['network']} refused, not published: {data['reason']}", err=True)


class BatchProgress(_Display):
    """Receives ``cadre batch`` events: rich bars on a terminal (one per running job and an
    overall bar with ETA), plain log lines otherwise, or one JSON object per line with ``--json``."""

    def __init__(self, label: str, json_lines: bool = False):
        self.label = label
        self.json = json_lines
        self.tty = sys.stderr.isatty() and not json_lines
        self.overall = None
        self.tasks: dict[str, int] = {}       # job -> rich task
        self.frames: dict[str, float] = {}    # job -> its weight done (frame steps: face analysis, encode)
        self.weights: dict[str, int] = {}     # job -> weight (frames)
        self.finished = 0
        self.count = 0
        self.done_weight = 0

    def columns(self) -> tuple:
        from rich.progress import SpinnerColumn, TimeElapsedColumn

        return (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())

    def __call__(self, kind: str, **data) -> None:
        if self.json:
            import json

            click.echo(json.dumps({"event": kind, **data}, ensure_ascii=False, default=str))
            return
        handler = getattr(self, f"_on_{kind}", None)
        if handler:
            handler(**data)

    def _line(self, text: str) -> None:
        if self.progress:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            click.echo(text, err=True)

    def _on_batch_start(self, campaign, episodes, jobs, up_to_date, **_):
        self.count = len(jobs)
        self._line(f"cadre batch {campaign}: {episodes} episode(s), {len(jobs)} job(s) to run, "
                   f"{up_to_date} output(s) up to date")
        if self.progress:
            self.overall = self.progress.add_task(f"{campaign}: 0/{len(jobs)} jobs",
                                                  total=max(1, sum(j["weight"] for j in jobs)))

    def _on_job_start(self, job, type, weight, **_):
        self.weights[job] = weight
        if self.progress:
            self.tasks[job] = self.progress.add_task(f"  {job}", total=weight if type == "render" else None)
        else:
            self._line(f"[start] {job}")

    def _on_job_stage(self, job, name, **data):
        if self.progress and job in self.tasks:
            extra = " ".join(str(data[k]) for k in ("clip", "network", "step") if data.get(k))
            # each step has its own bar (seconds of audio, frames...): reset it, so its ETA is the step's
            self.progress.reset(self.tasks[job], total=data.get("frames") or data.get("total") or None,
                                description=f"  {job}: {name} {extra}".rstrip())

    def _on_job_progress(self, job, done, total, unit="frames", **_):
        if self.progress and job in self.tasks:
            self.progress.update(self.tasks[job], completed=done, total=total)
            if unit == "frames" and total:   # the overall bar counts frame work, never backwards
                share = self.weights.get(job, 0) * min(1.0, done / total)
                self.frames[job] = max(self.frames.get(job, 0.0), share)
            self._update_overall()

    def _on_job_done(self, job, status, detail, elapsed, weight, **_):
        self.finished += 1
        self.done_weight += weight
        self.frames.pop(job, None)
        if self.progress:
            if job in self.tasks:
                self.progress.remove_task(self.tasks.pop(job))
            self._update_overall()
        if status == "failed":
            self._line(f"[failed] {job}: {detail}")
        elif not self.progress:
            self._line(f"[{status} {elapsed:.1f}s] {job} ({self.finished}/{self.count})")

    def _update_overall(self):
        self.progress.update(self.overall, completed=self.done_weight + sum(self.frames.values()),
                             description=f"{self.label}: {self.finished}/{self.count} jobs")

    def _on_job_refused(self, job, network, reason, **_):
        self._line(f"[refused] {job} {network}: {reason}")

    def _on_warning(self, message, **_):
        self._line(f"cadre: warning: {message}")
