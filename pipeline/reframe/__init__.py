"""Reframe strategies, one module each, behind :class:`~pipeline.reframe.base.Reframer`."""
from __future__ import annotations

from pipeline.core.errors import CadreError
from pipeline.reframe.base import OUT_H, OUT_W, Placement, Reframer
from pipeline.reframe.crop import CropReframer
from pipeline.reframe.fit import FitReframer
from pipeline.reframe.follow import FollowPlan, FollowReframer

STRATEGIES: dict[str, type[Reframer]] = {"fit": FitReframer, "crop": CropReframer, "follow": FollowReframer,
                                         "auto": FollowReframer}
PLANNED = ("follow", "auto")   # strategies that need the clip's analysis (faces, shots)
VERTICAL_TOLERANCE = 0.03  # a portrait source within 3 % of 9:16 is scaled, not reframed


def is_vertical(size: tuple[int, int]) -> bool:
    """A portrait source close enough to 9:16 to be scaled as it is."""
    w, h = size
    return h > w and abs((w / h) / (OUT_W / OUT_H) - 1) <= VERTICAL_TOLERANCE


def make_reframer(name: str, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.5),
                  plan: FollowPlan | None = None) -> Reframer:
    """The strategy ``name`` for a clip of working ``size``; near-9:16 sources pass through, scaled.

    ``follow`` and ``auto`` need the ``plan`` made from the clip's analysis
    (:func:`pipeline.analyse.analyse_clip` builds it); a ``plan`` with other strategies carries the
    clip's ``[[reframe_spans]]`` overrides.
    """
    if name not in STRATEGIES:
        raise CadreError(name, f"unknown reframe strategy; choose one of: {', '.join(STRATEGIES)}")
    if is_vertical(size):
        return CropReframer(size, (0.5, 0.5))
    if plan is not None:
        return FollowReframer(size, focus, plan, name)
    if name in PLANNED:
        raise CadreError(name, "this strategy needs the clip's face and shot analysis; "
                               "build it with pipeline.analyse.analyse_clip")
    return STRATEGIES[name](size, focus)


__all__ = ["OUT_W", "OUT_H", "Placement", "Reframer", "STRATEGIES", "PLANNED", "FollowPlan", "FollowReframer",
           "is_vertical", "make_reframer"]
