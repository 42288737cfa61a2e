"""A built-in demo episode, generated from ffmpeg test sources and a real face photo
(``skimage.data.astronaut()``, public domain, NASA), with a caption file a person wrote.

Clip 1 is 16:9 with sound and a face drifting across; clip 2 is vertical, 25 fps and silent, so
the demo exercises reframing, frame-rate conversion, added silence and face masking at once.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import run

CAPTIONS_FR = """1
00:00:00,400 --> 00:00:02,600
Bonjour à tous ! Ce soir, on patrouille

2
00:00:02,800 --> 00:00:05,600
avec la brigade de nuit : suivez-nous.
"""


def _face_png(folder: Path) -> Path:
    try:
        from skimage import data
    except ImportError:
        raise CadreError("scikit-image", "the demo needs a face photo from scikit-image; "
                                         "run `pip install scikit-image` (or `make demo`)") from None
    from PIL import Image

    path = folder / "face.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def make_demo_episode(folder: str | Path) -> Path:
    """Write the demo episode into ``folder`` (created) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        face = _face_png(Path(tmp))
        # 1: landscape 1920x1080, 6 s, 30 fps, stereo tones; the face drifts left to right
        run(["-f", "lavfi", "-i", "gradients=s=1920x1080:d=6:speed=0.02:r=30",
             "-loop", "1", "-i", str(face),
             "-f", "lavfi", "-i", "sine=f=220:d=6:sample_rate=48000",
             "-f", "lavfi", "-i", "sine=f=330:d=6:sample_rate=48000",
             "-filter_complex",
             "[1:v]scale=420:420[f];[0:v][f]overlay=x='300+t*120':y=300:shortest=1[v];"
             "[2:a][3:a]amix=inputs=2,volume='0.5+0.4*sin(2*PI*t*0.7)':eval=frame,aformat=channel_layouts=stereo[a]",
             "-map", "[v]", "-map", "[a]", "-t", "6", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-metadata", "location=+48.8566+002.3522/", "-metadata", "make=DemoPhone",
             str(folder / "1.mp4")], source=folder, what="demo clip 1")
        # 2: vertical 1080x1920, 4 s, 25 fps, no audio; a smaller face low in the frame
        run(["-f", "lavfi", "-i", "testsrc2=s=1080x1920:r=25:d=4", "-loop", "1", "-i", str(face),
             "-filter_complex", "[1:v]scale=260:260[f];[0:v][f]overlay=x=600:y='1200-t*40':shortest=1[v]",
             "-map", "[v]", "-t", "4", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
             str(folder / "2.mp4")], source=folder, what="demo clip 2")
    (folder / "1.fr.srt").write_text(CAPTIONS_FR, "utf-8")
    (folder / "episode.toml").write_text('title = "Patrouille de nuit (démo)"\nlanguage = "fr"\n', "utf-8")
    return folder
