"""One current, warehouse-wide lineage graph built from every job's per-job tables, and impact queries on it.

Why a separate step: each SQLFlow job is a snapshot of one submission. People ask about *all*
the SQL they own, as it is now. So the graph keeps only each source's current job (its latest
completed job with loaded lineage; a source is a job's name), and stitches jobs together by a
normalised qualified name, so a table written by one job and read by another connects them.

The inputs are read from the destination through dlt's dataset API and the graph is computed in a
private in-memory DuckDB, so it works for any destination; the results are loaded back with dlt
(`replace`): `lineage.current_jobs`, `lineage.column_lineage`, `lineage.table_lineage`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import ParseError

from sqlflow_assets.config import Storage
from sqlflow_assets.domain import DONE_STATUSES
from sqlflow_assets.api.vendors import UnknownVendorError, dialect_for

GRAPH_TABLES: tuple[str, ...] = ("current_jobs", "column_lineage", "table_lineage")
PLACEHOLDER_PARTS = frozenset({"", "default"})
DEFAULT_DEPTH = 10


class Direction(str, Enum):
    """Which way an impact query walks the graph."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"


# --- OpenLineage's column-lineage vocabulary (transformation type x subtype) -------------------

DIRECT, INDIRECT = "DIRECT", "INDIRECT"
# fdr edges: SQLFlow's clauseType of the source -> OpenLineage INDIRECT subtype.
CLAUSE_SUBTYPES: Mapping[str, str] = {
    "where": "FILTER",
    "having": "FILTER",
    "qualify": "FILTER",
    "joincondition": "JOIN",
    "join": "JOIN",
    "groupby": "GROUP_BY",
    "orderby": "SORT",
    "windowfunction": "WINDOW",
    "case": "CONDITIONAL",
    "casewhen": "CONDITIONAL",
}
AGGREGATE_FUNCTIONS = frozenset(
    {"sum", "count", "avg", "min", "max", "median", "stddev", "variance", "array_agg", "string_agg", "listagg", "any_value"}
)


def transformation_parameters() -> dict[str, object]:
    """What COLUMN_LINEAGE_SQL's two CASE expressions bind: OpenLineage's names and the lookups above.

    fdd is DIRECT, its subtype AGGREGATION when an aggregate function is on the path, IDENTITY when
    the value passes through unchanged (no function, same column name), else TRANSFORMATION; fdr is
    INDIRECT with the subtype of its clause (FILTER for an unknown one: it restricts rows).
    """
    return {
        "direct": DIRECT,
        "indirect": INDIRECT,
        "aggregates": sorted(AGGREGATE_FUNCTIONS),
        "clauses": list(CLAUSE_SUBTYPES),
        "clause_subtypes": list(CLAUSE_SUBTYPES.values()),
    }


# --- names ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameContext:
    """What a job's names are read in: its dialect and its default database and schema."""

    db_vendor: str | None
    default_database: str | None
    default_schema: str | None


def normalize_name(name: str, context: NameContext) -> str:
    """`db.schema.table` as one key across jobs: quotes removed, case folded the way the job's
    dialect folds it, SQLFlow's `DEFAULT` placeholders dropped, missing parts from the job's defaults.
    """
    parts = [part for part in _parts(name, context.db_vendor) if part.lower() not in PLACEHOLDER_PARTS]
    if not parts:
        return name
    # a 1-part name lacks the database and the schema, a 2-part one the database
    missing = (context.default_database, context.default_schema)[: max(0, 3 - len(parts))]
    prefix = [_normalize_part(part, context.db_vendor) for part in missing if part and part.lower() not in PLACEHOLDER_PARTS]
    return ".".join([*prefix, *parts])


def _parts(name: str, db_vendor: str | None) -> list[str]:
    try:
        table = exp.to_table(name, dialect=_dialect(db_vendor))
    except (ParseError, ValueError):
        return [name.strip('"`[]')]
    return [_fold(identifier, db_vendor) for identifier in table.parts if isinstance(identifier, exp.Identifier)] or [name]


def _normalize_part(part: str, db_vendor: str | None) -> str:
    return _parts(part, db_vendor)[0] if "." not in part else part


