"""How one clip's frames are scanned for faces: the sizes (``scan_plan``), the two passes over a
frame (``detect_frame``) and a reader thread that decodes ahead of the detector (``prefetched``).

- The **whole-frame pass** runs on every analysed frame at about 640x360.
- The **fine pass** finds faces down to ``min_face_px`` tall in the 1080x1920 output: on every
  ``tile_every``-th frame, the frame at ``read_size * upscale`` (at most ``MAX_DETECT_PIXELS``)
  is cut into the fewest overlapping tiles of at most ``FINE_TILE_PIXELS`` (``fine_tiles``). One
  pass over the whole frame would find the same faces with no overlap, but its activations cost
  about 0.45 GB at 2048x1152 and 0.9 GB at 2900x1632; tiles of 0.7 MP cost about 0.15 GB and
  18-22 % more detector work than one pass, against 66 % for the 640x384 tiles used before.
- Between two fine passes, ``revisit.py`` looks again around the small faces the last ones found.
"""
from __future__ import annotations

import math
import queue
import threading
from dataclasses import dataclass
from functools import lru_cache, partial

import cv2
import numpy as np

from pipeline.core.geometry import OUT_H, OUT_W
from pipeline.faces.detectors.base import merge, nms
from pipeline.faces.detectors.tiling import OVERLAP, detect_tile, tiles
from pipeline.faces.params import PARAMS
from pipeline.faces.turns import brightened, turn_frame, turned_size, unturn

# smallest face (px tall) CenterFace finds reliably at threshold 0.3: real faces (the labelled
# photos shrunk, bench_masking.py's small-face clip) 12 px tall were missed 5 times in 28
DETECT_MIN_PX = PARAMS.detect_min_px
MARGIN_PX = PARAMS.margin_px
MAX_DETECT_PIXELS = PARAMS.max_detect_pixels
FINE_TILE_PIXELS = PARAMS.fine_tile_pixels
PREFETCH = 3                # frames decoded ahead of the detector


@dataclass(frozen=True)
class ScanPlan:
    """How one clip is scanned: the read size, the whole-frame size and the fine pass."""

    read_size: tuple[int, int]
    coarse_size: tuple[int, int]
    tiled: bool                 # a fine pass is needed (the name is kept: it is in cached analyses)
    upscale: float              # fine pass: detector pixels per read pixel

    def to_dict(self) -> dict:
        return {"read_size": list(self.read_size), "coarse_size": list(self.coarse_size),
                "tiled": self.tiled, "upscale": round(self.upscale, 4)}

    @property
    def fine_size(self) -> tuple[int, int]:
        return (round(self.read_size[0] * self.upscale), round(self.read_size[1] * self.upscale))

    def turned(self, degrees: int) -> "ScanPlan":
        """The same plan for the frame turned ``degrees`` clockwise (``turns.py``)."""
        if degrees not in (90, 270):
            return self
        return ScanPlan(turned_size(self.read_size, degrees), turned_size(self.coarse_size, degrees),
                        self.tiled, self.upscale)


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def scan_plan(width: int, height: int, settings) -> ScanPlan:
    """Pick sizes so a face ``min_face_px`` tall in the output is >= DETECT_MIN_PX for the detector.

    The worst case is the fill crop: the clip is scaled so the 1080x1920 frame is covered, which
    makes a source pixel ``max(1080 / W, 1920 / H)`` output pixels.
    """
    aw = settings.analysis_width
    coarse = min(1.0, math.sqrt(aw * aw * 9 / 16 / (width * height)))
    coarse_size = (_even(width * coarse), _even(height * coarse))
    out_per_src = max(OUT_W / width, OUT_H / height)
    need = DETECT_MIN_PX / (settings.min_face_px / out_per_src)       # detector px per source px
    if coarse >= need:
        return ScanPlan(coarse_size, coarse_size, False, 1.0)
    read = min(1.0, need)
    read_size = (_even(width * read), _even(height * read))
    # the cost is bounded by the output's area, never by the upscale of a sliver (2048x16: 72x)
    cap = max(1.0, math.sqrt(MAX_DETECT_PIXELS / (read_size[0] * read_size[1])))
    return ScanPlan(read_size, coarse_size, True, min(need * width / read_size[0], cap))


