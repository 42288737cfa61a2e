"""Faces that are not upright, and faces in the dark.

CenterFace is trained on upright faces. Measured on the labelled photos turned by every 15 degrees
(``benchmarks/bench_turned.py``), it finds lit faces of 80 px and more at any angle, but smaller
ones only within about 45 degrees of upright, and dark ones (brightness -0.30, gamma 0.55) only
within 45 degrees: half of them are lost at 90 and 180. The values are declared in
``params.py``. So the face analysis looks at each frame
in up to four *turns* (0, 90, 180 and 270 degrees clockwise): a face at any angle is within 45
degrees of one of them.

- The **primary turn** is the one the whole scan (whole-frame pass, fine pass, looks) runs in:
  upright, until the faces found only when turned outnumber the upright ones (a camera mounted
  upside down or sideways), then that turn.
- The **other turns** get a whole-frame pass: on every frame of a shot's first
  ``PARAMS.shot_start`` frames (a face there is masked from the shot's first frame), every
  ``PARAMS.hot_every`` frames while they keep finding faces the primary turn misses (a person lying
  on the ground), and otherwise one turn every ``PARAMS.round_every`` frames in rotation (each every
  9th frame), which the tracks' interpolation and extension carry across.
- A **dark** frame (mean luma under ``PARAMS.dark_luma``) is looked at with its luminance equalised
  (CLAHE), which finds faces a plain frame hides at the edge of the detector's reach.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.faces.detectors.base import Detection, overlaps
from pipeline.faces.params import PARAMS

TURNS = (0, 90, 180, 270)      # degrees clockwise the frame is turned before the detector sees it


def turn_frame(frame: np.ndarray, degrees: int) -> np.ndarray:
    """``frame`` turned ``degrees`` clockwise, contiguous (the detector needs it so)."""
    if degrees == 0:
        return frame
    return np.ascontiguousarray(np.rot90(frame, -(degrees // 90)))


def unturn(d: Detection, degrees: int) -> Detection:
    """A normalised box found in the frame turned ``degrees`` clockwise, in the upright frame."""
    if degrees == 90:       # turned (u, v) = (1 - y, x)
        return Detection(d.y0, 1 - d.x1, d.y1, 1 - d.x0, d.score)
    if degrees == 180:
        return Detection(1 - d.x1, 1 - d.y1, 1 - d.x0, 1 - d.y0, d.score)
    if degrees == 270:      # turned (u, v) = (y, 1 - x)
        return Detection(1 - d.y1, d.x0, 1 - d.y0, d.x1, d.score)
    return d


def turned_size(size: tuple[int, int], degrees: int) -> tuple[int, int]:
    return (size[1], size[0]) if degrees in (90, 270) else size


def is_dark(frame: np.ndarray) -> bool:
    """Mean luma of a sparse sample of the frame under ``PARAMS.dark_luma``."""
    sample = frame[::8, ::8].astype(np.float32)
    return float((sample @ np.array([0.299, 0.587, 0.114], np.float32)).mean()) < PARAMS.dark_luma


def brightened(frame: np.ndarray) -> np.ndarray:
    """``frame`` with its luminance equalised by CLAHE (colour kept): a dark face gets contrast."""
    ycc = cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb)
    ycc[:, :, 0] = cv2.createCLAHE(clipLimit=PARAMS.clahe_clip, tileGridSize=PARAMS.clahe_grid).apply(ycc[:, :, 0])
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def _thumb(sparse: np.ndarray) -> np.ndarray:
    """The 32x18 grey thumbnail of a frame's every 4th pixel (``sparse``): the mean of the colours,
    shrunk. Shrunk first, then averaged, which is the same figure (both are linear) at a quarter
    of the cost of averaging every pixel first (2.6 -> 0.6 ms a 1080p frame)."""
    shrunk = cv2.resize(sparse.astype(np.float32), (32, 18), interpolation=cv2.INTER_AREA)
    return shrunk.mean(axis=2, dtype=np.float32)


def _colours(sparse: np.ndarray) -> np.ndarray:
    """The colour histogram (8 hues x 4 saturations x 4 values of a 64x36 thumbnail) of a frame's
    every 4th pixel (``sparse``)."""
    small = cv2.resize(sparse, (64, 36), interpolation=cv2.INTER_AREA)
    hist = cv2.calcHist([cv2.cvtColor(small, cv2.COLOR_RGB2HSV)], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256])
    return cv2.normalize(hist, hist).flatten()


@dataclass
class Cuts:
    """Where a shot starts, told frame by frame from thumbnails: the grey picture changes by more
    than ``PARAMS.cut_diff`` and either by ``PARAMS.cut_jump`` times its change a frame before (a
    zoom or a pan changes it steadily) or its colours jump as much (``PARAMS.cut_colours``): in a
    fast pan or zoom the grey change of every frame is as large as a cut's, but its colours move
    by a share of the picture at a time. The second frame has no change before it to compare
    with: it starts a shot only when both the picture and its colours change."""

    _thumb: np.ndarray | None = None
    _colours: np.ndarray | None = None
    _diff: float | None = None                  # grey change from the frame before the last one
    _moved: float | None = None                 # colour change, likewise

    def starts(self, frame: np.ndarray) -> bool:
        sparse = np.ascontiguousarray(frame[::4, ::4])
        thumb, colours = _thumb(sparse), _colours(sparse)
        if self._thumb is None:
            self._thumb, self._colours = thumb, colours
            return True
        diff = float(np.abs(thumb - self._thumb).mean())
        moved = float(cv2.compareHist(self._colours, colours, cv2.HISTCMP_BHATTACHARYYA))
        if self._diff is None:
            cut = diff > PARAMS.cut_diff and moved > PARAMS.cut_colours
        else:
            cut = diff > PARAMS.cut_diff and (diff > PARAMS.cut_jump * max(self._diff, 1.0)
                                              or moved > max(PARAMS.cut_colours, PARAMS.cut_jump * self._moved))
        self._thumb, self._colours, self._diff, self._moved = thumb, colours, diff, moved
        return cut


@dataclass
class Turns:
    """Which turns each frame is looked at in, decided as frames are decoded, and what they found."""

    enabled: bool = True          # False: upright only (framing detection; masking always looks in every turn)
    primary: int = 0
    _cuts: Cuts = field(default_factory=Cuts)
    _shot_start: int = 0
    _hot: dict[int, int] = field(default_factory=dict)          # turn -> last frame it was confirmed hot
    _seen: dict[int, list[int]] = field(default_factory=dict)   # turn -> recent frames it found a face alone
    _votes: dict[int, int] = field(default_factory=lambda: dict.fromkeys(TURNS, 0))
    _score: dict[int, float] = field(default_factory=lambda: dict.fromkeys(TURNS, 0))
    _base: dict[int, float] = field(default_factory=lambda: dict.fromkeys(TURNS, 0))
    faces: dict[int, int] = field(default_factory=lambda: dict.fromkeys(TURNS, 0))   # found as primary, or only there
    switched: list[tuple[int, int]] = field(default_factory=list)   # (frame, new primary turn)
    cuts: int = 0
    cut_frames: list[int] = field(default_factory=list)         # analysed frames that start a shot (0 left out)
    dark_frames: int = 0
    turned_passes: int = 0                                     # whole-frame passes in a non-primary turn

    def schedule(self, index: int, frame: np.ndarray) -> tuple[int, tuple[int, ...], bool]:
        """For a frame just decoded: its primary turn, the other turns to look in, and whether a
        shot starts here (the fine pass then runs on it)."""
        cut = self._cuts.starts(frame)
        if cut:
            self._shot_start = index
            if index > 0:
                self.cuts += 1
                self.cut_frames.append(index)
        others = [t for t in TURNS if t != self.primary] if self.enabled else []
        if index - self._shot_start < PARAMS.shot_start:
            extra = tuple(others)
        else:
            hot = [t for t in others if index - self._hot.get(t, -10**9) <= PARAMS.hot_frames
                   and index % PARAMS.hot_every == 0]
            due = ([others[(index // PARAMS.round_every) % len(others)]]
                   if others and index % PARAMS.round_every == 0 else [])
            extra = tuple(sorted(set(hot + due)))
        self.turned_passes += len(extra)
        return self.primary, extra, cut

    def settling(self, index: int) -> bool:
        """Whether frame ``index`` is among its shot's first ``PARAMS.shot_start`` frames."""
        return index - self._shot_start < PARAMS.shot_start

    def update(self, index: int, primary: int, found: list[Detection], whole: list[Detection],
               extra: dict[int, list[Detection]]) -> bool:
        """Record what the turns found on frame ``index`` (normalised upright boxes): ``found``, all
        the primary turn's faces; ``whole``, those of its whole-frame pass alone; ``extra``, each
        other turn's whole-frame pass. Returns True when the primary turn changes (later frames
        are scanned in the new one): when another turn's whole-frame pass, on the frames it ran,
        scored its faces ``PARAMS.switch_ratio`` times as high as the primary's whole-frame pass did
        (the same pass at the same size: a fair vote; the detector scores a turned face low)."""
        self.faces[primary] += len(found)
        changed = False
        base = sum(d.score for d in whole)
        for turn, dets in extra.items():
            alone = [d for d in dets if not any(overlaps(d, f, iou=0.3, contain=0.5) for f in found)]
            if alone:     # a face the primary missed, seen twice: the turn is hot (one sighting may be noise)
                seen = [i for i in self._seen.get(turn, []) if index - i <= PARAMS.hot_frames] + [index]
                self._seen[turn] = seen[-PARAMS.hot_after:]
                if len(seen) >= PARAMS.hot_after:
                    self._hot[turn] = index
            self.faces[turn] += len(alone)
            self._votes[turn] += len(dets)
            self._score[turn] += sum(d.score for d in dets)
            self._base[turn] += base
            if (not changed and primary == self.primary and self._votes[turn] >= PARAMS.switch_min
                    and self._score[turn] > PARAMS.switch_ratio * self._base[turn]):
                self.primary, changed = turn, True
                self.switched.append((index, turn))
        if changed:
            self._reset()
        return changed

    def _reset(self) -> None:
        self._votes, self._score, self._base = (dict.fromkeys(TURNS, 0) for _ in range(3))

    def summary(self) -> dict:
        """What ``report.json`` and the orientation warning read."""
        return {"primary": self.primary, "switched": [list(s) for s in self.switched],
                "faces_by_turn": {str(t): n for t, n in self.faces.items()}, "cuts": self.cuts,
                "cut_frames": list(self.cut_frames),
                "dark_frames": self.dark_frames, "turned_passes": self.turned_passes}


def picture_turn(summary: dict) -> int:
    """The turn the whole picture seems to need, 0 when it looks upright: the scan ended in that
    turn and it found more than ``PARAMS.switch_ratio`` times the faces the upright frame showed."""
    turn = int(summary.get("primary", 0))
    by_turn = {int(t): n for t, n in summary.get("faces_by_turn", {}).items()}
    n = by_turn.get(turn, 0)
    return turn if turn and n >= PARAMS.switch_min and n > PARAMS.switch_ratio * by_turn.get(0, 0) else 0


def orientation_notes(tracks) -> list[str]:
    """One warning line for each clip whose picture looks turned as a whole, with the fix."""
    lines = []
    for ft in tracks:
        turn = picture_turn(((ft.analysis or {}).get("turns") or {})) if ft is not None else 0
        if turn:
            way = "upside down" if turn == 180 else "on its side"
            lines.append(f"{ft.clip}: the picture looks {way}: its faces were found when it was turned {turn} degrees "
                         f"clockwise (they are masked either way); if the camera was mounted so, turn the published "
                         f"picture with rotate = {turn} in this clip's entry of episode.toml: "
                         f"clips = [{{file = \"{ft.clip}\", rotate = {turn}}}]")
    return lines
