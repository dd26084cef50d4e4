"""The shared domain facts: one set of real kinds, one chain rule (Python and the flattening SQL agree), one walk."""

from __future__ import annotations

import pytest

from sqlflow_assets import domain
from sqlflow_assets.job import flatten
from sqlflow_assets.job.lineage_json import read_lineage
from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze, summarize
from sqlflow_assets.local.exports import index_objects, table_edges
from sqlflow_assets_tests.fixtures import fixture_bytes
from sqlflow_assets_tests.support import lineage_rows

# Intermediates of every shape the engine makes: CTE chains, a subquery with WHERE (fdr), a UNION,
# a recursive CTE (a cycle through intermediates), a view and a table read twice.
JOB_SQL = """
CREATE TABLE orders (id INT, customer_id INT, amount INT, region VARCHAR);
CREATE TABLE customers (id INT, name VARCHAR, parent_id INT);
INSERT INTO big_orders (id, total)
WITH recent AS (SELECT id, amount FROM orders WHERE amount > 10), doubled AS (SELECT id, amount * 2 AS total FROM recent)
SELECT d.id, d.total FROM doubled d JOIN customers c ON c.id = d.id;
INSERT INTO region_totals (region, total)
SELECT region, SUM(amount) FROM (SELECT region, amount FROM orders UNION ALL SELECT name, parent_id FROM customers) u
GROUP BY region;
CREATE VIEW tree AS
WITH RECURSIVE t (id, parent_id) AS (SELECT id, parent_id FROM customers UNION ALL SELECT c.id, t.parent_id FROM customers c JOIN t ON c.parent_id = t.id)
SELECT id, parent_id FROM t;
"""


def engine_job() -> dict:
    return analyze([SqlFile("job.sql", JOB_SQL)], "dbvpostgresql", AnalysisOptions(show_relation_type=("fdd", "fdr")))


def python_end_to_end(tables: dict) -> set[tuple]:
    """`domain.end_to_end` over a job's flattened column edges, keyed and named as the SQL does."""
    edges, names, real = [], {}, {}
    for row in tables["column_edges"].to_pylist():
        if (row["relationship_type"] or "").lower() not in domain.DATA_FLOW_TYPES:
            continue
        source = (row["source_object_id"] or row["source_object"], row["source_column_id"] or row["source_column"])
        target = (row["target_object_id"] or row["target_object"], row["target_column_id"] or row["target_column"])
        names[source], names[target] = (row["source_object"], row["source_column"]), (row["target_object"], row["target_column"])
        real[source], real[target] = not row["source_is_intermediate"], not row["target_is_intermediate"]
        edges.append((source, target, row["relationship_type"].lower()))
    by_name: dict[tuple, str] = {}
    for (source, target), kind in domain.end_to_end(edges, real.__getitem__, max_hops=flatten.MAX_HOPS).items():
        key = (*names[source], *names[target])
        if domain.wins(kind, by_name.get(key)):
            by_name[key] = kind
    return {(*key, kind) for key, kind in by_name.items()}


def sql_end_to_end(tables: dict) -> set[tuple]:
    columns = ("source_object", "source_column", "target_object", "target_column", "relationship_type")
    return {tuple(row[c] for c in columns) for row in tables["end_to_end_edges"].to_pylist()}


@pytest.mark.parametrize("payload", ["engine_job", "nested_format_example", "flat_root_relations"])
def test_python_chain_rule_and_the_flattening_sql_agree(payload: str) -> None:
    raw = read_lineage(engine_job() if payload == "engine_job" else fixture_bytes(payload), "j1")
    tables = lineage_rows(raw, "j1")
    expected = sql_end_to_end(tables)
    assert expected  # the job has end-to-end edges to agree on
    assert python_end_to_end(tables) == expected
    if payload == "engine_job":
        assert {kind for *_, kind in expected} == {"fdd", "fdr"}  # both kinds of path are compared
        assert tables["objects"].to_pydict()["is_intermediate"].count(True) >= 5


