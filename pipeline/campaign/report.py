"""The campaign at a glance: ``exports/campaign.json`` and ``exports/campaign.html``.

One row per episode and network: status (done, skipped, failed), reason, duration, size,
warnings and what a publisher must decide from (``decision.py``). Figures are read from each
network's ``report.json`` (measured on the written file), warnings from the render record. A run
limited to some episodes (``cadre watch``) keeps the other episodes' rows from the previous
report. The HTML (``page.py``) is one section per episode, escaped, its pictures embedded, so the
page can be mailed or archived alone.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.campaign.decision import summarise
from pipeline.campaign.page import render_html
from pipeline.captions.spelling import summary_lines
from pipeline.core.cache import atomic_write_text, readable
from pipeline.core.version import __version__

JSON_NAME = "campaign.json"
HTML_NAME = "campaign.html"


@dataclass
class Row:
    episode: str
    network: str
    status: str                    # done | skipped | failed | pending
    reason: str = ""
    duration_s: float | None = None
    size_bytes: int | None = None
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rendered_at: str = ""
    folder: str = ""               # relative to the report
    decision: dict = field(default_factory=dict)   # approval, masking, bleeps, doubtful words, checks (decision.py)

    def to_dict(self) -> dict:
        return asdict(self)


def fill_from_outputs(row: Row, out_root: Path, episode_folder: Path | None = None) -> Row:
    """Duration, size, files, warnings and what a publisher must know of a finished network folder."""
    folder = out_root / row.episode / row.network
    row.decision = summarise(folder, episode_folder)
    try:
        report = json.loads((folder / "report.json").read_text("utf-8"))
    except (OSError, ValueError):
        return row
    outs = report.get("outputs", [])
    row.duration_s = round(sum(o.get("duration_s", 0.0) for o in outs), 2)
    row.size_bytes = sum(o.get("size_bytes", 0) for o in outs)
    row.files = [o.get("file", "") for o in outs]
    row.folder = f"{row.episode}/{row.network}"
    redaction = report.get("redaction") or {}
    if redaction.get("mode") == "none":
        row.warnings.append(f"face masking off (asked by {redaction.get('requested_by', 'settings')})")
    row.warnings += summary_lines(report.get("spelling"))      # caption words to check (issue 15)
    row.warnings += (report.get("captions") or {}).get("caption_warnings", [])   # misread glyphs, short cues
    try:
        record = json.loads((folder / ".cadre-job.json").read_text("utf-8"))
        row.warnings += [w for w in record.get("warnings", []) if w not in row.warnings]
        row.rendered_at = record.get("rendered_at", "")
    except (OSError, ValueError):
        pass
    return row


def previous_rows(out_root: Path) -> list[Row]:
    try:
        data = json.loads((out_root / JSON_NAME).read_text("utf-8"))
        return [Row(**r) for r in data.get("rows", [])]
    except (OSError, ValueError, TypeError):
        return []


def merge_rows(rows: list[Row], out_root: Path, episodes: list[str], ran: set[str]) -> list[Row]:
    """This run's rows, plus previous rows of the campaign's other episodes, in episode order."""
    kept = [r for r in previous_rows(out_root) if r.episode in episodes and r.episode not in ran]
    order = {name: i for i, name in enumerate(episodes)}
    return sorted(kept + rows, key=lambda r: (order.get(r.episode, len(order)), r.episode))


def write_report(out_root: Path, campaign: str, rows: list[Row], executor: str = "") -> tuple[Path, Path]:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data = {"campaign": campaign, "generated": now, "cadre_version": __version__, "executor": executor,
            "counts": {s: sum(1 for r in rows if r.status == s) for s in ("done", "skipped", "failed")},
            "rows": [r.to_dict() for r in rows]}
    json_path, html_path = out_root / JSON_NAME, out_root / HTML_NAME
    for path, text in ((json_path, json.dumps(data, indent=1, ensure_ascii=False)), (html_path, render_html(data, out_root))):
        atomic_write_text(path, text)
        readable(path)
    return json_path, html_path
