"""flatten.build/build_all over raw tables loaded from fixture payloads into a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sqlflow_assets import flatten
from sqlflow_assets.lineage_json import LineageTables, read_lineage
from sqlflow_assets_tests.fixtures import fixture_bytes, generated_payload

RAW = "sqlflow_raw"
EDGE_COLUMNS = "relationship_id, relationship_type, source_object, source_column, target_object, target_column"
END_TO_END_COLUMNS = "source_object, source_column, target_object, target_column, relationship_type, hops"


@pytest.fixture()
def conn(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "sqlflow.duckdb"))
    yield connection
    connection.close()


def load_raw(conn: duckdb.DuckDBPyConnection, job_id: str, tables: LineageTables, skip: tuple[str, ...] = ()) -> None:
    """Replace one job's raw rows, as dlt's delete-insert merge on job_id does."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    for name, table in tables.as_dict().items():
        if name in skip:
            continue
        conn.register("incoming", table)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {RAW}.{name} AS SELECT * FROM incoming WHERE false")
        conn.execute(f"DELETE FROM {RAW}.{name} WHERE job_id = ?", [job_id])
        conn.execute(f"INSERT INTO {RAW}.{name} SELECT * FROM incoming")
        conn.unregister("incoming")


def load_fixture(conn: duckdb.DuckDBPyConnection, name: str, job_id: str, skip: tuple[str, ...] = ()) -> dict[str, int]:
    load_raw(conn, job_id, read_lineage(fixture_bytes(name), job_id), skip)
    return flatten.build_all(conn, job_id)


def rows(conn: duckdb.DuckDBPyConnection, table: str, columns: str, job_id: str) -> set[tuple]:
    return set(conn.execute(f"SELECT {columns} FROM lineage.{table} WHERE job_id = ?", [job_id]).fetchall())


def job_counts(conn: duckdb.DuckDBPyConnection, job_id: str) -> dict[str, int]:
    return {
        table: conn.execute(f"SELECT count(*) FROM lineage.{table} WHERE job_id = ?", [job_id]).fetchone()[0]
        for table in flatten.LINEAGE_TABLES
    }


def test_format_md_nested_example(conn) -> None:
    counts = load_fixture(conn, "nested_format_example", "j1")
    assert counts == {"objects": 4, "columns": 4, "column_edges": 3, "table_edges": 1, "end_to_end_edges": 1}
    assert rows(conn, "objects", "object_id, qualified_name, is_intermediate", "j1") == {
        ("7", "SALES.orders", False), ("20", "SALES.v_big", False),
        ("15", "SALES.RS-1", True), ("30", "SALES.Query Create View-1", True),
    }
    assert rows(conn, "column_edges", EDGE_COLUMNS, "j1") == {
        ("101", "fdd", "SALES.orders", "total", "SALES.RS-1", "total"),
        ("102", "fdd", "SALES.RS-1", "total", "SALES.v_big", "total"),
        ("103", "fdr", "SALES.orders", "total", "SALES.RS-1", "RelationRows"),
    }
    assert rows(conn, "column_edges", "relationship_id, clause_type, process_name, process_type", "j1") == {
        ("101", None, None, None), ("102", None, "Query Create View-1", "sstcreateview"), ("103", "where", None, None),
    }
    assert rows(conn, "end_to_end_edges", END_TO_END_COLUMNS, "j1") == {
        ("SALES.orders", "total", "SALES.v_big", "total", "fdd", 2),
    }
    assert rows(conn, "table_edges", "source_object, target_object, relationship_type, edge_count", "j1") == {
        ("SALES.orders", "SALES.v_big", "fdd", 1),
    }
    assert rows(conn, "columns", "column_id, is_pseudo, object_qualified_name", "j1") == {
        ("8", False, "SALES.orders"), ("9", True, "SALES.orders"), ("21", False, "SALES.v_big"), ("16", False, "SALES.RS-1"),
    }


def test_flat_shape_ids_star_columns_and_chain_rule(conn) -> None:
    load_fixture(conn, "flat_root_relations", "j1")
    stats = 'wh.mart."Order Stats"'
    assert rows(conn, "column_edges", EDGE_COLUMNS + ", source_column_id", "j1") == {
        ("10", "fdd", "shop.orders", "amount", "RS-1", "amount", "2"),
        ("11", "fdr", "shop.orders", "amount", "RS-1", "PseudoRows", "2"),
        # target id 7 resolves: the dbobj's quoted column name wins over the relationship's `Amount`
        ("13", "fdd", "RS-1", "amount", stats, '"Amount"', "4"),
        # star id 28_0 does not resolve to a column: the relationship's column name is used
        ("14", "fdd", "shop.orders", "order_id", stats, "order_id", "28_0"),
        ("15", "fdd", "RS-1", "PseudoRows", stats, '"Amount"', "5"),
        # target id 99 is not in dbobjs: fall back to the relationship's column name
        ("16", "fdr", "RS-1", "PseudoRows", stats, "PseudoRows", "5"),
    }
    assert rows(conn, "end_to_end_edges", END_TO_END_COLUMNS, "j1") == {
        # an all-fdd path (10, 13) and an fdr path (11, 15): fdd wins
        ("shop.orders", "amount", stats, '"Amount"', "fdd", 2),
        # only the fdr path (11, 16)
        ("shop.orders", "amount", stats, "PseudoRows", "fdr", 2),
        ("shop.orders", "order_id", stats, "order_id", "fdd", 1),
    }
    assert rows(conn, "objects", "object_id, database, qualified_name", "j1") >= {
        ("1", None, "shop.orders"), ("6", "wh", stats), ("3", None, "RS-1"),
    }


