"""``cadre status``: where every episode x network stands, without rendering or analysing anything.

One row per episode and network, read from what is on disk:

* **state**: ``up to date`` (the batch's record matches the episode's fingerprint and the files
  are whole, :func:`pipeline.campaign.jobs.up_to_date`), ``stale`` (and why: which input changed
  since the last render, in words, :func:`pipeline.signoff.approval.differences`), ``never rendered`` (with
  the network's refusal when its duration limit cannot take the episode, or when a render refused it
  for these very inputs: ``fingerprint.recorded_refusal``), ``not configured`` (a
  folder for a network the episode no longer asks for) or ``error`` (the episode cannot be planned);
* **approval**: approved or not, by whom and when, and what changed since
  (:func:`pipeline.signoff.approval.approval_status`);
* **published**: the last ``publication`` of the network in ``exports/<episode>/audit.jsonl``, when,
  by which OS user, and the sha256 of each published file as recorded then;
* **warnings pending** from the network's ``report.json`` and the episode's ``plan.json``:
  doubtful caption words (Whisper's probability under ``LOW_CONFIDENCE``), spelling findings per
  kind, faces a person left visible and stretches of tracked regions a person must check.

The fingerprint is the batch's (``fingerprint.fingerprint_inputs``), computed with the same
options the batch would use: the clips are probed and hashed (hashes are remembered per inode,
size and mtime), Whisper and the face detector never run. Nothing is written but the hash memo.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from pipeline.campaign.batch import find_episodes, out_root
from pipeline.campaign.decision import doubtful_words, masking
from pipeline.campaign.jobs import describe_os_error, read_record, up_to_date
from pipeline.core.cache import make_key, read_json_dict
from pipeline.core.crash import internal_error
from pipeline.core.errors import CadreError
from pipeline.master import duration_refusals
from pipeline.orchestrator import RenderOptions, output_root, prepare
from pipeline.post.pack import episode_posts
from pipeline.signoff import audit_log
from pipeline.signoff.approval import approval_status, differences
from pipeline.signoff.fingerprint import fingerprint_inputs, recorded_refusal
from pipeline.source.episode import VIDEO_EXTS

SPELLING_KINDS = ("unknown", "doubled", "numbers", "low_confidence", "names")


@dataclass
class StatusRow:
    episode: str
    network: str
    state: str                      # up to date | stale | never rendered | not configured | error
    reason: str = ""
    approved: bool = False
    approved_by: str | None = None
    approved_at: str | None = None
    approval: str = ""              # "never approved", what changed since, or "" when approved
    published_at: str | None = None
    published_by: str | None = None
    sha256: str | None = None       # of the published video (the first part when split)
    files: dict[str, str] = field(default_factory=dict)     # published file -> sha256 (audit.jsonl)
    warnings: list[str] = field(default_factory=list)       # warnings pending, one line each
    counts: dict[str, int] = field(default_factory=dict)    # doubtful_words, spelling_<kind>, tracks_to_check
    post: dict = field(default_factory=dict)                # the network's post as it is now, and its checks

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CampaignStatus:
    folder: Path
    kind: str                       # campaign | episode
    rows: list[StatusRow]
    elapsed: float = 0.0

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "kind": self.kind, "elapsed_s": round(self.elapsed, 3),
                "rows": [r.to_dict() for r in self.rows]}


def _has_clips(folder: Path) -> bool:
    try:
        return any(p.is_file() and p.suffix.lower() in VIDEO_EXTS and not p.name.startswith(".")
                   for p in folder.iterdir())
    except OSError:
        return False


def status(folder: str | Path, options: RenderOptions | None = None) -> CampaignStatus:
    """Rows for an episode folder (it holds clips) or a campaign folder (it holds episode folders);
    ``options`` as the batch would be given them (``out_dir`` for ``-o``)."""
    start = time.monotonic()
    folder = Path(folder)
    options = replace(options or RenderOptions(), skip_unknown_networks=True, require_approval=False, reanalyse=False)
    expected = ("pass an episode folder (its clips side by side) or a campaign folder (one sub-folder of clips per "
                "episode)")
    if not folder.is_dir():
        raise CadreError(folder, f"folder not found; {expected}")
    if _has_clips(folder):
        kind, episodes, root = "episode", [folder], output_root(folder, options.out_dir)
    else:
        try:
            episodes = find_episodes(folder, options.out_dir)
        except CadreError:
            raise CadreError(folder, f"not an episode (no clips) or a campaign (no episode folders); {expected}") from None
        kind, root = "campaign", out_root(folder, options)
    rows = []
    for ep in episodes:
        rows += episode_rows(ep, options, root)
    return CampaignStatus(folder, kind, rows, time.monotonic() - start)


def episode_rows(folder: Path, options: RenderOptions, root: Path) -> list[StatusRow]:
    try:
        return _episode_rows(folder, options, root)
    except CadreError as exc:
        return [StatusRow(folder.name, "all", "error", str(exc))]
    except OSError as exc:
        return [StatusRow(folder.name, "all", "error", describe_os_error(exc, folder))]
    except Exception as exc:  # a bug: this episode's row says so, the others are shown
        return [StatusRow(folder.name, "all", "error", internal_error(exc, f"cadre status of {folder}"))]


def _episode_rows(folder: Path, options: RenderOptions, root: Path) -> list[StatusRow]:
    prepared = prepare(folder, options)          # validates and probes; approval never required here
    episode = prepared.episode
    inputs = fingerprint_inputs(episode, prepared.networks, prepared.profile, prepared.redaction,
                                prepared.redaction_off)
    fingerprint = make_key(inputs)
    recorded = json.loads(json.dumps(inputs, default=str))
    ep_out = root / episode.name
    approval = approval_status(prepared)
    refusals = duration_refusals(prepared)
    audit = audit_log.read(ep_out)
    plan = read_json_dict(ep_out / "plan.json")
    names = [n.name for n in prepared.networks]
    posts = episode_posts(episode, prepared.networks)      # the posts as they are now (pipeline/post/pack.py)
    extra = sorted(p.name for p in (ep_out.iterdir() if ep_out.is_dir() else [])
                   if p.is_dir() and not p.name.startswith(".") and p.name not in names
                   and (p / "report.json").is_file())
    rows = []
    for name in names + extra:
        row = StatusRow(episode.name, name, "")
        if name in extra:
            row.state, row.reason = "not configured", "rendered before; the episode no longer asks for this network"
        else:
            ok, why = up_to_date(root, episode.name, name, fingerprint, inputs)
            earlier = None if ok else recorded_refusal(root, episode.name, name, fingerprint)
            if earlier is not None and name not in refusals:
                refusals[name] = f"{earlier['reason']} (at {earlier['at']})"
            if ok:
                row.state = "up to date"
            elif why == "not rendered yet":
                row.state = "never rendered"
                row.reason = f"refused: {refusals[name]}" if name in refusals else ""
            elif name in refusals:   # an older export is there, but these inputs are refused
                row.state = "stale"
                row.reason = f"refused: {refusals[name]}; the previous export is out of date"
            else:
                row.state = "stale"
                record = read_record(root, episode.name, name)
                changed = differences(record.get("inputs") or {}, recorded) if record else []
                row.reason = f"changed since the last render: {', '.join(changed)}" if changed else why
        _approval(row, approval, name)
        _published(row, audit, name)
        if name in posts:
            row.post = posts[name].to_dict()
            row.warnings += [f"post {'blocked' if f.severity == 'block' else 'warning'}: {f}" for f in posts[name].findings]
        if row.state != "never rendered":
            _warnings(row, read_json_dict(ep_out / name / "report.json"), plan)
        rows.append(row)
    return rows


def _approval(row: StatusRow, approval, network: str) -> None:
    rec = approval.record
    if rec is not None:
        row.approved_by, row.approved_at = rec.by, rec.at
    if approval.approved and network not in rec.networks:
        row.approval = f"not part of {rec.by}'s approval ({', '.join(rec.networks)})"
    elif approval.approved:
        row.approved = True
    else:
        row.approval = ", ".join(approval.changes) if rec is None else f"changed since: {', '.join(approval.changes)}"


def _published(row: StatusRow, audit: list[dict], network: str) -> None:
    entry = audit_log.latest(audit, "publication", network)
    if entry is None:
        return
    row.published_at, row.published_by = entry.get("at"), entry.get("os_user")
    files = entry.get("files") or {}
    row.files = {k: v for k, v in files.items() if k.startswith(f"{network}/")}
    videos = sorted(k for k in row.files if k.lower().endswith(".mp4"))
    row.sha256 = row.files[videos[0]] if videos else None


def _warnings(row: StatusRow, report: dict, plan: dict) -> None:
    if not report:
        return
    words, count = doubtful_words(plan)
    if count:
        row.counts["doubtful_words"] = count
        row.warnings.append(f"{count} doubtful caption word(s): "
                            + ", ".join(f"{w['word']} at {w['at']:.1f} s" for w in words[:5])
                            + (" ..." if count > 5 else ""))
    spelling = report.get("spelling") or {}
    for kind in SPELLING_KINDS:
        if kind == "low_confidence" and count:
            continue   # the same words as the doubtful ones above
        items = spelling.get(kind) or []
        if items:
            row.counts[f"spelling_{kind}"] = len(items)
            row.warnings.append(f"spelling: {len(items)} {kind.replace('_', ' ')}: "
                                + ", ".join(str(f.get("word", "")) for f in items[:5]) + (" ..." if len(items) > 5 else ""))
    kept = [t for t in masking(report)["tracks"] if t["kept_visible"]]
    lost = [(r.get("clip"), c.get("seconds")) for r in (report.get("redaction") or {}).get("tracked_regions") or []
            for c in r.get("check") or []]
    if kept or lost:
        row.counts["tracks_to_check"] = len(kept) + len(lost)
        if kept:
            row.warnings.append("faces left visible by a person: " + ", ".join(f"{t['clip']} #{t['id']}" for t in kept))
        if lost:
            row.warnings.append("tracked regions lost (check the mask): "
                                + ", ".join(f"{clip} {s[0]:.1f}-{s[1]:.1f} s" if s else str(clip) for clip, s in lost))
