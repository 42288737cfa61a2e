"""``cadre review --export``: the review as one read-only HTML file, to send for sign-off.

Everything is inside the file: captions as they will be published (bleeped words shown as the
placeholder, low-confidence words marked), one published frame per clip and a thumbnail of every
face track, masked as published, as ``data:`` images. It holds no script and loads nothing; all
text is HTML-escaped. Bleeped terms themselves are not written (the file travels by message).
"""
from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path

from pipeline.core.cache import atomic_write_text
from pipeline.faces.sheet import draw_strip
from pipeline.review.frames import jpeg, track_thumbnail
from pipeline.review.pictures import episode_frames
from pipeline.sound.bleep import PLACEHOLDER

CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:20px}h2{font-size:16px;
margin-top:1.5em}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;
vertical-align:top}.low{background:#ffe08a}.bleep{background:#333;color:#fff}.ok{color:#2a7a3a}.bad{color:#a00}
.cards{display:flex;flex-wrap:wrap;gap:8px}.card{width:160px;font-size:12px}.card img{width:160px;display:block}
.frame img{width:270px}.badge{padding:2px 8px;border-radius:8px;color:#fff;background:#a33}.badge.ok{background:#2a7a3a}"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/jpeg;base64,{base64.b64encode(data).decode()}">'


def _cue_html(cue: dict) -> str:
    parts = []
    for tok in cue["tokens"]:
        if tok["newline"]:
            parts.append("<br>")
        text = PLACEHOLDER if tok["bleep"] else tok["text"]
        cls = "bleep" if tok["bleep"] else "low" if tok["low"] else ""
        parts.append(f'<span class="{cls}">{_e(text)}</span>' if cls else _e(text))
    return " ".join(parts).replace(" <br> ", "<br>")


def _published_frames(session) -> list[tuple[str, float, bytes]]:
    """The strip of evenly spaced published frames (masked, captioned, branded; at least one per
    clip), small, each mask outlined: a face with no outline is published unmasked."""
    out = []
    for f in episode_frames(session.folder, session.options):
        image, _ = draw_strip([f], 270, 1, title="", labels=False)
        out.append((f.clip, f.seconds, jpeg(image, 80)))
    return out


def _history(h: dict) -> str:
    a, p = h["approval"], h["publication"]
    approval = "never approved" if a is None else (
        f"{_e(a['by'])}, {_e(a['at'])}, fingerprint {_e(a['fingerprint'])}: "
        + ("still valid" if a["valid"] else "no longer valid (" + _e(", ".join(a["changes"])) + ")"))
    publication = "never published" if p is None else (
        f"{_e(p['at'])} by {_e(p['os_user'])}, {_e(', '.join(p['networks']))}, fingerprint {_e(p['fingerprint'])}"
        + (" (as approved)" if p["approved"] else " (not what the current approval covers)") + "<ul>"
        + "".join(f"<li>{_e(f['file'])} sha256 {_e(f['sha256'])}…</li>" for f in p["files"]) + "</ul>")
    return (f"<h2>Sign-off history</h2><p>Last approval: <span class=\"last-approval\">{approval}</span></p>"
            f"<p>Last publication: <span class=\"last-publication\">{publication}</span></p>")


def export_html(session, out_path: Path, frames: bool = True) -> Path:
    """Write the read-only review page of ``session`` (a ReviewSession) to ``out_path``."""
    state = session.state()
    a = state["approval"]
    badge = (f'<span class="badge ok">approved by {_e(a["by"])} on {_e(a["at"])}</span>' if a["approved"] else
             f'<span class="badge">not approved{": " + _e(", ".join(a["changes"])) if a["by"] else ""}</span>')
    body = [f"<h1>{_e(state['title'])} ({_e(state['episode'])})</h1>",
            f"<p>{badge} — {state['duration']:.1f} s, masking: {_e(state['redaction'])}, "
            f"exported {_e(datetime.now(timezone.utc).isoformat(timespec='seconds'))}</p>"]
    if frames:
        cells = "".join(f'<div class="card frame">{_img(data, f"{name} at {at:.1f} s")}{_e(name)} at {at:.1f} s</div>'
                        for name, at, data in _published_frames(session))
        body.append('<h2>Published frames</h2><p>Evenly spaced, as published; every mask outlined in green: '
                    f'a face with no outline is published unmasked.</p><div class="cards">{cells}</div>')
    body.append("<h2>Captions</h2>")
    for clip in state["clips"]:
        rows = "".join(f"<tr><td>{c['start']:.2f}</td><td>{c['end']:.2f}</td><td>{_cue_html(c)}</td></tr>"
                       for c in clip["cues"])
        body.append(f"<h3>{_e(clip['clip'])}</h3><table><tr><th>from</th><th>to</th><th>text</th></tr>{rows}</table>")
    cards = []
    faces = {c.name: c for c in session.clips.values()}
    overrides = session.overrides()
    for t in state["tracks"]:
        clip = faces[t["clip"]]
        track = next(x for x in clip.analysis.faces.tracks if x.id == t["id"])
        data = track_thumbnail(clip.span, clip.analysis.faces, track, session.redaction, overrides)
        cards.append(f'<div class="card">{_img(data, t["id"])}<b>{"KEPT VISIBLE" if t["kept"] else "masked"}</b><br>'
                     f'{_e(t["clip"])} {t["from"]}–{t["to"]} s<br>{_e(t["id"])}</div>')
    body.append(f'<h2>Face tracks ({len(cards)})</h2><div class="cards">{"".join(cards) or "none"}</div>')
    masks = "".join(f"<tr><td>{_e(m['clip'])}</td><td>{m['start']}–{'' if m['end'] is None else m['end']}</td>"
                    f"<td>{'whole frame' if m['whole_frame'] else _e(m['region'])}</td><td>{_e(m['label'])}</td>"
                    f"<td>{'follows what it covers' if m['moving'] else ''}</td></tr>"
                    for m in state["masks"])
    body.append(f"<h2>Manual masks</h2><table>{masks or '<tr><td>none</td></tr>'}</table>")
    voices = "".join(f"<tr><td>{_e(v['clip'])}</td><td>{v['start']}–{'' if v['end'] is None else v['end']}</td>"
                     f"<td>{_e(v['preset'])}</td><td>{_e(v['label'])}</td></tr>" for v in state["voices"])
    body.append(f"<h2>Disguised voices</h2><table>{voices or '<tr><td>none</td></tr>'}</table>")
    body.append(_history(state["history"]))
    spans = state["bleep"]["spans"]
    body.append(f"<h2>Bleeps</h2><p>{len(state['bleep']['terms'])} term(s), {len(spans)} span(s) "
                f"({_e(state['bleep']['sound'])}): " + ", ".join(f"{b['start']:.2f}–{b['end']:.2f} s" for b in spans)
                + "</p>")
    for net in state["checks"]:
        rows = "".join(f'<tr class="{"ok" if c["ok"] else "bad"}"><td>{"✓" if c["ok"] else "✗"}</td><td>{_e(c["name"])}'
                       f'</td><td>{_e(c["value"])}</td><td>{_e(c["expected"])}</td></tr>' for c in net["checks"])
        body.append(f"<h2>{_e(net['title'])}</h2><table>{rows}</table>")
    page = ("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
            f"<title>Review: {_e(state['title'])}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
    out_path = Path(out_path)
    atomic_write_text(out_path, page)
    out_path.chmod(0o644)
    return out_path
