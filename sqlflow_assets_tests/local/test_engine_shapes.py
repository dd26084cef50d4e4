"""Issue #10 details the fidelity corpus does not show: effect types, per-column warnings,
routine names and positions, schema-qualified metadata."""

from __future__ import annotations

from sqlflow_assets_tests.support import edges, run


def warnings(result: dict) -> list[str]:
    return [e["errorMessage"] for e in result["errors"] if e["errorType"] == "SemanticWarning"]


def test_foreign_keys_are_fdd_with_effect_foreign_key() -> None:
    result = run(
        "create table c (id int, pid int references p (id));\n"
        "alter table c add constraint fk foreign key (id) references q (qid)",
        show_relation_type=("fdd",),
    )
    relations = {
        (r["sources"][0]["parentName"], r["sources"][0]["column"], r["target"]["column"]): (
            r["effectType"],
            r["processType"],
        )
        for r in result["relationships"]
    }
    assert relations == {
        ("p", "id", "pid"): ("foreign_key", "sstcreatetable"),
        ("q", "qid", "id"): ("foreign_key", "sstaltertable"),
    }


def test_only_the_unknown_column_is_lost_and_warned() -> None:
    result = run(
        "insert into t select x.a, y.zz from (select a from s) x join u y on x.nope = y.id",
        simple_output=True,
    )
    assert edges(result) == {
        ("s.a", "t.a", "fdd"),
        ("u.zz", "t.zz", "fdd"),
        ("u.id", "t.PseudoRows", "fdr"),
    }
    assert warnings(result) == [
        "columns not fully resolved: Unknown column: nope",
        "could not attribute column x.nope to a table",
    ]


def test_star_over_one_table_passes_names_through_without_per_column_warnings() -> None:
    result = run("with c as (select * from s) insert into t select a from c", simple_output=True)
    assert edges(result) == {("s.a", "t.a", "fdd")}
    assert warnings(result) == ["could not expand *: columns of s unknown"]


def test_star_over_two_tables_reports_the_column() -> None:
    result = run("insert into t select a from (select * from s join u on s.id = u.id) x", simple_output=True)
    assert "could not attribute column x.a to a table" in warnings(result)
    assert {e for e in edges(result) if e[2] == "fdd"} == set()


def test_routine_body_statements_keep_the_routine_name_and_their_positions() -> None:
    sql = (
        "CREATE FUNCTION load_f() RETURNS void AS $body$\n"
        "DECLARE n int;\n"
        "BEGIN\n"
        "  INSERT INTO t SELECT a FROM s;\n"
        "END $body$ LANGUAGE plpgsql;\n"
        "DO $$ BEGIN INSERT INTO u SELECT b FROM s; END $$"
    )
    result = run(sql)
    starts = [
        (p["procedureName"], p["coordinates"][0]["x"], p["coordinates"][0]["y"]) for p in result["processes"]
    ]
    assert starts == [("load_f", 4, 3), ("batchQueries", 6, 13)]
    assert result["errors"] == []


def test_bigquery_procedure_keeps_every_statement() -> None:
    sql = (
        "CREATE PROCEDURE ds.p()\nBEGIN\n"
        "  INSERT INTO t SELECT a FROM s;\n  INSERT INTO u SELECT b FROM s;\nEND"
    )
    result = run(sql, vendor="dbvbigquery", simple_output=True)
    assert edges(result) == {("s.a", "t.a", "fdd"), ("s.b", "u.b", "fdd")}
    assert [p["procedureName"] for p in result["processes"]] == ["p", "p"]
    assert result["errors"] == []


def test_metadata_tables_of_two_schemas_keep_their_columns_and_types() -> None:
    metadata = {"db.x.t": {"a": "int"}, "db.y.t": {"b": "text"}}
    result = run("insert into z select * from x.t; insert into w select * from y.t", metadata=metadata)
    assert {e for e in edges(result) if e[1].startswith(("z.", "w.")) and e[2] == "fdd"} == {
        ("INSERT-SELECT-1.a", "z.a", "fdd"),
        ("INSERT-SELECT-2.b", "w.b", "fdd"),
    }
    assert warnings(result) == []


def test_unqualified_name_of_two_same_named_tables_is_ambiguous() -> None:
    result = run("create table x.t (a int); create table y.t (b int); insert into z select * from t")
    assert "could not expand *: columns of t unknown" in warnings(result)


def test_known_tables_resolve_alias_references_as_with_a_plain_schema() -> None:
    """The catalog's schema reports itself non-empty once a table is known, so qualification
    resolves `row_num` in QUALIFY to the window it names instead of inferring a column of x."""
    result = run(
        "SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) AS row_num FROM x QUALIFY row_num = 1",
        vendor="dbvbigquery",
        ignore_record_set=True,
        metadata={"x": {"a": "INT", "b": "INT"}},
    )
    assert edges(result) == {
        ("x.a", "RS-1.row_num", "fdr"),
        ("x.b", "RS-1.row_num", "fdr"),
        ("x.a", "RS-1.PseudoRows", "fdr"),
        ("x.b", "RS-1.PseudoRows", "fdr"),
    }
