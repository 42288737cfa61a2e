"""Run every benchmark (``benchmarks/bench_*.py``) in turn with its default arguments, each in its
own process, then print a summary table: exit code and wall time of each. Exits 1 if any failed.

    python benchmarks/run_all.py [--only NAME ...] [--list]

``make bench`` runs this. NAME is a benchmark's name with or without ``bench_`` and ``.py``
(``--only masking`` runs ``bench_masking.py``). Each benchmark prints its own tables as it goes.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> list[Path]:
    return sorted(HERE.glob("bench_*.py"))


def short(path: Path) -> str:
    return path.stem.removeprefix("bench_")


def select(names: list[str]) -> list[Path]:
    found = {short(p): p for p in benchmarks()}
    chosen = []
    for name in names:
        key = Path(name).stem.removeprefix("bench_")
        if key not in found:
            raise SystemExit(f"run_all.py: no benchmark called {name!r}; choose from: {', '.join(found)}")
        chosen.append(found[key])
    return chosen


def run(path: Path) -> tuple[int, float]:
    print(f"\n=== {path.name} ===", flush=True)
    start = time.monotonic()
    try:
        code = subprocess.run([sys.executable, str(path)], cwd=HERE.parent).returncode
    except KeyboardInterrupt:
        code = 130
    return code, time.monotonic() - start


def summary(results: list[tuple[str, int, float]]) -> str:
    width = max([len("benchmark")] + [len(n) for n, _, _ in results])
    lines = [f"{'benchmark':{width}}  {'exit':>4}  {'wall':>9}  result", f"{'-' * width}  ----  ---------  ------"]
    for name, code, seconds in results:
        lines.append(f"{name:{width}}  {code:>4}  {seconds:>8.1f}s  {'ok' if code == 0 else 'FAILED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run each benchmarks/bench_*.py with its default arguments, "
                                             "then print each one's exit code and wall time.",
                                 epilog=f"benchmarks: {', '.join(short(p) for p in benchmarks())}")
    ap.add_argument("--only", action="append", metavar="NAME", default=[],
                    help="run only this benchmark (repeatable), e.g. --only masking")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(p.name for p in benchmarks()))
        return 0
    chosen = select(args.only) if args.only else benchmarks()
    results = []
    for path in chosen:
        code, seconds = run(path)
        results.append((path.name, code, seconds))
        if code == 130:   # Ctrl-C: stop here, still show what ran
            break
    print("\n" + summary(results))
    failed = [n for n, code, _ in results if code != 0]
    if failed:
        print(f"\n{len(failed)} of {len(results)} benchmarks failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
