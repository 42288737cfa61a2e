"""The job, end to end: ``render_episode`` runs probe -> analyse -> plan -> render -> validate ->
report for one episode folder. The CLI (``cadre render``) is a thin layer over this function.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.captions.spelling import check_plan
from pipeline.core import cache
from pipeline.core.cache import atomic_write_text, make_key
from pipeline.core.errors import CadreError
from pipeline.core.geometry import check_output
from pipeline.core.interrupt import uninterrupted
from pipeline.core.lock import hold_staging, remove_stale_staging
from pipeline.core.networks import load_networks, master_profile, network_names
from pipeline.core.threads import budget
from pipeline.export import export_network, extract_cover
from pipeline.faces.audit import (
    audit_items,
    contact_sheet,
    index_path,
    preset_origin,
    redaction_report,
)
from pipeline.faces.settings import load_settings
from pipeline.faces.turns import orientation_notes
from pipeline.master import Events, Prepared, duration_refusals, no_events, plan_master
from pipeline.post.pack import episode_posts
from pipeline.post.pack import refusals as post_refusals
from pipeline.post.pack import warnings as post_warnings
from pipeline.post.provenance import preflight
from pipeline.published import published_frames, strip_frames
from pipeline.reframe import STRATEGIES
from pipeline.render import encode_master, release_memory
from pipeline.report import measure_output
from pipeline.signoff import audit_log
from pipeline.signoff.approval import (
    Approval,
    check_approved,
    publish_fingerprint,
    record_approval,
)
from pipeline.signoff.fingerprint import (
    analysis_inputs,
    fingerprint_inputs,
    record_refusals,
    write_record,
)
from pipeline.sound.bleep import report as bleep_report
from pipeline.sound.loudness import quiet_first_stream
from pipeline.sound.voice import report as voice_report
from pipeline.source.episode import Episode, load_episode
from pipeline.source.schema import x264_preset
from pipeline.speech.precision import report_fields


@dataclass
class RenderOptions:
    networks: tuple[str, ...] = ()
    out_dir: Path | None = None
    redact: str | None = None          # "none" must be asked for explicitly
    caption_style: str | None = None
    reframe: str | None = None
    split: bool | None = None
    language: str | None = None
    x264_preset: str | None = None
    require_approval: bool | None = None   # None: as campaign/episode.toml say; False only for review tools
    skip_unknown_networks: bool = False    # batch: render the valid networks of campaign.toml, report the rest
    reanalyse: bool = False                # run Whisper and the face detector again; results replace the cache


def output_root(folder: Path, out_dir: Path | None) -> Path:
    return Path(out_dir) if out_dir else folder.resolve().parent / "exports"


def check_output_folder(out: Path, episodes) -> None:
    """Refuse, before any work, an output folder that is, contains or is inside an episode's own
    folder: exports (and a later render's checks) would be mixed with the footage."""
    where = Path(out).resolve()
    for folder in episodes:
        own = Path(folder).resolve()
        relation = ("is" if where == own else "is inside" if where.is_relative_to(own)
                    else "contains" if own.is_relative_to(where) else None)
        if relation:
            raise CadreError(out, f"the output folder {relation} the episode folder {own}, so exports would be "
                                  "written among the footage; choose an output folder outside it with -o "
                                  "(the default is exports/ beside the episode)")


def _staging(root: Path, episode: str) -> Path:
    """A private staging folder inside the output folder, so the final rename is atomic."""
    try:
        (root / episode).mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".cadre-staging-", dir=root / episode))
    except OSError as exc:
        raise CadreError(root, f"cannot write to the output folder ({exc.strerror}); "
                               "choose another with -o or fix its permissions") from None


def _redaction_settings(episode: Episode, options: RenderOptions):
    """The redaction preset, and a record when face masking was explicitly turned off.

    With ``none`` no face detector runs, but the manual regions a person put in ``masks.toml``
    (plates, documents, whole-frame spans) are still masked.
    """

    name = options.redact or episode.settings.redaction
    settings = load_settings(name)
    if name != "none" and settings.method != "none":
        return settings, None
    if options.redact:
        return settings, {"mode": "none", "explicit": True, "requested_by": f"--redact {options.redact}",
                          "source": "command line"}
    own = episode.folder / "episode.toml"   # campaign.toml cannot turn masking off: refused as it is read (config.py)
    return settings, {"mode": "none", "explicit": True, "requested_by": "episode.toml", "source": str(own)}


def _publish(staging: Path, ep_out: Path, names: list[str]) -> None:
    """Swap each finished network folder into place; an older export is replaced whole."""
    for name in names:
        final = ep_out / name
        if final.exists():
            old = staging / f".old-{name}"
            final.rename(old)
        (staging / name).rename(final)
    for sheet in (ep_out / "contact-sheet.jpg", index_path(ep_out / "contact-sheet.jpg")):   # and its index
        if (staging / sheet.name).is_file():
            (staging / sheet.name).replace(sheet)
        else:
            sheet.unlink(missing_ok=True)


