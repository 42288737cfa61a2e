"""One frame exactly as it will be published (reframed, masked, branded, captioned), as a PNG,
optionally with each network's interface margins drawn over it for a layout check; or the source
frame with the reframe window drawn over it (``crop_window_frame``).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.analyse import ClipAnalysis
from pipeline.core.errors import CadreError
from pipeline.core.networks import Network
from pipeline.core.resources import font_dir
from pipeline.master import MasterSetup, Prepared, plan_master
from pipeline.orchestrator import RenderOptions, prepare
from pipeline.published import decode_frame, published_frames
from pipeline.reframe import OUT_H, OUT_W, FollowReframer
from pipeline.source.normalize import FPS, working_size

MARGIN_COLOURS = [(255, 0, 0), (255, 160, 0), (0, 160, 255), (0, 200, 80), (200, 0, 255)]


def draw_margins(image: Image.Image, networks: list[Network]) -> Image.Image:
    """Outline each network's interface areas (what the app covers) in its own colour."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.truetype(str(font_dir() / "Roboto-Bold.ttf"), 30)
    for colour, net in zip(MARGIN_COLOURS * 2, networks):
        z = net.safe_zone
        draw.rectangle([z.left, z.top, OUT_W - 1 - z.right, OUT_H - 1 - z.bottom], outline=(*colour, 255), width=4)
        for rect in ([0, 0, OUT_W, z.top], [0, OUT_H - z.bottom, OUT_W, OUT_H], [0, 0, z.left, OUT_H],
                     [OUT_W - z.right, 0, OUT_W, OUT_H]):
            if rect[2] > rect[0] and rect[3] > rect[1]:
                draw.rectangle(rect, fill=(*colour, 28))
        draw.text((z.left + 10, z.top + 10 + 36 * networks.index(net)), net.title, fill=(*colour, 255), font=font)
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


@dataclass
class Located:
    """The frame shown at a time of the episode, and the master it belongs to."""

    prepared: Prepared
    setup: MasterSetup
    analysis: ClipAnalysis       # the clip (or bumper) under that frame
    clip_frame: int              # its frame index within that clip
    frame: int                   # the episode frame


def _locate(folder, at: float, options: RenderOptions | None, workdir: Path) -> Located:
    """The master job the render builds (bumpers, masks, overlays), and what is shown at ``at`` s."""
    # a preview is part of reviewing: it must work before the episode is approved
    options = replace(options or RenderOptions(), require_approval=False)
    prepared = prepare(Path(folder), options)
    setup = plan_master(prepared, workdir, parts=False)
    if not 0 <= at < setup.plan.duration:
        raise CadreError(folder, f"--at {at} is outside the episode (0 to {setup.plan.duration:.2f} s)")
    n = min(int(round(at * FPS)), setup.plan.frames - 1)
    i, j = setup.timeline.locate(n)
    return Located(prepared, setup, setup.analyses[i], j, n)


def preview_frame(folder: str | Path, at: float, out_png: Path, options: RenderOptions | None = None,
                  margins: bool = False) -> Path:
    """Write the published frame at ``at`` seconds of the episode to ``out_png``."""
    with tempfile.TemporaryDirectory(prefix="cadre-preview-") as tmp:
        loc = _locate(folder, at, options, Path(tmp))
        # the render's own steps for this one frame: reframe, masks, overlays (pipeline.published)
        image = Image.fromarray(published_frames(loc.setup, [loc.frame])[0].image)
    if margins:
        image = draw_margins(image, loc.prepared.networks)
    return _save(image, out_png)


def _save(image: Image.Image, out_png: Path) -> Path:
    out_png.parent.mkdir(parents=True, exist_ok=True)
    tmp_png = out_png.with_name(f".{out_png.name}.part")
    image.save(tmp_png, format="PNG")
    tmp_png.replace(out_png)
    return out_png


def draw_window(image: Image.Image, reframer, j: int, label: str) -> Image.Image:
    """Darken what the output leaves out and outline the windows the reframe shows at frame ``j``."""
    w, h = image.size
    # the sharp pictures: the crop window, the two stacked panels, or fit's whole frame (not its
    # blurred background, which has the foreground as a hole)
    boxes = [[round(p.src[0] * w), round(p.src[1] * h), round(p.src[2] * w) - 1, round(p.src[3] * h) - 1]
             for p in reframer.placements(j) if not p.holes]
    layer = Image.new("RGBA", image.size, (0, 0, 0, 110))
    for box in boxes:
        ImageDraw.Draw(layer).rectangle(box, fill=(0, 0, 0, 0))
    out = Image.alpha_composite(image.convert("RGBA"), layer)
    draw = ImageDraw.Draw(out)
    stroke = max(2, w // 320)
    for box in boxes:
        draw.rectangle(box, outline=(255, 210, 0, 255), width=stroke)
    box = boxes[0]
    font = ImageFont.truetype(str(font_dir() / "Roboto-Bold.ttf"), max(14, h // 30))
    draw.text((box[0] + 2 * stroke, box[1] + 2 * stroke), label, fill=(255, 210, 0, 255), font=font,
              stroke_width=2, stroke_fill=(0, 0, 0, 255))
    return out.convert("RGB")


def crop_window_frame(folder: str | Path, at: float, out_png: Path, options: RenderOptions | None = None) -> Path:
    """Write the source frame at ``at`` seconds (normalised, working size) with the reframe window
    over it: what the published frame keeps, the shot and mode (still, pan, fit) it belongs to, and
    the containment repair (speed, cut, stack, main, fit) that frames it, if any."""
    with tempfile.TemporaryDirectory(prefix="cadre-preview-") as tmp:
        loc = _locate(folder, at, options, Path(tmp))
    a, j = loc.analysis, loc.clip_frame
    size = working_size(a.span.info)
    frame = decode_frame(a, j, size, reframe=False)
    r = a.reframer
    label = f"{a.span.path.name} frame {j}: {r.name}"
    if isinstance(r, FollowReframer) and r.segment(j) is not None:
        seg = r.segment(j)
        label += f", shot {seg.shot}, {seg.mode} ({seg.source})"
        if seg.main:                                     # who the window keeps whole, and why (issue 14)
            label += f", main face {seg.main} ({seg.main_by})"
        # containment repairs (issue 14): which one frames this frame, and where the shot cuts
        here = [k for k in seg.repair_at(j) if k != "cut"] + (["cut here"] if j in seg.cuts else [])
        if here:
            label += ", repair: " + " + ".join(here)
        elif seg.cuts:
            label += ", cut at frame " + ", ".join(map(str, seg.cuts))
    return _save(draw_window(Image.fromarray(frame), r, j, label), out_png)
