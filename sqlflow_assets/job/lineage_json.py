"""SQLFlow lineage JSON (flat or nested `dbobjs`) -> flat Arrow tables.

Why msgspec and not `orjson.loads` + dict walking: msgspec decodes straight into small typed
structs, skips every key we do not read (the UI `graph`, `summary`) and keeps coordinates as raw
JSON slices (`msgspec.Raw`), so a 100k-relationship export parses about 5x faster and holds
far fewer Python objects. The document is decoded in phases (objects, then relationships, then
processes and errors), each phase turned into Arrow and freed before the next, which bounds memory
on 1M-relationship exports. Ids stay strings (star-expanded ids such as `28_0` exist).
The format itself is described in docs/sqlflow-format.md (§1 envelope, §2 flat shape, §3 nested
shape, §5 relationships, §6 coordinates).
"""

from __future__ import annotations

import gc
import mmap
import re
import traceback
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec
import orjson
import pyarrow as pa

from sqlflow_assets import tables
from sqlflow_assets.domain import BUCKET_KINDS, OK_CODES, PSEUDO_COLUMNS, STRUCTURAL_KEYS, Place, containers
from sqlflow_assets.errors import LineagePayloadError

TABLE_NAMES = tuple(tables.RAW)
# The raw tables' Arrow schemas, from the table contract (`tables.py`); `job_id` comes first.
SCHEMAS: Mapping[str, pa.Schema] = MappingProxyType({name: table.arrow_schema() for name, table in tables.RAW.items()})

# Boolean flags that are False (not null) when the payload omits them.
_FLAG_COLUMNS = frozenset({"primary_key", "foreign_key", "unique_key"})
_NAME_PART = re.compile(r'"[^"]*"|\[[^\]]*\]|`[^`]*`|[^.]+')
_LEGACY_COORD = re.compile(r"\[\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*([^\]]*?)\s*\]")
_NULL = msgspec.Raw(b"null")


# --- the typed view of the payload (only the keys we read; scalars stay `Any`: odd payloads
# carry numeric ids or "true" strings, coerced when the Arrow column is built) ---------------


class _Located(msgspec.Struct):
    """Anything with a position in the SQL: `coordinates` (kept raw), or the legacy `coordinate` text."""

    coordinates: msgspec.Raw = _NULL
    coordinate: Any = None


class _Column(_Located):
    id: Any = None
    name: Any = None
    dataType: Any = None
    source: Any = None
    primaryKey: Any = None
    foreignKey: Any = None
    uniqueKey: Any = None
    unqiueKey: Any = None  # SQLFlow's own spelling in real payloads


class _Object(_Located):
    id: Any = None
    name: Any = None
    displayName: Any = None
    type: Any = None
    alias: Any = None
    schema: Any = None
    procedureName: Any = None
    queryHashId: Any = None
    columns: list[_Column] | None = None


class _Endpoint(msgspec.Struct):
    id: Any = None
    column: Any = None
    parentId: Any = None
    parentName: Any = None
    clauseType: Any = None


class _Relationship(msgspec.Struct):
    id: Any = None
    type: Any = None
    effectType: Any = None
    processId: Any = None
    processType: Any = None
    function: Any = None
    target: _Endpoint | None = None
    sources: list[_Endpoint] | None = None


class _Error(_Located):
    errorMessage: Any = None
    errorType: Any = None
    fileName: Any = None


_FIELDS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ANY = msgspec.json.Decoder()
_NULL_ONLY = msgspec.json.Decoder(None)
_CONTAINERS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_RAW_ITEMS = msgspec.json.Decoder(list[msgspec.Raw])
_OBJECT_LIST = msgspec.json.Decoder(list[_Object])
_RELATIONSHIP_LIST = msgspec.json.Decoder(list[_Relationship])
_ERROR_LIST = msgspec.json.Decoder(list[_Error])
_CHUNK_ITEMS = 20_000  # items decoded into structs at once
_BATCH_ROWS = 200_000  # row tuples turned into one Arrow batch


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


