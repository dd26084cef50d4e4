"""Analysis options: relation-type filter, collapsing, functions, constants, table-level, defaults."""

from __future__ import annotations

import dataclasses
import json

from sqlflow_assets.local.engine import AnalysisOptions
from sqlflow_assets_tests.support import edges, objects, run

INSERT = (
    "insert into t select s.a, upper(s.b) as b, current_date as d from s join u on s.k = u.k where u.ok = 1"
)


def placement(result: dict) -> dict[str, tuple[str, str]]:
    """object name -> (database, schema) it is nested under."""
    return {
        obj["name"]: (database["name"], schema["name"])
        for server in result["dbobjs"]["servers"]
        for database in server["databases"]
        for schema in database["schemas"]
        for bucket in ("tables", "views", "others")
        for obj in schema[bucket]
    }


def test_show_relation_type_filters_each_type() -> None:
    assert {r["type"] for r in run(INSERT, show_relation_type=("fdd",))["relationships"]} == {"fdd"}
    assert {r["type"] for r in run(INSERT, show_relation_type=("fdr",))["relationships"]} == {"fdr"}
    assert edges(run(INSERT, show_relation_type=("join",))) == {("s.k", "u.k", "join")}
    assert run(INSERT, show_relation_type=("frd",))["relationships"] == []


def test_simple_output_drops_every_intermediate() -> None:
    result = run(INSERT, simple_output=True)
    assert set(objects(result)) == {"s", "u", "t"}
    assert edges(result) == {
        ("s.a", "t.a", "fdd"),
        ("s.b", "t.b", "fdd"),
        ("s.k", "t.PseudoRows", "fdr"),
        ("u.k", "t.PseudoRows", "fdr"),
        ("u.ok", "t.PseudoRows", "fdr"),
    }


def test_ignore_record_set_keeps_top_level_select_list_only() -> None:
    sql = "select x.a from (select s.a from s where s.ok = 1) x"
    result = run(sql, ignore_record_set=True)
    assert set(objects(result)) == {"s", "RS-1"}
    assert edges(result) == {("s.a", "RS-1.a", "fdd"), ("s.ok", "RS-1.PseudoRows", "fdr")}


def test_chain_rule_all_fdd_path_beats_fdr_path() -> None:
    sql = "insert into t select x.a from (select s.a from s where s.a > 0) x"
    assert edges(run(sql, simple_output=True)) == {("s.a", "t.a", "fdd"), ("s.a", "t.PseudoRows", "fdr")}
    # s.a reaches x.m both as MAX's argument (fdd) and as its GROUP BY key (fdr): fdd wins
    sql = "insert into t select x.m from (select max(s.a) m from s group by s.a) x"
    full = edges(run(sql))
    assert {("s.a", "RESULT_OF_x-1.m", "fdd"), ("s.a", "RESULT_OF_x-1.m", "fdr")} <= full
    assert edges(run(sql, simple_output=True)) == {("s.a", "t.m", "fdd")}


def test_ignore_function_drops_function_nodes_and_names() -> None:
    kept = run(INSERT)
    assert objects(kept)["current_date"]["type"] == "function"
    assert {r.get("function") for r in kept["relationships"]} >= {"upper", "current_date"}
    dropped = run(INSERT, ignore_function=True)
    assert "current_date" not in objects(dropped)
    assert all("function" not in r for r in dropped["relationships"])
    assert ("s.b", "INSERT-SELECT-1.b", "fdd") in edges(dropped)


def test_show_constant_table_emits_sql_constants() -> None:
    sql = "insert into t select s.a, 'k' as k, 1 + s.b as b from s"
    assert "SQL_CONSTANTS-1" not in objects(run(sql))
    result = run(sql, show_constant_table=True, simple_output=True)
    assert objects(result)["SQL_CONSTANTS-1"]["type"] == "constantTable"
    assert edges(result) == {
        ("SQL_CONSTANTS-1.'k'", "t.k", "fdd"),
        ("SQL_CONSTANTS-1.1", "t.b", "fdd"),
        ("s.a", "t.a", "fdd"),
        ("s.b", "t.b", "fdd"),
    }


