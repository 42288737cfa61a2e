"""An ellipse preset (``blur``) shapes faces only: a drawn region, a tracked object and a whole-frame
span are hidden to their corners (a plate's characters sit in its corners), in the pixels
``mask_frame`` changes and in the published video."""
from __future__ import annotations

import av
import numpy as np

from pipeline.core.geometry import Whole
from pipeline.faces.masking import coverage, mask_frame, to_pixels
from pipeline.faces.settings import load_settings
from pipeline.orchestrator import RenderOptions, render_episode
from pipeline.reframe.base import Placement
from tests.conftest import make_clip


def test_faces_are_ellipses_regions_are_whole():
    blur = load_settings("blur")
    assert blur.shape == "ellipse"
    face, region = (10, 10, 110, 110), Whole((200, 10, 300, 110))
    cover = coverage((200, 400), [face, region], blur)
    assert not cover[11, 11] and cover[60, 60]                 # the face's corner is outside its ellipse
    assert cover[10:110, 200:300].all()                        # the region to its corners
    frame = np.random.default_rng(1).integers(0, 256, (200, 400, 3), dtype=np.uint8)
    before = frame.copy()
    mask_frame(frame, [face, region], blur)
    assert (frame[10:13, 200:203] != before[10:13, 200:203]).any()
    assert (frame[97:110, 287:300] != before[97:110, 287:300]).any()


def test_a_region_stays_whole_through_reframing_and_scaling():
    box = Whole((0.25, 0.25, 0.5, 0.5))
    mapped = Placement(src=(0.0, 0.0, 1.0, 1.0), dst=(0, 0, 1080, 1920)).map_box(box)
    assert isinstance(mapped, Whole)
    assert isinstance(to_pixels([box], 640, 360)[0], Whole)
    assert not isinstance(to_pixels([(0.1, 0.1, 0.2, 0.2)], 640, 360)[0], Whole)


def _frame(path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            if frame.time >= t:
                return frame.to_ndarray(format="rgb24").astype(int)
    raise AssertionError(f"no frame at {t}s in {path}")


def test_a_whole_frame_span_is_published_blurred_to_its_corners(tmp_path):
    """Rendered with the blur preset, a whole-frame span hides the frame's corners too: compared
    with the same render without the span, every corner of the picture has changed."""
    folder = tmp_path / "ep"
    make_clip(folder / "1.mp4", size="1080x1920", duration=3.5)
    (folder / "episode.toml").write_text('caption_style = "none"\nbranding = "none"\nredaction = "blur"\n'
                                         'networks = ["youtube-shorts"]\n', "utf-8")
    plain = render_episode(folder, RenderOptions(out_dir=tmp_path / "plain"))
    (folder / "masks.toml").write_text('[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nstart = 1.0\nend = 2.5\n',
                                       "utf-8")
    masked = render_episode(folder, RenderOptions(out_dir=tmp_path / "masked"))
    a = _frame(next((tmp_path / "plain").rglob("*.mp4")), 2.0)
    b = _frame(next((tmp_path / "masked").rglob("*.mp4")), 2.0)
    assert plain and masked
    for ys, xs in [(slice(0, 60), slice(0, 60)), (slice(0, 60), slice(-60, None)),
                   (slice(-60, None), slice(0, 60)), (slice(-60, None), slice(-60, None))]:
        assert np.abs(a[ys, xs] - b[ys, xs]).mean() > 8, (ys, xs)
    outside_a, outside_b = _frame(next((tmp_path / "plain").rglob("*.mp4")), 0.5), \
        _frame(next((tmp_path / "masked").rglob("*.mp4")), 0.5)
    assert np.abs(outside_a - outside_b).mean() < 3                        # outside the span: untouched
