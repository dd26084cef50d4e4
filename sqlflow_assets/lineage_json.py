"""SQLFlow lineage JSON (flat or nested `dbobjs`) -> flat Arrow tables.

Why not dlt's nested normaliser: it flattens row by row in Python and is the
bottleneck on large payloads (see the shared bench README). Here every table is
built as Python row tuples, transposed once, and turned into one `pa.array` per
column. Ids stay strings (star-expanded ids such as `28_0` exist).
The format itself is described in the shared FORMAT.md (§1 envelope, §2 flat
shape, §3 nested shape, §5 relationships, §6 coordinates).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import orjson
import pyarrow as pa

TABLE_NAMES = ("objects", "columns", "relationships", "relationship_sources", "processes", "errors")

_TYPES = {"str": pa.string(), "bool": pa.bool_(), "int": pa.int64()}


def _schema(*fields: str) -> pa.Schema:
    """`"name"` is a string column, `"name:bool"` / `"name:int"` set the type; `job_id` comes first."""
    pairs = (f.partition(":")[::2] for f in ("job_id", *fields))
    return pa.schema([pa.field(name, _TYPES[kind or "str"]) for name, kind in pairs])


SCHEMAS: Mapping[str, pa.Schema] = MappingProxyType(
    {
        "objects": _schema(
            "object_id", "name", "display_name", "object_type", "server", "database", "schema",
            "db_vendor", "bucket", "alias", "coordinates",
        ),
        "columns": _schema(
            "object_id", "column_id", "name", "data_type", "source", "is_pseudo:bool",
            "primary_key:bool", "foreign_key:bool", "unique_key:bool", "coordinates",
        ),
        "relationships": _schema(
            "relationship_id", "relationship_type", "effect_type", "process_id", "process_type",
            "function", "target_column_id", "target_object_id", "target_column", "target_parent_name",
        ),
        "relationship_sources": _schema(
            "relationship_id", "ord:int", "column_id", "object_id", "column", "parent_name", "clause_type",
        ),
        "processes": _schema(
            "process_id", "name", "process_type", "procedure_name", "query_hash_id", "coordinates",
        ),
        "errors": _schema("ord:int", "error_message", "error_type", "file_name", "coordinates"),
    }
)

# Boolean flags that are False (not null) when the payload omits them.
_FLAG_COLUMNS = frozenset({"primary_key", "foreign_key", "unique_key"})
_OK_CODES = frozenset({200, 203, "200", "203"})
_PSEUDO_NAMES = frozenset({"pseudorows", "relationrows"})
_STRUCTURAL_KEYS = frozenset({"databases", "schemas"})
# Nested buckets whose items may lack `type` (FORMAT.md §3: packages, schema.processes).
_BUCKET_TYPES = MappingProxyType(
    {
        "tables": "table", "views": "view", "processes": "process", "procedures": "procedure",
        "packages": "package", "functions": "function", "triggers": "trigger",
    }
)
_NAME_PART = re.compile(r'"[^"]*"|\[[^\]]*\]|`[^`]*`|[^.]+')
_LEGACY_COORD = re.compile(r"\[\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*([^\]]*?)\s*\]")


class LineagePayloadError(ValueError):
    """The payload is not SQLFlow lineage JSON, or the server answered with an error code."""


@dataclass(frozen=True)
class LineageTables:
    """One payload's lineage as flat Arrow tables (schemas in `SCHEMAS`, `job_id` first)."""

    objects: pa.Table
    columns: pa.Table
    relationships: pa.Table
    relationship_sources: pa.Table
    processes: pa.Table
    errors: pa.Table

    def as_dict(self) -> dict[str, pa.Table]:
        """Tables keyed by their raw table name, in `TABLE_NAMES` order."""
        return {name: getattr(self, name) for name in TABLE_NAMES}


class _Place(NamedTuple):
    """Where an object sits: the nesting levels it was found under."""

    server: str | None
    database: str | None
    schema: str | None
    db_vendor: str | None
    bucket: str


