"""The masked render streams yuv420p from the decoder to the encoder (render._run_masked,
faces.planes): only the rectangle around a frame's masks goes to RGB and back, and only the pixels
the masks change leave the decoder's values.

Checked on real renders (ffmpeg decode, reframe, x264 encode) read back from the written file:
inside the masks, the mosaic the RGB masking draws on the unmasked render's frame; well outside
them, the unmasked render of the same source; boxes at odd positions, at and over the frame's
edges, and the ``fit`` layout whose background placement has a hole (the sharp foreground) that
its masks must leave alone. Then the I420 step alone on one frame, where "untouched" is bit-exact.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import av
import cv2
import numpy as np
import pytest

from pipeline.core.ffmpeg import run
from pipeline.core.geometry import Whole
from pipeline.core.networks import master_profile
from pipeline.faces.masking import coverage, mask_frame
from pipeline.faces.planes import I420Masker, frame_size, planes, to_rgb, touched
from pipeline.faces.settings import RedactionSettings
from pipeline.master import MaskTimeline
from pipeline.reframe import OUT_H, OUT_W, make_reframer
from pipeline.reframe.base import Placement
from pipeline.render import MasterJob, encode_master
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe

FRAMES = 30
SRC_W, SRC_H = 1920, 1080
CHECKED = (0, 1, 3, 14, 29)         # frames read back: 3 has no mask (every 4th from 3 is bare)
SETTINGS = RedactionSettings()      # the default preset: mosaic, rect
# source pixels (x0, y0, x1, y1); the crop shows source x 656..1264, scaled by 1080/608
FACES = [
    (700.3, 101.1, 790.7, 231.9),           # odd, fractional corners
    Whole((600.0, 400.0, 700.0, 521.0)),    # a drawn region reaching out of the crop on the left
    (1200.0, 1000.0, 1300.0, 1100.0),       # over the right and bottom edges of the output
    (900.0, 300.0, 1000.0, 420.0),          # fit: its background copy crosses into the foreground
]


class Faces:
    """Fixed face boxes (normalised) on every frame but each 4th from frame 3."""

    def __init__(self, faces):
        self.faces = [type(b)((b[0] / SRC_W, b[1] / SRC_H, b[2] / SRC_W, b[3] / SRC_H)) for b in faces]

    def boxes_at(self, n, overrides=None):
        return [] if n % 4 == 3 else self.faces


class Scripted(MaskTimeline):
    """The master's mask timeline (its mapping onto placements, its drawing, holes included) over
    fixed boxes instead of a face analysis."""

    def __init__(self, reframer, faces, settings=SETTINGS):
        self.reframer, self.settings, self.overrides, self.starts = reframer, settings, None, [0]
        self.analyses = [SimpleNamespace(faces=Faces(faces), reframer=reframer)]


def covered(work) -> np.ndarray:
    """(H, W) bool: the output pixels the masks of ``work`` replace (holes excepted)."""
    out = np.zeros((OUT_H, OUT_W), bool)
    for placement, boxes in work:
        x0, y0, x1, y1 = placement.dst
        mine = np.zeros_like(out)
        mine[y0:y1, x0:x1] = coverage((y1 - y0, x1 - x0), boxes, SETTINGS)
        for hx0, hy0, hx1, hy1 in placement.holes:
            mine[hy0:hy1, hx0:hx1] = False
        out |= mine
    return out


def read_back(path: Path) -> tuple[int, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Frame count, and the CHECKED frames as decoded I420 (flat) and as RGB (ffmpeg's conversion)."""
    yuv, rgb, count = {}, {}, 0
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            count += 1
            if i in CHECKED:
                yuv[i] = frame.to_ndarray(format="yuv420p").reshape(-1).copy()
                rgb[i] = frame.to_ndarray(format="rgb24").astype(int)
    return count, yuv, rgb


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A detailed 1920x1080 clip (test pattern with grain: detail everywhere a mask falls) and an
    AAC track for the master."""
    root = tmp_path_factory.mktemp("yuv")
    clip = root / "1.mp4"
    run(["-f", "lavfi", "-i", f"testsrc2=s={SRC_W}x{SRC_H}:r=30:d={FRAMES / 30}", "-vf", "noise=alls=30:allf=t",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p", str(clip)],
        source=clip, what="fixture")
    audio = root / "audio.m4a"
    run(["-f", "lavfi", "-i", f"sine=f=440:d={FRAMES / 30}:sample_rate=48000", "-c:a", "aac", str(audio)],
        source=audio, what="fixture")
    return root, ClipSpan(clip, probe(clip)), audio


def render(source, strategy: str, masked: bool) -> tuple[Path, MaskTimeline]:
    root, span, audio = source
    reframer = make_reframer(strategy, (SRC_W, SRC_H))
    mask = Scripted(reframer, FACES)
    out = root / f"{strategy}-{'masked' if masked else 'bare'}.mp4"
    # lossless (x264 needs the High 4:4:4 profile for it): what differs is what the render changed
    profile = {**master_profile(), "crf": 0, "profile": "high444"}
    encode_master(MasterJob([span], [reframer], audio, out, profile, 1_000_000, mask if masked else None))
    return out, mask


@pytest.fixture(scope="module", params=["crop", "fit"])
def pair(request, source):
    bare, _ = render(source, request.param, masked=False)
    masked, mask = render(source, request.param, masked=True)
    return read_back(bare), read_back(masked), mask


def test_every_frame_is_written(pair):
    (bare_count, _, _), (count, _, _), _ = pair
    assert bare_count == count == FRAMES


@pytest.mark.parametrize("n", [n for n in CHECKED if n % 4 != 3])
def test_masks_are_the_rgb_mosaic(pair, n):
    """Inside the masks: the mosaic that the RGB masking draws on the unmasked frame, no detail,
    within the 4:2:0 conversions (the old RGB path differed from it by about 1.8 on average)."""
    (_, _, bare_rgb), (_, _, rgb), mask = pair
    work = mask.boxes(n)
    inside = cv2.erode(covered(work).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    want = bare_rgb[n].astype(np.uint8).copy()
    mask.draw(want, work)
    want = want.astype(int)
    diff = np.abs(rgb[n] - want)
    assert diff[inside].mean() < 2.5, f"frame {n}: the masked render differs from the RGB mosaic by {diff[inside].mean():.2f}"
    assert np.percentile(diff[inside], 99) <= 8
    # where the mosaic visibly changed the picture (the source's detail): the mosaic, not the detail
    hidden = inside & (np.abs(bare_rgb[n] - want).max(axis=2) >= 12)
    assert hidden.sum() > 5000, "fixture: the source must have detail where the masks fall"
    assert diff[hidden].mean() < 3.0, f"frame {n}: the detail shows through ({diff[hidden].mean():.2f})"


@pytest.mark.parametrize("n", CHECKED)
def test_outside_the_masks_is_the_unmasked_render(pair, n):
    """Where no mask draws, the picture is the unmasked render's, bit for bit (the encode is
    lossless here): luma at every pixel a mask does not cover, chroma of every 2x2 cell it does
    not reach. The old RGB path changed every pixel by a conversion to RGB and back."""
    (_, bare_yuv, _), (_, yuv, _), mask = pair
    free = ~covered(mask.boxes(n))
    free_cells = free.reshape(OUT_H // 2, 2, OUT_W // 2, 2).all(axis=(1, 3))
    assert free_cells.mean() > 0.6
    for plane, want, got, keep in zip("YUV", planes(bare_yuv[n], OUT_W, OUT_H), planes(yuv[n], OUT_W, OUT_H),
                                      (free, free_cells, free_cells)):
        changed = (got != want)[keep]
        assert not changed.any(), f"frame {n} plane {plane}: {changed.sum()} pixels changed away from the masks"


def test_fit_foreground_is_not_masked_by_the_background(source, pair):
    """``fit``: the background's copy of a face reaches into the foreground (its hole); there only
    the foreground's own box is masked."""
    (_, _, bare_rgb), (_, _, rgb), mask = pair
    if mask.reframer.name != "fit":
        pytest.skip("the fit layout only")
    work = mask.boxes(0)
    (background, bg_boxes), (foreground, _) = work
    assert background.holes == (foreground.dst,)
    _, hy0, _, hy1 = foreground.dst
    reached = [b for b in bg_boxes if b[1] < hy0 < b[3]]
    assert reached, "fixture: a background box must cross into the foreground"
    x0, _, x1, y1 = (int(v) for v in reached[0])
    strip = np.zeros((OUT_H, OUT_W), bool)
    strip[hy0 + 4:min(y1, hy1) - 4, max(x0, 0) + 4:min(x1, OUT_W) - 4] = True
    strip &= ~cv2.dilate(covered(work).astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool)
    assert strip.sum() > 1000
    assert np.abs(rgb[0] - bare_rgb[0])[strip].mean() < 1.0