def render_episode(folder: str | Path, options: RenderOptions | None = None, events: Events = no_events) -> dict:
    options = options or RenderOptions()
    folder = Path(folder)
    prepared = prepare(folder, options)
    episode = prepared.episode
    preflight(episode.settings, episode.folder)   # provenance = "required" without a usable key: refused now
    # what the outputs are rendered from, recorded in each published folder (as batch does), so
    # `cadre status` and the next batch know a `cadre render` output is up to date
    inputs = fingerprint_inputs(episode, prepared.networks, prepared.profile, prepared.redaction,
                                prepared.redaction_off)
    start = time.monotonic()
    root = output_root(folder, options.out_dir)
    root_existed = root.exists()
    staging = live = None
    held: list[tuple[str, dict]] = []

    def holding(kind: str, **data) -> None:
        """Warnings and refused networks are said once the render is known to publish: a failed
        render is one line, its error, never warnings followed by an error."""
        if kind in ("warning", "refused"):
            held.append((kind, data))
        else:
            events(kind, **data)

    try:
        with uninterrupted():   # a stop signal now leaves no folder without its lock behind
            staging = _staging(root, episode.name)
            live = hold_staging(staging)   # a batch cleaning up leftovers skips a live render's folder
        remove_stale_staging(root / episode.name)   # what a killed run left (SIGKILL, power cut)
        with cache.reanalysing(options.reanalyse):
            result = _render(prepared, staging, holding)
        _check_before_publish(prepared, options, result, root / episode.name)
        for kind, data in held:
            events(kind, **data)
        _publish(staging, root / episode.name, list(result["reports"]))   # refused networks: not published
        _audit(root / episode.name, "publication", prepared, result, options, fingerprint=result["fingerprint"],
               files=audit_log.published_files(root / episode.name, list(result["reports"])))
        atomic_write_text(root / episode.name / "plan.json", json.dumps(result["plan"], indent=2, ensure_ascii=False))
        for network in result["reports"]:
            write_record(root, episode.name, network, make_key(inputs), inputs, [], time.monotonic() - start)
        # a refused network is not rendered again by the next batch while these inputs stay the same
        record_refusals(root, episode.name, make_key(inputs), result["refused"], list(result["reports"]))
        result["out_dir"] = str(root / episode.name)
        return result
    finally:
        with uninterrupted():   # a stop signal during the clean-up raises once it is done
            if live is not None:
                os.close(live)
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            _remove_if_empty(root / episode.name)
            if not root_existed:
                _remove_if_empty(root)


def _masking(prepared: Prepared) -> dict:
    return {"preset": prepared.redaction.name, "method": prepared.redaction.method,
            **({"off": prepared.redaction_off} if prepared.redaction_off else {})}


def _audit(ep_out: Path, kind: str, prepared: Prepared, result: dict | None, options: RenderOptions, **data) -> None:
    networks = list(result["reports"]) if result else [n.name for n in prepared.networks]
    audit_log.append(ep_out, kind, episode=prepared.episode.name, networks=networks, masking=_masking(prepared),
                     **data)


def approval_required(episode: Episode, options: RenderOptions) -> bool:
    return bool(episode.settings.require_approval if options.require_approval is None else options.require_approval)


