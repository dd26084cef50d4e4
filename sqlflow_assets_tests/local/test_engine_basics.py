"""Hand-checked lineage of SELECT / INSERT / CREATE VIEW / CTAS, multi-statement and multi-file."""

from __future__ import annotations

import pytest

from sqlflow_assets.errors import UnknownVendorError
from sqlflow_assets.local.engine import (
    SUPPORTED_VENDORS,
    AnalysisOptions,
    SqlFile,
    analyze,
    dialect_for,
    summarize,
)
from sqlflow_assets_tests.support import edges, objects, run

SCHEMA = "create table s (a int, b int, c int, d int);\ncreate table u (c int, d int, e int);\n"


def test_select_builds_result_set_with_fdd_and_where_fdr() -> None:
    result = run("select s.a, s.b + 1 as c from s where s.d > 0")
    assert edges(result) == {
        ("s.a", "RS-1.a", "fdd"),
        ("s.b", "RS-1.c", "fdd"),
        ("s.d", "RS-1.PseudoRows", "fdr"),
    }
    rs = objects(result)["RS-1"]
    assert rs["type"] == "select_list"
    assert [c["name"] for c in rs["columns"]] == ["a", "c", "PseudoRows"]
    assert rs["columns"][2]["source"] == "system"
    where = next(r for r in result["relationships"] if r["type"] == "fdr")
    assert where["sources"][0]["clauseType"] == "where"
    assert [(p["name"], p["type"]) for p in result["processes"]] == [("Query Select-1", "sstselect")]


def test_insert_with_columns_join_group_by_exact_intermediates() -> None:
    sql = SCHEMA + (
        "insert into t (x, y) select s.a, sum(s.b) from s join u on s.c = u.c where u.d > 1 group by s.a"
    )
    result = run(sql)
    assert edges(result) == {
        ("s.a", "INSERT-SELECT-1.a", "fdd"),
        ("s.b", "INSERT-SELECT-1.SUM(s.b)", "fdd"),
        ("s.a", "INSERT-SELECT-1.SUM(s.b)", "fdr"),
        ("s.c", "INSERT-SELECT-1.PseudoRows", "fdr"),
        ("u.c", "INSERT-SELECT-1.PseudoRows", "fdr"),
        ("u.d", "INSERT-SELECT-1.PseudoRows", "fdr"),
        ("INSERT-SELECT-1.a", "t.x", "fdd"),
        ("INSERT-SELECT-1.SUM(s.b)", "t.y", "fdd"),
        ("INSERT-SELECT-1.PseudoRows", "t.PseudoRows", "fdr"),
    }
    insert = [r for r in result["relationships"] if r["effectType"] == "insert"]
    assert {r["processType"] for r in insert} == {"sstinsert"}
    clauses = {
        (s["column"], s.get("clauseType"))
        for r in result["relationships"]
        for s in r["sources"]
        if r["type"] == "fdr"
    }
    assert ("a", "groupBy") in clauses and ("c", "joinCondition") in clauses


def test_insert_with_columns_join_group_by_end_to_end() -> None:
    sql = SCHEMA + (
        "insert into t (x, y) select s.a, sum(s.b) from s join u on s.c = u.c where u.d > 1 group by s.a"
    )
    assert edges(run(sql, simple_output=True)) == {
        ("s.a", "t.x", "fdd"),
        ("s.b", "t.y", "fdd"),
        ("s.a", "t.y", "fdr"),
        ("s.c", "t.PseudoRows", "fdr"),
        ("u.c", "t.PseudoRows", "fdr"),
        ("u.d", "t.PseudoRows", "fdr"),
    }


def test_insert_without_column_list_maps_by_position_to_created_table() -> None:
    sql = SCHEMA + "create table t (p int, q int);\ninsert into t select u.e, s.a from s, u where s.c = u.c"
    assert edges(run(sql, simple_output=True, show_relation_type=("fdd",))) == {
        ("u.e", "t.p", "fdd"),
        ("s.a", "t.q", "fdd"),
    }


