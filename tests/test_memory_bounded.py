"""Issue 29: what a render keeps does not grow with the episode, and not one masked face-frame is lost.

Real footage (``facenet_pytorch_video.mp4``, a 1080p crowd) analysed by the real CenterFace. The
mask boxes ``FaceTracks`` gives at every frame are compared with the table of every frame that
``track_boxes`` gives for each whole track (what the render used to build and keep); the same
tracks repeated over ten minutes check that what is kept stays within a fixed number of frames.
The contact sheet of a crowd keeps a bounded number of tiles and never holds a decoded frame per
face track (measured with tracemalloc: sizes, not times).
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from pipeline.faces import sheet as sheet_module
from pipeline.faces.analysis import analyse_faces
from pipeline.faces.audit import audit_items, contact_sheet
from pipeline.faces.settings import load_settings
from pipeline.faces.tracking import CHUNK, CHUNKS, FaceTracks, Track, joined, track_boxes
from pipeline.source.normalize import FPS, ClipSpan
from pipeline.source.probe import probe


def dense(ft: FaceTracks) -> list[list[tuple[str, tuple]]]:
    """Every frame's ``(track id, box)``, from each whole track: the table the render used to keep."""
    n = max(ft.frame_count, 1 + max((t.last for t in ft.tracks), default=0))
    table: list[list[tuple[str, tuple]]] = [[] for _ in range(n)]
    for t in ft.tracks:
        frames, boxes = track_boxes(t, ft.pad, ft.extend, n)
        for f, b in zip(frames.tolist(), boxes.tolist()):
            table[f].append((t.id, tuple(b)))
    return table


def kept_rows(ft: FaceTracks) -> int:
    return sum(len(rows) for rows in ft._chunks.values())


@pytest.fixture(scope="module")
def crowd(shared_media, tmp_path_factory):
    """The face tracks of the real crowd clip, as the render's analysis finds them."""
    path = shared_media / "videos" / "facenet_pytorch_video.mp4"
    span = ClipSpan(path, probe(path))
    ft = analyse_faces(span, load_settings("mosaic"))
    assert len(ft.tracks) >= 10, "the crowd clip should hold many face tracks"
    return span, ft


def looped(ft: FaceTracks, minutes: float) -> FaceTracks:
    """``ft``'s tracks repeated, shifted by the clip's length each time, over ``minutes``."""
    period = ft.frame_count
    copies = int(minutes * 60 * FPS // period)
    tracks = [Track(f"{t.id}-r{r}", [f + r * period for f in t.frames], [list(b) for b in t.boxes], list(t.scores))
              for r in range(copies) for t in ft.tracks]
    return FaceTracks(ft.clip, ft.start, copies * period, tracks, ft.pad, ft.extend)


@pytest.mark.media
def test_mask_boxes_at_every_frame_equal_the_whole_table(crowd):
    _, ft = crowd
    table = dense(ft)
    masked = 0
    for i in range(-3, len(table) + 5):   # past either end: the nearest analysed frame, as before
        want = table[min(max(i, 0), len(table) - 1)]
        assert ft.track_boxes_at(i) == want, f"frame {i}"
        assert ft.boxes_at(i) == joined([b for _, b in want]), f"frame {i}"
        masked += len(want)
    assert masked > 100, "the crowd should be masked on most frames"


@pytest.mark.media
def test_a_ten_minute_crowd_keeps_a_few_chunks_and_loses_no_box(crowd):
    _, ft = crowd
    long = looped(ft, 10)
    assert long.frame_count >= 10 * 60 * FPS - ft.frame_count
    table = dense(long)
    most = 0
    for i in range(len(table)):
        assert long.track_boxes_at(i) == table[i], f"frame {i}"
        most = max(most, kept_rows(long))
    # what is kept: at most CHUNKS chunks of CHUNK frames, whatever the length
    assert len(long._chunks) <= CHUNKS
    assert most <= CHUNKS * CHUNK
    assert sum(len(r) for r in table) > 40 * most, "the whole table is far bigger than what is kept"
    # reading back out of order (an audit, the review page) still gives the same boxes
    rng = np.random.default_rng(29)
    for i in rng.integers(0, len(table), 300).tolist():
        assert long.track_boxes_at(i) == table[i]
    assert len(long._chunks) <= CHUNKS


@pytest.mark.media
def test_a_crowd_contact_sheet_is_bounded_and_holds_no_frame_per_track(crowd, monkeypatch):
    span, ft = crowd
    settings = load_settings("mosaic")
    tracks = {span.path.name: ft}
    items = audit_items(tracks, settings, None)
    assert len(items) >= 10
    limit = len(items) // 2
    monkeypatch.setattr(sheet_module, "MAX_TILES", limit)
    drawn = sheet_module.drawn_items(items)
    assert len(drawn) == limit and drawn == sorted(drawn)
    shortest_drawn = min(items[k].end - items[k].start for k in drawn)
    assert all(items[k].end - items[k].start <= shortest_drawn for k in set(range(len(items))) - set(drawn))

    frame_bytes = 1280 * 720 * 3     # the sheet's frames are decoded 1280 px wide
    tracemalloc.start()
    try:
        image = contact_sheet(tracks, {span.path.name: span}, settings, None, items=items)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(image, Image.Image)
    cells = limit * 220 * 220 * 3
    # the sheet, its cells and a few frames in flight; the old code held a frame per shown face
    assert peak < 3 * image.width * image.height + cells + 8 * frame_bytes, peak / 2**20
    assert len({items[k].show for k in range(len(items))}) * frame_bytes > peak, "the test needs many shown frames"


@pytest.mark.media
def test_the_detector_networks_are_dropped_before_the_encode_and_load_again(shared_media):
    """The encode does not keep the face networks (an onnxruntime session keeps the arena of its
    largest runs); a detector made afterwards loads its network again and finds the same faces."""
    from pipeline.faces.detectors import get_detector
    from pipeline.faces.detectors.centerface import onnx_session
    from pipeline.render import release_memory
    from pipeline.source.normalize import read_frames

    path = shared_media / "videos" / "facenet_pytorch_video.mp4"
    _, frame = next(read_frames(ClipSpan(path, probe(path)), width=960))
    before = get_detector().detect(frame)
    if get_detector().runtime != "onnxruntime":
        pytest.skip("onnxruntime is not installed: cv2.dnn keeps no session")
    assert onnx_session.cache_info().currsize >= 1 and before
    release_memory()
    assert onnx_session.cache_info().currsize == 0
    again = get_detector().detect(frame)
    assert [(round(d.x0, 3), round(d.y0, 3), round(d.score, 4)) for d in again] == \
           [(round(d.x0, 3), round(d.y0, 3), round(d.score, 4)) for d in before]
