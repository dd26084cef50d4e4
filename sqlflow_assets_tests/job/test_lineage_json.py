"""read_lineage on hand-written payloads of both shapes, a generated export, and broken inputs."""

from __future__ import annotations

import gc

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sqlflow_assets.job.lineage_json import (
    SCHEMAS,
    TABLE_NAMES,
    LineagePayloadError,
    LineageTables,
    read_lineage,
    read_lineage_file,
)
from sqlflow_assets_tests.fixtures import fixture_bytes, generated_payload


def read_fixture(name: str, job_id: str = "job-1") -> LineageTables:
    return read_lineage(fixture_bytes(name), job_id)


def rows_by(table: pa.Table, key: str) -> dict[str, dict]:
    return {row[key]: row for row in table.to_pylist()}


def test_every_table_has_its_schema_with_job_id_first() -> None:
    tables = read_fixture("flat_root_relations")
    assert tuple(tables.as_dict()) == TABLE_NAMES
    for name, table in tables.as_dict().items():
        assert table.schema == SCHEMAS[name]
        assert table.schema.names[0] == "job_id"
        assert set(table.column("job_id").to_pylist()) <= {"job-1"}
    assert SCHEMAS["columns"].field("is_pseudo").type == pa.bool_()
    assert SCHEMAS["objects"].field("object_id").type == pa.string()


def test_flat_root_file_with_relations() -> None:
    tables = read_fixture("flat_root_relations")
    objects = rows_by(tables.objects, "object_id")
    assert objects["1"] | {"coordinates": None} == {
        "job_id": "job-1", "object_id": "1", "name": "shop.orders", "display_name": None,
        "object_type": "table", "server": None, "database": None, "schema": "shop",
        "db_vendor": "dbvpostgresql", "bucket": "dbobjs", "alias": "o", "coordinates": None,
    }
    assert orjson.loads(objects["1"]["coordinates"]) == [
        {"x": 1, "y": 22, "hashCode": "0"}, {"x": 1, "y": 33, "hashCode": "0"},
    ]
    assert (objects["6"]["database"], objects["6"]["schema"]) == ("wh", "mart")
    assert objects["12"]["object_type"] == "process"

    columns = rows_by(tables.columns, "column_id")
    assert columns["5"]["is_pseudo"] is True and columns["4"]["is_pseudo"] is False
    assert columns["7"]["name"] == '"Amount"'
    assert columns["2"]["primary_key"] is False

    assert tables.processes.to_pylist() == [{
        "job_id": "job-1", "process_id": "12", "name": "Query Insert-1", "process_type": None,
        "procedure_name": "batchQueries", "query_hash_id": "9b2f0c1d",
        "coordinates": '[{"x":1,"y":1,"hashCode":"0"},{"x":3,"y":40,"hashCode":"0"}]',
    }]
    relationships = rows_by(tables.relationships, "relationship_id")
    assert list(relationships) == ["10", "11", "13", "14", "15", "16"]
    assert relationships["16"]["effect_type"] is None
    assert relationships["15"]["function"] == "count"
    assert relationships["13"] | {"job_id": None} == {
        "job_id": None, "relationship_id": "13", "relationship_type": "fdd", "effect_type": "insert",
        "process_id": "12", "process_type": None, "function": None, "target_column_id": "7",
        "target_object_id": "6", "target_column": "Amount", "target_parent_name": 'WH.MART."ORDER STATS"',
    }
    sources = rows_by(tables.relationship_sources, "relationship_id")
    assert sources["14"]["column_id"] == "28_0"
    assert sources["11"] == {
        "job_id": "job-1", "relationship_id": "11", "ord": 0, "column_id": "2", "object_id": "1",
        "column": "amount", "parent_name": "SHOP.ORDERS", "clause_type": "where",
    }
    assert tables.errors.num_rows == 0


