"""What the person deciding to publish needs to know about one network's output, read from the
files a render left: ``report.json`` (masking, bleeps, checks, loudness), the episode's
``plan.json`` (the words, with Whisper's confidence), the episode's ``approval.json`` and
``audit.jsonl`` (the last approval and publication).

Nothing here renders or analyses: it only reads, so ``campaign.html`` can say it for every row.
Bleeped terms are never copied here: a bleep is shown by its time and the caption words around it
(the term itself is ``***`` in ``plan.json``), as ``report.json`` does.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.core.cache import read_json_dict
from pipeline.core.errors import CadreError
from pipeline.signoff import audit_log
from pipeline.signoff.approval import read_approval
from pipeline.speech.transcript import LOW_CONFIDENCE

MAX_DOUBTFUL = 40   # words listed per output; the count says how many there are in all


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
    return {"state": "approved", "by": record.by, "at": record.at, "networks": list(record.networks),
            "hash": record.hash}


def masking(report: dict) -> dict:
    red = report.get("redaction") or {}
    tracks = []
    if isinstance(red.get("masked"), list):   # the audit list (faces/audit.py): one row per thing masked or kept
        tracks = [{"clip": m.get("clip"), "id": m.get("ref"), "seconds": [m.get("start"), m.get("end")],
                   "kept_visible": bool(m.get("visible"))}
                  for m in red["masked"] if isinstance(m, dict) and m.get("kind") == "face"]
    else:
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
            "loudness_lufs": loud.get("integrated_lufs"), "true_peak_dbtp": loud.get("true_peak_dbtp"),
            "lra_lu": loud.get("lra_lu")}


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
    entry = audit_log.latest(audit_log.read(network_folder.parent), "publication", network_folder.name)
    if entry is None:
        return {}
    return {"at": entry.get("at"), "os_user": entry.get("os_user"), "fingerprint": entry.get("fingerprint")}


def bleeps_in_context(plan: dict, spans: list[dict], around: int = 3) -> list[dict]:
    """Each bleep span (episode seconds) with the caption words around it, the term shown as ``***``."""
    words = [w for w in plan.get("words") or [] if isinstance(w, dict)]
    out = []
    for b in spans:
        try:
            start, end = float(b.get("start")), float(b.get("end"))
        except (TypeError, ValueError):
            continue
        near = [i for i, w in enumerate(words) if float(w.get("end", 0)) > start and float(w.get("start", 0)) < end]
        hit = [i for i in near if str(words[i].get("word", "")).strip() == "***"] or near
        context = ""
        if hit:
            lo, hi = max(0, hit[0] - around), min(len(words), hit[-1] + around + 1)
            context = " ".join(("***" if i in hit else str(words[i].get("word", "")).strip()) for i in range(lo, hi))
        out.append({"start": round(start, 2), "end": round(end, 2), "context": context.strip()})
    return out


def last_events(ep_out: Path) -> dict:
    """The last ``approval`` and ``publication`` of ``audit.jsonl`` (any network)."""
    out, events = {}, audit_log.read(ep_out)
    for kind in ("approval", "publication"):
        entry = audit_log.latest(events, kind)
        if entry:
            out[kind] = {"at": entry.get("at"), "by": entry.get("approver") or entry.get("os_user"),
                         "os_user": entry.get("os_user"), "networks": list(entry.get("networks") or []),
                         "fingerprint": entry.get("fingerprint")}
    return out
