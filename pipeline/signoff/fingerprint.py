"""An episode's fingerprint: everything its published outputs depend on, as small JSON-able parts.

Batch records it after publishing (a network whose record matches is skipped), and sign-off
hashes it (:mod:`pipeline.signoff.approval`): the clips' content, the caption and mask files a person
edits, the resolved settings, the presets and assets used, the Whisper and face-model weights and
the Cadre version. :func:`analysis_inputs` adds, once the clips are analysed, the results that decide
pixels and words (face tracks, crop paths, words), so a re-analysis that finds other faces, or
another model, voids a sign-off. :data:`RENDER_ONLY` (the settings that change the render but never a
clip's analysis) comes from the settings schema, :mod:`pipeline.source.schema`.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pipeline.branding.overlay import load_branding
from pipeline.core.cache import file_hash, make_key, read_json_dict, write_shared_json
from pipeline.core.errors import CadreError
from pipeline.core.resources import data_dir, preset_path
from pipeline.core.version import __version__
from pipeline.faces.detectors.centerface import model_path as face_model_path
from pipeline.post.pack import post_hashes
from pipeline.source.schema import RENDER_ONLY
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.models import resolve

# settings that only change the render, never a clip's analysis (two episodes sharing a clip and
# differing only in these share one analysis; a review session re-analyses only when others change):
# RENDER_ONLY, the schema's keys marked render_only


def analysis_settings(settings) -> dict:
    """The episode settings that can change a clip's analysis (transcript, faces, framing)."""
    return {k: v for k, v in settings.to_dict().items() if k not in RENDER_ONLY}


def _hash_or_none(path: Path) -> str | None:
    return file_hash(path) if path.is_file() else None


def _preset_files(episode, networks, redaction) -> list[Path]:
    st = episode.settings
    files = [data_dir("presets") / "master.toml"] + [preset_path("networks", n.name) for n in networks]
    if st.caption_style != "none":
        files.append(preset_path("captions", st.caption_style))
    if redaction is not None:
        files.append(preset_path("redaction", redaction.name))
    if st.branding != "none":
        brand = load_branding(st.branding)
        files.append(preset_path("branding", st.branding))
        files += [p for p in (brand.logo.path if brand.logo else None, brand.intro, brand.outro) if p]
    files += sorted(p for p in data_dir("assets").rglob("*") if p.is_file())
    return files


def _edited_files(episode) -> dict[str, str]:
    """Caption sidecars (``<stem>.<lang>.srt`` / ``.json``) beside the clips and ``masks.toml``."""
    out = {}
    for span in episode.spans:
        clip = Path(span.path)
        for side in sorted(clip.parent.glob(f"{_glob_escape(clip.stem)}.*")):
            if side.suffix.lower() in (".srt", ".json") and side.is_file():
                out[side.name] = file_hash(side)
    out["masks.toml"] = _hash_or_none(episode.folder / "masks.toml")
    return out


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def fingerprint_inputs(episode, networks, profile, redaction, redaction_off) -> dict:
    """Everything an episode's outputs depend on, as small JSON-able parts (hashes, settings)."""
    presets = {f"{p.parent.name}/{p.name}": file_hash(p) for p in _preset_files(episode, networks, redaction)}
    return {
        "cadre": __version__,
        "settings": episode.settings.to_dict(),
        "profile": profile,
        "redaction": redaction.to_dict() if redaction is not None else redaction_off,
        "clips": [{"file": Path(s.path).name, "sha256": file_hash(s.path), "start": s.start, "end": s.end}
                  for s in episode.spans],
        "edits": _edited_files(episode),
        "presets": presets,
        "asr_model": _model_hash(episode.settings),
        "face_model": _face_model_hash(redaction),
        "posts": post_hashes(episode, networks),     # each network's post: an edit after sign-off names it
    }


