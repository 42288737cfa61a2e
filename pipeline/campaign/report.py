"""The campaign at a glance: ``exports/campaign.json`` and ``exports/campaign.html``.

One row per episode and network: status (done, skipped, failed), reason, duration, size, a cover
thumbnail and warnings. Figures are read from each network's ``report.json`` (measured on the
written file), warnings from the render record. A run limited to some episodes (``cadre watch``)
keeps the other episodes' rows from the previous report. Everything shown in the HTML is escaped;
thumbnails are embedded, so the page can be mailed or archived alone.
"""
from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from pipeline.cache import atomic_write_text, readable
from pipeline.campaign.decision import render_html as decision_html
from pipeline.campaign.decision import summarise
from pipeline.captions.spelling import summary_lines
from pipeline.version import __version__

JSON_NAME = "campaign.json"
HTML_NAME = "campaign.html"
THUMB = (72, 128)


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
    try:
        record = json.loads((folder / ".cadre-job.json").read_text("utf-8"))
        row.warnings += [w for w in record.get("warnings", []) if w not in row.warnings]
        row.rendered_at = record.get("rendered_at", "")
    except (OSError, ValueError):
        pass
    return row


def thumbnail(cover: Path) -> str:
    """A small JPEG of the cover as a data URI, or "" when there is no readable cover."""
    try:
        from PIL import Image

        with Image.open(cover) as im:
            im = im.convert("RGB")
            im.thumbnail(THUMB)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=70)
        return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    except (OSError, ValueError, ImportError):
        return ""


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


def _size(n: int | None) -> str:
    return "" if n is None else f"{n / 1e6:.1f} MB"


def _duration(s: float | None) -> str:
    return "" if s is None else f"{int(s // 60)}:{s % 60:04.1f}"


CSS = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{border-bottom:1px solid #ddd;padding:.4em .8em;text-align:left;vertical-align:middle}
.done{color:#16794a}.skipped{color:#555}.failed{color:#b3261e;font-weight:bold}img{display:block;border-radius:3px}
.warn{color:#8a5a00}.reason{max-width:40em}.ok{color:#16794a}.bad{color:#b3261e;font-weight:bold}
.decide{max-width:36em;font-size:13px}"""


def render_html(data: dict, out_root: Path) -> str:
    e = html.escape
    thumbs: dict[str, str] = {}
    lines = ["<!doctype html>", '<html><head><meta charset="utf-8">',
             f"<title>{e(data['campaign'])}: campaign report</title><style>{CSS}</style></head><body>",
             f"<h1>{e(data['campaign'])}</h1>",
             f"<p>{e(str(data['counts']['done']))} done, {e(str(data['counts']['skipped']))} unchanged, "
             f"{e(str(data['counts']['failed']))} failed. Generated {e(data['generated'])} by Cadre "
             f"{e(data['cadre_version'])}; executor: {e(data['executor'])}.</p>",
             "<table><tr><th>cover</th><th>episode</th><th>network</th><th>status</th><th>duration</th>"
             "<th>size</th><th>files</th><th>to decide</th><th>warnings / reason</th></tr>"]
    for r in data["rows"]:
        cover = ""
        if r["folder"]:
            if r["episode"] not in thumbs:
                thumbs[r["episode"]] = thumbnail(out_root / r["folder"] / "cover.jpg")
            if thumbs[r["episode"]]:
                cover = f'<img src="{e(thumbs[r["episode"]])}" alt="cover of {e(r["episode"])}">'
        files = "<br>".join(f'<a href="{e(quote(r["folder"] + "/" + f))}">{e(f)}</a>' for f in r["files"])
        notes = "".join(f'<div class="warn">{e(w)}</div>' for w in r["warnings"])
        if r["reason"]:
            notes = f'<div class="reason">{e(r["reason"])}</div>' + notes
        lines.append(f'<tr><td>{cover}</td><td>{e(r["episode"])}</td><td>{e(r["network"])}</td>'
                     f'<td class="{e(r["status"])}">{e(r["status"])}</td><td>{e(_duration(r["duration_s"]))}</td>'
                     f'<td>{e(_size(r["size_bytes"]))}</td><td>{files}</td>'
                     f'<td class="decide">{decision_html(r.get("decision") or {}, e)}</td><td>{notes}</td></tr>')
    lines += ["</table></body></html>", ""]
    return "\n".join(lines)
