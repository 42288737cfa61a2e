"""The benchmark harness (``benchmarks/common.py``, ``run_all``, ``table``): a record is written with its
machine facts, a missed target exits non-zero and ``run_all`` says so. The metric here is a tiny
fake one (a number read from the environment): the harness is under test, not a measure."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import run_all, table
from benchmarks.common import MISSED

ROOT = Path(__file__).resolve().parent.parent
TINY = '''
import os, sys
from benchmarks.common import Benchmark, check, info

bench = Benchmark("tiny", "a fake metric read from TINY_VALUE", baselines=["two"])
bench.add(check("tiny value", float(os.environ["TINY_VALUE"]), "<=", 1.0, baseline=2.0, unit="x"))
bench.add(info("a figure without a target", 7))
sys.exit(bench.finish({"raw": [1, 2]}))
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A folder ``fakebench`` holding one benchmark, records written to ``tmp/results``."""
    folder = tmp_path / "fakebench"
    folder.mkdir()
    (folder / "bench_tiny.py").write_text(TINY)
    results = tmp_path / "results"
    monkeypatch.setenv("CADRE_BENCH_RESULTS", str(results))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(tmp_path)]))
    monkeypatch.setattr(run_all, "RESULTS", results)
    return folder, results


def run_tiny(fake, value: str) -> subprocess.CompletedProcess:
    folder, _ = fake
    return subprocess.run([sys.executable, "-m", "fakebench.bench_tiny"], cwd=folder.parent, capture_output=True,
                          text=True, env={**os.environ, "TINY_VALUE": value})


def test_a_met_target_writes_a_record_with_the_machine_facts(fake):
    done = run_tiny(fake, "0.5")
    assert done.returncode == 0, done.stdout + done.stderr
    rec = json.loads((fake[1] / "tiny.json").read_text())
    assert (rec["metric"], rec["value"], rec["baseline"], rec["target"], rec["ok"]) == ("tiny value", 0.5, 2.0, "<= 1", True)
    cpu = rec["machine"]["cpu"]
    assert cpu["model"] and cpu["cores"] >= 1 and isinstance(cpu["flags"], list)
    assert len(rec["machine"]["load_average_end"]) == 3
    assert rec["machine"]["libraries"]["numpy"]
    assert rec["details"] == {"raw": [1, 2]} and [c["target"] for c in rec["checks"]] == ["<= 1", "(info)"]


def test_a_missed_target_exits_non_zero_and_run_all_says_so(fake, monkeypatch, capsys):
    done = run_tiny(fake, "1.5")
    assert done.returncode == MISSED != 0
    rec = json.loads((fake[1] / "tiny.json").read_text())
    assert rec["ok"] is False and rec["value"] == 1.5
    monkeypatch.setenv("TINY_VALUE", "1.5")
    assert run_all.main(["--only", "tiny"], folder=fake[0]) != 0
    out = capsys.readouterr().out
    assert "MISSED" in out and "tiny value" in out and "all 1 benchmarks met" not in out
    monkeypatch.setenv("TINY_VALUE", "0.9")
    assert run_all.main(["--only", "tiny"], folder=fake[0]) == 0
    assert "all 1 benchmarks met their targets" in capsys.readouterr().out


def test_a_crash_is_an_error_not_a_miss(fake, monkeypatch, capsys):
    monkeypatch.setenv("TINY_VALUE", "not a number")
    assert run_all.main(["--only", "tiny"], folder=fake[0]) == 1
    assert "FAILED to run" in capsys.readouterr().out


def test_the_docs_table_is_rendered_from_the_records(fake):
    run_tiny(fake, "1.5")
    text = table.render(table.records(fake[1]))
    row = next(line for line in text.splitlines() if line.startswith("| tiny | tiny value"))
    assert "1.5 x" in row and "<= 1" in row and "**missed**" in row
    assert "python -m benchmarks tiny" in text
