"""The job, end to end: ``render_episode`` runs probe -> analyse -> plan -> render -> validate ->
report for one episode folder. The CLI (``cadre render``) is a thin layer over this function.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.analyse import ClipAnalysis, analyse_clip
from pipeline.branding.bumpers import body_window, bumper_analyses
from pipeline.cache import atomic_write_text
from pipeline.errors import CadreError
from pipeline.export import export_network, extract_cover
from pipeline.faces.audit import contact_sheet, redaction_report
from pipeline.faces.redaction import load_overrides, load_settings
from pipeline.lock import hold_staging
from pipeline.mask_timeline import MaskTimeline
from pipeline.networks import combined_safe_zone, load_networks, master_profile, network_names
from pipeline.plan import ClipPlan, EditPlan, episode_words, plan_parts
from pipeline.reframe import STRATEGIES
from pipeline.render import MasterJob, encode_master
from pipeline.report import measure_output
from pipeline.sound.bleep import censor
from pipeline.sound.bleep import report as bleep_report
from pipeline.sound.bleep import spans as bleep_spans
from pipeline.sound.loudness import render_audio
from pipeline.source.episode import Episode, load_episode
from pipeline.source.normalize import FPS
from pipeline.speech.precision import report_fields
from pipeline.threads import budget

Events = Callable[..., None]   # events(kind, **data): "stage", "progress", "warning"


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


def _noop(kind, **data):
    pass


def output_root(folder: Path, out_dir: Path | None) -> Path:
    return Path(out_dir) if out_dir else folder.resolve().parent / "exports"


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
    if name == "none":
        return load_settings("none"), {"mode": "none", "explicit": True,
                                       "requested_by": "--redact none" if options.redact == "none" else "episode.toml"}
    return load_settings(name), None


def _publish(staging: Path, ep_out: Path, names: list[str]) -> None:
    """Swap each finished network folder into place; an older export is replaced whole."""
    for name in names:
        final = ep_out / name
        if final.exists():
            old = staging / f".old-{name}"
            final.rename(old)
        (staging / name).rename(final)
    sheet = ep_out / "contact-sheet.jpg"
    if (staging / sheet.name).is_file():
        (staging / sheet.name).replace(sheet)
    else:
        sheet.unlink(missing_ok=True)


def render_episode(folder: str | Path, options: RenderOptions | None = None, events: Events = _noop) -> dict:
    options = options or RenderOptions()
    folder = Path(folder)
    episode, networks, profile, redaction, redaction_off = prepare(folder, options)
    root = output_root(folder, options.out_dir)
    root_existed = root.exists()
    staging = _staging(root, episode.name)
    live = None
    try:
        live = hold_staging(staging)   # a batch cleaning up leftovers skips a live render's folder
        result = _render(episode, networks, profile, redaction, redaction_off, staging, events)
        _publish(staging, root / episode.name, [n.name for n in networks])
        atomic_write_text(root / episode.name / "plan.json", json.dumps(result["plan"], indent=2, ensure_ascii=False))
        result["out_dir"] = str(root / episode.name)
        return result
    finally:
        if live is not None:
            os.close(live)
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(root / episode.name)
        if not root_existed:
            _remove_if_empty(root)


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def analyse_episode(episode: Episode, redaction, events: Events = _noop) -> list[ClipAnalysis]:
    analyses = []
    for i, span in enumerate(episode.spans):
        events("stage", name="analyse", clip=span.path.name, index=i, count=len(episode.spans))
        analyses.append(analyse_clip(span, episode.settings, redaction))
    return analyses


def build_plan(episode: Episode, analyses: list[ClipAnalysis], networks, safe, parts: bool = True) -> EditPlan:
    clips, offset = [], 0.0
    for a in analyses:
        s = a.span
        clips.append(ClipPlan(s.path.name, a.sha256, s.start, s.start + s.duration, s.frame_count, round(offset, 3),
                              a.reframer.describe(), a.kind))
        offset += s.frame_count / FPS
    st = episode.settings

    words = censor(episode_words([(c, a.transcript.words) for c, a in zip(clips, analyses)]), st.bleep)
    plan = EditPlan(episode.name, st.title or episode.name, st.language, clips, [n.name for n in networks],
                    vars(safe), st.caption_style, st.redaction, st.branding, words)
    if parts:
        plan.parts = {n.name: plan_parts(plan.duration, n, st.split, episode.folder) for n in networks}
    return plan


def build_overlays(settings, plan: EditPlan, safe, workdir: Path) -> tuple[list[Callable], dict | None]:
    """Branding, then captions: ffmpeg-python steps applied to the masked frames, in that order."""
    overlays, captions = [], None
    if settings.branding != "none":
        from pipeline.branding.overlay import load_branding, overlay

        brand = load_branding(settings.branding)
        window = body_window(plan.clips)
        overlays.append(lambda v: overlay(v, brand, safe.margins(), window, title=plan.title))
    words = plan.timeline_words()
    if settings.caption_style != "none" and words:
        from pipeline.captions.ass import burn, write_ass
        from pipeline.captions.styles import load_style

        ass_path = workdir / "captions.ass"
        captions = write_ass(words, load_style(settings.caption_style), safe.margins(), ass_path,
                             language=settings.language)
        overlays.append(lambda v: burn(v, ass_path))
    return overlays, captions


def prepare(folder: Path, options: RenderOptions) -> tuple[Episode, list, dict, object, dict | None]:
    """Episode, networks, master profile and redaction settings, all validated before any work."""
    budget()   # a malformed CADRE_THREADS fails here, not halfway through the analysis
    for name in options.networks:
        if name not in network_names():
            raise CadreError(f"-n {name}", f"unknown network; choose from: {', '.join(network_names())}")
    if options.reframe and options.reframe not in STRATEGIES:
        raise CadreError(f"--reframe {options.reframe}", f"unknown strategy; choose from: {', '.join(STRATEGIES)}")
    overrides = {"networks": tuple(options.networks) or None, "caption_style": options.caption_style,
                 "reframe": options.reframe, "split": options.split, "language": options.language}
    episode = load_episode(folder, overrides)
    unknown = () if options.networks else episode.settings.unknown_networks
    if unknown and (not options.skip_unknown_networks or not episode.settings.networks):
        raise CadreError(episode.folder.parent / "campaign.toml",
                         f"key 'networks': {', '.join(map(repr, unknown))} is not a network; "
                         f"choose from: {', '.join(network_names())}")
    networks = load_networks(list(episode.settings.networks))
    profile = master_profile()
    if options.x264_preset or os.environ.get("CADRE_X264_PRESET"):
        profile["x264_preset"] = options.x264_preset or os.environ["CADRE_X264_PRESET"]
    redaction, redaction_off = _redaction_settings(episode, options)
    required = episode.settings.require_approval if options.require_approval is None else options.require_approval
    if required:
        from pipeline.approval import check_approved

        check_approved(episode, options, profile, redaction, redaction_off)
    return episode, networks, profile, redaction, redaction_off


def _render(episode, networks, profile, redaction, redaction_off, staging: Path, events: Events) -> dict:
    settings = episode.settings
    safe = combined_safe_zone(networks)
    intro, outro = bumper_analyses(settings)
    # duration limits are known before any work: fail fast
    duration = sum(s.frame_count for s in [a.span for a in intro + outro] + list(episode.spans)) / FPS
    for n in networks:
        plan_parts(duration, n, settings.split, episode.folder)
    analyses = intro + analyse_episode(episode, redaction, events) + outro
    spans = [a.span for a in analyses]
    plan = replace(build_plan(episode, analyses, networks, safe), redaction=redaction.name)

    events("stage", name="audio")

    bleeps = bleep_spans(plan.words, plan.duration)
    audio_path = staging / "audio.m4a"
    loud = render_audio(spans, profile, audio_path, [(b.start, b.end) for b in bleeps],
                        settings.bleep_sound)
    if loud.silent:
        for n in networks:
            if n.needs_audio:
                raise CadreError(episode.folder, f"the episode has no audible sound, which {n.title} requires; "
                                                 f"add sound or drop -n {n.name}")
        events("warning", message="the episode is silent; loudness normalisation skipped")

    overlays, captions = build_overlays(settings, plan, safe, staging)
    if captions and captions.get("warning"):
        events("warning", message=captions["warning"])

    extra = {"redaction": redaction_off, "captions": captions, "branding": settings.branding,
             "asr": report_fields(settings.asr)}

    timeline = MaskTimeline(analyses, redaction, _load_overrides(episode))
    mask = timeline if timeline.any_masks() else None
    tracks = {a.span.path.name: a.faces for a in analyses if a.faces is not None}
    extra["redaction"] = {**redaction_report(tracks, redaction, timeline.overrides), **(redaction_off or {}),
                          "bleeps": bleep_report(bleeps, settings)}
    if any(t.tracks for t in tracks.values()):
        events("stage", name="contact sheet")
        contact_sheet(tracks, {a.span.path.name: a.span for a in analyses}, redaction, timeline.overrides,
                      path=staging / "contact-sheet.jpg")
    keyframes = sorted({p[0] for parts in plan.parts.values() for p in parts[1:]})
    master = staging / "master.mp4"
    job = MasterJob(spans, [a.reframer for a in analyses], audio_path, master, profile,
                    min(n.video_bitrate_max_kbps for n in networks), mask, overlays, keyframes)
    events("stage", name="render", frames=job.total_frames)
    notes = encode_master(job, lambda done, total: events("progress", done=done, total=total))
    if notes:
        events("warning", message=f"the decoder reported damaged input ({notes[-1]}); check the output")
        extra["decoder_warnings"] = notes[-20:]

    cover = staging / "cover.jpg"
    extract_cover(master, min(plan.duration * 0.3, max(0.0, plan.duration - 0.1)), cover)
    events("stage", name="measure")
    measured = measure_output(master, profile)
    if measured["video"]["frames"] != plan.frames:
        raise CadreError(episode.folder, f"the render holds {measured['video']['frames']} frames instead of "
                                         f"{plan.frames}; a clip could not be fully decoded - export it again")
    reports = {}
    for n in networks:
        events("stage", name="export", network=n.name)
        reports[n.name] = export_network(master, measured, cover, plan, n, profile, staging / n.name, extra)
    return {"episode": episode.name, "plan": plan.to_dict(), "reports": reports}


def _load_overrides(episode: Episode):
    return load_overrides(episode.folder / "masks.toml", [s.path.name for s in episode.spans])
