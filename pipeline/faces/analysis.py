"""The face analysis of one clip: detect (whole-frame and fine passes, looks, turns), link into
tracks, cache by content hash, settings, parameters and model.

Masking fails closed: if the detector cannot run, :func:`analyse_faces` raises RedactionError
and the render stops. The only way to skip detection is the explicit ``none`` preset, which the
report records; manual masks from ``masks.toml`` (``overrides.py``) still apply then.
"""
from __future__ import annotations

import json

from pipeline.core import cache
from pipeline.core.errors import RedactionError
from pipeline.core.heap import rehomed, trimmed
from pipeline.faces.detectors import get_detector
from pipeline.faces.lanes import scan_frames
from pipeline.faces.params import PARAMS
from pipeline.faces.scan import prefetched, scan_plan
from pipeline.faces.settings import RedactionSettings
from pipeline.faces.linking import Track
from pipeline.faces.tracking import FaceTracks, link
from pipeline.faces.turns import Turns
from pipeline.source.normalize import ClipSpan, read_frames

TRIM_EVERY = 150            # frames between two returns of the freed heap to the system (core/heap.py)
ANALYSIS_VERSION = 15       # 6: fine pass (scan.py); 7: least-distance track linking; 8: revisit.py;
                            # 9: one-thread inferences side by side (lanes.py); 10: turned and dark frames (turns.py);
                            # 11: a cut after a fast pan or zoom is told by its colours (turns.Cuts);
                            # 12: gaps inside a track carried like its ends (unseen.py, Track.carry_gaps);
                            # 13: the looks follow the camera's motion read from the pixels (motion.py);
                            # 14: so do the tracks, where too few faces tell the camera's motion (camera.py);
                            # 15: Track.still lists keyframes, gaps carried all the way (unseen.gap_path)


def analyse_faces(span: ClipSpan, settings: RedactionSettings, progress=None, turned: bool = True) -> FaceTracks:
    """Detect and track the faces of one clip; cached by clip content, span, settings and model.
    ``progress(frames_done, frame_count)``, when given, follows the frame loop. ``turned=False``
    looks upright only (``turns.py``): detection for framing alone, never for masking.

    Raises RedactionError when the detector cannot run or the clip could not be read to its end:
    a frame that was never analysed must not be rendered unmasked.
    """

    frame_count = span.frame_count
    if settings.method == "none":
        return FaceTracks(span.path.name, span.start, frame_count, [], settings.pad, settings.extend_frames,
                          settings.detector, "", True, {"method": "none"})
    detector = get_detector(settings.detector, settings.threshold)
    plan = scan_plan(span.info.width, span.info.height, settings)
    key = cache.make_key("faces", ANALYSIS_VERSION, PARAMS.key(), *span.content_key(), *([] if turned else ["upright only"]),
                         settings.analysis_key(), detector.model_sha256)
    cached = cache.load("faces", key)
    if cached is not None:
        tracks = FaceTracks.from_dict(cached)
        del cached          # the tracks as Python lists, before the copy that re-homes their arrays
        tracks.clip, tracks.pad, tracks.extend = span.path.name, settings.pad, settings.extend_frames
        return rehomed(tracks)

    # the heaps are trimmed as the frames go by: what the loop frees (frames, windows, the detector's
    # outputs, from several threads; Whisper's buffers before it) stays free, and the analysis's
    # footprint flat, however long the clip (issue 29: it grew about 36 MiB per minute)
    frames = trimmed(prefetched(read_frames(span, width=plan.read_size[0], every=settings.detect_every)), TRIM_EVERY)
    turns = Turns(enabled=turned)
    steps: dict = {}
    detections = scan_frames(detector, frames, plan, settings.tile_every, frame_count, settings.detect_every, progress,
                             turns, steps)
    last = max(detections, default=-1)
    if frame_count and last < frame_count - settings.detect_every - 2:
        raise RedactionError(span.path, f"face analysis read only {last + 1} of {frame_count} frames; "
                                        "the clip cannot be decoded to its end - export it again")
    max_gap = max(PARAMS.gap_fine_passes * settings.tile_every, PARAMS.min_gap)
    analysed = len(detections)
    # each frame's detections dropped once linked, and each track, once complete, made as a later render
    # reads it back: boxes rounded as stored, in arrays (core/rows.py; as Python lists a crowd's tracks
    # take 23 MiB a minute), so a first render and a re-render mask the same pixels and publish the same file
    tracks = link(detections, max_gap, finish=lambda t: Track.from_dict(t.to_dict()), consume=True, steps=steps)
    del detections, steps
    analysis = json.loads(json.dumps({"plan": plan.to_dict(), "analysed_frames": analysed, **settings.analysis_key(),
                                      "turns": turns.summary()}))          # as read back from the cache
    result = FaceTracks(span.path.name, float(span.start), frame_count, tracks, settings.pad, settings.extend_frames,
                        detector.name, detector.model_sha256, False, analysis)
    cache.store("faces", key, result.to_dict(compact=True))   # each track turned into lists as it is written
    return rehomed(result)
