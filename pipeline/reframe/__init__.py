"""Reframe strategies, one module each, behind :class:`~pipeline.reframe.base.Reframer`."""
from __future__ import annotations

from ..errors import CadreError
from .base import OUT_H, OUT_W, Placement, Reframer
from .crop import CropReframer
from .fit import FitReframer

STRATEGIES: dict[str, type[Reframer]] = {"fit": FitReframer, "crop": CropReframer}
VERTICAL_TOLERANCE = 0.03  # a portrait source within 3 % of 9:16 is scaled, not reframed


def make_reframer(name: str, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.5)) -> Reframer:
    """The strategy ``name`` for a clip of working ``size``; near-9:16 sources pass through, scaled."""
    if name not in STRATEGIES:
        raise CadreError(name, f"unknown reframe strategy; choose one of: {', '.join(STRATEGIES)}")
    w, h = size
    if h > w and abs((w / h) / (OUT_W / OUT_H) - 1) <= VERTICAL_TOLERANCE:
        return CropReframer(size, (0.5, 0.5))
    return STRATEGIES[name](size, focus)


__all__ = ["OUT_W", "OUT_H", "Placement", "Reframer", "STRATEGIES", "make_reframer"]