def read_lineage(payload: bytes | str | Mapping[str, Any], job_id: str) -> LineageTables:
    """Parse one SQLFlow lineage payload (raw bytes, text or an already parsed document).

    The cyclic GC is paused meanwhile: the parse allocates millions of small objects and the
    collector would otherwise walk them again and again.
    """
    if isinstance(payload, Mapping):
        payload = orjson.dumps(payload)
    elif isinstance(payload, str):
        payload = payload.encode()
    with _gc_paused():
        return _read(payload, job_id)


def read_lineage_file(path: Path, job_id: str) -> LineageTables:
    """Parse an export saved on disk, memory-mapped: the file's pages are not copied onto the heap."""
    with open(path, "rb") as file:
        if file.seek(0, 2) == 0:
            raise LineagePayloadError(message=f"the export of job {job_id} is empty")
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped, _gc_paused():
            view = memoryview(mapped)
            try:
                return _read(view, job_id)
            except BaseException as exc:
                _drop_frame_locals(exc)
                raise
            finally:
                view.release()


def _drop_frame_locals(exc: BaseException | None) -> None:
    """Clear the locals of a failed parse's frames (and of the exceptions it chains).

    They hold raw slices of the mapped file; while any exists the map cannot close, and the
    parse error would be replaced by a BufferError that says nothing about the payload.
    """
    while exc is not None:
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


@contextmanager
def _gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(payload: bytes | memoryview, job_id: str) -> LineageTables:
    """Decode phase by phase and chunk by chunk; rows become Arrow batches every `_BATCH_ROWS` rows.

    So the Python objects alive at any time are one chunk's structs and one batch of row tuples,
    whatever the size of the export.
    """
    sqlflow = _find_sqlflow(_decode(_FIELDS, payload, "the payload (it must be a JSON object)"))
    batches = _Batches(job_id)
    rows = _Rows()
    # Top-level processes first: only that copy carries the statement `type`.
    for process in _items(_OBJECT_LIST, sqlflow.get("processes", _NULL), "processes", skip_non_objects=True):
        rows.add_process(process)
    dbobjs = sqlflow["dbobjs"]
    if _starts_with(dbobjs, b"["):
        db_vendor = _decode(_ANY, sqlflow.get("dbvendor", _NULL), "dbvendor")
        placed = _walk_flat(_items(_OBJECT_LIST, dbobjs, "dbobjs", skip_non_objects=True), db_vendor)
    else:
        placed = _walk_nested(_decode(_FIELDS, dbobjs, "dbobjs"))
    for obj, place in placed:
        rows.add_object(obj, place)
        batches.flush_full(rows, "objects", "columns")
    relationships = sqlflow.get("relationships") or sqlflow.get("relations") or _NULL
    for relationship in _items(_RELATIONSHIP_LIST, relationships, "relationships"):
        rows.add_relationship(relationship)
        batches.flush_full(rows, "relationships", "relationship_sources")
    errors = _items(_ERROR_LIST, sqlflow.get("errors", _NULL), "errors")
    rows.tables["errors"] = [(ord_, e.errorMessage, e.errorType, e.fileName, _coordinates(e)) for ord_, e in enumerate(errors)]
    batches.flush(rows, *TABLE_NAMES)
    return LineageTables(**batches.tables())


