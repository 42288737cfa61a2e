"""Sign-off: who approved an episode, when, and a hash of everything that decides its output.

``cadre approve EPISODE_DIR --by NAME`` (or the review page's Approve button) writes
``<episode>/approval.json``. The hash covers what :func:`pipeline.campaign.jobs.fingerprint_inputs`
covers (the clips' content, the caption and mask files a person edits, the resolved settings,
the presets and assets, the Cadre version), computed for the networks the episode is configured
for, with the two inputs that do not change what a viewer sees or hears left out: the encoder
speed preset and the ``require_approval`` switch itself.

With ``require_approval = true`` in ``campaign.toml`` (or ``episode.toml``), or
``--require-approval``, :func:`pipeline.orchestrator.prepare` calls :func:`check_approved`: render and batch
refuse an episode that was never approved, that changed since, or that is rendered for a network
the approval did not cover, and the one-line error names what changed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from pipeline.cache import atomic_write_text, make_key
from pipeline.captions.corrections import human_cues
from pipeline.errors import CadreError
from pipeline.faces.redaction import load_overrides
from pipeline.fingerprint import fingerprint_inputs
from pipeline.master import Prepared
from pipeline.networks import load_networks
from pipeline.source.config import load_settings
from pipeline.speech.transcribe import sidecar_paths
from pipeline.version import __version__

APPROVAL = "approval.json"
_LABELS = {"edits": "edited file", "settings": "setting", "presets": "preset", "profile": "encoding profile",
           "redaction": "redaction setting", "cadre": "Cadre version"}


@dataclass
class Approval:
    by: str
    at: str
    hash: str
    networks: list[str] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)
    cadre: str = __version__

    def to_dict(self) -> dict:
        return asdict(self)


def approval_path(folder: str | Path) -> Path:
    return Path(folder) / APPROVAL


def content_inputs(prepared: Prepared) -> tuple[dict, list[str]]:
    """The approval's inputs (JSON as recorded) and the networks they cover (the episode's own)."""
    episode, profile, redaction, redaction_off = (prepared.episode, prepared.profile, prepared.redaction,
                                                  prepared.redaction_off)
    configured = load_settings(episode.folder).networks
    ep = replace(episode, settings=replace(episode.settings, networks=configured))
    profile = {k: v for k, v in profile.items() if k != "x264_preset"}
    inputs = fingerprint_inputs(ep, load_networks(list(configured)), profile, redaction, redaction_off)
    inputs["settings"].pop("require_approval", None)
    return json.loads(json.dumps(inputs, default=str)), list(configured)


def read_approval(folder: str | Path) -> Approval | None:
    path = approval_path(folder)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        return Approval(**{k: data[k] for k in ("by", "at", "hash", "networks", "inputs", "cadre") if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        raise CadreError(path, "is not a valid approval record; run cadre approve again") from None


def _validate_edits(episode) -> None:
    """A broken mask or caption file cannot be approved: render would stop on it anyway."""

    load_overrides(episode.folder / "masks.toml", [s.path.name for s in episode.spans])
    for span in episode.spans:
        srt = sidecar_paths(Path(span.path), episode.settings.language)[0]
        if srt.is_file():
            human_cues(srt)


def record_approval(prepared: Prepared, by: str) -> Approval:
    """Record that ``by`` approved the prepared episode as it is now (``orchestrator.approve_episode``
    prepares it, approval not required, for the networks the episode is configured for)."""
    by = " ".join((by or "").split())
    if not by:
        raise CadreError("--by", "give the reviewer's name, e.g. --by \"Cne Martin\"")
    _validate_edits(prepared.episode)
    inputs, networks = content_inputs(prepared)
    record = Approval(by, datetime.now(timezone.utc).isoformat(timespec="seconds"), make_key(inputs), networks, inputs)
    atomic_write_text(approval_path(prepared.episode.folder), json.dumps(record.to_dict(), indent=1,
                                                                         ensure_ascii=False) + "\n")
    return record


def differences(old: dict, new: dict) -> list[str]:
    """What changed between two recorded inputs, in words: ``edited file 1.fr.srt``, ``clip 2.mp4``."""
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        label = _LABELS.get(key, key)
        if key == "clips":
            olds = {c["file"]: c for c in a or []}
            news = {c["file"]: c for c in b or []}
            for name in sorted(set(olds) | set(news)):
                if olds.get(name) != news.get(name):
                    how = "added" if name not in olds else "removed" if name not in news else "changed"
                    out.append(f"clip {name} {how}")
            if [c["file"] for c in a or []] != [c["file"] for c in b or []] and set(olds) == set(news):
                out.append("clip order")
        elif isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if a.get(k) != b.get(k):
                    how = " added" if a.get(k) is None else " removed" if b.get(k) is None else ""
                    out.append(f"{label} {k}{how}")
        else:
            out.append(f"{label} ({a} -> {b})" if key == "cadre" else label)
    return out


@dataclass
class ApprovalStatus:
    approved: bool
    record: Approval | None
    changes: list[str]

    def to_dict(self) -> dict:
        rec = self.record
        return {"approved": self.approved, "by": rec.by if rec else None, "at": rec.at if rec else None,
                "hash": rec.hash if rec else None, "changes": self.changes}


def approval_status(prepared: Prepared) -> ApprovalStatus:
    record = read_approval(prepared.episode.folder)
    if record is None:
        return ApprovalStatus(False, None, ["never approved"])
    inputs, _ = content_inputs(prepared)
    if make_key(inputs) == record.hash:
        return ApprovalStatus(True, record, [])
    return ApprovalStatus(False, record, differences(record.inputs, inputs) or ["inputs"])


def check_approved(prepared: Prepared) -> Approval:
    """Raise unless the episode is approved as it is now, for every network asked for."""
    episode = prepared.episode
    path = approval_path(episode.folder)
    status = approval_status(prepared)
    if status.record is None:
        raise CadreError(path, "approval is required but this episode was never approved; review it "
                               "(cadre review) and sign off with cadre approve --by NAME")
    if not status.approved:
        rec = status.record
        raise CadreError(path, f"the episode changed since {rec.by} approved it on {rec.at}: "
                               f"{', '.join(status.changes)}; review the changes and run cadre approve again")
    missing = [n for n in episode.settings.networks if n not in status.record.networks]
    if missing:
        raise CadreError(path, f"network(s) {', '.join(missing)} were not part of the approval "
                               f"({', '.join(status.record.networks)}); add them to episode.toml and approve again")
    return status.record
