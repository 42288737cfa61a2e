"""Every number ``cadre propose`` decides by, declared once (their hash is in the cache keys)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class LookOptions:
    """The picture signals: one small, sparse decode of the whole rush (:mod:`pipeline.propose.look`)."""

    fps: float = 5.0              # frames looked at per second
    width: int = 160              # decode size: enough for change, cuts, black and snow
    height: int = 90
    black_luma: float = 28.0      # mean luma (0-255, limited range: black is 16) under which a frame is black
    flat_detail: float = 3.0      # mean absolute gradient under which a frame shows nothing (a wall, a lens cap)
    snow_correlation: float = 0.5  # neighbour correlation under which a frame is noise (TV snow, a dead sensor)
    moving: float = 1.2           # mean absolute luma change per frame (0-255) over which the picture moves
    still_share: float = 0.004    # share of pixels changed by more than the shots' motion floor: a still picture
    min_shot_seconds: float = 1.0


@dataclass(frozen=True)
class ListenOptions:
    """The sound signals: voice activity on the whole file and sound events (:mod:`pipeline.propose.listen`)."""

    hop: float = 0.5              # seconds per loudness / spectrum step
    vad_window: float = 300.0     # seconds of audio per VAD call (regions touching a window edge are joined)
    vad_threshold: float = 0.5    # Silero's speech probability
    vad_min_silence_ms: int = 500
    vad_pad_ms: int = 200
    quiet_db: float = -50.0       # under this RMS level (dBFS) nothing is heard
    jump_db: float = 12.0         # a step this much louder than the median of the 4 s before: a loud change
    jump_floor_db: float = -32.0  # ... and at least this loud
    siren_band: tuple[float, float] = (450.0, 1800.0)   # Hz where a siren's tone sweeps
    siren_peak: float = 12.0      # its peak over the band's median power
    siren_steps: int = 4          # consecutive tonal steps (2 s) with the tone moving: a siren


@dataclass(frozen=True)
class CutOptions:
    """How stretches are cut from the signals (:mod:`pipeline.propose.stretches`)."""

    min_seconds: float = 15.0     # a proposal's length (then clamped to the networks' limits)
    max_seconds: float = 60.0
    join_gap: float = 2.0         # sentences closer than this belong to one passage
    pause_ends_sentence: float = 1.2   # a pause this long ends a sentence even without punctuation
    lead: float = 0.5             # room before the first word and after the last one, when there is room
    tail: float = 0.8
    word_margin: float = 0.1      # never closer than this to a word outside the stretch
    snap: float = 1.5             # a shot cut this close to an edge (in the silence) moves the edge to it
    vad_cover: float = 0.3        # a passage must be at least this much voice activity (not Whisper in wind)
    motion_gap: float = 2.0       # still seconds bridged inside a moving stretch (no speech in the rush)
    motion_min: float = 4.0       # moving seconds needed to propose a stretch from motion
    event_context: float = 7.0    # seconds kept each side of a sound event (no speech in the rush)


@dataclass(frozen=True)
class ProposeOptions:
    """One ``cadre propose`` run."""

    networks: tuple[str, ...] = ()   # empty: the campaign's networks
    count: int = 20                  # proposals kept, best scored first
    thumbnails: int = 4              # frames per proposal in the page (faces masked)
    look: LookOptions = field(default_factory=LookOptions)
    listen: ListenOptions = field(default_factory=ListenOptions)
    cut: CutOptions = field(default_factory=CutOptions)

    def signal_key(self) -> dict:
        return {"look": asdict(self.look), "listen": asdict(self.listen)}
