"""Cadre's benchmarks: ``python -m benchmarks [NAME] [ARGS]`` (see ``__main__.py``)."""
