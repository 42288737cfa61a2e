"""The picture signals of a rush, from one small, sparse decode of the whole file.

ffmpeg decodes at :attr:`LookOptions.fps` frames a second, scaled to 160x90, skipping the loop
filter and the frames nothing refers to (the picture is only measured, never shown). Each frame
gives: black (mean luma), blank (no detail: a wall, a lens cap, snow averaged out), noise (TV snow:
neighbouring pixels uncorrelated), how much changed since the frame before, and the shot cuts of
PySceneDetect's ``AdaptiveDetector`` with the thresholds of :mod:`pipeline.source.shots`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import PipeFailed, pipe_chunks
from pipeline.propose.options import LookOptions
from pipeline.source.shots import OPT as SHOT_OPTIONS


@dataclass
class Picture:
    """Per second of the rush: what the picture shows (one value per whole second)."""

    seconds: int = 0
    motion: list[float] = field(default_factory=list)     # mean luma change per frame (0-255), the second's most
    moving: list[float] = field(default_factory=list)     # share of pixels that changed, the second's most
    dead: list[bool] = field(default_factory=list)        # black, blank or snow for most of the second
    cuts: list[float] = field(default_factory=list)       # shot cuts, seconds

    def to_dict(self) -> dict:
        return {"seconds": self.seconds, "motion": [round(v, 3) for v in self.motion],
                "moving": [round(v, 4) for v in self.moving], "dead": self.dead,
                "cuts": [round(c, 2) for c in self.cuts]}

    @classmethod
    def from_dict(cls, d: dict) -> "Picture":
        return cls(int(d["seconds"]), list(d["motion"]), list(d["moving"]), [bool(x) for x in d["dead"]],
                   list(d["cuts"]))


def frame_state(grey: np.ndarray, opt: LookOptions) -> str:
    """``black``, ``blank``, ``snow`` or ``picture`` for one small grey frame."""
    g = grey.astype(np.float32)
    if g.mean() < opt.black_luma:
        return "black"
    detail = np.abs(np.diff(g, axis=1)).mean()
    if detail < opt.flat_detail:
        return "blank"
    d = g - g.mean()
    power = float((d * d).sum())
    corr = float((d[:, :-1] * d[:, 1:]).sum() + (d[:-1, :] * d[1:, :]).sum()) / (2 * power) if power else 1.0
    return "snow" if corr < opt.snow_correlation else "picture"


def _frames(path, opt: LookOptions):
    """``(seconds, bgr frame)`` at ``opt.fps``, decoded small by one ffmpeg process."""
    w, h = opt.width, opt.height
    args = ["-skip_loop_filter", "all", "-skip_frame", "noref", "-i", str(path), "-map", "0:v:0", "-an",
                   "-vf", f"fps={opt.fps:g},scale={w}:{h}", "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:"]
    n, reason = 0, None
    try:
        for buf in pipe_chunks(args, w * h * 3):
            yield n / opt.fps, np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            n += 1
    except PipeFailed as failed:
        reason = str(failed)
    if reason is not None or n == 0:
        raise CadreError(path, f"the picture cannot be decoded ({reason or 'no frame'}); export the rush again "
                               "or move it out of the rushes folder")


def look(path, duration: float, opt: LookOptions) -> Picture:
    """The picture signals of the rush at ``path`` (``duration`` seconds long)."""
    from scenedetect import AdaptiveDetector, FrameTimecode

    detector = AdaptiveDetector(adaptive_threshold=SHOT_OPTIONS.adaptive_threshold,
                                min_scene_len=max(1, round(opt.min_shot_seconds * opt.fps)),
                                min_content_val=SHOT_OPTIONS.min_content)
    seconds = max(1, int(np.ceil(duration)))
    motion, moving = np.zeros(seconds), np.zeros(seconds)
    dead, seen = np.zeros(seconds), np.zeros(seconds)
    cuts: list[int] = []
    prev, prev_dead, code = None, True, None
    for t, bgr in _frames(path, opt):
        s = min(int(t), seconds - 1)
        raw = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        is_dead = frame_state(raw, opt) != "picture"
        grey = cv2.GaussianBlur(raw, (3, 3), 0)
        seen[s] += 1
        dead[s] += is_dead
        if prev is not None and not is_dead and not prev_dead:
            diff = cv2.absdiff(grey, prev)
            motion[s] = max(motion[s], float(diff.mean()))
            moving[s] = max(moving[s], float((diff > SHOT_OPTIONS.motion_floor).mean()))
        code = FrameTimecode(int(round(t * opt.fps)), fps=opt.fps)
        cuts += [c.frame_num for c in detector.process_frame(code, bgr)]
        prev, prev_dead = grey, is_dead
    if code is not None:
        cuts += [c.frame_num for c in detector.post_process(code)]
    dead_s = [bool(seen[i] == 0 or dead[i] * 2 >= seen[i]) for i in range(seconds)]
    return Picture(seconds, motion.tolist(), moving.tolist(), dead_s, sorted({c / opt.fps for c in cuts if c > 0}))
