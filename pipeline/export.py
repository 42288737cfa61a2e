"""Per-network outputs from the one master: copy or stream-copy parts, sidecars, cover, report.

All five networks share the same 1080x1920 H.264 master, so nothing is re-encoded here.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import ffmpeg

from pipeline.captions.sidecars import write_sidecars
from pipeline.core.errors import CadreError, write_failed
from pipeline.core.ffmpeg import compile_graph, run
from pipeline.core.networks import Network
from pipeline.core.version import __version__
from pipeline.plan import EditPlan
from pipeline.post.pack import write_post
from pipeline.post.provenance import sign_outputs
from pipeline.report import measure_output
from pipeline.speech.transcript import Word
from pipeline.validate import check_output


def extract_cover(master: Path, at: float, out: Path) -> None:
    node = ffmpeg.input(str(master), ss=f"{at:.3f}").output(str(out), vframes=1, **{"q:v": 2})
    run(compile_graph(node), source=master, what="cover extraction")


def cut_part(master: Path, start: float, end: float, out: Path) -> None:
    """Stream-copy ``[start, end)`` of the master (cuts fall on forced key frames)."""
    node = ffmpeg.input(str(master), ss=f"{start:.3f}", to=f"{end:.3f}").output(
        str(out), c="copy", movflags="+faststart", map_metadata=-1, avoid_negative_ts="make_zero", f="mp4")
    run(compile_graph(node), source=master, what="part cut")


def part_words(words: list[Word], start: float, end: float) -> list[Word]:
    return [w.shifted(-start) for w in words if w.start >= start - 1e-3 and w.start < end]


def export_network(master: Path, master_measured: dict, cover: Path, plan: EditPlan, net: Network, profile: dict,
                   out_dir: Path, extra_report: dict, post=None, signing=None) -> dict:
    """Write ``out_dir`` (the network's folder) and return its report; raise if a check fails.

    A whole-episode output is a byte copy of the master, so the master's measurements hold for it.
    A write that fails (a full disk) is one line; the caller's staging folder is removed.
    """
    try:
        return _export_network(master, master_measured, cover, plan, net, profile, out_dir, extra_report, post, signing)
    except OSError as exc:
        raise write_failed(exc, out_dir) from None


def _export_network(master: Path, master_measured: dict, cover: Path, plan: EditPlan, net: Network, profile: dict,
                    out_dir: Path, extra_report: dict, post=None, signing=None) -> dict:

    out_dir.mkdir(parents=True)
    parts = plan.parts[net.name]
    words = plan.words
    files = []
    for index, (start, end) in enumerate(parts, 1):
        stem = plan.episode if len(parts) == 1 else f"{plan.episode}-part{index}"
        video = out_dir / f"{stem}.mp4"
        if len(parts) == 1:
            shutil.copyfile(master, video)
        else:
            cut_part(master, start, end, video)
        write_sidecars(part_words(words, start, end), out_dir / f"{stem}.srt", out_dir / f"{stem}.vtt",
                       language=plan.language, duration=end - start)
        if len(parts) == 1 and video.stat().st_size == master_measured["size_bytes"]:
            measured = {**master_measured, "file": video.name}
        else:
            measured = measure_output(video, profile)
        checks = check_output(measured, net, profile)
        failed = [c for c in checks if not c.ok]
        if failed:
            details = "; ".join(f"{c.name} is {c.value}, expected {c.expected}" for c in failed)
            raise CadreError(f"{plan.episode}/{net.name}/{video.name}", f"fails {net.title} checks ({details}); check presets/master.toml and the episode settings, then render again")
        files.append({**measured, "part": [start, end], "checks": [c.to_dict() for c in checks]})
    shutil.copyfile(cover, out_dir / "cover.jpg")
    if post is not None:   # post.txt and post.json (pipeline/post/pack.py)
        extra_report = {**extra_report, "post": write_post(post, out_dir)}
    report = {
        "cadre_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "episode": plan.episode, "title": plan.title, "network": net.to_dict(),
        "outputs": files,
        "sources": [{"file": c.file, "sha256": c.sha256, "start": c.start, "end": c.end, "reframe": c.reframe}
                    for c in plan.clips],
        "plan_key": plan.key(),
        **extra_report,
    }
    if signing is not None and signing.ready:   # C2PA, after the last byte, before publication
        report["provenance"] = sign_outputs(out_dir, files, signing, plan.title, report)
    # written as it is encoded: a crowd's report lists every keyframe of every face, and the whole
    # text made in memory first (json.dumps) held about 130 MB more for a 10-minute episode
    with open(out_dir / "report.json", "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    return report
