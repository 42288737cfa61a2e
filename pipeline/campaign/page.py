"""``campaign.html``: the page a community manager decides from, one section per episode.

Each section shows the episode's cover; its approval (by whom, when, for which networks, and
whether the last publication is the approved version) and last publication from ``audit.jsonl``;
one row per network with its status and the refusal or failure reason, duration, loudness, size,
checks, publication and links to each output, sidecar and ``report.json``; the masked things as
thumbnails cut from the contact sheet (:mod:`pipeline.campaign.thumbs`: masked pictures only);
bleeps (time and caption words around them, never the term); doubtful caption words with their
times. The page is one file: pictures are ``data:`` URIs, the style is inline, there is no script,
and every text from an episode is escaped. Links are relative to the page and only name files
that exist when it is written.
"""
from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from pipeline.campaign.decision import bleeps_in_context, last_events
from pipeline.campaign.thumbs import cover, sheet_tiles
from pipeline.core.cache import read_json_dict

e = html.escape

CSS = """body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:75em}
table{border-collapse:collapse;margin:.6em 0}td,th{border-bottom:1px solid #ddd;padding:.35em .7em;text-align:left;
vertical-align:top}section.episode{border-top:3px solid #333;margin-top:2em;padding-top:1em}
.head{display:flex;gap:1.2em;align-items:flex-start}.cover{border-radius:4px;background:#000}
.nocover{width:135px;height:240px;background:#eee;color:#777;display:flex;align-items:center;justify-content:center}
.done,.ok{color:#16794a}.skipped{color:#555}.failed,.bad{color:#b3261e;font-weight:bold}.warn{color:#8a5a00}
.tiles{display:flex;flex-wrap:wrap;gap:.6em}figure{margin:0;font-size:12px;width:110px}figure img{display:block}
h2{margin:.1em 0}h3{margin:1em 0 .3em;font-size:15px}ul{margin:.2em 0;padding-left:1.4em}.time{font-family:monospace}"""


def clock(seconds) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "?"
    return f"{int(s // 60)}:{s % 60:04.1f}"


def _size(n) -> str:
    return "" if n is None else f"{n / 1e6:.1f} MB"


def _link(out_root: Path, rel: str, text: str) -> str:
    """A link to ``rel`` (relative to the page) when that file exists, else nothing."""
    return f'<a href="{e(quote(rel))}">{e(text)}</a>' if (out_root / rel).is_file() else ""


def render_html(data: dict, out_root: Path) -> str:
    episodes: dict[str, list[dict]] = {}
    for r in data["rows"]:
        episodes.setdefault(r["episode"], []).append(r)
    c = data["counts"]
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(data['campaign'])}: campaign report</title><style>{CSS}</style></head><body>",
           f"<h1>{e(data['campaign'])}</h1>",
           f"<p>{c['done']} done, {c['skipped']} unchanged, {c['failed']} failed. Generated "
           f"{e(data['generated'])} by Cadre {e(data['cadre_version'])}; executor: {e(data['executor'])}.</p>",
           "<ul class=\"index\">" + "".join(f'<li><a href="#ep-{i}">{e(name)}</a></li>'
                                            for i, name in enumerate(episodes)) + "</ul>"]
    for i, (name, rows) in enumerate(episodes.items()):
        out.append(episode_section(i, name, rows, out_root))
    out += ["</body></html>", ""]
    return "\n".join(out)