def _check_before_publish(prepared: Prepared, options: RenderOptions, result: dict, ep_out: Path) -> None:
    """The fingerprint computed again after the encode; with approval required, anything changed
    during the render (a caption file edited, a re-analysis finding other faces) stops the publish."""
    result["fingerprint"] = publish_fingerprint(prepared, result["analysis"])
    _audit(ep_out, "render", prepared, result, options, fingerprint=result["fingerprint"],
           analysis_from_cache=result["analysis_from_cache"], reanalysed=options.reanalyse)
    if approval_required(prepared.episode, options):
        try:
            record = check_approved(prepared, result["analysis"], publishing=True)
        except CadreError as exc:
            _audit(ep_out, "refusal", prepared, result, options, fingerprint=result["fingerprint"], reason=str(exc))
            raise
        result["approval"] = {"by": record.by, "at": record.at, "hash": record.hash}


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def prepare(folder: Path, options: RenderOptions) -> Prepared:
    """Episode, networks, master profile and redaction settings, all validated before any work."""
    check_output()   # a broken presets/master.toml (core/geometry.py)
    budget()   # a malformed CADRE_THREADS fails here, not halfway through the analysis
    preset = x264_preset(options.x264_preset)   # CADRE_X264_PRESET=ultrafast is refused now, not after the encode
    for name in options.networks:
        if name not in network_names():
            raise CadreError(f"-n {name}", f"unknown network; choose from: {', '.join(network_names())}")
    if options.reframe and options.reframe not in STRATEGIES:
        raise CadreError(f"--reframe {options.reframe}", f"unknown strategy; choose from: {', '.join(STRATEGIES)}")
    overrides = {"networks": tuple(options.networks) or None, "caption_style": options.caption_style,
                 "reframe": options.reframe, "split": options.split, "language": options.language}
    check_output_folder(output_root(folder, options.out_dir), [folder])
    episode = load_episode(folder, overrides)
    unknown = () if options.networks else episode.settings.unknown_networks
    if unknown and (not options.skip_unknown_networks or not episode.settings.networks):
        raise CadreError(episode.folder.parent / "campaign.toml",
                         f"key 'networks': {', '.join(map(repr, unknown))} is not a network; "
                         f"choose from: {', '.join(network_names())}")
    networks = load_networks(list(episode.settings.networks))
    profile = master_profile()
    if preset:
        profile["x264_preset"] = preset
    redaction, redaction_off = _redaction_settings(episode, options)
    prepared = Prepared(episode, networks, profile, redaction, redaction_off)
    if approval_required(episode, options):
        try:
            check_approved(prepared)
        except CadreError as exc:
            _audit(output_root(folder, options.out_dir) / episode.name, "refusal", prepared, None, options,
                   reason=str(exc))
            raise
    return prepared


def _refuse(prepared: Prepared, new: dict[str, str], refused: dict[str, str], events: Events) -> Prepared:
    """Drop the networks in ``new`` (name -> why) from the render; the others go on from the same
    master. Only when no requested network is left does the episode fail, naming each reason."""
    for name, reason in new.items():
        refused[name] = reason
        events("refused", network=name, reason=reason)
    left = [n for n in prepared.networks if n.name not in refused]
    if not left:
        raise CadreError(prepared.episode.folder, "no requested network can take this episode: "
                         + "; ".join(f"{name}: {why}" for name, why in refused.items()))
    return replace(prepared, networks=left)


