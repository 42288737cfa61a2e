"""Every tunable of the framing plan, declared once (as Whisper's ``DecodingOptions``).

The modules of ``reframe/`` read their numbers from :data:`FRAMING` and keep none of their own; the
framing cache key (:func:`pipeline.analyse.reframe_clip`) and the shots cache key
(:func:`pipeline.source.shots.detect_shots`, whose options live beside it) are hashes of these dataclasses, so changing any
number here plans the clips again (``tests/test_framing_options.py`` proves it field by field).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pipeline.source.shots import OPT as SHOT_OPTIONS
from pipeline.source.shots import ShotOptions


@dataclass(frozen=True)
class AutoOptions:
    """``auto``: ``follow`` for wide footage with people in it, ``fit`` otherwise."""

    wide_aspect: float = 1.3        # width / height at which footage is wide (4:3 and wider)
    people_share: float = 0.1       # share of the clip's frames with a face on screen
    min_track_frames: int = 10      # a track shorter than this (first to last detection) is not a person


@dataclass(frozen=True)
class SubjectOptions:
    """Who is in a shot and who matters (``subjects.py``)."""

    margin: float = 0.35            # room kept beside each face, in face widths
    matter_size: float = 0.6        # a face matters if its median height is >= 60 % of the main face's ...
    matter_presence: float = 0.3    # ... and it is on screen at least 30 % as much as the main face
    fit_width: float = 0.9          # faces that matter spanning more than 90 % of the window overflow it
    fit_share: float = 0.2          # shot shown whole when the faces that matter overflow the window this often
    hold: int = 6                   # frames a face is assumed to stay put past its first and last detection
    link_gap: int = 20              # frames: a track that starts this soon after another ended may continue it
                                    # (0.4 s of missed detections and a miss either side) ...
    link_speed: float = 0.06        # ... when its face moved at most this fraction of the width per frame meanwhile
    link_size: float = 1.5          # ... and is about the same size
    centre_weight: float = 1.0      # main face without speech: a face at the frame's edge weighs about half as much
    box_smooth: int = 5             # frames of the box filter over the interpolated face boxes
    median_reach: int = 1           # keyframes this many frames apart (or closer) take the median of 5, else of 3
                                    # (2 flattened turns of a person detected every 2nd frame)
    max_table_mib: int = 256        # a section whose subjects table (7 values per person and frame) would pass
                                    # this is planned in halves (bounded.py): a 10-minute crowd shot held ~1.8 GB


@dataclass(frozen=True)
class PathOptions:
    """The window's path through a shot, its containment check and repairs (``path.py``)."""

    max_speed: float = 0.008        # window speed cap, fraction of the frame width per frame (1 % is the limit)
    smooth: int = 15                # frames of each of the two box filters that round the path's corners
    band_still: float = 0.30        # a still window only needs the subjects' centre within +-30 % of its middle
    tolerance: float = 0.75         # px: how far the integer pieces may stray from the planned path
    pad: float = 0.15               # the main face and this many face widths each side must be inside the window
    hard_speed: float = 0.03        # a repaired stretch may pan up to 3 % of the width per frame; faster needs a cut
    smooth_fast: int = 5            # frames of the box filters of a repaired stretch (more acceleration allowed)
    lead: int = 30                  # frames before a containment failure a repair may start moving (anticipation)
    trail: int = 10                 # frames after it to settle back onto the planned path
    max_cuts: int = 3               # cuts per repaired stretch at most
    headroom: float = 1 / 3         # in a window shorter than the frame, the face centre sits this far down
    # the followed face through a gap in its detections (a run of misses, a track cut in two)
    gap_min: int = 3                # frames between two kept detections (and 1.5x their usual spacing) make a gap ...
    gap_max: int = 45               # ... bridged up to this long (longer: the person may have gone)
    gap_span: int = 8               # frames of keyframes each side the face's speed is fitted on
    gap_spread: float = 2.0         # slack of the guess: this x the change of speed across the gap x d(g-d)/g
                                    # (chosen, with gap_span, on bench_follow draws 10-29)


