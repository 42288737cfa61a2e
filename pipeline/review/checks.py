"""The checks against each network that can be made before rendering (duration, sound, captions,
masking, approval), plus the validation results of the last render when there is one."""
from __future__ import annotations

import json

from pipeline.orchestrator import output_root
from pipeline.signoff.approval import approval_status
from pipeline.sound.loudness import measure_spans


def _check(name: str, ok: bool, value, expected: str, level: str = "error") -> dict:
    return {"name": name, "ok": bool(ok), "value": value, "expected": expected, "level": level}


def network_checks(session) -> list[dict]:
    ep = session.episode
    plan = session.plan()
    if session.loudness is None:
        session.loudness = measure_spans(list(ep.spans), session.profile)
    silent = session.loudness.silent
    approval = approval_status(session.prepared)
    masking = session.redaction is not None and session.redaction.method != "none"
    out = []
    for net in session.networks:
        d = plan.duration
        fits = net.min_duration_s <= d <= net.max_duration_s or (d > net.max_duration_s and ep.settings.split)
        items = [
            _check("duration", fits, round(d, 2), f"{net.min_duration_s:g}-{net.max_duration_s:g} s"
                   + (" (split into parts)" if ep.settings.split else "")),
            _check("sound", not (net.needs_audio and silent), "silent" if silent else "audible",
                   "audible sound" if net.needs_audio else "any", "error" if net.needs_audio else "info"),
            _check("captions", bool(plan.words) or ep.settings.caption_style == "none",
                   f"{len(plan.words)} words", "captions present", "warning"),
            _check("face masking", masking, session.redaction.method if session.redaction else "none",
                   "on (mosaic, solid or blur)"),
            _check("approval", approval.approved, "approved" if approval.approved else "; ".join(approval.changes),
                   "signed off, unchanged since", "warning"),
        ]
        report = output_root(ep.folder, None) / ep.name / net.name / "report.json"
        if report.is_file():
            try:
                checks = [c for o in json.loads(report.read_text("utf-8"))["outputs"] for c in o["checks"]]
                bad = [c["name"] for c in checks if not c["ok"]]
                items.append(_check("last render", not bad, ", ".join(bad) or f"{len(checks)} checks passed",
                                    "every check passed", "info"))
            except (OSError, ValueError, KeyError, TypeError):
                pass
        out.append({"network": net.name, "title": net.title, "checks": items})
    return out
