"""Issue #28, item 4: anamorphic footage (720x576 stored, sample aspect ratio 64:45: 16:9 PAL, DV,
broadcast and older police cameras) is shown at its display shape everywhere: probe, the
published picture, and the face masks, which must land on the un-squeezed faces."""
from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from pipeline.cli import main
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.source.probe import probe

pytestmark = pytest.mark.slow


def _anamorphic(picture: np.ndarray, path, seconds: float = 3.5) -> None:
    """``picture`` (the 1024x576 display picture) stored squeezed to 720x576 with SAR 64:45."""
    png = path.parent.parent / f"{path.stem}-display.png"
    Image.fromarray(picture).resize((720, 576), Image.LANCZOS).save(png)
    subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-loop", "1", "-i", str(png), "-f", "lavfi", "-i",
                    f"sine=f=300:d={seconds}", "-t", str(seconds), "-vf", "setsar=64/45", "-r", "25",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    str(path)], check=True)


def _frame(path, t: float) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-ss", str(t), "-i", str(path), "-frames:v", "1", "-f",
                          "rawvideo", "-pix_fmt", "rgb24", "pipe:"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(1920, 1080, 3)


def test_probe_reports_the_display_shape(tmp_path):
    path = tmp_path / "pal.mp4"
    _anamorphic(np.zeros((576, 1024, 3), np.uint8), path, 1.0)
    info = probe(path)
    assert (info.width, info.height, info.sar) == (1024, 576, (64, 45))


def test_a_circle_stays_round_and_a_face_is_masked_where_it_is(tmp_path, shared_media, monkeypatch):
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    picture = Image.new("RGB", (1024, 576), (20, 20, 20))
    ImageDraw.Draw(picture).ellipse((80, 150, 380, 450), fill=(255, 255, 255))       # a circle 300 px wide
    face = Image.open(shared_media / "images" / "skimage_astronaut.png").convert("RGB").resize((400, 400))
    picture.paste(face, (560, 120))
    episode = tmp_path / "camp" / "ep"
    episode.mkdir(parents=True)
    _anamorphic(np.asarray(picture), episode / "1.mp4")
    (episode / "episode.toml").write_text('reframe = "fit"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(episode), "-n", "youtube-shorts", "-o", str(out),
                                       "--captions", "none", "--x264-preset", "superfast"])
    assert result.exit_code == 0, result.output
    frame = _frame(out / "ep" / "youtube-shorts" / "ep.mp4", 1.5)
    scale = 1080 / 1024
    top = (1920 - round(576 * scale)) // 2
    fg = frame[top:top + round(576 * scale)]
    left = fg[:, : round(480 * scale)]
    ys, xs = np.nonzero(cv2.cvtColor(left, cv2.COLOR_RGB2GRAY) > 128)
    width, height = xs.max() - xs.min(), ys.max() - ys.min()
    assert abs(width / height - 1.0) < 0.04, (width, height)       # squeezed, it would be 0.70
    # the astronaut's face (detected at x 143-212, y 48-139 of the 400 px photo, pasted at 560, 120)
    fx0, fy0, fx1, fy1 = (round(v * scale) for v in (703, 168, 772, 259))
    published = cv2.cvtColor(fg[fy0:fy1, fx0:fx1], cv2.COLOR_RGB2GRAY)
    source = cv2.cvtColor(np.asarray(picture.resize((1080, round(576 * scale))))[fy0:fy1, fx0:fx1], cv2.COLOR_RGB2GRAY)
    assert _flat(published) > 0.7 and _flat(published) > _flat(source) + 0.3


def _flat(grey: np.ndarray) -> float:
    """Share of pixels equal (within 2 levels) to their right neighbour: near 1 in a mosaic's cells."""
    return float((np.abs(np.diff(grey.astype(int), axis=1)) <= 2).mean())
