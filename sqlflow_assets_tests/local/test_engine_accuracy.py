"""CI gate: the engine on a subset of the TPC-H / TPC-DS truth (benchmarks/engine_accuracy.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "engine_accuracy.py"


def load_benchmark():
    """Import the benchmark script as a module (registered first: it defines dataclasses)."""
    spec = importlib.util.spec_from_file_location("engine_accuracy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()
pytestmark = pytest.mark.skipif(not bench.DEFAULT_CORPORA.is_dir(), reason="shared corpora not present")


@pytest.mark.parametrize(("name", "sql_file"), bench.CORPORA)
def test_subset_meets_targets(name: str, sql_file: str) -> None:
    queries, schema = bench.load_corpus(bench.DEFAULT_CORPORA, name, sql_file)
    score = bench.evaluate(queries[: bench.SUBSET], schema)
    assert score.f1 >= 0.99
    assert score.fdr_recall >= 0.95
    assert score.errored == 0


def test_subset_flag_prints_one_line_per_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--subset"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["tpch", "tpcds"]
    assert all(f"queries={bench.SUBSET} " in line for line in lines)