def _face_model_hash(redaction) -> str | None:
    """The face detector's weights: another model finds other faces, so masks other pixels."""
    if redaction is None or redaction.method == "none":
        return None
    try:
        return file_hash(face_model_path())
    except (CadreError, OSError):
        return None   # the analysis refuses to run without its model, with its own message


def analysis_inputs(analyses) -> dict:
    """The analysis results that decide published pixels and words, one hash each per clip:
    ``<clip>/faces`` (face tracks), ``<clip>/framing`` (the crop path) and ``<clip>/words``."""
    out = {}
    for a in analyses:
        if getattr(a, "kind", "clip") != "clip":
            continue   # bumpers: their files are hashed with the branding preset
        name = Path(a.span.path).name
        plan = getattr(a.reframer, "plan", None)
        out[f"{name}/faces"] = make_key(a.faces.to_dict(compact=True), expand=True) if a.faces is not None else None
        out[f"{name}/framing"] = make_key(a.reframer.describe(), plan.to_dict() if plan is not None else None)
        out[f"{name}/words"] = make_key([[round(w.start, 2), round(w.end, 2), w.word] for w in a.transcript.words])
    return out


def _model_hash(settings) -> str | None:
    """The Whisper weights in use: new weights under the same name mean new words."""
    try:
        return resolve(TranscribeOptions(language=settings.language, **settings.asr).model).sha256
    except (CadreError, OSError):
        return None   # analysis reports the problem with its own message


def changed_parts(old: dict, new: dict) -> list[str]:
    """Which top-level inputs differ (``edits``, ``clips``, ``settings``, ...), for the log."""
    new = json.loads(json.dumps(new, default=str))   # as recorded: tuples became lists
    return [k for k in new if old.get(k) != new.get(k)] + [k for k in old if k not in new]


# ---------------------------------------------------------------- records of finished outputs

RECORD = ".cadre-job.json"    # in each published network folder: the fingerprint it was rendered from

def record_path(out_root: Path, episode: str, network: str) -> Path:
    return out_root / episode / network / RECORD


def write_record(out_root: Path, episode: str, network: str, fingerprint: str, inputs: dict,
                 warnings: list[str], elapsed: float) -> None:
    record = {"fingerprint": fingerprint, "inputs": inputs, "warnings": warnings, "render_seconds": round(elapsed, 2),
              "rendered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cadre_version": __version__}

    write_shared_json(record_path(out_root, episode, network), record)


def read_record(out_root: Path, episode: str, network: str) -> dict | None:
    try:
        return json.loads(record_path(out_root, episode, network).read_text("utf-8"))
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- networks refused for these inputs

REFUSED = ".cadre-refused.json"   # in exports/<episode>/: network -> the fingerprint it was refused for, and why


def refusals_path(out_root: Path, episode: str) -> Path:
    return out_root / episode / REFUSED


def _read_refusals(out_root: Path, episode: str) -> dict:
    return read_json_dict(refusals_path(out_root, episode))


def record_refusals(out_root: Path, episode: str, fingerprint: str, refused: dict[str, str],
                    published: list[str]) -> None:
    """Remember which networks a render refused (too short, silent, too big...) for these inputs,
    so the next batch does not render the episode again only to be refused again; a network
    published now forgets its refusal."""
    data = {k: v for k, v in _read_refusals(out_root, episode).items() if k not in published and k not in refused}
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data.update({name: {"fingerprint": fingerprint, "reason": reason, "at": at} for name, reason in refused.items()})
    path = refusals_path(out_root, episode)
    if not data:
        path.unlink(missing_ok=True)
        return
    write_shared_json(path, data)


def recorded_refusal(out_root: Path, episode: str, network: str, fingerprint: str) -> dict | None:
    """``{"reason", "at"}`` when ``network`` was refused for exactly these inputs, else None."""
    entry = _read_refusals(out_root, episode).get(network)
    if isinstance(entry, dict) and entry.get("fingerprint") == fingerprint and entry.get("reason"):
        return {"reason": str(entry["reason"]), "at": str(entry.get("at", ""))}
    return None