def test_table_to_table() -> None:
    sql = (
        "insert into t select s.a from s where s.b = 1; insert into t2 select t.a from t join u on t.k = u.k"
    )
    assert edges(run(sql, table_to_table=True)) == {
        ("s.PseudoRows", "t.PseudoRows", "fdd"),
        ("t.PseudoRows", "t2.PseudoRows", "fdd"),
        ("u.PseudoRows", "t2.PseudoRows", "fdr"),
    }


def test_default_database_and_schema_for_unqualified_objects() -> None:
    result = run("insert into db1.sch1.t select s.a from s", default_database="D", default_schema="S")
    assert placement(result) == {"t": ("db1", "sch1"), "s": ("D", "S"), "INSERT-SELECT-1": ("D", "S")}
    assert objects(result)["t"]["displayName"] == "db1.sch1.t"
    assert placement(run("select s.a from s"))["s"] == ("DEFAULT", "DEFAULT")


def test_metadata_is_frozen_hashable_and_survives_asdict() -> None:
    metadata = {"s": {"a": "int", "k": "int"}, "u": {"k": "int", "e": "int"}}
    options = AnalysisOptions(metadata=metadata)
    metadata["s"]["z"] = "int"
    assert options.metadata == (("s", (("a", "int"), ("k", "int"))), ("u", (("k", "int"), ("e", "int"))))
    assert hash(options) == hash(AnalysisOptions(metadata=options.metadata))
    as_json = json.loads(json.dumps(dataclasses.asdict(options)))
    assert (
        AnalysisOptions(**{**as_json, "show_relation_type": tuple(as_json["show_relation_type"])}) == options
    )


def test_metadata_resolves_unqualified_columns() -> None:
    metadata = {"s": {"a": "int", "k": "int"}, "u": {"k": "int", "e": "int"}}
    result = run("select a, e from s join u on s.k = u.k", metadata=metadata, ignore_record_set=True)
    assert edges(result) == {
        ("s.a", "RS-1.a", "fdd"),
        ("u.e", "RS-1.e", "fdd"),
        ("s.k", "RS-1.PseudoRows", "fdr"),
        ("u.k", "RS-1.PseudoRows", "fdr"),
    }
    assert result["errors"] == []
    s = objects(result)["s"]
    assert {c["name"]: c.get("dataType") for c in s["columns"]} == {"a": "int", "k": "int"}


def test_oracle_case_normalisation_joins_metadata_and_sql() -> None:
    result = run(
        "select A, b from T",
        vendor="dbvoracle",
        ignore_record_set=True,
        metadata={"t": {"a": "number", "B": "number"}},
    )
    assert edges(result) == {("T.A", "RS-1.A", "fdd"), ("T.B", "RS-1.B", "fdd")}
    assert result["errors"] == []


def test_quoted_identifiers_keep_case() -> None:
    result = run('select "a", B from t', vendor="dbvsnowflake", ignore_record_set=True)
    assert edges(result) == {("T.a", "RS-1.a", "fdd"), ("T.B", "RS-1.B", "fdd")}


def test_collapsed_edges_keep_the_process_that_wrote_them() -> None:
    result = run("insert into t select s.a from s; insert into t select u.b as a from u", simple_output=True)
    processes = {p["id"]: p["name"] for p in result["processes"]}
    written_by = {
        (r["sources"][0]["parentName"], processes[r["processId"]])
        for r in result["relationships"]
        if r["type"] == "fdd"
    }
    assert written_by == {("s", "Query Insert-1"), ("u", "Query Insert-2")}


def test_same_pair_written_by_two_statements_keeps_both_processes() -> None:
    result = run("insert into t select s.a from s; update t set a = s.a from s", simple_output=True)
    fdd = [(r["effectType"], r["processType"]) for r in result["relationships"] if r["type"] == "fdd"]
    assert sorted(fdd) == [("insert", "sstinsert"), ("update", "sstupdate")]


def test_constant_table_for_insert_values() -> None:
    sql = "insert into t (a, b) values (1, 'x'), (2, 'y')"
    assert run(sql)["relationships"] == []
    assert edges(run(sql, show_constant_table=True, simple_output=True)) == {
        ("SQL_CONSTANTS-1.1", "t.a", "fdd"),
        ("SQL_CONSTANTS-1.2", "t.a", "fdd"),
        ("SQL_CONSTANTS-1.'x'", "t.b", "fdd"),
        ("SQL_CONSTANTS-1.'y'", "t.b", "fdd"),
    }
