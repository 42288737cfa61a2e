"""The output's geometry: the master frame's size and rate, and boxes as every stage passes them.

:data:`OUTPUT` is read once from ``presets/master.toml`` (``width``, ``height``, ``fps``) and is the
one home of the master's size and rate: reframing, face analysis and masking, captions, branding,
normalisation, the render and the review's previews import :data:`OUT_W`, :data:`OUT_H` and
:data:`FPS` from here.

Boxes are ``(x0, y0, x1, y1)``, normalised to the frame or in pixels. A face box may be drawn as an
ellipse when the preset asks; a :class:`Whole` box (a drawn region, a tracked object, a whole-frame
span) is always masked to its corners. Reframing, masking and the review keep a box's kind through
every mapping with :func:`same_kind`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.resources import data_dir, load_toml
from pipeline.core.values import number, span, wrong

Box = tuple[float, float, float, float]

# what presets/master.toml may say: an even frame (yuv420p halves both sides) and a whole rate
LIMITS = {"width": (16, 8192), "height": (16, 8192), "fps": (1, 120)}


@dataclass(frozen=True)
class Output:
    """The master every network shares: ``width`` x ``height`` pixels at a constant ``fps``."""

    width: int
    height: int
    fps: int

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def load_output(path: Path) -> Output:
    """The output geometry of the master profile at ``path``, checked: a missing or absurd value
    is a one-line error naming the file and the key."""
    data = load_toml(path)
    values = {}
    for key, (lo, hi) in LIMITS.items():
        if key not in data:
            raise CadreError(path, wrong(key, f"is missing; set it to {span(lo, hi, whole=True)}"))
        values[key] = number(path, key, data[key], lo, hi, whole=True)
    for key in ("width", "height"):
        if values[key] % 2:
            raise CadreError(path, wrong(key, f"{values[key]} must be even (H.264 4:2:0 halves each side)"))
    return Output(**values)


def _loaded() -> tuple[Output, CadreError | None]:
    """The master's geometry, or, when ``presets/master.toml`` is broken, a placeholder and the
    error: every module imports the size, so raising here would end any ``cadre`` command (and
    ``import pipeline``) in a traceback; :func:`check_output` raises the one-line error instead,
    before any command or render runs (``cli``, ``orchestrator.prepare``)."""
    try:
        return load_output(data_dir("presets") / "master.toml"), None
    except CadreError as exc:
        return Output(*(LIMITS[k][0] for k in ("width", "height", "fps"))), exc   # a placeholder no render uses


OUTPUT, _BROKEN = _loaded()


def check_output() -> None:
    """Raise the one-line error of a broken ``presets/master.toml``, if it is."""
    if _BROKEN is not None:
        raise _BROKEN


OUT_W, OUT_H = OUTPUT.size
FPS = OUTPUT.fps


class Whole(tuple):
    """A box masked to its corners whatever the preset's shape (regions, tracked objects, whole frame)."""


def same_kind(box, values) -> tuple:
    """``values`` as a box of the same kind as ``box`` (a :class:`Whole` stays whole)."""
    return Whole(values) if isinstance(box, Whole) else tuple(values)
