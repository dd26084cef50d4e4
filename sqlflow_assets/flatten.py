"""One SQLFlow job's raw tables (schema `sqlflow_raw`, from `lineage_json`) -> the public `lineage.*` tables.

The work is DuckDB SQL kept in `flatten_sql/<table>.sql` (one SELECT per table); this module owns
the table definitions, the per-job delete-then-insert and the transaction around it.

`is_intermediate`: objects whose type is in `REAL_OBJECT_TYPES` (tables, views and the external
storage kinds SQLFlow documents: file, directory, stage, stream, path) are real. Everything else is
intermediate: the `others` bucket (select_list, insert-select, function, with_cte, select_union,
constantTable, pseudoTable...), processes, procedures, packages, triggers, and unknown or missing
types (FORMAT.md §4: parse unknown types as intermediate).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

import duckdb
import pyarrow as pa

from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA
from sqlflow_assets.lineage_json import SCHEMAS as RAW_SCHEMAS
from sqlflow_assets.lineage_json import TABLE_NAMES as RAW_TABLES

LINEAGE_TABLES: tuple[str, ...] = ("objects", "columns", "column_edges", "end_to_end_edges", "table_edges")
REAL_OBJECT_TYPES = ("table", "view", "file", "directory", "stage", "stream", "path")
REQUIRED_RAW_TABLES = ("objects", "columns", "relationships", "relationship_sources")
MAX_HOPS = 32


def _columns(*specs: str) -> tuple[tuple[str, str], ...]:
    """`"name"` is VARCHAR; `"name:TYPE"` sets the DuckDB type. `job_id` comes first."""
    pairs = (spec.partition(":")[::2] for spec in ("job_id", *specs))
    return tuple((name, kind or "VARCHAR") for name, kind in pairs)


# Public contract: users query these columns. New columns go at the end.
LINEAGE_COLUMNS = MappingProxyType(
    {
        "objects": _columns(
            "object_id", "object_type", "database", "schema", "name", "qualified_name", "is_intermediate:BOOLEAN",
            "server", "display_name", "db_vendor", "bucket",
        ),
        "columns": _columns(
            "object_id", "column_id", "name", "is_pseudo:BOOLEAN", "data_type", "object_qualified_name", "source",
            "primary_key:BOOLEAN", "foreign_key:BOOLEAN", "unique_key:BOOLEAN",
        ),
        "column_edges": _columns(
            "relationship_id", "relationship_type", "effect_type", "source_object", "source_column",
            "target_object", "target_column", "source_object_id", "source_column_id", "target_object_id",
            "target_column_id", "source_ord:BIGINT", "clause_type", "process_id", "process_name", "process_type",
            "function", "source_is_intermediate:BOOLEAN", "target_is_intermediate:BOOLEAN",
        ),
        "table_edges": _columns("source_object", "target_object", "relationship_type", "edge_count:BIGINT"),
        "end_to_end_edges": _columns(
            "source_object", "source_column", "target_object", "target_column", "relationship_type", "hops:INTEGER",
        ),
    }
)

_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.bool_(): "BOOLEAN", pa.int64(): "BIGINT"}


def build(
    conn: duckdb.DuckDBPyConnection, table: str, job_id: str, raw_schema: str = RAW_SCHEMA, schema: str = LINEAGE_SCHEMA
) -> int:
    """Replace one job's rows of `schema.table` (in one transaction); returns the rows written.

    Tables later in `LINEAGE_TABLES` read the earlier ones, so build them in that order.
    """
    with _transaction(conn):
        return _replace_job_rows(conn, table, job_id, _References.resolve(conn, raw_schema, schema))


def build_all(
    conn: duckdb.DuckDBPyConnection, job_id: str, raw_schema: str = RAW_SCHEMA, schema: str = LINEAGE_SCHEMA
) -> dict[str, int]:
    """Replace one job's rows of every lineage table, in order and in one transaction; rows written per table."""
    with _transaction(conn):
        refs = _References.resolve(conn, raw_schema, schema)
        return {table: _replace_job_rows(conn, table, job_id, refs) for table in LINEAGE_TABLES}


@dataclass(frozen=True)
class _References:
    """SQL text for every table the SELECTs name: fully qualified (the catalog too, so a database file
    named like a schema is not ambiguous), or an empty relation for an optional raw table that is missing."""

    placeholders: dict[str, str]

    @classmethod
    def resolve(cls, conn: duckdb.DuckDBPyConnection, raw_schema: str, schema: str) -> _References:
        catalog = conn.execute("SELECT current_database()").fetchone()[0]
        _create_lineage_tables(conn, catalog, schema)
        present = {
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ?",
                [catalog, raw_schema],
            ).fetchall()
        }
        missing = [name for name in REQUIRED_RAW_TABLES if name not in present]
        if missing:
            raise LookupError(f"raw table(s) {', '.join(missing)} not found in schema {catalog}.{raw_schema}")
        placeholders = {
            f"raw_{name}": _qualified(catalog, raw_schema, name) if name in present else _empty_relation(name)
            for name in RAW_TABLES
        }
        placeholders |= {f"out_{name}": _qualified(catalog, schema, name) for name in LINEAGE_TABLES}
        placeholders["real_object_types"] = ", ".join(f"'{kind}'" for kind in REAL_OBJECT_TYPES)
        placeholders["max_hops"] = str(MAX_HOPS)
        return cls(placeholders)


def _replace_job_rows(conn: duckdb.DuckDBPyConnection, table: str, job_id: str, refs: _References) -> int:
    if table not in LINEAGE_COLUMNS:
        raise ValueError(f"unknown lineage table {table!r}; expected one of {', '.join(LINEAGE_TABLES)}")
    target = refs.placeholders[f"out_{table}"]
    conn.execute(f"DELETE FROM {target} WHERE job_id = ?", [job_id])
    columns = ", ".join(_quote(name) for name, _ in LINEAGE_COLUMNS[table])
    select = resources.files(__package__).joinpath("flatten_sql", f"{table}.sql").read_text(encoding="utf-8")
    return conn.execute(f"INSERT INTO {target} ({columns})\n{select.format(**refs.placeholders)}", {"job_id": job_id}).fetchone()[0]


def _create_lineage_tables(conn: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(catalog)}.{_quote(schema)}")
    for table, columns in LINEAGE_COLUMNS.items():
        definition = ", ".join(f"{_quote(name)} {kind}" for name, kind in columns)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_qualified(catalog, schema, table)} ({definition})")


def _empty_relation(raw_table: str) -> str:
    """A zero-row subquery with the raw table's columns, standing in for a table dlt never created."""
    columns = ", ".join(f"CAST(NULL AS {_DUCKDB_TYPES[field.type]}) AS {_quote(field.name)}" for field in RAW_SCHEMAS[raw_table])
    return f"(SELECT {columns} WHERE false)"


@contextmanager
def _transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    conn.begin()
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _qualified(*parts: str) -> str:
    return ".".join(_quote(part) for part in parts)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