def _fold(identifier: exp.Identifier, db_vendor: str | None) -> str:
    """Case as the dialect resolves it; case-insensitive dialects fold to lower case."""
    dialect = _dialect(db_vendor)
    if dialect.normalization_strategy is NormalizationStrategy.CASE_INSENSITIVE:
        return identifier.name.lower()
    return dialect.normalize_identifier(identifier.copy()).name


@lru_cache(maxsize=64)
def _dialect(db_vendor: str | None) -> Dialect:
    try:
        name = dialect_for(db_vendor) if db_vendor else None
    except UnknownVendorError:
        name = None
    return Dialect.get_or_raise(name)


# --- the graph -----------------------------------------------------------------------------------


def source_of(job_name: str | None, job_id: str | None) -> str | None:
    """A job's source: its name (the submission asset's `job_name`), else its id. `current_jobs` applies the same rule in SQL."""
    return job_name or job_id


def current_jobs(jobs: pa.Table, loaded_job_ids: Iterable[str]) -> pa.Table:
    """The current job of each source: its latest completed job whose lineage is loaded.

    `jobs` has the columns of `sqlflow_raw.jobs`; a source is the job's name (its id when unnamed).
    """
    conn = duckdb.connect()
    conn.register("jobs", jobs)
    conn.register("loaded", pa.table({"job_id": pa.array(list(loaded_job_ids), pa.string())}))
    statuses = sorted(str(status) for status in DONE_STATUSES)
    return conn.execute(
        """
        SELECT coalesce(nullif(job_name, ''), job_id) AS source, job_id, job_name, status, create_time,
               db_vendor, default_database, default_schema
        FROM jobs
        WHERE status IN (SELECT unnest($statuses)) AND job_id IN (SELECT job_id FROM loaded)
        QUALIFY row_number() OVER (PARTITION BY coalesce(nullif(job_name, ''), job_id)
                                   ORDER BY create_time DESC NULLS LAST, job_id DESC) = 1
        ORDER BY source
        """,
        {"statuses": statuses},
    ).to_arrow_table()


COLUMN_LINEAGE_SQL = """
SELECT s.normalized AS source_object, e.source_column, t.normalized AS target_object, e.target_column,
       e.relationship_type,
       CASE WHEN e.relationship_type = 'fdd' THEN $direct ELSE $indirect END AS transformation_type,
       CASE WHEN e.relationship_type = 'fdd' THEN
            (CASE WHEN list_contains($aggregates, lower(e."function")) THEN 'AGGREGATION'
                  WHEN e."function" IS NULL AND lower(e.source_column) = lower(e.target_column) THEN 'IDENTITY'
                  ELSE 'TRANSFORMATION' END)
            ELSE coalesce(map_extract(map($clauses, $clause_subtypes), lower(replace(coalesce(e.clause_type, ''), '_', '')))[1], 'FILTER')
       END AS transformation_subtype,
       e.job_id, c.source, e.clause_type, e."function", e.hops,
       e.source_object AS source_object_as_written, e.target_object AS target_object_as_written
FROM edges AS e
JOIN current_jobs AS c ON c.job_id = e.job_id
JOIN names AS s ON s.job_id = e.job_id AND s.name = e.source_object
JOIN names AS t ON t.job_id = e.job_id AND t.name = e.target_object
ORDER BY source_object, e.source_column, target_object, e.target_column, e.job_id
"""


def build_graph(current: pa.Table, end_to_end_edges: pa.Table) -> dict[str, pa.Table]:
    """`column_lineage` and `table_lineage` over the current jobs' end-to-end edges, stitched by name."""
    conn = duckdb.connect()
    conn.register("current_jobs", current)
    conn.register("edges", end_to_end_edges)
    conn.register("names", _name_map(conn, current))
    column_lineage = conn.execute(COLUMN_LINEAGE_SQL, transformation_parameters()).to_arrow_table()
    conn.register("column_lineage", column_lineage)
    table_lineage = conn.execute(
        """
        SELECT source_object, target_object, relationship_type, count(*) AS edge_count,
               list(DISTINCT job_id ORDER BY job_id) AS job_ids
        FROM column_lineage
        WHERE source_object IS DISTINCT FROM target_object
        GROUP BY source_object, target_object, relationship_type
        ORDER BY source_object, target_object, relationship_type
        """
    ).to_arrow_table()
    job_ids = table_lineage.column("job_ids").combine_chunks()
    table_lineage = table_lineage.set_column(
        table_lineage.schema.get_field_index("job_ids"), "job_ids", pa.array([",".join(ids) for ids in job_ids.to_pylist()], pa.string())
    )
    return {"current_jobs": current, "column_lineage": column_lineage, "table_lineage": table_lineage}


