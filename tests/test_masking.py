"""Masks on real pixels: every box pixel replaced, nothing recognisable left, any box size."""
from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from pipeline.errors import RedactionError
from pipeline.faces.detectors import get_detector
from pipeline.faces.masking import coverage, mask_frame
from pipeline.faces.redaction import load_settings

FACE = (165, 30, 290, 200)     # the astronaut's face with margin, pixels


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
    cover = coverage(frame.shape, [FACE], settings)
    changed = (frame != original).any(axis=2)
    assert not (changed & ~cover).any()                              # nothing outside the mask
    assert changed[cover].mean() > 0.97                              # the mask pixels are replaced
    # the detector no longer finds a face where the face was (a masked ellipse edge may fool it elsewhere)
    centres = [((d.x0 + d.x1) / 2, (d.y0 + d.y1) / 2) for d in detector.detect(frame)]
    assert not any(180 <= x <= 272 and 55 <= y <= 180 for x, y in centres)


def test_mosaic_keeps_only_a_few_cells():
    settings = load_settings("mosaic")
    frame = data.astronaut().copy()
    mask_frame(frame, [FACE], settings)
    roi = frame[FACE[1]:FACE[3], FACE[0]:FACE[2]].reshape(-1, 3)
    assert len(np.unique(roi, axis=0)) <= (settings.mosaic_blocks + 1) ** 2


def test_blur_holds_no_fine_detail():
    settings = load_settings("blur", shape="rect")
    frame = data.astronaut().copy()
    mask_frame(frame, [FACE], settings)
    roi = frame[FACE[1]:FACE[3], FACE[0]:FACE[2]].astype(float)
    orig = data.astronaut()[FACE[1]:FACE[3], FACE[0]:FACE[2]].astype(float)
    # high-frequency energy (neighbour differences) is almost gone
    assert np.abs(np.diff(roi, axis=1)).mean() < 0.15 * np.abs(np.diff(orig, axis=1)).mean()


def test_ellipse_needs_a_wider_box():
    from pipeline.errors import CadreError

    with pytest.raises(CadreError, match="too small for shape"):
        load_settings("mosaic", shape="ellipse")
    assert load_settings("mosaic", shape="ellipse", pad=1.9).shape == "ellipse"


def test_blur_strength_has_a_floor():
    from pipeline.errors import CadreError

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
    assert coverage(frame.shape, [box], settings)[y0:y1, x0:x1].all()
    inside = (frame[y0:y1, x0:x1] != original[y0:y1, x0:x1]).any(axis=2)
    assert inside.mean() > 0.9                    # random pixels are replaced by cell means


def test_ellipse_covers_the_inscribed_ellipse():
    settings = load_settings("mosaic", shape="ellipse", pad=1.9)
    cover = coverage((400, 400), [(100, 100, 300, 200)], settings)
    yy, xx = np.mgrid[0:400, 0:400] + 0.5
    inside = ((xx - 200) / 100) ** 2 + ((yy - 150) / 50) ** 2 <= 1
    assert cover[inside].all()
    assert not cover[0:95].any()


def test_box_outside_the_frame_is_ignored_and_nan_fails_closed():
    settings = load_settings("mosaic")
    frame = np.zeros((100, 100, 3), np.uint8)
    mask_frame(frame, [(200, 200, 300, 300), (-50, -50, -10, -10)], settings)
    with pytest.raises(RedactionError):
        mask_frame(frame, [(float("nan"), 0, 10, 10)], settings)
