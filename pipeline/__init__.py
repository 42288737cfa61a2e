"""Cadre: raw footage in, checked vertical clips out, offline.

The package reads as the stages of the job, one area package each, over a shared base::

    source (probe, normalise) -> analyse (speech, faces, reframe) -> plan -> render
        -> validate -> report / export          orchestrated by pipeline.orchestrator

This module is the public API; the click CLI (:mod:`pipeline.cli`) uses nothing else::

    import pipeline as cadre

    result = cadre.render_episode("campaign/episode-01", cadre.RenderOptions(networks=("tiktok",)))
    words = cadre.transcribe("campaign/episode-01/1.mp4").words
    cadre.approve("campaign/episode-01", by="Cne Martin")
    cadre.run_batch("campaign")
    rows = cadre.status("campaign").rows     # up to date, approved, published, warnings

Errors a user can fix are raised as :class:`CadreError` (the CLI prints them as one line).
"""
from __future__ import annotations

from pathlib import Path

from pipeline.campaign.batch import BatchOptions, BatchResult, run_batch
from pipeline.campaign.executors import EXECUTORS
from pipeline.campaign.status import CampaignStatus, StatusRow, status
from pipeline.campaign.watch import CampaignWatcher, WatchOptions
from pipeline.captions.corrections import clip_transcript, write_review_files
from pipeline.core.crash import internal_error
from pipeline.core.errors import BatchFailed, CadreError
from pipeline.core.geometry import check_output
from pipeline.core.interrupt import (
    Interrupted,
    handle_signals,
    restore_signals,
    stop_children,
)
from pipeline.core.interrupt import received as stop_received
from pipeline.core.networks import network_names
from pipeline.core.resources import preset_names, preset_path
from pipeline.core.textfile import read_text
from pipeline.core.version import __version__
from pipeline.demo import make_demo_episode
from pipeline.doctor import healthy, run_checks
from pipeline.orchestrator import (
    RenderOptions,
    approve_episode,
    output_root,
    render_episode,
)
from pipeline.post.provenance import Verification
from pipeline.post.provenance import report_lines as verification_lines
from pipeline.post.provenance import verify as verify_file
from pipeline.propose.accept import accept as accept_proposals
from pipeline.propose.options import ProposeOptions
from pipeline.propose.run import Proposals
from pipeline.propose.run import propose as propose_episodes
from pipeline.review.preview import crop_window_frame, preview_frame
from pipeline.signoff.approval import approval_path
from pipeline.speech import models
from pipeline.speech.engines.base import ENGINES, TranscribeOptions
from pipeline.speech.transcript import Transcript

__all__ = [
    "BatchFailed", "BatchOptions", "BatchResult", "CadreError", "CampaignStatus", "CampaignWatcher", "ENGINES",
    "EXECUTORS", "RenderOptions", "StatusRow", "Transcript", "TranscribeOptions", "WatchOptions", "__version__",
    "approval_path", "approve", "check_output",
    "crop_window_frame", "healthy", "internal_error", "make_demo_episode", "models", "network_names", "output_root",
    "preset_names", "preset_path", "preview_frame", "read_text", "render_episode", "review_page", "review_export", "run_batch",
    "run_checks", "status", "transcribe", "write_review_files",
    "Verification", "verification_lines", "verify_file",
    "Interrupted", "handle_signals", "restore_signals", "stop_children", "stop_received",
    "ProposeOptions", "Proposals", "accept_proposals", "propose_episodes",
]


def transcribe(clip: str | Path, options: TranscribeOptions | None = None) -> Transcript:
    """The words a render of ``clip`` would caption: Whisper's (cached by content and settings),
    with a person's corrections from ``<clip>.<lang>.srt`` merged over them."""
    return clip_transcript(Path(clip), options or TranscribeOptions())


def approve(folder: str | Path, by: str, options: RenderOptions | None = None):
    """Sign the episode in ``folder`` off as it is now; returns the :class:`~pipeline.signoff.approval.Approval`."""
    return approve_episode(folder, by, options)


def review_page(folder: str | Path, port: int = 0, proxy: bool = True):
    """The local review page of an episode (127.0.0.1, a session key in its address): call
    ``serve_forever()`` on the result. Needs the ``review`` extra (starlette, uvicorn, tomlkit)."""
    from pipeline.review.server import ReviewServer  # lazy: optional starlette/uvicorn (the review extra)

    return ReviewServer(folder, port, proxy=proxy)


def review_export(folder: str | Path, out: str | Path | None = None) -> Path:
    """A read-only single-file HTML copy of the review page (default: beside the exports)."""
    from pipeline.review.export import export_html  # lazy: optional tomlkit (the review extra)
    from pipeline.review.session import ReviewSession  # lazy: optional tomlkit (the review extra)

    session = ReviewSession(folder)
    name = session.episode.name
    return export_html(session, Path(out) if out else output_root(Path(folder), None) / name / f"review-{name}.html")