def test_flat_203_envelope_with_relationships_and_errors() -> None:
    tables = read_fixture("flat_sqlflow_203")
    objects = rows_by(tables.objects, "object_id")
    assert (objects["1"]["database"], objects["1"]["schema"]) == ("db1", "dbo")
    assert objects["1"]["db_vendor"] == "dbvmssql"
    assert rows_by(tables.columns, "column_id")["3"]["is_pseudo"] is True
    assert tables.relationships.column("relationship_id").to_pylist() == ["6"]
    assert tables.errors.drop_columns("coordinates").to_pylist() == [
        {"job_id": "job-1", "ord": 0, "error_message": "syntax error near 'frm'", "error_type": "SyntaxHint",
         "file_name": None},
        {"job_id": "job-1", "ord": 1, "error_message": "unknown column 'x'", "error_type": "SemanticError",
         "file_name": "b.sql"},
    ]
    assert tables.errors.column("coordinates").to_pylist()[1] is None


def test_nested_format_example() -> None:
    tables = read_fixture("nested_format_example")
    placement = {
        row["object_id"]: (row["server"], row["database"], row["schema"], row["bucket"], row["object_type"])
        for row in tables.objects.to_pylist()
    }
    assert placement == {
        "7": ("DEFAULT_SERVER", "DEFAULT", "SALES", "tables", "table"),
        "20": ("DEFAULT_SERVER", "DEFAULT", "SALES", "views", "view"),
        "15": ("DEFAULT_SERVER", "DEFAULT", "SALES", "others", "select_list"),
        "30": ("DEFAULT_SERVER", "DEFAULT", "SALES", "processes", "process"),
    }
    assert set(tables.objects.column("db_vendor").to_pylist()) == {"dbvoracle"}
    assert rows_by(tables.objects, "object_id")["7"]["display_name"] == "sales.orders"
    columns = rows_by(tables.columns, "column_id")
    assert columns["8"]["data_type"] == "number"
    assert columns["9"]["is_pseudo"] is True
    # The process appears at top level and in schema.processes: one row, keeping the statement type.
    assert tables.processes.drop_columns(["job_id", "coordinates"]).to_pylist() == [{
        "process_id": "30", "name": "Query Create View-1", "process_type": "sstcreateview",
        "procedure_name": "batchQueries", "query_hash_id": "0f0f",
    }]
    assert rows_by(tables.relationships, "relationship_id")["102"]["process_type"] == "sstcreateview"
    assert tables.relationship_sources.num_rows == 3


def test_nested_without_catalogs_reads_server_schemas() -> None:
    tables = read_fixture("nested_no_catalogs")
    objects = rows_by(tables.objects, "object_id")
    assert {(o["server"], o["database"], o["schema"]) for o in objects.values()} == {("10.0.0.5", None, "SCOTT")}
    assert (objects["6"]["bucket"], objects["6"]["object_type"]) == ("packages", "package")
    assert objects["7"]["object_type"] == "procedure"
    columns = rows_by(tables.columns, "column_id")
    assert (columns["2"]["primary_key"], columns["2"]["unique_key"], columns["2"]["foreign_key"]) == (True, True, False)
    assert columns["5"]["foreign_key"] is True
    assert columns["3"]["name"] == '"Department"'
    assert rows_by(tables.relationships, "relationship_id")["8"]["relationship_type"] == "er"
    assert tables.processes.num_rows == 0


def test_nested_without_schemas_under_data_with_string_code() -> None:
    tables = read_fixture("nested_no_schemas_data_level")
    objects = rows_by(tables.objects, "object_id")
    assert {(o["database"], o["schema"]) for o in objects.values()} == {("hotel", None)}
    assert objects["9"]["object_type"] == "pivot_table"
    assert objects["1"]["name"] == "`rooms`"
    processes = rows_by(tables.processes, "process_id")
    assert processes["7"]["process_type"] == "sstinsert"
    assert orjson.loads(processes["7"]["coordinates"]) == [
        {"x": 2, "y": 1, "hashCode": "0"}, {"x": 251, "y": 2, "hashCode": "0"},
    ]
    assert tables.processes.num_rows == 1