def _name_map(conn: duckdb.DuckDBPyConnection, current: pa.Table) -> pa.Table:
    """(job_id, name as written, normalised name) for every object name of the `edges` in `conn`."""
    contexts = {
        row["job_id"]: NameContext(row["db_vendor"], row["default_database"], row["default_schema"])
        for row in current.to_pylist()
    }
    pairs = conn.execute(
        "SELECT DISTINCT job_id, source_object FROM edges UNION SELECT DISTINCT job_id, target_object FROM edges"
    ).fetchall()
    rows = [(job_id, name, normalize_name(name, contexts.get(job_id, NameContext(None, None, None)))) for job_id, name in pairs if name]
    return pa.table(
        {
            "job_id": pa.array([r[0] for r in rows], pa.string()),
            "name": pa.array([r[1] for r in rows], pa.string()),
            "normalized": pa.array([r[2] for r in rows], pa.string()),
        }
    )


# --- impact --------------------------------------------------------------------------------------

# The documented impact query: plain recursive SQL that DuckDB and PostgreSQL both run. UNION (not
# UNION ALL) and the depth bound make it terminate on cycles; each column is reported at its
# shortest depth, with the chain rule over the paths of that length (fdd if an all-fdd one exists)
# and the edge types along those paths (`fdd`, `fdr`, or `fdd+fdr` for a path mixing both).
# Written once, downstream over `lineage.column_lineage`; `impact_sql` derives the other forms by
# rewriting its syntax tree (sqlglot), never by pasting text into it.
IMPACT_SQL = """
WITH RECURSIVE walk(object, column_name, depth, all_fdd, any_fdd, via_object, via_column, job_id) AS (
    SELECT target_object, target_column, 1, relationship_type = 'fdd', relationship_type = 'fdd',
           source_object, source_column, job_id
    FROM lineage.column_lineage
    WHERE source_object = :object AND (:column IS NULL OR source_column = :column)
    UNION
    SELECT e.target_object, e.target_column, w.depth + 1, w.all_fdd AND e.relationship_type = 'fdd',
           w.any_fdd OR e.relationship_type = 'fdd', e.source_object, e.source_column, e.job_id
    FROM walk AS w
    JOIN lineage.column_lineage AS e ON e.source_object = w.object AND e.source_column = w.column_name
    WHERE w.depth < :depth
), shortest AS (
    SELECT object, column_name, min(depth) AS depth FROM walk GROUP BY object, column_name
)
SELECT w.object, w.column_name AS "column", s.depth,
       CASE WHEN bool_or(w.all_fdd) THEN 'fdd' ELSE 'fdr' END AS relationship_type,
       string_agg(DISTINCT CASE WHEN w.all_fdd THEN 'fdd' WHEN w.any_fdd THEN 'fdd+fdr' ELSE 'fdr' END, ',') AS edge_types,
       string_agg(DISTINCT w.via_object || '.' || w.via_column, ',') AS via,
       string_agg(DISTINCT w.job_id, ',') AS jobs
FROM walk AS w
JOIN shortest AS s ON s.object = w.object AND s.column_name = w.column_name AND s.depth = w.depth
GROUP BY w.object, w.column_name, s.depth
ORDER BY s.depth, w.object, w.column_name
"""
_IMPACT_TREE = sqlglot.parse_one(IMPACT_SQL, dialect="postgres")
_IMPACT_EDGES = exp.to_table("lineage.column_lineage")
_UPSTREAM_COLUMNS = {
    "source_object": "target_object", "source_column": "target_column",
    "target_object": "source_object", "target_column": "source_column",
}  # fmt: skip
PARAMETER_MARKERS = (":", "$")  # SQLAlchemy's / PostgreSQL drivers' named style, and DuckDB's