def read_lineage(payload: bytes | str | Mapping[str, Any], job_id: str) -> LineageTables:
    """Parse one SQLFlow lineage payload (raw bytes or an already parsed document) into `LineageTables`.

    The cyclic GC is paused meanwhile: the parse allocates millions of small dicts
    and the collector otherwise runs over them again and again (2.5x slower at 100k relationships).
    """
    with _gc_paused():
        return _read(payload, job_id)


def _read(payload: bytes | str | Mapping[str, Any], job_id: str) -> LineageTables:
    """The whole read; its document and row lists are freed when it returns, before the GC is back on.

    Otherwise the first collection after `gc.enable()` would walk the whole parsed document.
    """
    document = _parse(payload) if isinstance(payload, (bytes, bytearray, memoryview, str)) else payload
    rows = _Rows()
    rows.collect(_find_sqlflow(document))
    return LineageTables(**{name: _to_table(name, rows.tables[name], job_id) for name in TABLE_NAMES})


@contextmanager
def _gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(payload: bytes | bytearray | memoryview | str) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise LineagePayloadError(f"payload is not valid JSON: {exc}") from None


def _find_sqlflow(document: Any) -> Mapping[str, Any]:
    """Probe `data.sqlflow`, `data`, then the root (FORMAT.md §1) for the object holding `dbobjs`."""
    if not isinstance(document, Mapping):
        raise LineagePayloadError(f"payload must be a JSON object, got {type(document).__name__}")
    if "code" in document and document["code"] not in _OK_CODES:
        detail = document.get("error") or document.get("message") or "no error text"
        raise LineagePayloadError(f"SQLFlow answered code {document['code']!r}: {detail}")
    data = document.get("data")
    candidates = (data.get("sqlflow") if isinstance(data, Mapping) else None, data, document)
    for candidate in candidates:
        if isinstance(candidate, Mapping) and isinstance(candidate.get("dbobjs"), (list, Mapping)):
            return candidate
    raise LineagePayloadError("no `dbobjs` list or object found at data.sqlflow, data, or the root")