def episode_section(i: int, name: str, rows: list[dict], out_root: Path) -> str:
    ep_out = out_root / name
    decided = next((r["decision"] for r in rows if (r.get("decision") or {}).get("masking")), {})
    approval = next(((r.get("decision") or {}).get("approval") for r in rows
                     if (r.get("decision") or {}).get("approval")), None) or {}
    plan = read_json_dict(ep_out / "plan.json")
    events = last_events(ep_out)
    pic = next((u for u in (cover(out_root / r["folder"] / "cover.jpg") for r in rows if r.get("folder")) if u), "")
    head = (f'<img class="cover" src="{e(pic)}" alt="cover of {e(name)}">' if pic
            else '<div class="nocover">no cover</div>')
    title = plan.get("title")
    lines = [f"<h2>{e(name)}</h2>"]
    if title and title != name:
        lines.append(f'<div class="title">{e(str(title))}</div>')
    lines += _approval(approval, events)
    parts = [f'<section class="episode" id="ep-{i}" data-episode="{e(name)}">',
             f'<div class="head">{head}<div>{"".join(lines)}</div></div>', _network_table(rows, out_root, approval)]
    if decided:
        parts.append(_masked(decided.get("masking") or {}, sheet_tiles(ep_out)))
        parts.append(_bleeps(bleeps_in_context(plan, (decided.get("masking") or {}).get("bleeps") or [])))
        parts.append(_doubtful(decided.get("doubtful_words") or [], decided.get("doubtful_count", 0)))
    links = [_link(out_root, f"{name}/{f}", t) for f, t in (("contact-sheet.jpg", "contact sheet"),
                                                            ("plan.json", "edit plan"), ("audit.jsonl", "audit log"))]
    if any(links):
        parts.append(f'<p class="links">{" · ".join(x for x in links if x)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _approval(a: dict, events: dict) -> list[str]:
    state = a.get("state")
    published = events.get("publication") or {}
    if state == "approved":
        out = [f'<div class="approval ok">approved by {e(str(a.get("by", "")))} at {e(str(a.get("at", "")))}'
               f' for {e(", ".join(a.get("networks") or []))}</div>']
        if published and published.get("fingerprint") == a.get("hash"):
            out.append('<div class="ok">the last publication is the approved version</div>')
        elif published:
            out.append('<div class="bad">the last publication differs from what was approved '
                       '(changed since the approval)</div>')
    elif state == "invalid":
        out = [f'<div class="approval bad">approval record refused: {e(str(a.get("detail", "")))}</div>']
    elif state == "not approved":
        out = ['<div class="approval bad">not approved</div>']
    else:
        out = ['<div class="approval">approval: unknown (nothing rendered)</div>']
    logged = events.get("approval")
    if logged:
        out.append(f'<div>last approval in the audit log: {e(str(logged.get("by", "")))} at {e(str(logged.get("at")))}'
                   f' ({e(", ".join(logged.get("networks") or []))})</div>')
    if published:
        out.append(f'<div class="published">last published {e(str(published.get("at", "")))} by '
                   f'{e(str(published.get("os_user", "")))} ({e(", ".join(published.get("networks") or []))})</div>')
    else:
        out.append("<div>never published</div>")
    return out


def _network_table(rows: list[dict], out_root: Path, approval: dict) -> str:
    out = ['<table class="networks"><tr><th>network</th><th>status</th><th>duration</th><th>loudness</th>'
           "<th>size</th><th>checks</th><th>outputs</th><th>published</th><th>reason / warnings</th></tr>"]
    for r in rows:
        d = r.get("decision") or {}
        checks = d.get("checks") or {}
        loud = checks.get("loudness_lufs")
        peak = checks.get("true_peak_dbtp")
        loudness = (f"{loud:.1f} LUFS" if isinstance(loud, (int, float)) else "") + \
            (f", {peak:.1f} dBTP" if isinstance(peak, (int, float)) else "")
        check = ""
        if checks.get("failed"):
            check += f'<div class="bad">checks failed: {e(", ".join(checks["failed"]))}</div>'
        if checks.get("passed"):
            check += f'<div class="ok">checks passed: {e(", ".join(checks["passed"]))}</div>'
        links = []
        if r.get("folder"):
            for f in r.get("files") or []:
                stem = Path(f).stem
                links += [_link(out_root, f"{r['folder']}/{x}", x) for x in (f, f"{stem}.srt", f"{stem}.vtt")]
            links += [_link(out_root, f"{r['folder']}/{x}", x) for x in ("cover.jpg", "post.txt", "post.json",
                                                                         "report.json")]
        pub = d.get("published") or {}
        published = e(str(pub.get("at", ""))) + _row_approval(approval, r["network"], pub)
        notes = (f'<div class="reason">{e(r["reason"])}</div>' if r.get("reason") else "") + \
            "".join(f'<div class="warn">{e(w)}</div>' for w in r.get("warnings") or [])
        notes += _post(out_root, r.get("folder"))
        duration = clock(r["duration_s"]) if r.get("duration_s") is not None else ""
        out.append(f'<tr data-network="{e(r["network"])}" data-status="{e(r["status"])}"><td>{e(r["network"])}</td>'
                   f'<td class="status {e(r["status"])}">{e(r["status"])}</td><td>{e(duration)}</td>'
                   f"<td>{e(loudness)}</td><td>{e(_size(r.get('size_bytes')))}</td><td>{check}</td>"
                   f'<td class="outputs">{"<br>".join(x for x in links if x)}</td><td>{published}</td>'
                   f"<td>{notes}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _post(out_root: Path, folder: str | None) -> str:
    """The network's published post (``post.txt``), folded, as text."""
    post = read_json_dict(out_root / folder / "post.json") if folder else {}
    if not post.get("text"):
        return ""
    title = f'<div class="title">{e(str(post["title"]))}</div>' if post.get("title") else ""
    return f'<details class="post"><summary>post</summary>{title}<pre>{e(str(post["text"]))}</pre></details>'


def _row_approval(a: dict, network: str, pub: dict) -> str:
    """Whether this network's published file is the version a person approved."""
    if not a.get("state"):
        return ""
    if a.get("state") != "approved" or network not in (a.get("networks") or []):
        return '<div class="warn">not approved</div>'
    if not pub:
        return '<div class="ok">approved (not published yet)</div>'
    if pub.get("fingerprint") == a.get("hash"):
        return '<div class="ok">approved (this version)</div>'
    return '<div class="bad">published version differs from the approved one</div>'


def _masked(m: dict, tiles: dict) -> str:
    out = ["<h3>Masked</h3>"]
    if m.get("off"):
        by = f" ({e(m['requested_by'])})" if m.get("requested_by") else ""
        out.append(f'<div class="bad">face masking off{by}</div>')
    tracks = m.get("tracks") or []
    masked = [t for t in tracks if not t.get("kept_visible")]
    out.append(f"<div>faces masked: {len(masked)}{(' (' + e(m['method']) + ')') if m.get('method') else ''}</div>")
    figures = []
    for t in tiles["items"]:
        if not t.get("uri"):
            continue
        label = f'{t.get("clip", "")} #{t.get("ref", "")} {clock(t.get("start"))}-{clock(t.get("end"))}'
        box = ",".join(str(v) for v in t.get("box") or [])
        figures.append(f'<figure class="tile" data-kind="{e(str(t.get("kind", "")))}" data-clip="{e(str(t.get("clip")))}"'
                       f' data-ref="{e(str(t.get("ref")))}"><img class="thumb" src="{e(t["uri"])}" data-box="{e(box)}"'
                       f' alt="{e(str(t.get("kind", "")))} {e(label)}, masked"><figcaption>{e(label)}'
                       f"<br>{e(str(t.get('kind', '')).replace('_', ' '))}, {e(str(t.get('method') or ''))}"
                       "</figcaption></figure>")
    if figures:
        out.append(f'<div class="tiles">{"".join(figures)}</div>')
    pictured = sum(1 for t in tiles["items"] if t.get("uri"))
    if tiles["count"] > pictured:
        out.append(f'<div class="warn">{tiles["count"] - pictured} masked or kept item(s) without a picture here'
                   f'{(": " + e(tiles["why_not"])) if tiles["why_not"] else ""}; see the contact sheet</div>')
    kept = [t for t in tracks if t.get("kept_visible")]
    if kept:
        out.append('<div class="warn">faces left visible by a person (not pictured here): '
                   f'{e(", ".join(str(t["clip"]) + " #" + str(t["id"]) for t in kept))}</div>')
    manual = m.get("manual") or []
    if manual:
        items = ", ".join(f'{e(str(x.get("kind", "")))} {e(str(x.get("clip", "")))} {e(clock(x.get("start", 0)))}-'
                          f'{e(clock(x["end"]) if x.get("end") is not None else "end")}'
                          f'{(" " + e(str(x["label"]))) if x.get("label") else ""}' for x in manual)
        out.append(f"<div>manual masks ({len(manual)}): {items}</div>")
    return "".join(out)


def _bleeps(bleeps: list[dict]) -> str:
    if not bleeps:
        return "<h3>Bleeped</h3><div>bleeped: none</div>"
    items = "".join(f'<li><span class="time">{e(clock(b["start"]))}-{e(clock(b["end"]))}</span>'
                    f'{(" «" + e(b["context"]) + "»") if b.get("context") else ""}</li>' for b in bleeps)
    return f'<h3>Bleeped</h3><div>bleeped: {len(bleeps)} (terms are not copied here)</div><ul class="bleeps">{items}</ul>'


def _doubtful(words: list[dict], count: int) -> str:
    if not words:
        return "<h3>Doubtful caption words</h3><div>doubtful caption words: none</div>"
    more = count - len(words)
    items = "".join(f'<li data-at="{e(str(w["at"]))}"><span class="time">{e(clock(w["at"]))}</span> '
                    f'«{e(w["word"])}» ({e(str(w["probability"]))})</li>' for w in words)
    return (f'<h3>Doubtful caption words</h3><div class="warn">doubtful caption words ({count})'
            f'{f", the first {len(words)} listed" if more > 0 else ""}:</div><ul class="doubtful">{items}</ul>')
