"""The camera's motion read from the pixels (``faces/motion.py``), and the looks around the small
faces that follow it (``revisit.SmallFaces.places``).

In a zoom the small faces left the windows they were looked for in, the looks lost them and the
fine pass ran again at once: the 2 s labelled pan-and-zoom took 7 fine passes more than its
schedule. Real photos (``../shared/media/images``), turned, darkened, blurred and shrunk; real
CenterFace on a clip made with ffmpeg.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.labelled import darkened
from pipeline.faces.detectors.base import Detection
from pipeline.faces.motion import PixelMotion, step_between
from pipeline.faces.revisit import SmallFaces

W, H = 960, 540


def _photos(shared_media) -> np.ndarray:
    """The shared photos tiled over a W x H frame (RGB)."""
    imgs = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted((shared_media / "images").glob("*.jpg"))]
    row = np.concatenate([cv2.resize(i, (round(i.shape[1] * 300 / i.shape[0]), 300)) for i in imgs], axis=1)
    return np.ascontiguousarray(np.concatenate([row, row[:, ::-1]], axis=0)[:H, :W])


def _moved(img: np.ndarray, s: float, tx: float, ty: float) -> np.ndarray:
    """``img`` under the camera motion x' = s x + tx, y' = s y + ty (pixels)."""
    return cv2.warpAffine(img, np.float32([[s, 0, tx], [0, s, ty]]), (img.shape[1], img.shape[0]),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


VARIANTS = {"plain": lambda i: i, "dark": darkened, "blurred": lambda i: cv2.GaussianBlur(i, (0, 0), 2.0),
            "shrunk": lambda i: cv2.resize(cv2.resize(i, (W // 3, H // 3), interpolation=cv2.INTER_AREA), (W, H))}


def _grey(img):
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("motion", [(1.0, 24.0, -9.0), (1.12, -60.0, -20.0), (0.9, 40.0, 30.0)])
def test_the_camera_motion_is_read_from_the_pixels(shared_media, variant, motion):
    """A pan, a zoom in and a zoom out, on plain, dark, blurred and shrunk photos: the step read is
    the step made, to half a pixel of shift and 0.5 % of scale."""
    img = VARIANTS[variant](_photos(shared_media))
    s, tx, ty = motion
    step = step_between(_grey(img), _grey(_moved(img, s, tx, ty)))
    assert step is not None
    assert step[0] == pytest.approx(s, rel=0.005)
    assert step[1] * W == pytest.approx(tx, abs=0.5 + 0.01 * abs(tx))
    assert step[2] * H == pytest.approx(ty, abs=0.5 + 0.01 * abs(ty))


def test_no_motion_is_read_from_a_blank_or_a_turned_picture(shared_media):
    """Nothing to follow on a blank frame; a picture turned 10 degrees is no pan or zoom."""
    img = _photos(shared_media)
    grey = np.full((H, W), 90, np.uint8)
    assert step_between(grey, grey) is None
    turn = cv2.getRotationMatrix2D((W / 2, H / 2), 10, 1.0)
    turned = cv2.warpAffine(img, turn, (W, H), borderMode=cv2.BORDER_REFLECT)
    assert step_between(_grey(img), _grey(turned)) is None


def test_steps_chain_and_a_frame_without_one_breaks_the_chain(shared_media):
    img = _photos(shared_media)
    motion = PixelMotion()
    motion.add(0, img)
    motion.add(1, _moved(img, 1.0, 20, 0))
    motion.add(2, _moved(img, 1.0, 40, 0))
    s, tx, _ = motion.between(0, 2)
    assert s == pytest.approx(1.0, abs=0.005) and tx * W == pytest.approx(40, abs=1.0)
    motion.add(3, np.full_like(img, 90))          # a blank frame: no step
    assert motion.between(0, 3) is None and motion.between(2, 3) is None
    motion.forget(2)
    assert motion.between(0, 2) is None and motion.between(2, 2) == (1.0, 0.0, 0.0)


def test_a_small_face_is_looked_for_where_the_camera_carried_it_and_where_it_was(shared_media):
    """A pan moved the picture 200 px: the looks go where the camera carried the face (a still
    person) and where it was (a person the camera follows), and a face carried out of the
    picture no longer counts as lost."""
    img = _photos(shared_media)
    faces = SmallFaces(hold=15, motion=PixelMotion())
    face = Detection(0.50, 0.50, 0.52, 0.54, 0.9)
    faces.motion.add(0, img)
    faces.seen = [(face, 0)]
    faces.motion.add(1, _moved(img, 1.0, 100, 0))
    faces.motion.add(2, _moved(img, 1.0, 200, 0))
    windows = faces.windows(W, H, index=2)
    centres = sorted((w.x0 + w.x1) / 2 for w in windows)
    assert len(windows) == 2
    assert centres[0] == pytest.approx(0.51 * W, abs=3) and centres[1] == pytest.approx(0.51 * W + 200, abs=3)
    # carried out of the frame by a fast pan: still looked for where it was, not counted as lost
    for k in range(3, 7):
        faces.motion.add(k, _moved(img, 1.0, 100 * k, 0))
    assert [round((w.x0 + w.x1) / 2) for w in faces.windows(W, H, index=6)] == [pytest.approx(0.51 * W, abs=3)]
    assert not faces.lost(6)


def test_a_zoom_over_small_faces_keeps_the_fine_pass_on_its_schedule(shared_media, tmp_path, monkeypatch):
    """The labelled pan-and-zoom (2 s, zooms of 18 % a frame): the fine pass runs on its schedule
    only (frames 0, 15, 30, 45 and the last; before, 7 more when the looks lost the faces), and
    every labelled face is masked on every frame."""
    from benchmarks.labelled import leaked, load_truth, make_panzoom
    from pipeline.faces import scan
    from pipeline.faces.analysis import analyse_faces
    from pipeline.faces.settings import load_settings
    from pipeline.source.normalize import ClipSpan
    from pipeline.source.probe import probe

    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    fine = []
    original = scan.FrameScan.__init__

    def counting(self, *args, **kwargs):
        original(self, *args, **kwargs)
        fine.append(bool(self.tiles))
    monkeypatch.setattr(scan.FrameScan, "__init__", counting)
    path = tmp_path / "panzoom.mp4"
    truth = make_panzoom(load_truth(), path, 2.0)
    settings = load_settings("mosaic")
    tracks = analyse_faces(ClipSpan(path, probe(path)), settings)
    assert [i for i, f in enumerate(fine) if f] == [0, 15, 30, 45, 59]
    assert leaked(truth, tracks, settings) == []


def test_the_tracks_take_the_camera_s_motion_from_the_pixels_where_faces_tell_none():
    """``CameraPath`` with the pixels' steps: every analysed frame is added, frames without faces
    too (the pan between two groups), with the pixels' step; where the faces tell a step, it is
    kept. A box is carried up to the frame it leaves the picture on."""
    from pipeline.faces.camera import CameraPath

    def faces(shift):
        return [Detection(x + shift, 0.4, x + shift + 0.05, 0.46, 0.9) for x in (0.1, 0.3, 0.5)]

    path = CameraPath()
    path.add(0, faces(0.0), None, every=True)
    path.add(1, [], (1.0, 0.1, 0.0), every=True)              # no faces: the pixels' step
    path.add(2, faces(0.2), (1.0, 0.1, 0.0), every=True)      # none before: the pixels' step
    path.add(3, faces(0.3), (1.0, 0.5, 0.0), every=True)      # the faces tell one: theirs
    path.add(4, [], None, every=True)                          # a blur: no step
    assert path.between(0, 2) == pytest.approx((1.0, 0.2, 0.0))
    assert path.between(2, 3) == pytest.approx((1.0, 0.1, 0.0), abs=1e-9)
    assert path.between(3, 4) is None
    rows = path.along(0, [0.7, 0.4, 0.75, 0.46], 10)
    assert [r[0] for r in rows] == [1, 2, 3] and rows[-1][1] >= 1.0, "the row it left the picture on is kept"
    old = CameraPath()                                         # without the pixels: faces only, as before
    for f, d in ((0, faces(0.0)), (1, []), (2, faces(0.2))):
        old.add(f, d)
    assert old.between(0, 2) == pytest.approx((1.0, 0.2, 0.0), abs=1e-9)
