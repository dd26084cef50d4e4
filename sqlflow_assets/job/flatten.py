"""One SQLFlow job's raw Arrow tables (from `lineage_json`) -> its rows of the public `lineage.*` tables.

The work is DuckDB SQL kept in `flatten_sql/<table>.sql` (one SELECT per table), run in a private
in-memory DuckDB over the job's Arrow tables: the lineage rows are computed in this process from
the very tables that are then loaded, so they can never come from another database, and the
destination (DuckDB, PostgreSQL, any dlt destination) only ever receives finished rows.

`is_intermediate`: objects whose type is in `domain.REAL_KINDS` (tables, views and the external
storage kinds SQLFlow documents: file, directory, stage, stream, path) are real. Everything else is
intermediate: the `others` bucket (select_list, insert-select, function, with_cte, select_union,
constantTable, pseudoTable...), processes, procedures, packages, triggers, and unknown or missing
types (docs/sqlflow-format.md §4: parse unknown types as intermediate).

The SQL files are plain DuckDB SQL: they name the raw views (`raw_<table>`) and the lineage tables
(unqualified: the connection's schema is the lineage one) and take values as named parameters
(`$job_id`, `$max_hops`, `$real_object_types`); nothing is pasted into their text.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from types import MappingProxyType

import duckdb
import pyarrow as pa

from sqlflow_assets import tables
from sqlflow_assets.config import LINEAGE_SCHEMA
from sqlflow_assets.domain import REAL_KINDS
from sqlflow_assets.job.lineage_json import LineageTables

LINEAGE_TABLES: tuple[str, ...] = tuple(tables.LINEAGE)  # build order: later tables read earlier ones
REAL_OBJECT_TYPES = tuple(sorted(REAL_KINDS))
MAX_HOPS = 32
# DuckDB spills to a temp folder past this; the job's Arrow tables live outside it, in Python's heap.
MEMORY_LIMIT = "1GB"


# Public contract (`tables.py`): users query these columns. (name, DuckDB type) per table.
LINEAGE_COLUMNS = MappingProxyType({name: table.sql_columns() for name, table in tables.LINEAGE.items()})


@contextmanager
def flattened(raw: LineageTables, job_id: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A private in-memory DuckDB holding the job's raw tables (views `raw_<table>`) and its `lineage.*` rows.

    The connection lives for the block, so checks can query both before anything is loaded. Past
    `MEMORY_LIMIT` DuckDB spills to a temp folder, so a 1M-relationship job fits instead of failing.
    """
    spill = tempfile.TemporaryDirectory(prefix="sqlflow_flatten_")
    conn = duckdb.connect(
        ":memory:",
        config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill.name, "preserve_insertion_order": False},
    )
    try:
        for name, table in raw.as_dict().items():
            conn.register(f"raw_{name}", table)
        conn.execute(f"CREATE SCHEMA {_quote(LINEAGE_SCHEMA)}")
        conn.execute(f"USE {_quote(LINEAGE_SCHEMA)}")  # the SQL files name the lineage tables unqualified
        parameters = {"job_id": job_id, "max_hops": MAX_HOPS, "real_object_types": list(REAL_OBJECT_TYPES)}
        for table in LINEAGE_TABLES:
            _build(conn, table, parameters)
        yield conn
    finally:
        conn.close()
        spill.cleanup()


def lineage_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The `lineage.*` rows built by `flattened`, as Arrow tables in `LINEAGE_TABLES` order."""
    return {table: conn.sql(f"SELECT * FROM {_qualified(LINEAGE_SCHEMA, table)}").to_arrow_table() for table in LINEAGE_TABLES}


def _build(conn: duckdb.DuckDBPyConnection, table: str, parameters: dict[str, object]) -> None:
    """Create one typed lineage table and fill it; later tables read the earlier ones.

    A SQL file may start with helper statements (`;`-separated) that its final SELECT reads. Each
    statement gets the parameters it names (DuckDB refuses unused ones).
    """
    definition = ", ".join(f"{_quote(name)} {kind}" for name, kind in LINEAGE_COLUMNS[table])
    target = _qualified(LINEAGE_SCHEMA, table)
    conn.execute(f"CREATE TABLE {target} ({definition})")
    text = resources.files(__package__).joinpath("flatten_sql", f"{table}.sql").read_text(encoding="utf-8")
    *helpers, select = (statement for statement in text.split(";\n") if statement.strip())
    for statement in helpers:
        conn.execute(statement, _used(statement, parameters))
    conn.execute(f"INSERT INTO {target}\n{select}", _used(select, parameters))


_PARAMETER = re.compile(r"\$(\w+)")
_COMMENT = re.compile(r"--[^\n]*")


def _used(statement: str, parameters: dict[str, object]) -> dict[str, object]:
    named = set(_PARAMETER.findall(_COMMENT.sub("", statement)))
    return {name: value for name, value in parameters.items() if name in named}


def _qualified(*parts: str) -> str:
    return ".".join(_quote(part) for part in parts)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
