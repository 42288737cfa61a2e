"""One frame exactly as it will be published (reframed, masked, branded, captioned), as a PNG,
optionally with each network's interface margins drawn over it for a layout check.
"""
from __future__ import annotations

import io
import subprocess
import tempfile
from bisect import bisect_right
from pathlib import Path

import ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .api import RenderOptions, analyse_episode, build_overlays, build_plan, prepare
from .errors import CadreError
from .ffmpeg import BASE_ARGS, compile_graph, ffmpeg_exe, last_error_line
from .mask_timeline import MaskTimeline
from .networks import Network, combined_safe_zone
from .normalize import FPS, ClipSpan, video_input
from .reframe import OUT_H, OUT_W
from .resources import font_dir

MARGIN_COLOURS = [(255, 0, 0), (255, 160, 0), (0, 160, 255), (0, 200, 80), (200, 0, 255)]


def _pipe(args: list[str], stdin: bytes | None, source) -> bytes:
    proc = subprocess.run([ffmpeg_exe(), *BASE_ARGS, *args], input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise CadreError(source, f"preview failed: {last_error_line(proc.stderr.decode('utf-8', 'replace'))}")
    return proc.stdout


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


def preview_frame(folder: str | Path, at: float, out_png: Path, options: RenderOptions | None = None,
                  margins: bool = False) -> Path:
    """Write the published frame at ``at`` seconds of the episode to ``out_png``."""
    options = options or RenderOptions()
    episode, networks, _, redaction, _ = prepare(Path(folder), options)
    analyses = analyse_episode(episode, redaction)
    safe = combined_safe_zone(networks)
    plan = build_plan(episode, analyses, networks, safe, parts=False)
    if not 0 <= at < plan.duration:
        raise CadreError(folder, f"--at {at} is outside the episode (0 to {plan.duration:.2f} s)")
    n = min(int(round(at * FPS)), plan.frames - 1)
    starts = np.cumsum([0] + [a.span.frame_count for a in analyses[:-1]]).tolist()
    i = bisect_right(starts, n) - 1
    a, j = analyses[i], n - starts[i]
    one = ClipSpan(a.span.path, a.span.info, a.span.start + j / FPS, a.span.start + (j + 1.5) / FPS)
    raw = _pipe(compile_graph(a.reframer.graph(video_input(one)).output(
        "pipe:", format="rawvideo", pix_fmt="rgb24", vframes=1)), None, a.span.path)
    if len(raw) < OUT_W * OUT_H * 3:
        raise CadreError(a.span.path, f"no frame could be decoded at {at} s")
    frame = np.frombuffer(raw[:OUT_W * OUT_H * 3], np.uint8).reshape(OUT_H, OUT_W, 3).copy()
    if redaction is not None:
        from .redaction import load_overrides

        overrides = load_overrides(episode.folder / "masks.toml", [s.path.name for s in episode.spans])
        MaskTimeline(analyses, redaction, overrides)(n, frame)
    with tempfile.TemporaryDirectory() as tmp:
        overlays, _ = build_overlays(episode.settings, plan, safe, Path(tmp))
        stream = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{OUT_W}x{OUT_H}", framerate=FPS)
        video = stream.video.filter("setpts", f"PTS+{n / FPS}/TB")
        for overlay in overlays:
            video = overlay(video)
        png = _pipe(compile_graph(video.output("pipe:", format="image2pipe", vcodec="png", vframes=1)),
                    frame.tobytes(), folder)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    tmp_png = out_png.with_name(f".{out_png.name}.part")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if margins:
        image = draw_margins(image, networks)
    image.save(tmp_png, format="PNG")
    tmp_png.replace(out_png)
    return out_png