def test_parsed_mapping_gives_the_same_tables_as_bytes() -> None:
    raw = fixture_bytes("nested_format_example")
    from_bytes = read_lineage(raw, "j")
    from_mapping = read_lineage(orjson.loads(raw), "j")
    for name in TABLE_NAMES:
        assert getattr(from_mapping, name).equals(getattr(from_bytes, name)), name


def test_numeric_ids_and_string_flags_are_coerced_not_rejected() -> None:
    payload = {"dbobjs": [{"id": 5, "name": "t", "type": "table",
                           "columns": [{"id": 6, "name": "c", "primaryKey": "true"}]}]}
    tables = read_lineage(payload, "j")
    assert tables.objects.column("object_id").to_pylist() == ["5"]
    assert rows_by(tables.columns, "column_id")["6"]["primary_key"] is True


def test_generated_export_counts(tmp_path) -> None:
    n = 2_000
    tables = read_lineage(generated_payload(n, tmp_path), "bench")
    n_tables = n // 10
    assert tables.objects.num_rows == n_tables
    assert tables.columns.num_rows == n_tables * 20
    assert pc.sum(tables.columns.column("is_pseudo")).as_py() == n_tables
    assert tables.relationships.num_rows == n
    assert tables.relationship_sources.num_rows == 2 * n
    assert tables.relationship_sources.column("ord").to_pylist()[:4] == [0, 1, 0, 1]
    fdr_targets = pc.filter(
        tables.relationships.column("target_column"),
        pc.equal(tables.relationships.column("relationship_type"), "fdr"),
    )
    assert set(fdr_targets.to_pylist()) == {"PseudoRows"}


def test_empty_dbobjs_gives_empty_tables_with_schemas() -> None:
    tables = read_lineage(b'{"code":200,"data":{"sqlflow":{"dbobjs":[],"relationships":[]}}}', "j")
    for name in TABLE_NAMES:
        table = getattr(tables, name)
        assert table.num_rows == 0 and table.schema == SCHEMAS[name]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"code": 200, "data": ', "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"code": 401, "error": "token expired"}', "code 401: token expired"),
        (b'{"code": "500"}', "code '500'"),
        (b'{"code": 200, "data": {"sqlflow": {"relationships": []}}}', "no `dbobjs`"),
        (b'{"dbobjs": "nope"}', "no `dbobjs`"),
    ],
)
def test_bad_payloads_raise_lineage_payload_error(payload: bytes, message: str, tmp_path) -> None:
    with pytest.raises(LineagePayloadError, match=message) as caught:
        read_lineage(payload, "j")
    assert isinstance(caught.value, ValueError)
    assert gc.isenabled()
    # the same from a memory-mapped file: the map closes and the payload error is what surfaces
    export = tmp_path / "export.json"
    export.write_bytes(payload)
    with pytest.raises(LineagePayloadError, match=message):
        read_lineage_file(export, "j")


def test_file_and_bytes_give_the_same_tables(tmp_path) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(generated_payload(3_000, tmp_path))
    from_file, from_bytes = read_lineage_file(export, "j"), read_lineage(export.read_bytes(), "j")
    for name in TABLE_NAMES:
        assert getattr(from_file, name).equals(getattr(from_bytes, name)), name
    assert from_file.relationships.num_rows == 3_000  # more than one decode chunk of sources


def test_empty_export_file_is_a_clear_error(tmp_path) -> None:
    export = tmp_path / "export.json"
    export.write_bytes(b"")
    with pytest.raises(LineagePayloadError, match="empty"):
        read_lineage_file(export, "j")


def test_gc_is_restored_to_its_previous_state() -> None:
    gc.disable()
    try:
        read_fixture("flat_root_relations")
        assert not gc.isenabled()
    finally:
        gc.enable()
    read_fixture("flat_root_relations")
    assert gc.isenabled()
