"""Masks on real pixels: every box pixel replaced, nothing recognisable left, any box size."""
from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from pipeline.core.errors import RedactionError
from pipeline.faces.detectors import get_detector
from pipeline.faces.masking import coverage, mask_frame, paste
from pipeline.faces.settings import load_settings

FACE = (165, 30, 290, 200)     # the astronaut's face with margin, pixels


def expected_cover(shape, box, oval: bool, grow: float = 0.0) -> np.ndarray:
    """The pixels a mask of ``box`` must replace, worked out here from the box alone (not with the
    masking module's helpers): the box's pixels (corners rounded outwards), or those whose centre
    is inside the ellipse inscribed in the box; ``grow`` px added all round (for "nothing outside":
    the drawn ellipse is half a pixel wider than the exact one, never short, then rasterised)."""
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    if not oval:
        return ((xx > np.floor(x0) - grow) & (xx < np.ceil(x1) + grow)
                & (yy > np.floor(y0) - grow) & (yy < np.ceil(y1) + grow))
    cx, cy, ax, ay = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 + grow, (y1 - y0) / 2 + grow
    return ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 <= 1


@pytest.fixture(scope="module")
def detector():
    return get_detector("centerface", threshold=0.3)


@pytest.mark.parametrize("preset", ["mosaic", "solid", "blur"])
@pytest.mark.parametrize("shape", ["rect", "ellipse"])
def test_face_is_no_longer_a_face(detector, preset, shape):
    settings = load_settings(preset, shape=shape, pad=1.9)
    frame = data.astronaut().copy()
    original = frame.copy()
    mask_frame(frame, [FACE], settings)
    oval = shape == "ellipse"
    changed = (frame != original).any(axis=2)
    assert not (changed & ~expected_cover(frame.shape, FACE, oval, grow=2.0 if oval else 0.0)).any()   # nothing outside the mask
    assert changed[expected_cover(frame.shape, FACE, oval)].mean() > 0.97              # the mask pixels are replaced
    # the detector no longer finds a face where the face was (a masked ellipse edge may fool it elsewhere)
    centres = [((d.x0 + d.x1) / 2, (d.y0 + d.y1) / 2) for d in detector.detect(frame)]
    assert not any(180 <= x <= 272 and 55 <= y <= 180 for x, y in centres)


def test_mosaic_keeps_only_a_few_cells():
    settings = load_settings("mosaic")
    frame = data.astronaut().copy()
    mask_frame(frame, [FACE], settings)
    roi = frame[FACE[1]:FACE[3], FACE[0]:FACE[2]].reshape(-1, 3)
    assert len(np.unique(roi, axis=0)) <= (settings.mosaic_blocks + 1) ** 2


def test_mosaic_cells_are_the_mean_colour_of_their_pixels():
    """A box 7 cells of 20 px across: each cell holds the rounded mean of the original pixels under
    it (computed here with numpy), and the pixels around the box are untouched."""
    settings = load_settings("mosaic")
    assert settings.mosaic_blocks == 7
    frame = data.astronaut().copy()
    original = frame.copy()
    box = (160, 40, 160 + 140, 40 + 140)
    mask_frame(frame, [box], settings)
    cells = original[40:180, 160:300].astype(float).reshape(7, 20, 7, 20, 3).mean(axis=(1, 3))
    want = np.repeat(np.repeat(cells, 20, axis=0), 20, axis=1)
    assert np.abs(frame[40:180, 160:300].astype(float) - want).max() <= 0.5 + 1e-9
    around = np.ones(frame.shape[:2], bool)
    around[40:180, 160:300] = False
    assert (frame[around] == original[around]).all()


def test_blur_holds_no_fine_detail():
    settings = load_settings("blur", shape="rect")
    frame = data.astronaut().copy()
    mask_frame(frame, [FACE], settings)
    roi = frame[FACE[1]:FACE[3], FACE[0]:FACE[2]].astype(float)
    orig = data.astronaut()[FACE[1]:FACE[3], FACE[0]:FACE[2]].astype(float)
    # high-frequency energy (neighbour differences) is almost gone
    assert np.abs(np.diff(roi, axis=1)).mean() < 0.15 * np.abs(np.diff(orig, axis=1)).mean()


