"""The face analysis's frame loop, with the detector's runs spread over a pool of threads.

A frame's whole-frame pass and fine-pass tiles (``scan.FrameScan``) depend on that frame only:
they are queued as soon as it is decoded, up to ``ahead`` frames before its turn. The looks around
the small faces (``revisit.py``) depend on the frames before it: they are queued when the frame's
turn comes, behind the runs of the frames after it, so the pool is never short of work. Results
are joined in frame order, as one run after another would give them.

A frame identical to the one before it (a 25 or 24 fps clip brought to 30 fps repeats one frame in
six or in five) is not scanned again: it gets that frame's faces, and a fine pass that fell due on
it runs on the next new frame instead (``tests/test_face_duplicates.py``). Otherwise fine passes
are at most ``tile_every`` frames apart with any ``detect_every``: a pass due on a frame that is
not analysed runs on the analysed frame before it (with the frame-number rule it once followed,
``detect_every = 2`` gave one fine pass a second instead of two).

The detector says how many runs it takes at once (``lanes``). onnxruntime runs one single-thread
inference per core: on this 2-core machine that does about 25 % more work per second on a fine
tile than one 2-thread inference at a time, and keeps both cores busy while a frame's looks wait
for its whole-frame pass. ``cv2.dnn`` takes one run at a time. While several lanes run, OpenCV's
own resizes run on one thread: the lanes already fill the cores, and its pool only added CPU time
(the default went from 6.7 to 9.9 fps on ``benchmarks/bench_masking.py``'s pan-and-zoom clip).
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from pipeline.core.threads import apply_opencv
from pipeline.faces import revisit
from pipeline.faces.detectors.base import merge
from pipeline.faces.motion import PixelMotion, StepReader
from pipeline.faces.revisit import SmallFaces
from pipeline.faces.scan import FrameScan, ScanPlan
from pipeline.faces.turns import Turns, is_dark

REBUDGET_FRAMES = 30        # how often a long analysis re-sizes OpenCV's thread pool (threads.py)


def scan_frames(detector, frames, plan: ScanPlan, tile_every: int, frame_count: int, detect_every: int = 1,
                progress=None, turns: Turns | None = None, steps: dict | None = None) -> dict[int, list]:
    """Faces (normalised upright boxes) of each ``(index, frame)`` that ``frames`` yields, by
    index. The fine pass runs at most ``tile_every`` frames after the last one, on the first frame of
    a shot, the first frame after the primary turn changed and the last one; looks in between. ``turns``
    (``turns.py``) schedules the turned and brightened passes and keeps what they found. ``steps``,
    when given, receives the camera's motion from the frame before to each frame, read from the
    pixels of the upright frames (``motion.py``; None where unknown), for the tracks (``linking.py``)."""
    lanes = max(1, int(detector.lanes))
    ahead = 2 * lanes + 2
    turns = turns if turns is not None else Turns()
    small = SmallFaces(hold=tile_every, motion=PixelMotion())
    steps = {} if steps is None else steps
    reader = StepReader()     # the camera's step to each frame, read once for the tracks and the looks
    scanned = [-1, -1]        # the frames scanned last and before it, in the order finished
    small_turn = turns.primary
    detections: dict[int, list] = {}
    pending: deque = deque()
    pool = ThreadPoolExecutor(lanes, thread_name_prefix="cadre-faces")
    opencv_threads = cv2.getNumThreads()
    refine = False
    previous = None       # (frame, index) of the last frame scanned
    fine_at = None        # index of the last fine pass

    def follow(index: int, scan: FrameScan) -> None:
        """The small faces' motion to frame ``index``: the step read already in the upright
        frame, or read again in the turned frame the looks see."""
        if scan.turn == 0:
            small.motion.add_step(index, steps[index], scanned[1])
        else:
            small.motion.add(index, scan.frame)

    def finish() -> None:
        nonlocal small, small_turn, refine
        index, scan, runs = pending.popleft()
        if scan is None:                          # a repeat of frame ``runs``: the same faces
            detections[index] = list(detections[runs])
            if progress:
                progress(min(index + 1, frame_count), frame_count)
            return
        scanned[:] = [index, scanned[0]]
        results = [run.result() for run in runs]
        found = scan.faces(results)
        if scan.turn != small_turn or index in turns.cut_frames:   # the looks remember faces in the turned
            small, small_turn = SmallFaces(hold=tile_every, motion=PixelMotion()), scan.turn   # frame, of this shot only
        looked, moved = False, bool(small.seen)
        if moved:                                 # the camera's motion since the faces were seen (motion.py)
            follow(index, scan)
        if scan.plan.tiled and not scan.tiles:    # between two fine passes: look again around the small faces
            windows = small.windows(*scan.plan.read_size, found, index)
            looked = revisit.due(index, windows, scan.plan, tile_every)
            if looked:
                looks = [pool.submit(run) for run in revisit.looks(detector, scan.frame, scan.plan, windows)]
                found = merge(found + [d for look in looks for d in look.result()])
        small.update(found, index, scan.plan, fine=bool(scan.tiles))
        if not small.seen:
            small.motion.reset()                  # nothing to follow: the next step starts afresh
        elif not moved:
            follow(index, scan)
        refine |= looked and small.lost(index)      # a zoom took the small faces out of their windows
        refine |= turns.update(index, scan.turn, scan.upright(found), scan.upright(results[0]),
                               scan.extra_faces(results))
        detections[index] = scan.joined(found, results)
        if progress:
            progress(min(index + 1, frame_count), frame_count)

    if lanes > 1:
        cv2.setNumThreads(1)
    try:
        for index, frame in frames:
            if lanes == 1 and index % REBUDGET_FRAMES == 0:
                apply_opencv()
            last = index + detect_every >= frame_count
            if previous is not None and not last and _same(frame, previous[0]):
                pending.append((index, None, previous[1]))
                steps[index] = (1.0, 0.0, 0.0)    # the same picture
            else:
                previous = (frame, index)
                steps[index] = reader.step(frame)
                turn, extra, cut = turns.schedule(index, frame)
                dark = is_dark(frame)
                turns.dark_frames += dark
                # fine passes at most tile_every frames apart, whatever detect_every and the repeats
                tiled = cut or refine or last or fine_at is None or index + detect_every - fine_at > tile_every
                fine_at = index if tiled else fine_at
                refine = False
                scan = FrameScan(detector, frame, plan, tiled, turn, extra, dark)
                pending.append((index, scan, [pool.submit(run) for run in scan.runs]))
            # a shot's first frames are finished before the next is queued: what their turns found
            # decides the primary turn of the frames after them, not frames later
            while len(pending) > (0 if turns.settling(index) else ahead):
                finish()
        while pending:
            finish()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        cv2.setNumThreads(opencv_threads)
    return detections


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two decoded frames are identical; a sparse grid is compared first, so a new frame
    (nearly always) costs a fraction of a millisecond, not a comparison of every byte."""
    return np.array_equal(a[::8, ::8], b[::8, ::8]) and np.array_equal(a, b)