def impact_sql(direction: Direction = Direction.DOWNSTREAM, edges: str = "lineage.column_lineage", marker: str = ":") -> str:
    """The impact query walking `edges` in `direction`; parameters `object`, `column`, `depth` after
    `marker` (`:` for SQLAlchemy and the README, `$` for DuckDB).

    `edges` is a table name, parsed and re-quoted by sqlglot (a name that is not one fails here),
    and only identifiers and parameter markers change: the query's logic is `IMPACT_SQL`'s.
    """
    if marker not in PARAMETER_MARKERS:
        raise ValueError(f"marker must be one of {PARAMETER_MARKERS}, got {marker!r}")
    table = exp.to_table(edges, dialect="postgres")

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.this == _IMPACT_EDGES.this and node.args.get("db") == _IMPACT_EDGES.args.get("db"):
            replaced = table.copy()
            replaced.set("alias", node.args.get("alias"))
            return replaced
        if isinstance(node, exp.Column) and direction is Direction.UPSTREAM and node.name in _UPSTREAM_COLUMNS:
            return exp.column(_UPSTREAM_COLUMNS[node.name], table=node.table or None)
        if isinstance(node, exp.Placeholder):
            return exp.var(f"{marker}{node.name}")  # a marker sqlglot's dialects would each spell differently
        return node

    text = _IMPACT_TREE.transform(rewrite).sql(dialect="postgres", pretty=True)
    return "\n".join(line for line in text.splitlines() if line.strip()) + "\n"


def split_target(target: str, objects: set[str]) -> tuple[str | None, str | None]:
    """(object, column) of `db.schema.table[.column]`: the whole text when it names an object, else
    all but its last part (the column); (None, None) when neither names an object of the graph."""
    if target in objects:
        return target, None
    object_name, _, column = target.rpartition(".")
    return (object_name, column) if object_name in objects else (None, None)


def impact(
    column_lineage: pa.Table, object_name: str, column: str | None, direction: Direction, depth: int = DEFAULT_DEPTH
) -> pa.Table:
    """Every column downstream (or upstream) of `object_name[.column]` to `depth` hops, in DuckDB."""
    conn = duckdb.connect()
    conn.register("column_lineage", column_lineage)
    sql = impact_sql(direction, "column_lineage", marker="$")
    return conn.execute(sql, {"object": object_name, "column": column, "depth": depth}).to_arrow_table()


# --- reading and writing the destination ---------------------------------------------------------


def read_table(
    dataset: Any, table: str, *, columns: tuple[str, ...] = (), job_ids: list[str] | None = None
) -> pa.Table | None:
    """A table of a dlt dataset as Arrow (only `columns`, only `job_ids`' rows, when given); None when
    it does not exist yet."""
    if table not in dataset.schema.tables:
        return None
    relation = dataset.table(table)
    if columns:
        relation = relation.select(*columns)
    if job_ids is not None:
        relation = relation.where("job_id", "in", job_ids)
    return relation.arrow()


def refresh(storage: Storage) -> dict[str, pa.Table]:
    """Rebuild the current graph from the destination's per-job tables and load it back (replace)."""
    with storage.writing():
        return _refresh(storage)


def _refresh(storage: Storage) -> dict[str, pa.Table]:
    jobs = read_table(storage.pipeline().dataset(), "jobs")
    pipeline = storage.lineage_pipeline()
    lineage = pipeline.dataset()
    loaded = read_table(lineage, "objects", columns=("job_id",))
    if jobs is None or loaded is None:
        return {}
    current = current_jobs(jobs, set(loaded.column("job_id").to_pylist()))
    ids = current.column("job_id").to_pylist()
    edges = read_table(lineage, "end_to_end_edges", job_ids=ids) if ids else None
    tables = build_graph(current, edges if edges is not None else _empty_edges())
    resources = [dlt.resource([table], name=name, write_disposition="replace") for name, table in tables.items()]
    # drop_resources: the graph tables are dropped and created again from their schema on every
    # rebuild, so a pipeline folder that once loaded elsewhere (another destination) cannot make
    # dlt believe they exist where they do not.
    pipeline.run(resources, loader_file_format="parquet", refresh="drop_resources").raise_on_failed_jobs()
    return tables


def _empty_edges() -> pa.Table:
    from sqlflow_assets.tables import LINEAGE  # the contract's end_to_end_edges, with no rows

    return LINEAGE["end_to_end_edges"].empty()