def test_nested_without_schemas_and_without_processes_table(conn) -> None:
    counts = load_fixture(conn, "nested_no_schemas_data_level", "j1", skip=("processes", "errors"))
    assert counts["column_edges"] == 2
    assert rows(conn, "end_to_end_edges", END_TO_END_COLUMNS, "j1") == {
        ("hotel.`rooms`", "`price`", "hotel.room_stats", "avg_price", "fdd", 2),
    }
    assert rows(conn, "column_edges", "relationship_id, process_id, process_name, process_type", "j1") == {
        ("10", None, None, None), ("11", "7", None, "sstinsert"),
    }
    assert rows(conn, "objects", "object_id, is_intermediate", "j1") >= {("5", True), ("9", True), ("1", False)}


def test_rebuild_is_idempotent(conn) -> None:
    first = load_fixture(conn, "flat_root_relations", "j1")
    snapshot = {t: rows(conn, t, "*", "j1") for t in flatten.LINEAGE_TABLES}
    assert flatten.build_all(conn, "j1") == first
    assert flatten.build(conn, "column_edges", "j1") == first["column_edges"]
    assert job_counts(conn, "j1") == first
    assert {t: rows(conn, t, "*", "j1") for t in flatten.LINEAGE_TABLES} == snapshot


def test_shrunk_reload_leaves_no_stale_rows_and_other_jobs_untouched(conn, tmp_path) -> None:
    load_raw(conn, "big", read_lineage(generated_payload(300, tmp_path), "big"))
    big = flatten.build_all(conn, "big")
    other = load_fixture(conn, "nested_format_example", "other")
    assert big["column_edges"] == 600 and big["objects"] == 30

    load_raw(conn, "big", read_lineage(fixture_bytes("flat_sqlflow_203"), "big"))
    shrunk = flatten.build_all(conn, "big")
    assert shrunk == {"objects": 2, "columns": 3, "column_edges": 1, "table_edges": 0, "end_to_end_edges": 0}
    assert job_counts(conn, "big") == shrunk
    assert job_counts(conn, "other") == other


def test_generated_payload_edges_match_relationship_sources(conn, tmp_path) -> None:
    n = 1_000
    load_raw(conn, "gen", read_lineage(generated_payload(n, tmp_path), "gen"))
    counts = flatten.build_all(conn, "gen")
    assert counts["objects"] == n // 10 and counts["columns"] == 20 * n // 10
    assert counts["column_edges"] == 2 * n
    # every object is a table, so end-to-end edges are the distinct direct column pairs
    distinct_pairs = conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT source_object, source_column, target_object, target_column "
        "FROM lineage.column_edges WHERE job_id = 'gen')"
    ).fetchone()[0]
    assert counts["end_to_end_edges"] == distinct_pairs
    unresolved = conn.execute(
        "SELECT count(*) FROM lineage.column_edges WHERE job_id = 'gen' AND (source_object IS NULL OR target_column IS NULL)"
    ).fetchone()[0]
    assert unresolved == 0


def test_lineage_tables_have_the_declared_types(conn) -> None:
    load_fixture(conn, "nested_format_example", "j1")
    for table, columns in flatten.LINEAGE_COLUMNS.items():
        declared = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'lineage' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        assert declared == list(columns), table


def test_database_file_named_like_the_schema(tmp_path) -> None:
    with duckdb.connect(str(tmp_path / "lineage.duckdb")) as conn:
        assert load_fixture(conn, "nested_format_example", "j1")["end_to_end_edges"] == 1


def test_missing_required_raw_table_fails_and_rolls_back(conn) -> None:
    load_raw(conn, "j1", read_lineage(fixture_bytes("nested_format_example"), "j1"), skip=("relationships",))
    with pytest.raises(LookupError, match="relationships"):
        flatten.build_all(conn, "j1")
    schemas = {name for (name,) in conn.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert "lineage" not in schemas


def test_unknown_table_is_rejected(conn) -> None:
    load_raw(conn, "j1", read_lineage(fixture_bytes("nested_format_example"), "j1"))
    with pytest.raises(ValueError, match="unknown lineage table"):
        flatten.build(conn, "edges", "j1")