def _render(prepared: Prepared, staging: Path, events: Events) -> dict:
    refused: dict[str, str] = {}
    # duration limits are known before any work: a network that cannot take the episode is dropped now
    prepared = _refuse(prepared, duration_refusals(prepared), refused, events)
    episode, networks, profile, settings = prepared.episode, prepared.networks, prepared.profile, prepared.settings
    for note in episode.notes:   # found while loading: a trim past a clip's end
        events("warning", message=note)
    streams = audio_streams(episode, events)
    with cache.recording() as served:
        setup = plan_master(prepared, staging, events)
    release_memory()   # the analysis is done: its networks and Whisper are dead weight from here (issue 29)
    plan = setup.plan
    for line in orientation_notes(a.faces for a in setup.analyses):   # a camera mounted upside down or sideways
        events("warning", message=line)
    # the caption spelling check: warnings, report.json; spellcheck = "block" stops here with one line
    spelling = check_plan(plan, settings, episode.folder, lambda line: events("warning", message=line))
    # each network's post (and the contacts said in the captions): a blocked post refuses its network
    posts = episode_posts(episode, networks, plan.words, plan.language)
    for line in post_warnings(posts):
        events("warning", message=line)
    prepared = _refuse(prepared, post_refusals(posts), refused, events)
    networks = prepared.networks
    plan.networks, plan.parts = [n.name for n in networks], {n.name: plan.parts[n.name] for n in networks}
    signing, unsigned = preflight(settings, episode.folder)
    if unsigned:
        events("warning", message=unsigned)
    audio_path = staging / "audio.m4a"
    loud = setup.audio(prepared, audio_path, events=events)   # stages "loudness" (measure, normalise, check)
    if loud.silent:
        prepared = _refuse(prepared, {n.name: f"the episode has no audible sound, which {n.title} requires; "
                                              f"add sound or drop -n {n.name}" for n in networks if n.needs_audio},
                           refused, events)
        networks = prepared.networks
        plan.networks = [n.name for n in networks]
        plan.parts = {k: v for k, v in plan.parts.items() if k in plan.networks}
        events("warning", message="the episode is silent; loudness normalisation skipped")
    if setup.captions and setup.captions.get("warning"):
        events("warning", message=setup.captions["warning"])
    tracks = {a.span.path.name: a.faces for a in setup.analyses if a.faces is not None}
    # everything masked, listed once (faces, regions, whole-frame and voice spans): report and contact sheet
    preset = preset_origin(episode.folder, prepared.redaction.name, settings.redaction, prepared.redaction_off)
    masked = audit_items(tracks, prepared.redaction, setup.overrides, setup.voices,
                         {c.file: c.offset for c in plan.clips if c.kind == "clip"})
    keyframes = sorted({p[0] for parts in plan.parts.values() for p in parts[1:]})
    master = staging / "master.mp4"
    job = setup.job(audio_path, master, profile, min(n.video_bitrate_max_kbps for n in networks),
                    keyframes=tuple(keyframes))
    events("stage", name="render", frames=job.total_frames)
    strip = dict.fromkeys(strip_frames(setup))   # the contact sheet's frames, kept as the render masks them
    notes = encode_master(job, lambda done, total: events("progress", done=done, total=total), grab=strip)
    if notes:
        events("warning", message=f"the decoder reported damaged input ({notes[-1]}); check the output")
    # always drawn: its strip of published frames shows a face no mask covers (issue 26)
    events("stage", name="contact sheet")
    contact_sheet(tracks, {a.span.path.name: a.span for a in setup.analyses}, prepared.redaction,
                  setup.overrides, path=staging / "contact-sheet.jpg", items=masked, preset=preset,
                  published=published_frames(setup, list(strip), masked=strip))

    # the report's own copy of every track (each keyframe's box, as lists) is made after the encode,
    # not beside the three processes at the render's peak (issue 29: 10-minute episodes)
    extra = {"captions": setup.captions, "branding": settings.branding, "asr": report_fields(settings.asr),
             "redaction": {**redaction_report(tracks, prepared.redaction, setup.overrides, masked, preset),
                           **(prepared.redaction_off or {}), "bleeps": bleep_report(setup.bleeps, settings),
                           "voices": voice_report(setup.voices)},
             "analysis": {"from_cache": all(hit for _, hit in served), "reanalysed": cache.refreshing("faces")}}
    if spelling is not None:
        extra["spelling"] = spelling
    if streams:
        extra["audio_streams"] = streams
    if notes:
        extra["decoder_warnings"] = notes[-20:]
    cover = staging / "cover.jpg"
    extract_cover(master, min(plan.duration * 0.3, max(0.0, plan.duration - 0.1)), cover)
    events("stage", name="measure")
    measured = measure_output(master, profile)
    if measured["video"]["frames"] != plan.frames:
        raise CadreError(episode.folder, f"the render holds {measured['video']['frames']} frames instead of "
                                         f"{plan.frames}; a clip could not be fully decoded - export it again")
    reports, failed = {}, {}
    for n in networks:
        events("stage", name="export", network=n.name)
        try:
            reports[n.name] = export_network(master, measured, cover, plan, n, profile, staging / n.name, extra,
                                             post=posts.get(n.name), signing=signing)
        except CadreError as exc:   # one network's check (size, duration...): that network only
            shutil.rmtree(staging / n.name, ignore_errors=True)
            failed[n.name] = str(exc)
    _refuse(prepared, failed, refused, events)
    return {"episode": episode.name, "plan": plan.to_dict(), "reports": reports, "refused": refused,
            "analysis": analysis_inputs(setup.analyses), "analysis_from_cache": extra["analysis"]["from_cache"]}


def audio_streams(episode: Episode, events: Events) -> list[dict]:
    """Which audio stream each clip with several is heard from (for report.json): episode.toml's
    ``audio_stream``, else the first; a near-silent first stream with sound on another is named
    in a warning (a camera's first microphone left muted)."""
    rows, seen = [], set()
    for span in episode.spans:
        count = span.info.audio_streams
        if count < 2 or span.path in seen:
            continue
        seen.add(span.path)
        row = {"clip": span.path.name, "streams": count, "used": span.audio_stream or 1,
               "chosen_by": "episode.toml" if span.audio_stream else "default (the first)"}
        if span.audio_stream is None:
            row["levels_db"], loud = quiet_first_stream(span.path, count)
            if loud is not None:
                events("warning", message=f"clip '{span.path.name}': its first audio stream is near-silent "
                                          f"({row['levels_db'][0]:.0f} dB) while stream {loud} has sound "
                                          f"({row['levels_db'][loud - 1]:.0f} dB); the first is used - to use the "
                                          f"other, give the clip audio_stream = {loud} (or \"mix\") in "
                                          "episode.toml's clips")
        rows.append(row)
    return rows


def approve_episode(folder: str | Path, by: str, options: RenderOptions | None = None) -> Approval:
    """Record that ``by`` approved the episode in ``folder`` as it is now (``approval.json``)."""
    options = replace(options or RenderOptions(), networks=(), require_approval=False)
    prepared = prepare(Path(folder), options)
    record = record_approval(prepared, by)
    audit_log.append(output_root(Path(folder), options.out_dir) / prepared.episode.name, "approval",
                     episode=prepared.episode.name, approver=record.by, fingerprint=record.hash,
                     networks=record.networks, masking=_masking(prepared))
    return record