@dataclass(frozen=True)
class StackOptions:
    """Two groups of people, one above the other (``stack.py``)."""

    zoom: float = 4.0               # panel window height, in face heights
    min_height: float = 0.5         # ... but at least half the frame height
    presence: float = 0.5           # each group must be on screen in at least half of the shot's frames
    face_row: float = 0.4           # the faces' centre sits this far down the panel
    room: float = 0.35              # room kept beside a group, in face widths (as the subjects' margin)


@dataclass(frozen=True)
class SpeakerOptions:
    """Which face speaks (``speaker.py``)."""

    width: int = 640                # decode width (the face analysis's own)
    gap: int = 2                    # frames between the two frames compared
    samples: int = 60               # word frames sampled per section at most (keeps it cheap on long shots)
    min_word_frames: int = 8        # fewer word frames with two faces on screen: no decision
    min_face_px: int = 24           # a face shorter than this (decoded px) has no measurable mouth
    grid: tuple[int, int] = (12, 6)          # each band shrunk to this many cells (w, h): per-cell change, size-free
    mouth: tuple[float, float] = (0.62, 0.98)  # rows of the face box (fractions of its height) that hold the mouth ...
    eyes: tuple[float, float] = (0.15, 0.45)   # ... and the eyes (the reference: the head's own motion)
    sides: tuple[float, float] = (0.2, 0.8)    # columns of the box both bands use
    texture_floor: float = 2.0      # grey levels added to a band's texture (a flat band's noise is not motion)
    ratio: float = 1.5              # the mouth changes this many times as much as the eyes, its excess this many
                                    # times the next face's ...
    floor: float = 0.15             # ... and at least this much (texture units: a still face scores about 0.05
                                    # through encoding noise, a talking one 0.4, a nodding or panned one 0.0-0.05)


@dataclass(frozen=True)
class FollowOptions:
    """How each shot is framed (``follow.py``)."""

    band_pan: float = 0.15          # a panning window keeps the subjects' centre within +-15 % of its middle
    min_face_share: float = 0.15    # a shot "has a subject" when the main face is on screen this share of it ...
    min_face_frames: int = 10       # ... or on this many frames
    expr_budget: int = 12000        # characters of crop expression per clip (the whole graph is one argument)
    max_tolerance: float = 64.0     # px: the pieces are coarsened up to this to fit the budget
    apart_min: int = 15             # faces that matter apart this many frames in a row: stack or fit for that stretch
    motion_share: tuple[float, float] = (0.01, 0.5)   # a faceless shot's change is local: this share of pixels
    motion_frames: tuple[int, float] = (5, 0.3)       # ... on at least this many frames and this share of them


@dataclass(frozen=True)
class DetectionOptions:
    """Faces for framing only (masking off): a person worth aiming at is big; detected every 2nd frame
    (every 6th, a jogger's or an erratic walker's path between two detections is not known well
    enough to keep the face whole: 78 % of frames at best with exact linking, ``bench_follow``)."""

    detect_every: int = 2
    tile_every: int = 30
    min_face_px: int = 80


@dataclass(frozen=True)
class FramingOptions:
    """All the numbers of the framing plan, one section per module."""

    auto: AutoOptions = field(default_factory=AutoOptions)
    shots: ShotOptions = SHOT_OPTIONS   # declared beside the shot detector (source/shots.py), the one instance it reads
    subjects: SubjectOptions = field(default_factory=SubjectOptions)
    path: PathOptions = field(default_factory=PathOptions)
    stack: StackOptions = field(default_factory=StackOptions)
    speaker: SpeakerOptions = field(default_factory=SpeakerOptions)
    follow: FollowOptions = field(default_factory=FollowOptions)
    detection: DetectionOptions = field(default_factory=DetectionOptions)

    def key(self) -> dict:
        """The options as plain data, for a cache key (every field, nested sections included)."""
        return asdict(self)


FRAMING = FramingOptions()