def test_view_over_cte_and_in_subquery() -> None:
    sql = SCHEMA + (
        "create view v as with q as (select a, b from s) "
        "select q.a as aa, (select max(u.e) from u) as m from q where q.b in (select d from u)"
    )
    result = run(sql)
    assert {o["name"]: o["type"] for o in objects(result).values()} == {
        "s": "table",
        "u": "table",
        "v": "view",
        "cte-q-1": "with_cte",
        "RS-1": "select_list",
        "RS-2": "select_list",
        "RS-3": "select_list",
    }
    assert edges(run(sql, simple_output=True)) == {
        ("s.a", "v.aa", "fdd"),
        ("u.e", "v.m", "fdd"),
        ("s.b", "v.PseudoRows", "fdr"),
        ("u.d", "v.PseudoRows", "fdr"),
    }
    assert {r["effectType"] for r in run(sql, simple_output=True)["relationships"]} == {"create_view"}


def test_ctas_then_star_in_later_file_expands_created_columns() -> None:
    files = [
        SqlFile("a.sql", SCHEMA + "create table w as select s.a, u.e as ee from s join u on s.c = u.c;"),
        SqlFile("b.sql", "insert into z select * from w;"),
    ]
    result = analyze(files, "dbvpostgresql", AnalysisOptions(simple_output=True))
    assert edges(result) == {
        ("s.a", "w.a", "fdd"),
        ("u.e", "w.ee", "fdd"),
        ("w.a", "z.a", "fdd"),
        ("w.ee", "z.ee", "fdd"),
    }
    hashes = {c["hashCode"] for p in result["processes"] for c in p["coordinates"]}
    assert len(hashes) == 2 and "0" not in hashes
    assert [p["type"] for p in result["processes"]] == ["sstcreatetable"] * 3 + ["sstinsert"]
    assert result["errors"] == []


def test_derived_table_alias_names_result_set() -> None:
    result = run(SCHEMA + "select x.total from (select s.a, sum(s.b) as total from s group by s.a) x")
    names = set(objects(result))
    assert "RESULT_OF_x-1" in names
    assert edges(
        run(
            SCHEMA + "select x.total from (select s.a, sum(s.b) as total from s group by s.a) x",
            ignore_record_set=True,
        )
    ) == {
        ("s.b", "RS-1.total", "fdd"),
        ("s.a", "RS-1.total", "fdr"),
    }


def test_bad_statement_is_reported_and_others_still_analysed() -> None:
    result = run("select from where;\ninsert into t (x) select s.a from s;")
    assert [e["errorType"] for e in result["errors"]] == ["SyntaxError"]
    assert result["errors"][0]["coordinates"][0]["x"] == 1
    assert ("s.a", "t.x", "fdd") in edges(
        run("select from where;\ninsert into t (x) select s.a from s;", simple_output=True)
    )


def test_unknown_vendor_and_every_vendor_maps() -> None:
    with pytest.raises(UnknownVendorError, match=r"dbvnope.*dbvoracle"):
        analyze([SqlFile("x", "select 1")], "dbvnope")
    assert {"dbvazuresql", "dbvsparksql", "dbvansi", "dbvathena", "dbvgaussdb", "dbvpresto"} <= set(
        SUPPORTED_VENDORS
    )
    assert dialect_for("dbvmssql") == "tsql" and dialect_for("dbvoracle") == "oracle"
    assert analyze([], " DBVOracle ")["dbobjs"]["servers"][0]["dbVendor"] == "dbvoracle"
    for vendor in SUPPORTED_VENDORS:
        lowered = {
            tuple(part.lower() for part in edge) for edge in edges(run("select t.a from t", vendor=vendor))
        }
        assert lowered == {("t.a", "rs-1.a", "fdd")}, vendor


def test_fdd_only_by_default_and_summary_counts() -> None:
    result = analyze(
        [SqlFile("x", SCHEMA + "create view v as select s.a from s where s.b = 1")], "dbvpostgresql"
    )
    assert {r["type"] for r in result["relationships"]} == {"fdd"}
    summary = summarize(result)
    assert summary == {
        "schema": 1,
        "process": 3,
        "database": 1,
        "view": 1,
        "table": 2,
        "column": 8,
        "relationship": 2,
        "mostRelationTables": [{"schema": "DEFAULT", "table": "s"}, {"schema": "DEFAULT", "table": "v"}],
    }