class _Rows:
    """Row tuples per raw table (without `job_id`), in `SCHEMAS` column order."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLE_NAMES}
        self._process_ids: set[Any] = set()

    def collect(self, sqlflow: Mapping[str, Any]) -> None:
        # Top-level processes first: only that copy carries the statement `type`.
        for process in sqlflow.get("processes") or ():
            self._add_process(process)
        dbobjs = sqlflow["dbobjs"]
        placed = _walk_flat(dbobjs, sqlflow.get("dbvendor")) if isinstance(dbobjs, list) else _walk_nested(dbobjs)
        for obj, place in placed:
            self._add_object(obj, place)
        relationships = sqlflow.get("relationships")
        for relationship in (sqlflow.get("relations") if relationships is None else relationships) or ():
            self._add_relationship(relationship)
        self.tables["errors"] = [
            (ord_, e.get("errorMessage"), e.get("errorType"), e.get("fileName"), _coordinates(e))
            for ord_, e in enumerate(sqlflow.get("errors") or ())
        ]

    def _add_object(self, obj: Mapping[str, Any], place: _Place) -> None:
        object_id = obj.get("id")
        object_type = obj.get("type") or _BUCKET_TYPES.get(place.bucket)
        self.tables["objects"].append(
            (object_id, obj.get("name"), obj.get("displayName"), object_type, place.server, place.database,
             place.schema, place.db_vendor, place.bucket, obj.get("alias"), _coordinates(obj))
        )
        if object_type == "process" or place.bucket == "processes":
            self._add_process(obj)
        append_column = self.tables["columns"].append
        for column in obj.get("columns") or ():
            name, source = column.get("name"), column.get("source")
            is_pseudo = (isinstance(source, str) and source.lower() == "system") or (
                isinstance(name, str) and name.lower() in _PSEUDO_NAMES
            )
            unique_key = column.get("unqiueKey", column.get("uniqueKey"))
            append_column(
                (object_id, column.get("id"), name, column.get("dataType"), source, is_pseudo,
                 column.get("primaryKey"), column.get("foreignKey"), unique_key, _coordinates(column))
            )

    def _add_process(self, process: Mapping[str, Any]) -> None:
        process_id = process.get("id")
        if process_id in self._process_ids:
            return
        self._process_ids.add(process_id)
        kind = process.get("type")
        self.tables["processes"].append(
            (process_id, process.get("name"), None if kind == "process" else kind, process.get("procedureName"),
             process.get("queryHashId"), _coordinates(process))
        )

    def _add_relationship(self, rel: Mapping[str, Any]) -> None:
        rel_id = rel.get("id")
        target = rel.get("target") or {}
        self.tables["relationships"].append(
            (rel_id, rel.get("type"), rel.get("effectType"), rel.get("processId"), rel.get("processType"),
             rel.get("function"), target.get("id"), target.get("parentId"), target.get("column"),
             target.get("parentName"))
        )
        self.tables["relationship_sources"].extend(
            (rel_id, ord_, s.get("id"), s.get("parentId"), s.get("column"), s.get("parentName"), s.get("clauseType"))
            for ord_, s in enumerate(rel.get("sources") or ())
        )


def _walk_flat(dbobjs: list[Any], db_vendor: str | None) -> Iterator[tuple[Mapping[str, Any], _Place]]:
    """Old shape: schema from the `schema` field, database (and schema if absent) from a 3-part name."""
    for obj in dbobjs:
        name = obj.get("name")
        parts = _NAME_PART.findall(name) if isinstance(name, str) and "." in name else ()
        database, name_schema = (parts[0], parts[1]) if len(parts) == 3 else (None, None)
        schema = obj.get("schema")
        yield obj, _Place(None, database, name_schema if schema is None else schema, db_vendor, "dbobjs")


def _walk_nested(dbobjs: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], _Place]]:
    """New shape: servers -> databases -> schemas, databases holding objects, or servers holding schemas."""
    for server in dbobjs.get("servers") or ():
        base = _Place(server.get("name"), None, None, server.get("dbVendor"), "")
        for database in server.get("databases") or ():
            in_database = base._replace(database=database.get("name"))
            yield from _walk_buckets(database, in_database)
            for schema in database.get("schemas") or ():
                yield from _walk_buckets(schema, in_database._replace(schema=schema.get("name")))
        for schema in server.get("schemas") or ():
            yield from _walk_buckets(schema, base._replace(schema=schema.get("name")))


def _walk_buckets(container: Mapping[str, Any], place: _Place) -> Iterator[tuple[Mapping[str, Any], _Place]]:
    """Every list of objects in a container is a bucket (tables, views, others, processes, ...)."""
    for bucket, items in container.items():
        if bucket in _STRUCTURAL_KEYS or not isinstance(items, list):
            continue
        in_bucket = place._replace(bucket=bucket)
        for obj in items:
            if isinstance(obj, Mapping):
                yield obj, in_bucket


def _coordinates(item: Mapping[str, Any]) -> str | None:
    """Coordinates as JSON text; the legacy `coordinate` string becomes the same `{x, y, hashCode}` list."""
    coordinates = item.get("coordinates")
    if coordinates is not None:
        return orjson.dumps(coordinates).decode()
    legacy = item.get("coordinate")
    if isinstance(legacy, str):
        points = [{"x": int(x), "y": int(y), "hashCode": h} for x, y, h in _LEGACY_COORD.findall(legacy)]
        return orjson.dumps(points).decode()
    return None


def _to_table(name: str, rows: list[tuple[Any, ...]], job_id: str) -> pa.Table:
    schema = SCHEMAS[name]
    columns = list(zip(*rows)) if rows else [() for _ in range(len(schema) - 1)]
    arrays = [pa.repeat(pa.scalar(job_id, pa.string()), len(rows))]
    arrays += [_to_array(values, field) for values, field in zip(columns, list(schema)[1:], strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _to_array(values: tuple[Any, ...], field: pa.Field) -> pa.Array:
    """Fast path converts directly; odd payload values (numeric ids, "true" strings) are coerced on retry."""
    try:
        array = pa.array(values, field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array([_coerce(v, field.type) for v in values], field.type)
    return array.fill_null(False) if field.name in _FLAG_COLUMNS else array


def _coerce(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if arrow_type == pa.bool_():
        return str(value).lower() == "true"
    if arrow_type == pa.string():
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    return int(value)
