"""Whisper precision (CTranslate2 compute type) chosen from what this CPU offers.

CPUs of the same kind differ: an Intel machine with MKL offers ``int16``, an AMD EPYC with AVX
but no AVX2 offers only ``int8``, ``int8_float32`` and ``float32``. Asking CTranslate2 for a type
the CPU lacks ends in a traceback, so Cadre asks first:

- ``compute_type = "auto"`` (the default) takes the first type of :data:`AUTO_ORDER` the CPU offers;
- an explicit type the CPU lacks, or a name that is no compute type, is a one-line
  :class:`~pipeline.core.errors.CadreError` naming the types this machine has.

The resolved (concrete) type is what goes into the transcript cache key and ``report.json``.
"""
from __future__ import annotations

import functools

from pipeline.core.errors import CadreError

AUTO = "auto"
# Every compute type name CTranslate2 knows (its own "auto"/"default" are replaced by ours).
KNOWN_TYPES = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16",
               "float32")

# Preference for "auto": the most accurate of the fast types first. Measured with
# `python benchmarks/bench_asr.py --repeat 1 --threads 2` (Whisper base, beam 5, Cadre's decoding;
# 4 French clips, 44 s, + 1 English clip; 2-core AMD EPYC whose CTranslate2 offers int8,
# int8_float32, float32; load average ~5, so CPU RTF is the steadier figure):
#   type           WER fr   WER en   RTF    CPU RTF
#   int8           18.6 %   0.0 %    0.291  0.239
#   int8_float32   18.6 %   0.0 %    0.248  0.244   (same words as int8: on CPU int8 *is* int8_float32)
#   float32        20.4 %   0.0 %    0.436  0.345   (same words as openai-whisper, CPU RTF 2.9 under that load)
# The order comes from these numbers, not from another machine's: int8_float32 and int8 give the
# same words, ~1.4x faster than float32 and not less accurate (the 1.8-point gap is 2 words of ~110),
# so they come first. int16 could not be measured here (not offered); it is tried before float32
# only where a CPU lacks both int8 types. float32 is last: everyone offers it, and it is the slowest.
AUTO_ORDER = ("int8_float32", "int8", "int16", "float32")


@functools.lru_cache(maxsize=1)
def supported_types() -> tuple[str, ...]:
    """The compute types CTranslate2 offers on this machine's CPU (asked once per process)."""
    import ctranslate2

    offered = set(ctranslate2.get_supported_compute_types("cpu"))
    # in CTranslate2's own order of the known types, so messages read the same on every machine
    return tuple(t for t in KNOWN_TYPES if t in offered) + tuple(sorted(offered - set(KNOWN_TYPES)))


def check_name(requested: str) -> str:
    """``requested`` if it names a compute type (or ``auto``); a one-line CadreError if not.
    Needs no CTranslate2: settings files are checked with it before anything loads."""
    if requested != AUTO and requested not in KNOWN_TYPES:
        raise CadreError(f"--compute-type {requested}",
                         f"not a compute type; choose auto or one of {', '.join(KNOWN_TYPES)}")
    return requested


def resolve_compute_type(requested: str, supported=None) -> str:
    """The concrete compute type to load: ``auto`` -> the first of :data:`AUTO_ORDER` the CPU
    offers; an explicit type -> itself if offered, else a CadreError naming the offered types."""
    check_name(requested)
    offered = tuple(supported) if supported is not None else supported_types()
    if requested == AUTO:
        for candidate in AUTO_ORDER:
            if candidate in offered:
                return candidate
        if not offered:
            raise CadreError("--compute-type auto", "CTranslate2 offers no compute type on this CPU; "
                                                    "use --engine openai-whisper")
        return offered[0]
    if requested not in offered:
        raise CadreError(f"--compute-type {requested}",
                         f"this CPU's CTranslate2 offers {', '.join(offered)}; choose one of those or auto")
    return requested


def describe() -> dict:
    """For ``cadre doctor``: what this CPU offers and what ``auto`` picks."""
    offered = list(supported_types())
    try:
        auto = resolve_compute_type(AUTO, offered)
    except CadreError:
        auto = None
    return {"supported": offered, "auto": auto, "order": list(AUTO_ORDER)}


def report_fields(asr: dict) -> dict:
    """The ``asr`` section of ``report.json`` for an episode's ``[asr]`` settings: the engine and
    the compute type actually used on this machine (``auto`` resolved)."""
    engine = asr.get("engine", "faster-whisper")
    requested = asr.get("compute_type", AUTO)
    try:
        concrete = resolve_compute_type(check_name(requested))
    except CadreError:
        concrete = None   # the transcription stage reports the problem with its own message
    return {"engine": engine, "compute_type": concrete if engine == "faster-whisper" else None,
            "compute_type_requested": requested}