class _Batches:
    """Arrow batches per raw table, cut from the row tuples as they grow."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.batches: dict[str, list[pa.Table]] = {name: [] for name in TABLE_NAMES}

    def flush_full(self, rows: _Rows, *names: str) -> None:
        if any(len(rows.tables[name]) >= _BATCH_ROWS for name in names):
            self.flush(rows, *names)

    def flush(self, rows: _Rows, *names: str) -> None:
        for name in names:
            if rows.tables[name] or not self.batches[name]:
                self.batches[name].append(_to_table(name, rows.take(name), self.job_id))

    def tables(self) -> dict[str, pa.Table]:
        return {name: pa.concat_tables(self.batches[name]) for name in TABLE_NAMES}


def _decode(decoder: msgspec.json.Decoder, raw: Any, what: str) -> Any:
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:
        if isinstance(exc, msgspec.ValidationError):
            raise LineagePayloadError(message=f"{what} is not SQLFlow lineage JSON: {exc}") from None
        raise LineagePayloadError(message=f"payload is not valid JSON: {exc}") from None


def _starts_with(raw: msgspec.Raw, char: bytes) -> bool:
    return bytes(memoryview(raw)[:64]).lstrip()[:1] == char


def _find_sqlflow(root: Mapping[str, msgspec.Raw]) -> Mapping[str, msgspec.Raw]:
    """Probe `data.sqlflow`, `data`, then the root (docs/sqlflow-format.md §1) for the object holding `dbobjs`."""
    if "code" in root:
        code = _decode(_ANY, root["code"], "code")
        if str(code) not in OK_CODES:
            detail = next(
                (_decode(_ANY, root[key], key) for key in ("error", "message") if key in root), None
            ) or "no error text"
            raise LineagePayloadError(message=f"SQLFlow answered code {code!r}: {detail}")
    candidates = [root]
    if _starts_with(root.get("data", _NULL), b"{"):
        data = _decode(_FIELDS, root["data"], "data")
        candidates.insert(0, data)
        if _starts_with(data.get("sqlflow", _NULL), b"{"):
            candidates.insert(0, _decode(_FIELDS, data["sqlflow"], "data.sqlflow"))
    for candidate in candidates:
        dbobjs = candidate.get("dbobjs", _NULL)
        if _starts_with(dbobjs, b"[") or _starts_with(dbobjs, b"{"):
            return candidate
    raise LineagePayloadError(message="no `dbobjs` list or object found at data.sqlflow, data, or the root")


def _items(decoder: msgspec.json.Decoder, raw: msgspec.Raw, what: str, skip_non_objects: bool = False) -> Iterator[Any]:
    """The items of a JSON list (null: none), decoded `_CHUNK_ITEMS` at a time.

    Object lists may hold stray non-objects, which SQLFlow never means: those are skipped.
    """
    if not _starts_with(raw, b"["):
        _decode(_NULL_ONLY, raw, what)
        return
    items = _decode(_RAW_ITEMS, raw, what)
    for start in range(0, len(items), _CHUNK_ITEMS):
        chunk = items[start : start + _CHUNK_ITEMS]
        if skip_non_objects:
            chunk = [item for item in chunk if _starts_with(item, b"{")]
        yield from _decode(decoder, b"[" + b",".join(chunk) + b"]", what)


class _Rows:
    """Row tuples per raw table (without `job_id`), in `SCHEMAS` column order."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLE_NAMES}
        self._process_ids: set[Any] = set()

    def take(self, name: str) -> list[tuple[Any, ...]]:
        rows, self.tables[name] = self.tables[name], []
        return rows

    def add_object(self, obj: _Object, place: Place) -> None:
        object_id = obj.id
        object_type = obj.type or BUCKET_KINDS.get(place.bucket)
        self.tables["objects"].append(
            (object_id, obj.name, obj.displayName, object_type, place.server, place.database,
             place.schema, place.db_vendor, place.bucket, obj.alias, _coordinates(obj))
        )
        if object_type == "process" or place.bucket == "processes":
            self.add_process(obj)
        append_column = self.tables["columns"].append
        for column in obj.columns or ():
            name, source = column.name, column.source
            is_pseudo = (isinstance(source, str) and source.lower() == "system") or (
                isinstance(name, str) and name.lower() in PSEUDO_COLUMNS
            )
            unique_key = column.unqiueKey if column.unqiueKey is not None else column.uniqueKey
            append_column(
                (object_id, column.id, name, column.dataType, source, is_pseudo,
                 column.primaryKey, column.foreignKey, unique_key, _coordinates(column))
            )

    def add_process(self, process: _Object) -> None:
        process_id = process.id
        if process_id in self._process_ids:
            return
        self._process_ids.add(process_id)
        kind = process.type
        self.tables["processes"].append(
            (process_id, process.name, None if kind == "process" else kind, process.procedureName,
             process.queryHashId, _coordinates(process))
        )

    def add_relationship(self, rel: _Relationship) -> None:
        rel_id = rel.id
        target = rel.target or _Endpoint()
        self.tables["relationships"].append(
            (rel_id, rel.type, rel.effectType, rel.processId, rel.processType, rel.function,
             target.id, target.parentId, target.column, target.parentName)
        )
        self.tables["relationship_sources"].extend(
            (rel_id, ord_, s.id, s.parentId, s.column, s.parentName, s.clauseType)
            for ord_, s in enumerate(rel.sources or ())
        )