def test_ellipse_needs_a_wider_box():
    from pipeline.core.errors import CadreError

    with pytest.raises(CadreError, match="too small for shape"):
        load_settings("mosaic", shape="ellipse")
    assert load_settings("mosaic", shape="ellipse", pad=1.9).shape == "ellipse"


def test_blur_strength_has_a_floor():
    from pipeline.core.errors import CadreError

    with pytest.raises(CadreError, match="blur_strength"):
        load_settings("blur", blur_strength=0.05)


@pytest.mark.parametrize("box", [(-40.5, -30, 60, 80), (1000, 1850, 1150, 2050), (-10, -10, 1200, 2000),
                                 (500.2, 600.7, 503.1, 602.2)])
def test_boxes_at_the_edges_and_tiny(box):
    settings = load_settings("mosaic")
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (1920, 1080, 3), dtype=np.uint8)
    original = frame.copy()
    mask_frame(frame, [box], settings)
    x0, y0 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x1, y1 = min(1080, int(np.ceil(box[2]))), min(1920, int(np.ceil(box[3])))
    changed = (frame != original).any(axis=2)
    inside = np.zeros(changed.shape, bool)
    inside[y0:y1, x0:x1] = True
    assert inside.any() and not (changed & ~inside).any()   # the box's pixels (corners rounded out), no more
    assert changed[inside].mean() > 0.9                    # random pixels are replaced by cell means


def test_ellipse_covers_the_inscribed_ellipse():
    settings = load_settings("mosaic", shape="ellipse", pad=1.9)
    cover = coverage((400, 400), [(100, 100, 300, 200)], settings)
    yy, xx = np.mgrid[0:400, 0:400] + 0.5
    inside = ((xx - 200) / 100) ** 2 + ((yy - 150) / 50) ** 2 <= 1
    assert cover[inside].all()
    assert not cover[0:95].any()
    # and mask_frame paints exactly that: the inscribed ellipse, not its box's corners
    frame = np.full((400, 400, 3), 128, np.uint8)
    solid = load_settings("solid", shape="ellipse", pad=1.9)
    mask_frame(frame, [(100, 100, 300, 200)], solid)
    painted = (frame != 128).any(axis=2)
    assert (frame[painted] == solid.color).all()
    assert painted[inside].all()
    assert not (painted & ~expected_cover((400, 400), (100, 100, 300, 200), True, grow=2.0)).any()
    assert not painted[100:110, 100:110].any()             # a corner of the box stays as it was


def test_box_outside_the_frame_is_ignored_and_nan_fails_closed():
    settings = load_settings("mosaic")
    frame = np.zeros((100, 100, 3), np.uint8)
    mask_frame(frame, [(200, 200, 300, 300), (-50, -50, -10, -10)], settings)
    with pytest.raises(RedactionError):
        mask_frame(frame, [(float("nan"), 0, 10, 10)], settings)


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("where_kind", ["random", "none", "all", "strided"])
def test_paste_writes_exactly_the_chosen_pixels_of_a_frame_view(channels, where_kind, flipped):
    """The masked copy that draws every mask (OpenCV's): on a view into a frame (the layout the
    render hands it), every chosen pixel takes the new value, every other pixel of the frame keeps
    its own, for luma planes and RGB, whatever the mask's layout; also in a view OpenCV cannot write
    into where it lies (rows in reverse order)."""
    rng = np.random.default_rng(7)
    shape = (200, 300) if channels is None else (200, 300, channels)
    frame = rng.integers(0, 256, shape, dtype=np.uint8)
    before = frame.copy()
    view = frame[13:170, 21:251]
    new = rng.integers(0, 256, view.shape, dtype=np.uint8)[:, ::-1]   # a non-contiguous source too
    h, w = view.shape[:2]
    where = {"random": rng.random((h, w)) > 0.5, "none": np.zeros((h, w), bool), "all": np.ones((h, w), bool),
             "strided": (rng.random((2 * h, w)) > 0.3)[::2]}[where_kind]
    paste(view[::-1] if flipped else view, new[::-1] if flipped else new, where[::-1] if flipped else where)
    inside = np.zeros(shape[:2], bool)
    inside[13:170, 21:251] = where
    pick = inside if channels is None else inside[..., None]
    expected = np.where(pick, 0, before)
    expected[13:170, 21:251] = np.where(where if channels is None else where[..., None], new, before[13:170, 21:251])
    assert np.array_equal(frame, expected)
