"""Bad input never raises; every problem is listed in `errors` with coordinates; limits hold."""

from __future__ import annotations

import gc
import hashlib

import pytest
from sqlglot.dialects.dialect import Dialect

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze, dispatch, parsing
from sqlflow_assets_tests.engine_scoring import JOB_TEMPLATES, analyze_job, job_files
from sqlflow_assets_tests.support import edges, objects, run


@pytest.mark.parametrize("sql", ["select 'abc", "select (((", "", ";;;", "\x00\x01 select", "garbage here"])
def test_garbage_never_raises(sql: str) -> None:
    result = run(sql)
    assert result["relationships"] == []
    assert {e["errorType"] for e in result["errors"]} <= {"SyntaxError"}
    assert bool(result["errors"]) == bool(sql.strip(" ;"))


def test_every_failed_statement_is_listed_with_its_position() -> None:
    sql = "select from where;\ninsert into t select s.a from s;\nselect (((;\nfoo bar baz qux;"
    result = run(sql, simple_output=True)
    assert [(e["errorType"], e["coordinates"][0]["x"]) for e in result["errors"]] == [
        ("SyntaxError", 1),
        ("SyntaxError", 3),
        ("SyntaxError", 4),
    ]
    assert {e["fileName"] for e in result["errors"]} == {"job.sql"}
    assert edges(result) == {("s.a", "t.a", "fdd")}


def test_unattributable_columns_are_reported_not_guessed() -> None:
    result = run("select a, s.b from s join u on s.k = u.k", ignore_record_set=True)
    assert [e["errorMessage"] for e in result["errors"]] == ["could not attribute column a to a table"]
    assert result["errors"][0]["coordinates"][0] == {"x": 1, "y": 8, "hashCode": "0"}
    assert edges(result) == {
        ("s.b", "RS-1.b", "fdd"),
        ("s.k", "RS-1.PseudoRows", "fdr"),
        ("u.k", "RS-1.PseudoRows", "fdr"),
    }


def test_unknown_star_columns_are_reported() -> None:
    result = run(
        "insert into t select s.* from s join u on s.k = u.k", simple_output=True, show_relation_type=("fdd",)
    )
    assert edges(result) == {("s.*", "t.*", "fdd")}
    assert [e["errorMessage"] for e in result["errors"]] == ["could not expand s.*: columns of s unknown"]


def test_time_limit_reports_each_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "STATEMENT_TIME_LIMIT", -1.0)
    result = run("select s.a from s; insert into t select s.a from s")
    assert [e["errorType"] for e in result["errors"]] == ["TimeLimitExceeded", "TimeLimitExceeded"]
    assert result["relationships"] == []


def test_input_size_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "MAX_STATEMENT_CHARS", 30)
    result = run("select s.a from s;\nselect s.a, s.b, s.c, s.d, s.e from s")
    assert [(e["errorType"], e["coordinates"][0]["x"]) for e in result["errors"]] == [("InputTooLarge", 2)]
    monkeypatch.setattr(parsing, "MAX_FILE_CHARS", 10)
    assert [e["errorType"] for e in run("select s.a from s")["errors"]] == ["InputTooLarge"]


def test_coordinates_of_columns_tables_and_files() -> None:
    result = run("select s.a\nfrom s")
    assert objects(result)["s"]["coordinates"] == [
        {"x": 2, "y": 6, "hashCode": "0"},
        {"x": 2, "y": 7, "hashCode": "0"},
    ]
    column = objects(result)["s"]["columns"][0]
    assert column["coordinates"] == [{"x": 1, "y": 10, "hashCode": "0"}, {"x": 1, "y": 11, "hashCode": "0"}]
    spans = run("select sum(t.a) + 1, t.b as bb, t.c,\n  upper(t.d) from t")
    assert [
        [(c["x"], c["y"]) for c in column["coordinates"]] for column in objects(spans)["RS-1"]["columns"]
    ] == [[(1, 8), (1, 20)], [(1, 29), (1, 31)], [(1, 33), (1, 36)], [(2, 3), (2, 12)], []]
    nested = objects(run("insert into t\nselect x.a from (select s.a from s) x"))
    assert [(c["x"], c["y"]) for c in nested["RESULT_OF_x-1"]["coordinates"]] == [(2, 25), (2, 35)]
    twice = run("select s.a from s where s.a > 0")
    assert len(objects(twice)["s"]["columns"][0]["coordinates"]) == 4
    assert {len(s["coordinates"]) for r in twice["relationships"] for s in r["sources"]} == {2}
    files = [SqlFile("a.sql", "select s.a from s"), SqlFile("b.sql", "select u.b from u")]
    hashes = {
        c["hashCode"]
        for o in objects(analyze(files, "dbvmysql", AnalysisOptions())).values()
        for c in o["coordinates"]
    }
    assert hashes == {hashlib.md5(f.text.encode()).hexdigest() for f in files}


