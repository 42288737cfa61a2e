"""The 540x960 proxy shows what will be published (captions, masks from masks.toml, bleeps), and
the offline export is one self-contained, script-free HTML file."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

pytest.importorskip("tomlkit", reason="cadre review needs tomlkit (pip install 'cadre[review]')")

from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe  # noqa: E402
from pipeline.source.probe import probe  # noqa: E402
from tests.test_review_fixtures import make_episode  # noqa: E402


def frame_at(path, t: float, size=(540, 960)) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    from pipeline.review.proxy import render_proxy

    root = tmp_path_factory.mktemp("proxy")
    folder = make_episode(root, toml='redaction = "solid"\ncaption_style = "social"\nbleep = ["Lilas"]\n'
                                     'bleep_sound = "mute"\n')
    (folder / "masks.toml").write_text('[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nstart = 0.0\nend = 0.5\n', "utf-8")
    out = render_proxy(folder, root / "proxy.mp4")
    return folder, out


def test_proxy_is_540x960_with_sound_and_the_whole_episode(proxied):
    _, out = proxied
    info = probe(out)
    assert (info.width, info.height) == (540, 960)
    assert info.has_audio and info.duration == pytest.approx(2.0, abs=0.1)


def test_proxy_masks_as_published(proxied):
    _, out = proxied
    blacked = frame_at(out, 0.25)               # whole-frame mask from masks.toml
    upper = blacked[:600].astype(int)           # above the captions
    assert upper.mean() < 8
    later = frame_at(out, 1.5).astype(int)      # the face (centre of the fitted picture) is solid black
    face = later[365:440, 225:285]
    assert face.mean() < 12 and later[660:].mean() > 20


def test_proxy_burns_captions_with_the_bleep_placeholder(proxied):
    from pipeline.orchestrator import RenderOptions
    from pipeline.review.session import ReviewSession

    folder, out = proxied
    caption = frame_at(out, 1.5).astype(int)
    white = (caption.min(axis=2) > 220)
    assert white[480:].sum() > 300             # caption pixels in the lower part
    plan = ReviewSession(folder, RenderOptions()).plan()
    assert any("***" in w.word for w in plan.words) and not any("Lilas" in w.word for w in plan.words)


def test_export_is_one_readonly_file_with_everything_embedded(proxied, tmp_path):
    from pipeline.review.export import export_html
    from pipeline.review.session import ReviewSession

    folder, _ = proxied
    (folder / "1.fr.srt").write_text("1\n00:00:00,100 --> 00:00:00,900\nTom & Jerry \"x\" 1 < 2 <img src=x onerror=alert(1)>\n\n"
                                     "2\n00:00:01,000 --> 00:00:01,900\nIl habite rue des Lilas\n", "utf-8")
    out = export_html(ReviewSession(folder), tmp_path / "review.html")
    page = out.read_text("utf-8")
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert not re.findall(r'src="(?!data:image/jpeg;base64,)', page)       # every picture is embedded
    assert len(re.findall(r'src="data:image/jpeg;base64,', page)) >= 2      # a published frame and a face
    assert "Tom &amp; Jerry &quot;x&quot; 1 &lt; 2" in page                # caption text is escaped
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page   # typed markup is text
    assert "Lilas" not in page and "***" in page                            # bleeped, and no term named
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
