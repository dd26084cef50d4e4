"""The warehouse catalog snapshot: what the graph step writes (from the real loaded `lineage.*` tables),
written atomically and only on change, read back, and planned into asset keys, groups and lineage."""

from __future__ import annotations

import duckdb
import orjson
import pytest

from sqlflow_assets import config
from sqlflow_assets.errors import CatalogSnapshotError
from sqlflow_assets.warehouse import table_catalog
from sqlflow_assets_tests.support import LOOP, load_jobs, refresh


def _graph(project_env) -> dict[str, list[dict]]:
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        return {
            table: [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor.fetchall()]
            for table in ("current_jobs", "column_lineage", "table_lineage")
            for cursor in [conn.execute(f"SELECT * FROM lineage.{table}")]
        }


def test_the_graph_step_writes_the_snapshot_of_the_loaded_graph(project_env, warehouse):
    instance, (ingest, _, marts_v2) = warehouse
    refresh(project_env, instance)
    snapshot = table_catalog.read_snapshot(config.catalog_snapshot_path())
    loaded = _graph(project_env)

    names = {e["source_object"] for e in loaded["column_lineage"]} | {e["target_object"] for e in loaded["column_lineage"]}
    assert set(snapshot["tables"]) == names == {"raw.orders", "staging.orders", "marts.revenue"}
    for name, table in snapshot["tables"].items():
        assert set(table["upstream"]) == {t["source_object"] for t in loaded["table_lineage"] if t["target_object"] == name}
        edges = [e for e in loaded["column_lineage"] if e["target_object"] == name and not table_catalog.is_pseudo(e["target_column"])]
        expected = {(e["target_column"], e["source_object"], e["source_column"]) for e in edges}
        assert {(column, *edge) for column, found in table["lineage"].items() for edge in map(tuple, found)} == expected
        types = {column: description for column, description in table["columns"]}
        assert all(f"{e['transformation_type']} {e['transformation_subtype']}" in types[e["target_column"]] for e in edges)
    assert snapshot["tables"]["marts.revenue"]["written_by"] == [marts_v2]
    assert snapshot["tables"]["raw.orders"]["read_by"] == [ingest] and snapshot["tables"]["raw.orders"]["written_by"] == []
    assert snapshot["tables"]["marts.revenue"]["columns"] == [["total", "DIRECT AGGREGATION"]]  # v1's `revenue` went with its job
    assert snapshot["tables"]["marts.revenue"]["key"] == ["warehouse", "marts", "revenue"]
    assert snapshot["tables"]["marts.revenue"]["jobs"] == f"marts (writes, job {marts_v2})"
    assert snapshot["jobs"][ingest] == {"source": "ingest", "job_name": "ingest", "db_vendor": "dbvpostgresql", "files": ["ingest.sql"]}
    assert snapshot["destination"] == f"duckdb:{project_env.duckdb_path}"


def test_an_unchanged_graph_leaves_the_snapshot_untouched_and_a_changed_one_replaces_it(project_env, warehouse):
    instance, _ = warehouse
    refresh(project_env, instance)
    path = config.catalog_snapshot_path()
    first = table_catalog.stamp(path)
    refresh(project_env, instance)
    assert table_catalog.stamp(path) == first
    load_jobs(project_env, instance, ("loop", LOOP))
    refresh(project_env, instance)
    assert table_catalog.stamp(path) != first
    assert "marts.revenue" in table_catalog.read_snapshot(path)["tables"]["raw.orders"]["upstream"]
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_plan_names_keys_groups_and_lineage_among_selected_tables(project_env, warehouse):
    instance, _ = warehouse
    refresh(project_env, instance)
    snapshot = table_catalog.read_snapshot(config.catalog_snapshot_path())

    plans = {p.name: p for p in table_catalog.plan(snapshot)}
    revenue = plans["marts.revenue"]
    assert revenue.key == ("warehouse", "marts", "revenue") and revenue.group == "warehouse_marts"
    assert revenue.upstream == ["staging.orders"]
    assert revenue.column_lineage == {"total": [["staging.orders", "amount"]]}
    assert revenue.kinds == ["postgres"] and revenue.files == ["marts.sql"]
    assert "staging.orders.amount (INDIRECT FILTER)" in revenue.rows_from, revenue.rows_from
    assert plans["staging.orders"].upstream == ["raw.orders"]

    only_marts = {p.name: p for p in table_catalog.plan(snapshot, ["marts"])}
    assert set(only_marts) == {"marts.revenue"}
    assert only_marts["marts.revenue"].upstream == [] and only_marts["marts.revenue"].column_lineage == {}
    assert table_catalog.plan(snapshot, []) == []


def test_names_become_keys_that_never_clash():
    assert table_catalog.key_parts("wh.public.orders") == ("warehouse", "wh", "public", "orders")
    assert table_catalog.group_name("wh.public.orders") == "warehouse_wh_public" and table_catalog.group_name("orders") == "warehouse"
    assert table_catalog.group_name('"My Schema".t') == "warehouse__My_Schema_"
    keys = table_catalog._unique_keys(["s.a/b", "s.a_b"])
    assert len(set(keys.values())) == 2 and all(key[0] == "warehouse" for key in keys.values())
    assert table_catalog.selected("wh.raw.t", ["wh.*"]) and not table_catalog.selected("dw.raw.t", ["wh.*"]) and table_catalog.selected("t", ["*"])
    assert table_catalog.vendor_kind("dbvpostgresql") == "postgres" and table_catalog.vendor_kind("dbvsnowflake") == "snowflake"


def test_an_unreadable_snapshot_is_one_error_naming_the_file(tmp_path):
    path = tmp_path / "warehouse_catalog.json"
    assert table_catalog.read_snapshot(path) is None
    path.write_text("{not json")
    with pytest.raises(CatalogSnapshotError, match="warehouse_catalog.json: not JSON"):
        table_catalog.read_snapshot(path)
    path.write_bytes(orjson.dumps({"format": 99, "tables": {}}))
    with pytest.raises(CatalogSnapshotError, match="not a format-1"):
        table_catalog.read_snapshot(path)