def test_chain_rule_on_a_small_graph() -> None:
    """fdr taints a path; an all-fdd path between the same ends wins; a cycle through intermediates ends."""
    real = {"a", "b", "c"}.__contains__
    edges = [("a", "x", "fdd"), ("x", "b", "fdd"), ("a", "y", "fdr"), ("y", "b", "fdd"), ("y", "c", "fdd"),
             ("x", "z", "fdd"), ("z", "x", "fdd"), ("a", "w", "join"), ("w", "c", "fdd")]  # fmt: skip
    assert domain.end_to_end(edges, real) == {("a", "b"): "fdd", ("a", "c"): "fdr"}
    assert domain.chain("fdd", "fdd") == "fdd" and domain.chain("fdd", "fdr") == domain.chain("fdr", "fdd") == "fdr"
    assert domain.wins("fdd", "fdr") and not domain.wins("fdr", "fdd") and not domain.wins("fdd", "fdd")


def test_one_set_of_real_kinds_across_the_layers() -> None:
    """The flattening SQL, the engine and the renderings all call tables, views and storage objects real."""
    assert set(flatten.REAL_OBJECT_TYPES) == domain.REAL_KINDS
    sqlflow = {
        "dbobjs": {"servers": [{"databases": [{"name": "db", "schemas": [{"name": "s", "tables": [
            {"id": "1", "name": "t", "type": "table"}, {"id": "2", "name": "@stage/in", "type": "stage"},
        ], "others": [{"id": "3", "name": "RS-1", "type": "select_list"}]}]}]}]},
        "relationships": [
            {"id": "r1", "type": "fdd", "target": {"parentId": "3", "column": "x"}, "sources": [{"parentId": "2", "column": "x"}]},
            {"id": "r2", "type": "fdd", "target": {"parentId": "1", "column": "x"}, "sources": [{"parentId": "3", "column": "x"}]},
        ],
    }  # fmt: skip
    assert table_edges(sqlflow) == (["db.s.@stage/in", "db.s.t"], [("db.s.@stage/in", "db.s.t")])
    objects = lineage_rows(read_lineage(sqlflow, "j1"), "j1")["objects"].to_pylist()
    assert {o["name"]: o["is_intermediate"] for o in objects} == {"t": False, "@stage/in": False, "RS-1": True}


def test_one_walk_of_the_nesting() -> None:
    """lineage_json, the renderings and the engine's summary see the same objects in the same places."""
    sqlflow = engine_job()
    walked = [(str(item["id"]), place.database, place.schema) for item, place in domain.dict_objects(sqlflow)]
    objects = read_lineage(sqlflow, "j1").objects.to_pylist()
    assert walked == [(o["object_id"], o["database"], o["schema"]) for o in objects]
    assert set(index_objects(sqlflow)) == {object_id for object_id, _, _ in walked}
    assert summarize(sqlflow)["schema"] == sum(1 for *_, level in domain.containers(sqlflow["dbobjs"], domain.dict_children, domain.dict_scalar) if level == "schema")


def test_shown_name_bounds_a_name_and_marks_the_cut() -> None:
    from sqlflow_assets.domain import JOB_NAME_MAX_CHARS, shown_name

    assert shown_name("nightly") == "nightly" and shown_name(None) == ""
    assert shown_name("x" * JOB_NAME_MAX_CHARS) == "x" * JOB_NAME_MAX_CHARS
    cut = shown_name("x" * 10_000_000)
    assert len(cut) == JOB_NAME_MAX_CHARS and cut.endswith("…")


def test_counted_puts_the_noun_in_the_right_number():
    from sqlflow_assets.domain import counted

    assert [counted(n, "statement") for n in (0, 1, 2)] == ["0 statements", "1 statement", "2 statements"]
    assert counted(1, "copy", "copies") == "1 copy" and counted(3, "copy", "copies") == "3 copies"