class FrameScan:
    """The detector runs one frame (at ``plan.read_size``) needs: the whole-frame pass and, when
    ``tiled``, one run per fine-pass tile, in the primary ``turn`` (``turns.py``), plus a
    whole-frame pass in each of the ``extra`` turns; a ``dark`` frame is brightened first. Each run
    depends on the frame only, so they may run side by side (``lanes.py``); :meth:`faces` joins
    their results in normalised boxes. The runs are partials of module functions, never bound
    methods: a scan in a cycle with its own frame would wait for the cyclic garbage collector, and
    dozens of decoded frames with it (300 MB measured)."""

    def __init__(self, detector, frame: np.ndarray, plan: ScanPlan, tiled: bool = True, turn: int = 0,
                 extra: tuple[int, ...] = (), dark: bool = False):
        if dark:
            frame = brightened(frame)
        self.turn, self.extra = turn, tuple(extra)
        self.frame, self.plan = turn_frame(frame, turn), plan.turned(turn)   # what the primary passes see
        h, w = self.frame.shape[:2]
        self.tiles = []
        if plan.tiled and tiled:
            self.tiles = tiles(w, h, plan.upscale, fine_tiles(round(w * plan.upscale), round(h * plan.upscale)))
        self.runs = ([partial(_whole, detector, self.frame, self.plan)]
                     + [partial(detect_tile, detector, self.frame, t) for t in self.tiles]
                     + [partial(_whole, detector, frame, plan, t) for t in self.extra])

    def faces(self, results: list[list]) -> list:
        """The primary turn's faces from the runs' results (in the order of ``runs``), normalised
        to the turned frame; boxes of one face from both passes merge as their union."""
        found = results[0]
        if self.tiles:
            h, w = self.frame.shape[:2]
            fine = nms([d for part in results[1:1 + len(self.tiles)] for d in part])
            found = merge(found + [normalised(d, w, h, self.plan.upscale) for d in fine])
        return found

    def extra_faces(self, results: list[list]) -> dict[int, list]:
        """Faces of each extra turn, normalised to the upright frame."""
        return dict(zip(self.extra, results[1 + len(self.tiles):]))

    def upright(self, found: list) -> list:
        """Boxes of :meth:`faces` (or of looks in ``self.frame``) in the upright frame."""
        return [unturn(d, self.turn) for d in found]

    def joined(self, found: list, results: list[list]) -> list:
        """The frame's faces in the upright frame: ``found`` (the primary turn's, looks included)
        and the extra turns' faces, boxes of one face merged as their union."""
        upright = self.upright(found)
        others = [d for ds in self.extra_faces(results).values() for d in ds]
        return merge(upright + others) if others else upright


def _whole(detector, frame: np.ndarray, plan: ScanPlan, degrees: int = 0) -> list:
    """The whole-frame pass: ``frame`` at ``plan.coarse_size``, turned ``degrees`` clockwise (after
    the resize: the turn then moves a quarter of the pixels), boxes normalised to ``frame``."""
    h, w = frame.shape[:2]
    cw, ch = plan.coarse_size
    coarse = frame if (w, h) == (cw, ch) else cv2.resize(frame, (cw, ch), interpolation=cv2.INTER_AREA)
    tw, th = turned_size((cw, ch), degrees)
    return [unturn(normalised(d, tw, th, 1.0), degrees) for d in detector.detect(turn_frame(coarse, degrees))]


def detect_frame(detector, frame: np.ndarray, plan: ScanPlan, tiled: bool = True, turn: int = 0,
                 extra: tuple[int, ...] = (), dark: bool = False) -> list:
    """Faces of one frame (at ``plan.read_size``) in normalised upright boxes, the runs one after
    another (no looks: ``lanes.scan_frames`` adds them)."""
    scan = FrameScan(detector, frame, plan, tiled, turn, extra, dark)
    results = [run() for run in scan.runs]
    return scan.joined(scan.faces(results), results)


def _tile_length(length: int, n: int) -> int:
    """Side of ``n`` equal tiles overlapping by ``OVERLAP`` over ``length``, rounded up to 32."""
    if n == 1:
        return length
    return min(length, math.ceil(math.ceil((length + (n - 1) * OVERLAP) / n) / 32) * 32)


@lru_cache(maxsize=32)
def fine_tiles(width: int, height: int, limit: int = FINE_TILE_PIXELS) -> tuple[int, int]:
    """Tile size (detector pixels) of the fewest-pixel grid over a ``width`` x ``height`` frame
    whose tiles hold at most ``limit`` pixels and overlap by ``OVERLAP``."""
    best = None
    for nx in range(1, 33):
        for ny in range(1, 33):
            tw, th = _tile_length(width, nx), _tile_length(height, ny)
            if tw * th <= limit and (best is None or nx * ny * tw * th < best[0]):
                best = (nx * ny * tw * th, (min(tw, width), min(th, height)))
    return best[1] if best else (min(width, 640), min(height, 384))


def normalised(d, w: int, h: int, detector_scale: float):
    """Box in 0..1 of the frame, widened by MARGIN_PX detector pixels: small boxes are imprecise."""
    m = MARGIN_PX / detector_scale
    return type(d)((d.x0 - m) / w, (d.y0 - m) / h, (d.x1 + m) / w, (d.y1 + m) / h, d.score)


def prefetched(frames, depth: int = PREFETCH):
    """Iterate ``frames`` (a generator of decoded frames) from a reader thread ``depth`` frames
    ahead, so the decoder's pipe is drained while the detector runs. An exception of the reader
    (a decoding failure) is raised here, after the frames it delivered."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def read():
        try:
            for item in frames:
                while not stop.is_set():
                    try:
                        q.put((None, item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as exc:   # handed to the consumer, never lost in the thread
            q.put((exc, None))
            return
        finally:
            if stop.is_set():
                frames.close()
        q.put((None, done))

    thread = threading.Thread(target=read, name="cadre-face-reader", daemon=True)
    thread.start()
    try:
        while True:
            exc, item = q.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():           # unblock a reader waiting on a full queue
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass
        thread.join()
