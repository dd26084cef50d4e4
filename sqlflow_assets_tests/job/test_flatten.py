"""The flatten step over fixture payloads: the exact lineage rows each shape and quirk gives."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sqlflow_assets import tables as contract
from sqlflow_assets.job import flatten
from sqlflow_assets.job.lineage_json import read_lineage
from sqlflow_assets_tests.fixtures import fixture_bytes, generated_payload
from sqlflow_assets_tests.support import lineage_rows

EDGE_COLUMNS = "relationship_id, relationship_type, source_object, source_column, target_object, target_column"
END_TO_END_COLUMNS = "source_object, source_column, target_object, target_column, relationship_type, hops"


Tables = dict[str, pa.Table]


def flatten_payload(payload: bytes, job_id: str) -> Tables:
    return lineage_rows(read_lineage(payload, job_id), job_id)


def rows(tables: Tables, table: str, columns: str) -> set[tuple]:
    """Distinct rows of `columns` ("*" for all) of one lineage table."""
    selected = tables[table] if columns == "*" else tables[table].select([c.strip() for c in columns.split(",")])
    return set(zip(*(column.to_pylist() for column in selected.columns), strict=True))


def counts(tables: Tables) -> dict[str, int]:
    return {name: table.num_rows for name, table in tables.items()}


def test_format_md_nested_example() -> None:
    tables = flatten_payload(fixture_bytes("nested_format_example"), "j1")
    assert counts(tables) == {"objects": 4, "columns": 4, "column_edges": 3, "table_edges": 1, "end_to_end_edges": 1}
    assert rows(tables, "objects", "object_id, qualified_name, is_intermediate") == {
        ("7", "SALES.orders", False), ("20", "SALES.v_big", False),
        ("15", "SALES.RS-1", True), ("30", "SALES.Query Create View-1", True),
    }
    assert rows(tables, "column_edges", EDGE_COLUMNS) == {
        ("101", "fdd", "SALES.orders", "total", "SALES.RS-1", "total"),
        ("102", "fdd", "SALES.RS-1", "total", "SALES.v_big", "total"),
        ("103", "fdr", "SALES.orders", "total", "SALES.RS-1", "RelationRows"),
    }
    assert rows(tables, "column_edges", "relationship_id, clause_type, process_name, process_type") == {
        ("101", None, None, None), ("102", None, "Query Create View-1", "sstcreateview"), ("103", "where", None, None),
    }
    assert rows(tables, "end_to_end_edges", END_TO_END_COLUMNS) == {
        ("SALES.orders", "total", "SALES.v_big", "total", "fdd", 2),
    }
    assert rows(tables, "table_edges", "source_object, target_object, relationship_type, edge_count") == {
        ("SALES.orders", "SALES.v_big", "fdd", 1),
    }
    assert rows(tables, "columns", "column_id, is_pseudo, object_qualified_name") == {
        ("8", False, "SALES.orders"), ("9", True, "SALES.orders"), ("21", False, "SALES.v_big"), ("16", False, "SALES.RS-1"),
    }


def test_flat_shape_ids_star_columns_and_chain_rule() -> None:
    tables = flatten_payload(fixture_bytes("flat_root_relations"), "j1")
    stats = 'wh.mart."Order Stats"'
    assert rows(tables, "column_edges", EDGE_COLUMNS + ", source_column_id") == {
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
    assert rows(tables, "end_to_end_edges", END_TO_END_COLUMNS) == {
        # an all-fdd path (10, 13) and an fdr path (11, 15): fdd wins
        ("shop.orders", "amount", stats, '"Amount"', "fdd", 2),
        # only the fdr path (11, 16)
        ("shop.orders", "amount", stats, "PseudoRows", "fdr", 2),
        ("shop.orders", "order_id", stats, "order_id", "fdd", 1),
    }
    assert rows(tables, "objects", "object_id, database, qualified_name") >= {
        ("1", None, "shop.orders"), ("6", "wh", stats), ("3", None, "RS-1"),
    }


def test_nested_without_schemas_data_level() -> None:
    tables = flatten_payload(fixture_bytes("nested_no_schemas_data_level"), "j1")
    assert tables["column_edges"].num_rows == 2
    assert rows(tables, "end_to_end_edges", END_TO_END_COLUMNS) == {
        ("hotel.`rooms`", "`price`", "hotel.room_stats", "avg_price", "fdd", 2),
    }
    assert rows(tables, "column_edges", "relationship_id, process_id, process_name, process_type") == {
        ("10", None, None, None), ("11", "7", "Query Insert-1", "sstinsert"),
    }
    assert rows(tables, "objects", "object_id, is_intermediate") >= {("5", True), ("9", True), ("1", False)}


def test_generated_payload_edges_match_relationship_sources(tmp_path) -> None:
    n = 1_000
    tables = flatten_payload(generated_payload(n, tmp_path), "gen")
    assert counts(tables)["objects"] == n // 10 and counts(tables)["columns"] == 20 * n // 10
    assert counts(tables)["column_edges"] == 2 * n
    # every object is a table, so end-to-end edges are the distinct direct column pairs
    distinct_pairs = rows(tables, "column_edges", "source_object, source_column, target_object, target_column")
    assert counts(tables)["end_to_end_edges"] == len(distinct_pairs)
    edges = tables["column_edges"]
    assert pc.sum(pc.or_(pc.is_null(edges["source_object"]), pc.is_null(edges["target_column"]))).as_py() == 0


def test_lineage_tables_have_the_contract_s_types() -> None:
    tables = flatten_payload(fixture_bytes("nested_format_example"), "j1")
    for name, table in contract.LINEAGE.items():
        assert tables[name].schema == table.arrow_schema(), name


def test_empty_payload_gives_empty_typed_tables() -> None:
    tables = flatten_payload(b'{"code":200,"data":{"sqlflow":{"dbobjs":[],"relationships":[]}}}', "j1")
    assert counts(tables) == dict.fromkeys(flatten.LINEAGE_TABLES, 0)
