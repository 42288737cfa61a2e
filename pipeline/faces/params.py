"""Every tunable of the face analysis, declared once (as whisper's ``DecodingOptions``).

What a cached face analysis depends on besides the clip, the preset's analysis keys and the model
is exactly this dataclass: :meth:`FaceParams.key` is part of the cache key (``analysis.py``), so
changing any value here re-analyses (``tests/test_face_params.py`` proves it for each field). The
modules that use a value read it from :data:`PARAMS`; the render-time shaping of the masks
(growth, padding, aspect: ``tracking.py``) is not cached and is not here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.core.cache import make_key
from pipeline.core.geometry import OUT_H, OUT_W


@dataclass(frozen=True)
class FaceParams:
    # scan.py: sizes
    detect_min_px: int = 17            # smallest face (px tall) CenterFace finds reliably at threshold 0.3
    margin_px: int = 2                 # localisation error of a detected box, in detector pixels, per side
    max_detect_pixels: int = int(2.4 * OUT_W * OUT_H)   # most detector pixels a fine pass may cost
    fine_tile_pixels: int = 720_000    # detector pixels of one fine tile (the network's memory grows with it)
    # detectors/tiling.py
    tile: tuple[int, int] = (640, 384)  # largest tile fed to the detector (w, h), in detector pixels
    overlap: int = 96                  # detector pixels shared by neighbouring tiles
    tile_edge: int = 2                 # a box this close to an inner tile edge is a cut face
    # detectors/centerface.py
    tilt_slack: float = 1.10           # share of a tilted face's larger box that the mask's pad already covers
    # revisit.py: looks around the small faces between two fine passes
    revisit_every: int = 2             # frames between two looks around the known small faces
    reach: float = 1.5                 # a window spans the face's box grown by this many face heights on each side
    min_reach_px: int = 16             # ... and by at least this many read pixels
    hysteresis: float = 0.5            # around a known face, a detection counts from this fraction of the threshold
    small: float = 2.0                 # a face under this many detect_min_px tall in the whole-frame pass is small
    grid: int = 8                      # read pixels per cell of the grid that joins neighbouring windows
    # motion.py: the camera's motion read from the pixels, so the looks follow a pan or a zoom
    motion_width: int = 480            # read pixels across the grey copy the motion is read on
    motion_corners: int = 150          # corners followed from one frame to the next
    motion_points: int = 20            # corners that must agree on one step of the camera ...
    motion_agree: float = 0.5          # ... and at least this share of the corners followed
    motion_max_turn: float = 0.02      # a step turning the picture more than this (radians) is no pan or zoom
    # turns.py: turned and dark frames
    shot_start: int = 4                # frames of a shot on which every turn is looked at
    round_every: int = 4               # frames between two whole-frame passes of a non-primary turn
    hot_frames: int = 30               # a turn that found a face the primary missed runs more often this long ...
    hot_every: int = 3                 # ... on every hot_every-th frame
    hot_after: int = 2                 # faces a turn must find alone (within hot_frames) before it is hot
    cut_diff: float = 12.0             # mean absolute difference (0..255) of 32x18 grey thumbnails that marks a cut
                                       # (a pan moves them by about 1; a false cut costs only a few passes) ...
    cut_jump: float = 3.0              # ... and this many times the difference before it (a zoom is no cut), or
    cut_colours: float = 0.5           # ... colours this far apart (Bhattacharyya distance of HSV histograms) and
                                       # this many times the colour change before it: a cut right after a fast pan
                                       # or zoom (whose own frames differ as much as a cut's; a whip pan of 800 px a
                                       # frame over the labelled photos moves colours by 0.37 at most, 1.6x the step
                                       # before)
    switch_min: int = 3                # faces a turn's whole-frame passes found before it may become primary ...
    switch_ratio: float = 1.5          # ... scoring this many times what the primary's whole-frame passes scored
    dark_luma: int = 60                # mean luma (0..255) under which a frame is equalised before detection
    clahe_clip: float = 2.0
    clahe_grid: tuple[int, int] = (8, 8)
    # tracking.py: linking detections (cached as tracks)
    match_distance: float = 0.8        # centre distance, in box sizes, to link a detection to a track
    max_speed: float = 0.15            # cap on a track's extrapolated speed, in box sizes per frame
    size_ratio: float = 2.0            # largest size change between linked detections
    unseen_reach: float = 0.15         # a track of one detection (speed unknown) may link this many box sizes
                                       # further per frame unseen after the first (as max_speed)
    gap_fine_passes: int = 3           # a track dies after this many fine passes without a detection ...
    min_gap: int = 10                  # ... and never sooner than this many frames
    # camera.py: the camera's motion read from the faces (a fast pan or zoom must not cut tracks)
    camera_min_faces: int = 3          # faces that must agree on one motion (fewer: no camera motion is read)
    camera_max_zoom: float = 2.5       # largest zoom between two analysed frames holding faces
    camera_fit: float = 0.5            # centre distance (face sizes) and size change of a face carried onto a face
    camera_most: int = 24              # faces of each frame the estimate looks at (highest scores)
    camera_seeds: int = 8              # faces of the earlier frame whose pairs are tried as the motion
    # tracking.py (render-time shaping, declared here as every tunable added for issue 29)
    jump_sweep: float = 0.25           # between keyframes that jumped, the path swept this share either side
    union_slack: float = 1.5           # overlapping face boxes of a frame join when their union is at most this x both

    def key(self) -> str:
        return make_key(asdict(self))


PARAMS = FaceParams()