# ---- the I420 step alone, on one frame: untouched pixels are bit-exact ----

def _frame(seed=3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frame = rng.integers(16, 236, frame_size(OUT_W, OUT_H), dtype=np.uint8)
    return frame


@pytest.mark.parametrize("boxes", [
    [(101.5, 203.3, 300.7, 455.1)],                       # odd corners
    [Whole((-40.0, 1801.0, 181.0, 2000.0))],              # partly outside, bottom left
    [(1001.0, -7.5, 1085.0, 121.0), (1040.0, 100.0, 1100.0, 150.0)],   # top right, overlapping
    [(101.0, 101.0, 301.0, 151.0), (101.0, 101.0, 151.0, 301.0)],     # an L: one mosaic over the box around both
])
@pytest.mark.parametrize("shape", ["rect", "ellipse"])
def test_i420_step_changes_only_the_masked_pixels(boxes, shape):
    settings = RedactionSettings(shape=shape, pad=2.0)
    placement = Placement((0.0, 0.0, 1.0, 1.0), (0, 0, OUT_W, OUT_H))
    work = [(placement, boxes)]
    frame = _frame()
    original = frame.copy()
    rgb = to_rgb(*planes(original, OUT_W, OUT_H))
    want = rgb.copy()
    mask_frame(want, boxes, settings)
    changed = (want != rgb).any(axis=2)
    cells = changed.reshape(OUT_H // 2, 2, OUT_W // 2, 2).any(axis=(1, 3))

    assert I420Masker(OUT_W, OUT_H, lambda f, w: mask_frame(f, w[0][1], settings))(frame, work)
    y, u, v = planes(frame, OUT_W, OUT_H)
    y0, u0, v0 = planes(original, OUT_W, OUT_H)
    assert changed.sum() > 5000
    assert np.array_equal(y[~changed], y0[~changed])            # bit-exact where no mask drew
    assert np.array_equal(u[~cells], u0[~cells]) and np.array_equal(v[~cells], v0[~cells])
    got = to_rgb(y, u, v).astype(int)
    # where a mask drew: its colours (within the 4:2:0 conversion), the random detail gone
    inner = cv2.erode(changed.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert np.abs(got - want)[inner].mean() < 2.5
    assert np.abs(got - rgb)[inner].mean() > 20


def test_i420_rectangles_hold_every_box():
    placement = Placement((0.0, 0.0, 1.0, 1.0), (0, 100, 1080, 900))
    assert touched([(placement, [(3.4, 5.5, 10.2, 11.9)])], OUT_W, OUT_H) == [(0, 102, 14, 114)]
    assert touched([(placement, [(-50.0, 700.0, 10.0, 900.0)])], OUT_W, OUT_H) == [(0, 798, 12, 902)]
    assert touched([(placement, [(2000.0, 5.0, 2100.0, 9.0)])], OUT_W, OUT_H) == []
    assert touched([(placement, [(float("nan"), 5.0, 10.0, 9.0)])], OUT_W, OUT_H) == [(0, 0, OUT_W, OUT_H)]
    # apart: one rectangle each; overlapping (even through a third): one rectangle around them
    apart = [(10.0, 10.0, 20.0, 20.0), (500.0, 500.0, 520.0, 530.0)]
    assert touched([(placement, apart)], OUT_W, OUT_H) == [(8, 108, 22, 122), (498, 598, 522, 632)]
    chain = [(10.0, 10.0, 20.0, 20.0), (100.0, 100.0, 120.0, 130.0), (15.0, 15.0, 105.0, 105.0)]
    assert touched([(placement, chain)], OUT_W, OUT_H) == [(8, 108, 122, 232)]


def test_cv2_conversion_matches_ffmpeg(tmp_path):
    """The stripe's I420 -> RGB is ffmpeg's (untagged yuv420p: BT.601, limited range) within 3."""
    frame = _frame(5)
    path = tmp_path / "f.yuv"
    path.write_bytes(frame.tobytes())
    from pipeline.core.ffmpeg import ffmpeg_exe
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{OUT_W}x{OUT_H}",
                          "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"],
                         capture_output=True, check=True).stdout
    ffmpeg_rgb = np.frombuffer(raw, np.uint8).reshape(OUT_H, OUT_W, 3).astype(int)
    diff = np.abs(to_rgb(*planes(frame, OUT_W, OUT_H)) - ffmpeg_rgb)
    assert diff.max() <= 3 and diff.mean() < 1.0
