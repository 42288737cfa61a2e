"""Run every benchmark (``benchmarks/bench_*.py``) in turn with its default arguments, each in its
own process, then print a summary: each one's exit code, wall time, and whether it met its targets.
Exits non-zero if any benchmark missed a target or failed to run.

    python -m benchmarks [--only NAME ...] [--list]

``make bench`` runs this. NAME is a benchmark's name with or without ``bench_`` and ``.py``
(``--only masking`` runs ``bench_masking.py``). A benchmark that ran to its end and missed a target
exits with :data:`benchmarks.common.MISSED` and says which targets in its record
(``benchmarks/results/NAME.json``); any other non-zero exit is an error.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import MISSED, RESULTS

HERE = Path(__file__).resolve().parent


def benchmarks(folder: Path = HERE) -> list[Path]:
    return sorted(folder.glob("bench_*.py"))


def short(path: Path) -> str:
    return path.stem.removeprefix("bench_")


def select(names: list[str], folder: Path = HERE) -> list[Path]:
    found = {short(p): p for p in benchmarks(folder)}
    chosen = []
    for name in names:
        key = Path(name).stem.removeprefix("bench_")
        if key not in found:
            raise SystemExit(f"benchmarks: no benchmark called {name!r}; choose from: {', '.join(found)}")
        chosen.append(found[key])
    return chosen


def verdict(code: int) -> str:
    return {0: "ok", MISSED: "MISSED", 130: "interrupted"}.get(code, "ERROR")


def run(path: Path) -> tuple[int, float]:
    print(f"\n=== {path.name} ===", flush=True)
    start = time.monotonic()
    module = f"{path.parent.name}.{path.stem}"
    try:
        code = subprocess.run([sys.executable, "-m", module], cwd=path.parent.parent).returncode
    except KeyboardInterrupt:
        code = 130
    return code, time.monotonic() - start


def missed_checks(path: Path) -> str:
    """The metrics the benchmark's record marks as missed (its record is ``results/NAME.json``)."""
    try:
        rec = json.loads((RESULTS / f"{short(path)}.json").read_text())
    except (OSError, ValueError):
        return ""
    return "; ".join(c["metric"] for c in rec.get("checks", []) if not c.get("ok"))


def summary(results: list[tuple[Path, int, float]]) -> str:
    width = max([len("benchmark")] + [len(p.name) for p, _, _ in results])
    lines = [f"{'benchmark':{width}}  {'exit':>4}  {'wall':>9}  result", f"{'-' * width}  ----  ---------  ------"]
    for path, code, seconds in results:
        why = f" ({missed_checks(path)})" if code == MISSED else ""
        lines.append(f"{path.name:{width}}  {code:>4}  {seconds:>8.1f}s  {verdict(code)}{why}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, folder: Path = HERE) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks",
                                 description="Run each benchmarks/bench_*.py with its default arguments, then "
                                             "print each one's exit code, wall time and verdict.",
                                 epilog=f"benchmarks: {', '.join(short(p) for p in benchmarks(folder))}; "
                                        "`python -m benchmarks NAME [ARGS]` runs one, "
                                        "`python -m benchmarks table` renders docs/BENCHMARKS.md")
    ap.add_argument("--only", action="append", metavar="NAME", default=[],
                    help="run only this benchmark (repeatable), e.g. --only masking")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(short(p) for p in benchmarks(folder)))
        return 0
    chosen = select(args.only, folder) if args.only else benchmarks(folder)
    results = []
    for path in chosen:
        code, seconds = run(path)
        results.append((path, code, seconds))
        if code == 130:   # Ctrl-C: stop here, still show what ran
            break
    print("\n" + summary(results))
    missed = [p.name for p, code, _ in results if code == MISSED]
    failed = [p.name for p, code, _ in results if code not in (0, MISSED)]
    if missed:
        print(f"\n{len(missed)} of {len(results)} benchmarks MISSED a target: {', '.join(missed)}")
    if failed:
        print(f"{len(failed)} of {len(results)} benchmarks FAILED to run: {', '.join(failed)}")
    if not missed and not failed:
        print(f"\nall {len(results)} benchmarks met their targets (records in {RESULTS})")
    return 1 if failed else MISSED if missed else 0


if __name__ == "__main__":
    sys.exit(main())
