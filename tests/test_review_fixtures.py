"""Episodes for the review, approval and bleep tests (helpers only; no tests here).

A clip is a real face (scikit-image's astronaut) on grey with a 440 Hz tone, so the real face
detector finds one track; its captions come from a human-written ``1.fr.srt``, so no speech is
needed (Whisper runs once on the tone and is cached).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe

ARTIFACTS = Path(os.environ.get("CADRE_TEST_ARTIFACTS",
                                Path(__file__).resolve().parent.parent / ".cache" / "test-artifacts"))
SRT = """1
00:00:00,100 --> 00:00:00,900
Bonjour monsieur Dupond

2
00:00:01,000 --> 00:00:01,900
Il habite rue des Lilas
"""


def face_clip(path: Path, seconds: float = 2.0, size=(640, 360)) -> Path:
    """A still face on grey with a tone, H.264 + AAC (made once, then copied)."""
    cached = ARTIFACTS.parent / "review-fixtures" / f"face-{size[0]}x{size[1]}-{seconds}.mp4"
    if not cached.is_file():
        from skimage import data

        cached.parent.mkdir(parents=True, exist_ok=True)
        w, h = size
        frame = np.full((h, w, 3), 128, np.uint8)
        face = np.asarray(Image.fromarray(data.astronaut()).resize((h, h), Image.LANCZOS))
        frame[:, (w - h) // 2:(w - h) // 2 + h] = face
        png = cached.with_suffix(".png")
        Image.fromarray(frame).save(png)
        tmp = cached.with_name(".part-" + cached.name)
        subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-loop", "1", "-framerate", "30", "-i", str(png),
                        "-f", "lavfi", "-i", f"sine=f=440:d={seconds}:sample_rate=48000",
                        "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-threads", "1",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-f", "mp4", str(tmp)], check=True)
        tmp.replace(cached)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, path)
    return path


def make_episode(root: Path, name: str = "ep", srt: str = SRT, toml: str = "") -> Path:
    folder = root / name
    face_clip(folder / "1.mp4")
    (folder / "1.fr.srt").write_text(srt, "utf-8")
    (folder / "episode.toml").write_text('title = "Revue"\nnetworks = ["tiktok", "youtube-shorts"]\n' + toml, "utf-8")
    return folder


PLATE = (80, 40)            # the moving plate's size, pixels of a 640x360 clip


def plate_at(n: int) -> tuple[int, int]:
    """Top-left corner of the plate at frame ``n`` of :func:`moving_plate_clip`: it moves right
    5 px a frame, then at frame 30 (1.0 s) jumps to another place (a cut inside the shot)."""
    return (40 + 5 * n, 100) if n < 30 else (300 + 5 * (n - 30), 230)


def plate_box(n: int, size=(640, 360)) -> list[float]:
    """The plate's true box at frame ``n``, fractions of the frame."""
    x, y = plate_at(n)
    return [x / size[0], y / size[1], (x + PLATE[0]) / size[0], (y + PLATE[1]) / size[1]]


def moving_plate_clip(path: Path, frames: int = 60, size=(640, 360)) -> Path:
    """A textured plate on grey moving along :func:`plate_at`, 30 fps, no sound (made once, then copied)."""
    cached = ARTIFACTS.parent / "review-fixtures" / f"plate-{size[0]}x{size[1]}-{frames}.mp4"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(7)
        plate = np.full((PLATE[1], PLATE[0], 3), 235, np.uint8)
        plate[6:-6, 6:-6] = np.where(rng.random((PLATE[1] - 12, PLATE[0] - 12, 1)) < 0.45, 20, 235)
        w, h = size
        tmp = cached.with_name(".part-" + cached.name)
        proc = subprocess.Popen([ffmpeg_exe(), *BASE_ARGS, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                                 "-r", "30", "-i", "pipe:", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10",
                                 "-threads", "1", "-pix_fmt", "yuv420p", "-f", "mp4", str(tmp)], stdin=subprocess.PIPE)
        for n in range(frames):
            frame = np.full((h, w, 3), 128, np.uint8)
            x, y = plate_at(n)
            frame[y:y + PLATE[1], x:x + PLATE[0]] = plate
            proc.stdin.write(frame.tobytes())
        proc.stdin.close()
        assert proc.wait() == 0
        tmp.replace(cached)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, path)
    return path
