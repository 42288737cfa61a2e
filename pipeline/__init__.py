"""Cadre: raw footage in, checked vertical clips out.

The package reads as the stages of the job:

    probe -> analyse (transcribe, faces, reframe) -> plan -> render -> validate -> report

The click CLI in :mod:`pipeline.cli` is a thin layer over these modules.
"""
from pipeline.version import __version__  # noqa: F401
