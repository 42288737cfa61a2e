"""``python -m benchmarks``: run every benchmark; ``python -m benchmarks NAME [ARGS...]``: one of
them (``masking`` runs ``benchmarks/bench_masking.py`` with ARGS); ``python -m benchmarks table``:
render ``docs/BENCHMARKS.md`` from the committed records; ``--list``: the benchmarks' names.

Each benchmark writes ``benchmarks/results/NAME.json`` and exits non-zero when a target is missed.
"""
from __future__ import annotations

import runpy
import sys

from benchmarks import run_all


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        return run_all.main(argv)
    name, rest = argv[0], argv[1:]
    if name == "table":
        from benchmarks import table

        return table.main(rest)
    path = run_all.select([name])[0]
    sys.argv = [str(path), *rest]
    try:
        runpy.run_module(f"benchmarks.{path.stem}", run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
