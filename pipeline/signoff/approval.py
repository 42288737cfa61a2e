"""Sign-off: who approved an episode, when, and a hash of everything that decides its output.

``cadre approve EPISODE_DIR --by NAME`` (or the review page's Approve button) writes
``<episode>/approval.json``. The hash covers what :func:`pipeline.campaign.jobs.fingerprint_inputs`
covers (the clips' content, the caption and mask files a person edits, the resolved settings,
the presets and assets, the Cadre version), computed for the networks the episode is configured
for, with the inputs that do not change what a viewer sees or hears left out: the encoder
speed preset and the settings the schema marks as not approved (:data:`pipeline.source.schema.NOT_APPROVED`:
the ``require_approval`` switch itself).

With ``require_approval = true`` in ``campaign.toml`` (or ``episode.toml``), or
``--require-approval``, :func:`pipeline.orchestrator.prepare` calls :func:`check_approved`: render and batch
refuse an episode that was never approved, that changed since, or that is rendered for a network
the approval did not cover, and the one-line error names what changed.

The record also holds the analysis results that decide pixels and words
(:func:`pipeline.signoff.fingerprint.analysis_inputs`: face tracks, crop paths, words), the episode it was
made for, and a seal (a hash of the whole record): a record edited by hand, or copied from another
episode, is refused. The render checks the analysis once it has run, and everything again after
the encode, before anything is published (:func:`check_approved` with ``analysis``).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from pipeline.captions.corrections import human_cues
from pipeline.core.cache import atomic_write_text, make_key
from pipeline.core.errors import CadreError
from pipeline.core.networks import load_networks
from pipeline.core.version import __version__
from pipeline.faces.overrides import load_overrides
from pipeline.master import Prepared, analyse_episode
from pipeline.signoff.fingerprint import analysis_inputs, fingerprint_inputs
from pipeline.source.config import load_settings
from pipeline.source.schema import NOT_APPROVED
from pipeline.speech.transcribe import sidecar_paths

APPROVAL = "approval.json"
_LABELS = {"edits": "edited file", "settings": "setting", "presets": "preset", "profile": "encoding profile",
           "redaction": "redaction setting", "cadre": "Cadre version", "asr_model": "Whisper model",
           "face_model": "face model", "analysis": "analysis result", "posts": "post"}


@dataclass
class Approval:
    by: str
    at: str
    hash: str
    networks: list[str] = field(default_factory=list)
    inputs: dict = field(default_factory=dict)
    cadre: str = __version__
    episode: str = ""              # the episode folder's name: a record copied elsewhere is refused
    seal: str = ""                 # hash of all the above: a record edited by hand is refused

    def to_dict(self) -> dict:
        return asdict(self)

    def sealed(self) -> str:
        return make_key("approval-seal", {k: v for k, v in self.to_dict().items() if k != "seal"})


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
    for key in NOT_APPROVED:                       # the schema's keys a sign-off does not cover
        inputs["settings"].pop(key, None)
    return json.loads(json.dumps(inputs, default=str)), list(configured)


def publish_fingerprint(prepared: Prepared, analysis: dict) -> str:
    """The fingerprint of what is published, as the approval hashes it (inputs + analysis results):
    for an approved, unchanged episode it equals the approval's ``hash``."""
    inputs, _ = content_inputs(prepared)
    inputs["analysis"] = json.loads(json.dumps(analysis))
    return make_key(inputs)


def read_approval(folder: str | Path) -> Approval | None:
    path = approval_path(folder)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        record = Approval(**{k: data[k] for k in ("by", "at", "hash", "networks", "inputs", "cadre", "episode", "seal")
                             if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        raise CadreError(path, "is not a valid approval record; run cadre approve again") from None
    if not record.seal or record.seal != record.sealed() or record.hash != make_key(record.inputs):
        raise CadreError(path, "the approval record was edited by hand (its hash no longer matches its contents); "
                               "review the episode and sign off again with cadre approve --by NAME")
    if record.episode != Path(folder).resolve().name:
        raise CadreError(path, f"this approval was made for episode '{record.episode}', not "
                               f"'{Path(folder).resolve().name}' (copied from another episode?); review this "
                               "episode and sign off with cadre approve --by NAME")
    return record


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
    # what the reviewer saw: the analysis the review page showed (from the cache; run if missing)
    inputs["analysis"] = analysis_inputs(analyse_episode(prepared.episode, prepared.redaction))
    record = Approval(by, datetime.now(timezone.utc).isoformat(timespec="seconds"), make_key(inputs), networks, inputs,
                      episode=prepared.episode.name)
    record.seal = record.sealed()
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


def approval_status(prepared: Prepared, analysis: dict | None = None) -> ApprovalStatus:
    """Whether the episode is approved as it is now; ``analysis`` (:func:`analysis_inputs` of the
    render's analyses) is compared too when given, else the recorded one is assumed."""
    try:
        record = read_approval(prepared.episode.folder)
    except CadreError as exc:
        return ApprovalStatus(False, None, [exc.message])
    if record is None:
        return ApprovalStatus(False, None, ["never approved"])
    inputs, _ = content_inputs(prepared)
    inputs["analysis"] = json.loads(json.dumps(analysis)) if analysis is not None else record.inputs.get("analysis")
    if make_key(inputs) == record.hash:
        return ApprovalStatus(True, record, [])
    return ApprovalStatus(False, record, differences(record.inputs, inputs) or ["inputs"])


def check_approved(prepared: Prepared, analysis: dict | None = None, publishing: bool = False) -> Approval:
    """Raise unless the episode is approved as it is now, for every network asked for.

    ``analysis``: the render's analysis results, compared with the approved ones. ``publishing``:
    the check made after the encode, just before the outputs are moved into place."""
    episode = prepared.episode
    path = approval_path(episode.folder)
    read_approval(episode.folder)          # a record edited by hand or copied from elsewhere: its own line
    status = approval_status(prepared, analysis)
    if status.record is None:
        raise CadreError(path, "approval is required but this episode was never approved; review it "
                               "(cadre review) and sign off with cadre approve --by NAME")
    if not status.approved:
        rec = status.record
        if publishing:
            raise CadreError(path, f"the episode changed during the render, after {rec.by}'s approval was checked: "
                                   f"{', '.join(status.changes)}; nothing was published - review the changes, "
                                   "run cadre approve again, then render again")
        raise CadreError(path, f"the episode changed since {rec.by} approved it on {rec.at}: "
                               f"{', '.join(status.changes)}; review the changes and run cadre approve again")
    missing = [n for n in episode.settings.networks if n not in status.record.networks]
    if missing:
        raise CadreError(path, f"network(s) {', '.join(missing)} were not part of the approval "
                               f"({', '.join(status.record.networks)}); add them to episode.toml and approve again")
    return status.record
