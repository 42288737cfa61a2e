"""One master-job builder (pipeline.master.plan_master) serves the render, the review proxy and the
preview: what the reviewer sees is what is published, intro and outro bumpers, logo, captions and
masks included. Checked on decoded pixels: proxy and preview frames against the same frames of the
published file, scaled."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("tomlkit", reason="the review proxy needs tomlkit (pip install 'cadre[review]')")

from pipeline import RenderOptions, preview_frame, render_episode  # noqa: E402
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe  # noqa: E402
from pipeline.review.proxy import PROXY_SIZE, render_proxy  # noqa: E402
from tests.conftest import make_clip  # noqa: E402
from tests.test_review_fixtures import make_episode  # noqa: E402

NETWORK = "youtube-shorts"


def frame_at(path: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
                          "-s", f"{size[0]}x{size[1]}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(int)


@pytest.fixture(scope="module")
def three_ways(tmp_path_factory):
    """An episode with an intro clip, an outro still, a logo, captions and a face: published,
    proxied and previewed."""
    root = tmp_path_factory.mktemp("master")
    intro = make_clip(root / "assets" / "intro.mp4", size="1080x1920", duration=1.0, source="color=c=red")
    outro = root / "assets" / "outro.png"
    Image.new("RGB", (720, 1280), (0, 160, 0)).save(outro)
    logo = root / "presets" / "branding" / "logo.png"
    logo.parent.mkdir(parents=True)
    Image.new("RGBA", (200, 200), (255, 255, 0, 255)).save(logo)
    (logo.parent / "unit.toml").write_text(f'intro = "{intro}"\noutro = "{outro}"\nstill_seconds = 1.0\n\n'
                                           '[logo]\nfile = "logo.png"\n', "utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("CADRE_PRESETS", str(root / "presets"))
    folder = make_episode(root, toml='branding = "unit"\nredaction = "solid"\ncaption_style = "social"\n')
    options = RenderOptions(networks=(NETWORK,))
    result = render_episode(folder, options)
    published = Path(result["out_dir"]) / NETWORK / f"{folder.name}.mp4"
    proxy = render_proxy(folder, root / "proxy.mp4", options)
    yield folder, published, proxy, options, root
    mp.undo()


@pytest.mark.parametrize("t", [0.5, 1.5, 2.5, 3.5])   # intro, episode (face, caption, logo) x2, outro
def test_proxy_frame_is_the_published_frame_scaled(three_ways, t):
    _, published, proxy, _, _ = three_ways
    want = frame_at(published, t, PROXY_SIZE)
    got = frame_at(proxy, t, PROXY_SIZE)
    diff = np.abs(want - got)
    assert diff.mean() < 6, f"at {t} s the proxy differs from the published frame by {diff.mean():.1f} on average"
    assert np.percentile(diff, 99) < 60


def test_proxy_has_the_bumpers(three_ways):
    _, published, proxy, _, _ = three_ways
    assert np.abs(frame_at(proxy, 0.5, PROXY_SIZE) - np.array([255, 0, 0])).max() < 50     # intro
    assert np.abs(frame_at(proxy, 3.5, PROXY_SIZE) - np.array([0, 160, 0])).max() < 50     # outro
    import av
    with av.open(str(published)) as a, av.open(str(proxy)) as b:
        assert a.streams.video[0].frames == b.streams.video[0].frames == 30 * (1 + 2 + 1)


@pytest.mark.parametrize("t", [0.5, 1.5])
def test_preview_frame_is_the_published_frame(three_ways, t):
    folder, published, _, options, root = three_ways
    png = preview_frame(folder, t, root / f"preview-{t}.png", options)
    got = np.asarray(Image.open(png).convert("RGB")).astype(int)
    want = frame_at(published, t, (1080, 1920))
    diff = np.abs(want - got)
    assert diff.mean() < 6, f"at {t} s the preview differs from the published frame by {diff.mean():.1f} on average"