def _walk_flat(dbobjs: Iterable[_Object], db_vendor: Any) -> Iterator[tuple[_Object, Place]]:
    """Old shape: schema from the `schema` field, database (and schema if absent) from a 3-part name."""
    for obj in dbobjs:
        name = obj.name
        parts = _NAME_PART.findall(name) if isinstance(name, str) and "." in name else ()
        database, name_schema = (parts[0], parts[1]) if len(parts) == 3 else (None, None)
        schema = obj.schema
        yield obj, Place(None, database, name_schema if schema is None else schema, db_vendor, "dbobjs")


def _walk_nested(dbobjs: Mapping[str, msgspec.Raw]) -> Iterator[tuple[_Object, Place]]:
    """New shape: servers -> databases -> schemas, databases holding objects, or servers holding schemas.

    The order and nesting are `domain.containers`, the walk the renderings and the engine's summary
    use too; here its containers are decoded lazily, one level at a time, and each bucket is decoded
    straight into typed structs in chunks (where the speed on 100k-relationship payloads comes from).
    """
    for container, place, _ in containers(dbobjs, _containers, _scalar):
        yield from _walk_buckets(container, place)


def _containers(container: Mapping[str, msgspec.Raw], key: str) -> list[dict[str, msgspec.Raw]]:
    raw = container.get(key, _NULL)
    return _decode(_CONTAINERS, raw, key) if _starts_with(raw, b"[") else []


def _scalar(container: Mapping[str, msgspec.Raw], key: str) -> Any:
    return _decode(_ANY, container.get(key, _NULL), key)


def _walk_buckets(container: Mapping[str, msgspec.Raw], place: Place) -> Iterator[tuple[_Object, Place]]:
    """Every list in a container is a bucket of objects (tables, views, others, processes, ...)."""
    for bucket, raw in container.items():
        if bucket in STRUCTURAL_KEYS or not _starts_with(raw, b"["):
            continue
        in_bucket = place._replace(bucket=bucket)
        for obj in _items(_OBJECT_LIST, raw, bucket, skip_non_objects=True):
            yield obj, in_bucket


def _coordinates(item: _Located) -> str | None:
    """Coordinates as compact JSON text; the legacy `coordinate` string becomes the same `{x, y, hashCode}` list."""
    raw = bytes(item.coordinates)
    if raw != b"null":
        compact = raw if b" " not in raw and b"\n" not in raw else orjson.dumps(orjson.loads(raw))
        return compact.decode()
    legacy = item.coordinate
    if isinstance(legacy, str):
        points = [{"x": int(x), "y": int(y), "hashCode": h} for x, y, h in _LEGACY_COORD.findall(legacy)]
        return orjson.dumps(points).decode()
    return None


def _to_table(name: str, rows: list[tuple[Any, ...]], job_id: str) -> pa.Table:
    schema = SCHEMAS[name]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(schema) - 1)]
    arrays = [pa.repeat(pa.scalar(job_id, pa.string()), len(rows))]
    arrays += [_to_array(columns.pop(0), field) for field in list(schema)[1:]]
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
