"""CI gate: the engine against the TPC-H / TPC-DS truth (benchmarks/engine_accuracy.py)."""

from __future__ import annotations

import json

import pytest

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze
from sqlflow_assets_tests.support import load_benchmark

bench = load_benchmark("engine_accuracy")


@pytest.mark.parametrize(("name", "sql_file"), bench.CORPORA)
def test_corpus_meets_targets(name: str, sql_file: str) -> None:
    """All 22 + 99 queries: under a second, so the whole corpus guards every change."""
    queries, schema = bench.load_corpus(bench.DEFAULT_CORPORA, name, sql_file)
    score = bench.evaluate(queries, schema)
    assert score.f1 >= 0.99
    assert score.fdr_recall >= 0.95
    assert score.errored == 0


def test_subset_flag_prints_one_line_per_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--subset"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["tpch", "tpcds"]
    assert all(f"queries={bench.SUBSET} " in line for line in lines)


# sqlglot dialect of a qualify_columns fixture -> a dbvendor using that dialect
FIXTURE_VENDORS = {
    "bigquery": "dbvbigquery",
    "snowflake": "dbvsnowflake",
    "postgres": "dbvpostgresql",
    "tsql": "dbvmssql",
    "oracle": "dbvoracle",
    "spark": "dbvsparksql",
    "hive": "dbvhive",
    "mysql": "dbvmysql",
    "presto": "dbvpresto",
    "redshift": "dbvredshift",
    "teradata": "dbvteradata",
    "athena": "dbvathena",
}


def test_qualify_corpus_has_no_internal_failures() -> None:
    """292 qualification edge cases over many dialects: problems are reported, never crashes."""
    qualify_dir = bench.DEFAULT_CORPORA / "qualify"
    schema = json.loads((qualify_dir / "schema.json").read_text())
    options = AnalysisOptions(show_relation_type=("fdd", "fdr"), metadata=schema)
    inputs = bench.fixture_inputs(qualify_dir / "qualify_columns.sql")
    assert len(inputs) == 292
    for meta, sql in inputs:
        result = analyze(
            [SqlFile("q.sql", sql)], FIXTURE_VENDORS.get(meta.get("dialect", ""), "dbvansi"), options
        )
        assert {e["errorType"] for e in result["errors"]} <= {"SemanticWarning", "SyntaxError"}, sql
