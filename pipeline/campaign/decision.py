"""What the person deciding to publish needs to know about one network's output, read from the
files a render left: ``report.json`` (masking, bleeps, checks, loudness), the episode's
``plan.json`` (the words, with Whisper's confidence) and the episode's ``approval.json``.

Nothing here renders or analyses: it only reads, so ``campaign.html`` can say it for every row.
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline import audit_log
from pipeline.approval import read_approval
from pipeline.errors import CadreError
from pipeline.speech.transcript import LOW_CONFIDENCE

MAX_DOUBTFUL = 40   # words listed per output; the count says how many there are in all


def read_json_dict(path: Path) -> dict:
    """A JSON object read from ``path``; {} when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text("utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def approval(episode_folder: Path | None) -> dict:
    """``{"state": "approved"|"not approved"|"invalid", "by", "at", "detail"}``."""
    if episode_folder is None:
        return {"state": "unknown"}
    try:
        record = read_approval(episode_folder)
    except CadreError as exc:
        return {"state": "invalid", "detail": exc.message}
    if record is None:
        return {"state": "not approved"}
    return {"state": "approved", "by": record.by, "at": record.at, "networks": list(record.networks)}


def masking(report: dict) -> dict:
    red = report.get("redaction") or {}
    tracks = []
    for clip, data in sorted((red.get("clips") or {}).items()):
        for t in data.get("tracks") or []:
            tracks.append({"clip": clip, "id": t.get("id"), "seconds": t.get("masked_seconds"),
                           "kept_visible": bool(t.get("kept_visible"))})
    manual = [e for e in ((red.get("overrides") or {}).get("entries") or [])]
    return {"method": red.get("method", ""), "off": red.get("mode") == "none" or red.get("method") == "none",
            "requested_by": red.get("requested_by", ""), "tracks": tracks, "manual": manual,
            "bleeps": [b for b in ((red.get("bleeps") or {}).get("spans") or [])]}


def doubtful_words(plan: dict) -> tuple[list[dict], int]:
    """Caption words Whisper was unsure of (probability under LOW_CONFIDENCE), on the episode timeline."""
    words = [w for w in plan.get("words") or []
             if isinstance(w, dict) and (w.get("probability") if w.get("probability") is not None else 1) < LOW_CONFIDENCE
             and w.get("word", "").strip() and w.get("word", "").strip() != "***"]
    return [{"at": round(float(w.get("start", 0.0)), 2), "word": w["word"].strip(),
             "probability": round(float(w["probability"]), 2)} for w in words[:MAX_DOUBTFUL]], len(words)


def checks(report: dict) -> dict:
    passed, failed = [], []
    for out in report.get("outputs") or []:
        for c in out.get("checks") or []:
            (passed if c.get("ok") else failed).append(c.get("name", ""))
    loud = next((o.get("loudness") for o in report.get("outputs") or [] if o.get("loudness")), None) or {}
    return {"passed": sorted(set(passed) - set(failed)), "failed": sorted(set(failed)),
            "loudness_lufs": loud.get("integrated_lufs"), "true_peak_dbtp": loud.get("true_peak_dbtp")}


def summarise(network_folder: Path, episode_folder: Path | None = None) -> dict:
    """Everything above for one network folder (``{}`` when it holds no report)."""
    report = read_json_dict(network_folder / "report.json")
    if not report:
        return {}
    plan = read_json_dict(network_folder.parent / "plan.json")
    words, count = doubtful_words(plan)
    return {"approval": approval(episode_folder), "masking": masking(report), "doubtful_words": words,
            "doubtful_count": count, "checks": checks(report), "published": publication(network_folder)}


def publication(network_folder: Path) -> dict:
    """The last publication of this network recorded in ``audit.jsonl`` (who ran it, when, its fingerprint)."""
    for entry in reversed(audit_log.read(network_folder.parent)):
        if entry.get("event") == "publication" and network_folder.name in (entry.get("networks") or []):
            return {"at": entry.get("at"), "os_user": entry.get("os_user"), "fingerprint": entry.get("fingerprint")}
    return {}


def _clock(seconds) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "?"
    return f"{int(s // 60)}:{s % 60:04.1f}"


def render_html(d: dict, escape) -> str:
    """The decision cell of ``campaign.html`` (every value escaped with ``escape``)."""
    if not d:
        return ""
    e = escape
    out = []
    a = d.get("approval") or {}
    if a.get("state") == "approved":
        out.append(f'<div class="ok">approved by {e(str(a.get("by", "")))} at {e(str(a.get("at", "")))}</div>')
    elif a.get("state") == "invalid":
        out.append(f'<div class="bad">approval record refused: {e(str(a.get("detail", "")))}</div>')
    elif a.get("state") == "not approved":
        out.append('<div class="bad">not approved</div>')
    p = d.get("published") or {}
    if p:
        out.append(f'<div>last published {e(str(p.get("at", "")))} by {e(str(p.get("os_user", "")))} '
                   f'(fingerprint {e(str(p.get("fingerprint", ""))[:12])})</div>')
    m = d.get("masking") or {}
    if m.get("off"):
        out.append(f'<div class="bad">face masking off{(" (" + e(m["requested_by"]) + ")") if m.get("requested_by") else ""}</div>')
    tracks = m.get("tracks") or []
    masked = [t for t in tracks if not t.get("kept_visible")]
    kept = [t for t in tracks if t.get("kept_visible")]
    if tracks or not m.get("off"):
        items = ", ".join(f'{e(str(t["clip"]))} #{e(str(t["id"]))} {e(_clock((t.get("seconds") or [0])[0]))}'
                          f'-{e(_clock((t.get("seconds") or [0, 0])[-1]))}' for t in masked)
        out.append(f"<div>faces masked: {len(masked)}{': ' + items if items else ''}</div>")
    if kept:
        out.append(f'<div class="warn">faces left visible by a person: '
                   f'{e(", ".join(str(t["clip"]) + " #" + str(t["id"]) for t in kept))}</div>')
    manual = m.get("manual") or []
    if manual:
        items = ", ".join(f'{e(str(x.get("kind", "")))} {e(str(x.get("clip", "")))} '
                          f'{e(_clock(x.get("start", 0)))}-{e(_clock(x["end"]) if x.get("end") is not None else "end")}'
                          f'{(" " + e(str(x["label"]))) if x.get("label") else ""}' for x in manual)
        out.append(f"<div>manual masks ({len(manual)}): {items}</div>")
    bleeps = m.get("bleeps") or []
    out.append(f"<div>bleeped: {len(bleeps)}"
               + (": " + ", ".join(e(_clock(b.get("start"))) for b in bleeps) if bleeps else "") + "</div>")
    words = d.get("doubtful_words") or []
    if words:
        more = d.get("doubtful_count", len(words)) - len(words)
        items = ", ".join(f'{e(_clock(w["at"]))} «{e(w["word"])}» ({e(str(w["probability"]))})' for w in words)
        out.append(f'<div class="warn">doubtful caption words ({d.get("doubtful_count", len(words))}): {items}'
                   f'{f" and {more} more" if more > 0 else ""}</div>')
    else:
        out.append("<div>doubtful caption words: none</div>")
    c = d.get("checks") or {}
    if c.get("failed"):
        out.append(f'<div class="bad">checks failed: {e(", ".join(c["failed"]))}</div>')
    if c.get("passed"):
        loud = c.get("loudness_lufs")
        out.append(f'<div class="ok">checks passed: {e(", ".join(c["passed"]))}'
                   f'{f" ({loud:.1f} LUFS)" if isinstance(loud, (int, float)) else ""}</div>')
    return "".join(out)
