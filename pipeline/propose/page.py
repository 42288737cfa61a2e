"""``proposals.html``: one offline page to choose from, in the style of ``campaign.html``.

Per proposal, best score first: the rush and the times, the score and every reason with its
points, a strip of thumbnails (faces masked, :mod:`pipeline.propose.thumbs`), the transcript of the
stretch with its times, and the command that accepts it. A rush with no speech says so. One file:
pictures are ``data:`` URIs, the style is inline, there is no script, every text is escaped.
"""
from __future__ import annotations

import html
import shlex
from pathlib import Path

from pipeline.campaign.page import CSS, clock
from pipeline.core.cache import atomic_write_text, readable

e = html.escape
PAGE = "proposals.html"
EXTRA = """.strip{display:flex;gap:.4em;margin:.4em 0}.strip img{border-radius:3px;background:#000}
.score{font-size:20px;font-weight:bold}.cmd{background:#f4f4f4;padding:.3em .6em;display:block;margin:.4em 0;
font-family:monospace;user-select:all}.minus{color:#b3261e}.plus{color:#16794a}"""


def _proposal(p: dict, uris: list[str], rushes: str, campaign: str) -> str:
    reasons = "".join(f'<li><span class="{"minus" if r["points"] < 0 else "plus"}">{r["points"]:+g}</span> '
                      f'{e(r["what"])}</li>' for r in p["reasons"])
    strip = "".join(f'<img src="{e(u)}" alt="frame at {e(clock(t["at"]))}, faces masked" height="112">'
                    for u, t in zip(uris, p.get("thumbs", [])))
    said = "".join(f'<li><span class="time">{e(clock(s["start"]))}-{e(clock(s["end"]))}</span> {e(s["text"])}</li>'
                   for s in p["sentences"]) or "<li>(no words: motion and sound)</li>"
    command = f"cadre propose {shlex.quote(rushes)} -o {shlex.quote(campaign)} --accept {shlex.quote(p['id'])}"
    return (f'<section class="episode" id="{e(p["id"])}"><div class="head"><div>'
            f'<h2>{e(p["id"])}</h2><p>{e(p["rush"])}, <span class="time">{e(clock(p["start"]))}</span> to '
            f'<span class="time">{e(clock(p["end"]))}</span> ({p["end"] - p["start"]:.1f} s)</p>'
            f'<p class="score">score {p["score"]:g}</p></div></div>'
            f'<div class="strip">{strip}</div><h3>Why</h3><ul>{reasons}</ul>'
            f'<h3>What is said</h3><ul>{said}</ul><h3>Accept</h3><code class="cmd">{e(command)}</code></section>')


def render_page(record: dict, uris: dict[str, list[str]]) -> str:
    notes = "".join(f"<li>{e(r['file'])}: {e(r['note'])}</li>" for r in record["rush_files"] if r["note"])
    rows = "".join(f'<tr><td>{e(r["file"])}</td><td>{e(clock(r["duration"]))}</td>'
                   f'<td>{"speech" if r["speech"] else "no speech"}</td></tr>' for r in record["rush_files"])
    body = "".join(_proposal(p, uris.get(p["id"], []), record["rushes"], record["campaign"])
                   for p in record["proposals"])
    limits = record["limits"]
    return "\n".join([
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Proposals from {e(record['rushes'])}</title><style>{CSS}\n{EXTRA}</style></head><body>",
        f"<h1>Proposed episodes</h1><p>From {e(record['rushes'])}: {len(record['proposals'])} proposals, "
        f"{limits['shortest']:g} to {limits['longest']:g} s for {e(', '.join(record['networks']))}. Generated "
        f"{e(record['generated'])} by Cadre {e(record['cadre_version'])}. Faces are masked in every picture.</p>",
        f"<table><tr><th>rush</th><th>length</th><th>heard</th></tr>{rows}</table>",
        f"<ul>{notes}</ul>" if notes else "", body or "<p>Nothing to propose: no speech, motion or sound event "
                                                   "in these rushes.</p>", "</body></html>", ""])


def write_page(campaign: Path, record: dict, uris: dict[str, list[str]]) -> Path:
    path = Path(campaign) / PAGE
    atomic_write_text(path, render_page(record, uris))
    readable(path)
    return path
