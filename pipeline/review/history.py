"""The episode's last approval and last publication, as the review page shows them.

Both come from ``exports/<episode>/audit.jsonl`` (:mod:`pipeline.signoff.audit_log`), the append-only
record render and approve write, and the approval from ``approval.json`` too:

- last approval: who, when, the fingerprint they approved (short) and whether it still holds,
  i.e. whether the episode's fingerprint now is the one approved (else what changed);
- last publication: when, by which OS user, the networks, every published file with the start
  of its sha256, and whether what was published is what the current approval covers.
"""
from __future__ import annotations

from pipeline.orchestrator import output_root
from pipeline.signoff import audit_log

SHORT = 12      # hex digits of a fingerprint or sha256 shown


def _short(value) -> str:
    return str(value)[:SHORT] if value else ""


def history(session, status) -> dict:
    """``status``: the :class:`~pipeline.signoff.approval.ApprovalStatus` of the episode as it is now."""
    ep = session.episode
    log = audit_log.read(output_root(ep.folder, session.options.out_dir) / ep.name)
    logged = audit_log.latest(log, "approval")
    rec = status.record
    approval = None
    if rec is not None:               # approval.json: the record the render checks
        approval = {"by": rec.by, "at": rec.at, "fingerprint": _short(rec.hash), "networks": list(rec.networks),
                    "valid": status.approved, "changes": [] if status.approved else list(status.changes),
                    "logged": bool(logged and logged.get("fingerprint") == rec.hash)}
    elif logged is not None:          # logged, but the record is gone or refused
        approval = {"by": logged.get("approver"), "at": logged.get("at"), "fingerprint": _short(logged.get("fingerprint")),
                    "networks": list(logged.get("networks") or []), "valid": False,
                    "changes": list(status.changes), "logged": True}
    published = audit_log.latest(log, "publication")
    publication = None
    if published is not None:
        files = published.get("files") if isinstance(published.get("files"), dict) else {}
        publication = {"at": published.get("at"), "os_user": published.get("os_user"),
                       "networks": list(published.get("networks") or []),
                       "fingerprint": _short(published.get("fingerprint")),
                       "approved": bool(rec is not None and published.get("fingerprint") == rec.hash),
                       "files": [{"file": name, "sha256": _short(digest)} for name, digest in sorted(files.items())]}
    return {"approval": approval, "publication": publication, "log": len(log)}
