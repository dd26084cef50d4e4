"""CI gate: the engine against the TPC-H / TPC-DS truth, scored by `engine_scoring` as the accuracy benchmark script scores it."""

from __future__ import annotations

import json

import pytest

import sqlflow_assets_tests.engine_scoring as scoring
from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze


@pytest.mark.parametrize(("name", "sql_file"), scoring.CORPORA)
def test_corpus_meets_targets(name: str, sql_file: str) -> None:
    """All 22 + 99 queries: under a second, so the whole corpus guards every change."""
    queries, schema = scoring.load_corpus(scoring.DEFAULT_CORPORA, name, sql_file)
    score = scoring.evaluate_queries(queries, schema)
    assert score.f1 >= 0.99
    assert score.fdr_recall >= 0.95
    assert score.errored == 0


def test_subset_scores_one_line_per_corpus() -> None:
    """What the script prints for --subset: a score line per corpus over its first SUBSET queries."""
    lines = list(scoring.score_corpora(scoring.DEFAULT_CORPORA, scoring.SUBSET))
    assert [line.split(":")[0] for line in lines] == ["tpch", "tpcds"]
    assert all(f"queries={scoring.SUBSET} " in line for line in lines)


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
    qualify_dir = scoring.DEFAULT_CORPORA / "qualify"
    schema = json.loads((qualify_dir / "schema.json").read_text())
    options = AnalysisOptions(show_relation_type=("fdd", "fdr"), metadata=schema)
    inputs = scoring.fixture_inputs(qualify_dir / "qualify_columns.sql")
    assert len(inputs) == 292
    for meta, sql in inputs:
        result = analyze(
            [SqlFile("q.sql", sql)], FIXTURE_VENDORS.get(meta.get("dialect", ""), "dbvansi"), options
        )
        assert {e["errorType"] for e in result["errors"]} <= {"SemanticWarning", "LineageWarning", "SyntaxError"}, sql