def test_untokenizable_piece_loses_only_itself() -> None:
    sql = "insert into t select s.a from s;\nselect 'broken from x;\n  insert into t2 select u.b from u;"
    result = run(sql, simple_output=True)
    assert edges(result) == {("s.a", "t.a", "fdd"), ("u.b", "t2.b", "fdd")}
    assert [(e["errorType"], e["coordinates"][0]) for e in result["errors"]] == [
        ("SyntaxError", {"x": 2, "y": 1, "hashCode": "0"})
    ]
    t2 = objects(run(sql))["t2"]
    assert t2["coordinates"][0] == {"x": 3, "y": 15, "hashCode": "0"}


def test_hard_time_limit_interrupts_sqlglot_on_the_main_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4000-term OR chain costs sqlglot's qualify several seconds; the alarm stops it early: the
    statement is reported as over its limit and the next one still analysed (no wall-clock assertion:
    a busy machine would flip it; the error type shows the alarm fired)."""
    monkeypatch.setattr(dispatch, "STATEMENT_TIME_LIMIT", 0.3)
    sql = "select t.a from t where " + " or ".join(f"t.a = {i}" for i in range(4000)) + "; select u.b from u"
    result = run(sql, ignore_record_set=True)
    assert [e["errorType"] for e in result["errors"]] == ["TimeLimitExceeded"]
    assert edges(result) == {("u.b", "RS-2.b", "fdd")}


def test_too_deep_or_too_many_tokens_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "select " + "(" * 3000 + "t.a" + ")" * 3000 + " from t; select u.b from u"
    result = run(deep, ignore_record_set=True)
    assert [(e["errorType"], e["errorMessage"]) for e in result["errors"]] == [
        ("SyntaxError", "statement nests too deeply to parse")
    ]
    assert edges(result) == {("u.b", "RS-1.b", "fdd")}
    monkeypatch.setattr(parsing, "MAX_STATEMENT_TOKENS", 10)
    assert [e["errorType"] for e in run("select t.a, t.b, t.c from t")["errors"]] == ["InputTooLarge"]


def test_long_cte_chain_collapses_without_recursion_limits() -> None:
    ctes = ", ".join(
        ["c0 as (select s.a from s)", *(f"c{i} as (select c{i - 1}.a from c{i - 1})" for i in range(1, 1500))]
    )
    result = run(f"with {ctes} insert into t select c1499.a from c1499", simple_output=True)
    assert edges(result) == {("s.a", "t.a", "fdd")}
    assert result["errors"] == []


def test_statement_split_respects_blocks_case_and_transactions() -> None:
    tokens = Dialect.get_or_raise("oracle").tokenize(
        "BEGIN CASE WHEN 1 = 1 THEN NULL; END CASE; IF x THEN y; END IF; END;\n"
        "SELECT CASE WHEN a THEN 1 END FROM t;\n"
        "BEGIN TRANSACTION;\n"
        "COMMIT"
    )
    starts = [chunk[0].text.upper() for chunk in parsing.token_chunks(tokens)]
    assert starts == ["BEGIN", "SELECT", "BEGIN", "COMMIT"]


def test_analysis_leaves_the_gc_thresholds_as_it_found_them() -> None:
    before = gc.get_threshold()
    run("insert into t select a from s; bad sql here")
    assert gc.get_threshold() == before


def test_job_speed_benchmark_statements_all_analyse() -> None:
    """The generated job the job-speed benchmark times: every template is a statement the
    engine analyses (a process each, no error but a warning), so the timing measures real work."""
    count = 2 * len(JOB_TEMPLATES)
    result = analyze_job(job_files(count, 2))
    assert len(result["processes"]) == count
    assert {e["errorType"] for e in result["errors"]} <= {"SemanticWarning"}
