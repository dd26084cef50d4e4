"""One current, warehouse-wide lineage graph built from every job's per-job tables, and impact queries on it.

Why a separate step: each SQLFlow job is a snapshot of one submission. People ask about *all*
the SQL they own, as it is now. So the graph keeps only each source's current job (its latest
completed job with loaded lineage; a source is a job's name), and stitches jobs together by a
normalised qualified name, so a table written by one job and read by another connects them.

A source's `column_lineage` rows depend only on its current job (its names are normalised in that
job's context, into the edge rows, before any SQL: no join can multiply rows), so a refresh reads,
computes and writes only the sources whose current job changed; `table_lineage` is the sum of each
job's share (its edges counted per table pair), updated by taking a source's old share out and
putting its new one in. The inputs are read from the destination (dlt's dataset API and
`sql_client`), rows are computed one job at a time in a private in-memory DuckDB, so it works for
any destination, and loaded with dlt: `lineage.current_jobs`, `lineage.column_lineage`,
`lineage.table_lineage`.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from sqlglot import exp

from sqlflow_assets.config import Storage
from sqlflow_assets.domain import DONE_STATUSES
from sqlflow_assets.warehouse.names import NameContext, normalize_name, normalize_names

__all__ = ["NameContext", "normalize_name"]  # names live in `names`; the graph reads them from here too

GRAPH_TABLES: tuple[str, ...] = ("current_jobs", "column_lineage", "table_lineage")
# The change record (warehouse/changes.py), appended when a refresh replaces a source's current job;
# never rebuilt: a rebuild has no previous graph to compare with, and keeps the history.
CHANGE_TABLES: tuple[str, ...] = ("lineage_changes", "change_impact")
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


# --- the graph -----------------------------------------------------------------------------------


def source_of(job_name: str | None, job_id: str | None) -> str | None:
    """A job's source: its name (the submission asset's `job_name`), else its id. `current_jobs` applies the same rule in SQL."""
    return job_name or job_id


def current_jobs(jobs: pa.Table, loaded_job_ids: Iterable[str], retired: Iterable[str] = ()) -> pa.Table:
    """The current job of each source but the `retired` ones: its latest completed job whose lineage is loaded.

    `jobs` has the columns of `sqlflow_raw.jobs`; a source is the job's name (its id when unnamed).
    """
    conn = duckdb.connect()
    conn.register("jobs", jobs)
    conn.register("loaded", pa.table({"job_id": pa.array(list(loaded_job_ids), pa.string())}))
    conn.register("retired", pa.table({"source": pa.array(list(retired), pa.string())}))
    statuses = sorted(str(status) for status in DONE_STATUSES)
    return conn.execute(
        """
        SELECT coalesce(nullif(job_name, ''), job_id) AS source, job_id, job_name, status, create_time,
               db_vendor, default_database, default_schema
        FROM jobs
        WHERE status IN (SELECT unnest($statuses)) AND job_id IN (SELECT job_id FROM loaded)
          AND coalesce(nullif(job_name, ''), job_id) NOT IN (SELECT source FROM retired)
        QUALIFY row_number() OVER (PARTITION BY coalesce(nullif(job_name, ''), job_id)
                                   ORDER BY create_time DESC NULLS LAST, job_id DESC) = 1
        ORDER BY source
        """,
        {"statuses": statuses},
    ).to_arrow_table()


# One job's rows, its names already normalised into each edge (no join: the plan cannot multiply
# rows, and each distinct name is normalised once, in bulk, by `names.normalize_names`).
COLUMN_LINEAGE_SQL = """
SELECT e.source_normalized AS source_object, e.source_column, e.target_normalized AS target_object, e.target_column,
       e.relationship_type,
       CASE WHEN e.relationship_type = 'fdd' THEN $direct ELSE $indirect END AS transformation_type,
       CASE WHEN e.relationship_type = 'fdd' THEN
            (CASE WHEN list_contains($aggregates, lower(e."function")) THEN 'AGGREGATION'
                  WHEN e."function" IS NULL AND lower(e.source_column) = lower(e.target_column) THEN 'IDENTITY'
                  ELSE 'TRANSFORMATION' END)
            ELSE coalesce(map_extract(map($clauses, $clause_subtypes), lower(replace(coalesce(e.clause_type, ''), '_', '')))[1], 'FILTER')
       END AS transformation_subtype,
       e.job_id, $source::VARCHAR AS source, e.clause_type, e."function", e.hops,
       e.source_object AS source_object_as_written, e.target_object AS target_object_as_written
FROM edges AS e
WHERE e.job_id = $job_id AND e.source_normalized IS NOT NULL AND e.target_normalized IS NOT NULL
ORDER BY source_object, e.source_column, target_object, e.target_column, e.job_id
"""
# A job's share of `table_lineage`: its column edges counted per table pair and type. Shares add
# up: `table_lineage` is their sum per pair with the jobs listed, so a refresh can take one source's
# share out and put its new one in without reading the other sources.
SHARE_SQL = """
SELECT source_object, target_object, relationship_type, count(*) AS edge_count, job_id
FROM column_lineage
WHERE source_object IS DISTINCT FROM target_object
GROUP BY source_object, target_object, relationship_type, job_id
"""
TABLE_LINEAGE_SQL = """
SELECT source_object, target_object, relationship_type, sum(edge_count)::BIGINT AS edge_count,
       array_to_string(list(DISTINCT job_id ORDER BY job_id), ',') AS job_ids
FROM shares
GROUP BY source_object, target_object, relationship_type
ORDER BY source_object, target_object, relationship_type
"""
# Stored rows (`stored`, the pairs out of the touched tables) minus the changed sources' old shares
# (`old`) plus their new ones (`new`); pairs left without edges disappear. Every input has one row
# per pair and type (shares are summed per pair first), so each join is one to one.
UPDATE_SQL = """
WITH o AS (SELECT source_object, target_object, relationship_type, sum(edge_count) AS edge_count, list(job_id) AS job_ids
           FROM old GROUP BY ALL),
     n AS (SELECT source_object, target_object, relationship_type, sum(edge_count) AS edge_count, list(job_id) AS job_ids
           FROM new GROUP BY ALL),
     merged AS (
    SELECT source_object, target_object, relationship_type,
           coalesce(s.edge_count, 0) - coalesce(o.edge_count, 0) + coalesce(n.edge_count, 0) AS edge_count,
           list_filter(coalesce(string_split(s.job_ids, ','), []), j -> NOT list_contains(coalesce(o.job_ids, []), j))
               || coalesce(n.job_ids, []) AS job_ids
    FROM stored AS s
    FULL JOIN o USING (source_object, target_object, relationship_type)
    FULL JOIN n USING (source_object, target_object, relationship_type))
SELECT source_object, target_object, relationship_type, edge_count::BIGINT AS edge_count,
       array_to_string(list_sort(list_distinct(job_ids)), ',') AS job_ids
FROM merged
WHERE edge_count > 0
ORDER BY source_object, target_object, relationship_type
"""
EDGE_COLUMNS: tuple[str, ...] = (
    "job_id", "source_object", "source_column", "target_object", "target_column", "relationship_type", "clause_type", "function", "hops"
)  # fmt: skip
SHARE_COLUMNS: tuple[str, ...] = ("source_object", "target_object", "relationship_type", "job_id")


def context_of(job: Mapping[str, Any]) -> NameContext:
    """The context a `current_jobs` row's names are read in."""
    return NameContext(job.get("db_vendor"), job.get("default_database"), job.get("default_schema"))


def job_column_lineage(job: Mapping[str, Any], edges: pa.Table) -> pa.Table:
    """The `column_lineage` rows of one current job (a `current_jobs` row) from its end-to-end edges."""
    conn = duckdb.connect()
    conn.register("edges", with_normalized_names(edges, context_of(job), {}))
    return conn.execute(COLUMN_LINEAGE_SQL, _column_lineage_parameters(job)).to_arrow_table()


def with_normalized_names(edges: pa.Table, context: NameContext, known: dict[str, str]) -> pa.Table:
    """`edges` (`EDGE_COLUMNS`) with `source_normalized` and `target_normalized`, each distinct name
    normalised once; `known` (name -> normalised name in `context`) is read and extended, so a job
    read in batches normalises each name once across them. Unnamed objects map to NULL (no row)."""
    edges = edges.select(list(EDGE_COLUMNS))
    written = pc.unique(pa.chunked_array([*edges.column("source_object").chunks, *edges.column("target_object").chunks], pa.string()))
    written = written.filter(pc.invert(pc.or_kleene(pc.is_null(written), pc.equal(written, ""))))
    names = written.to_pylist()
    fresh = [name for name in names if name not in known]
    known.update(zip(fresh, normalize_names(fresh, context), strict=True))
    normalized = pa.array([known[name] for name in names], pa.string())
    for column in ("source", "target"):
        mapped = pc.take(normalized, pc.index_in(edges.column(f"{column}_object"), value_set=written))
        edges = edges.append_column(f"{column}_normalized", mapped)
    return edges


def _column_lineage_parameters(job: Mapping[str, Any]) -> dict[str, object]:
    return transformation_parameters() | {"source": job["source"], "job_id": job["job_id"]}


def shares(column_lineage: pa.Table) -> pa.Table:
    """`column_lineage` rows counted per table pair, type and job: what each job adds to `table_lineage`."""
    conn = duckdb.connect()
    conn.register("column_lineage", column_lineage.select(list(SHARE_COLUMNS)))
    return conn.execute(SHARE_SQL).to_arrow_table()


def table_lineage(job_shares: pa.Table, spill: Path | None = None) -> pa.Table:
    """`table_lineage` from the shares of every current job; in a DuckDB bounded to
    `LOCAL_MEMORY_LIMIT` and spilling to `spill` when given (a share has a row per table pair:
    2M at 1M relationships, whose per-pair job lists cost 1.1 GiB unbounded)."""
    conn = duckdb.connect(config=_bounded(spill) if spill is not None else {})
    conn.register("shares", job_shares)
    return conn.execute(TABLE_LINEAGE_SQL).to_arrow_table()


def updated_table_lineage(stored: pa.Table, old: pa.Table, new: pa.Table) -> pa.Table:
    """`stored` table_lineage rows with the `old` shares of the changed sources replaced by their `new` ones."""
    conn = duckdb.connect()
    for name, table in (("stored", stored), ("old", old), ("new", new)):
        conn.register(name, table)
    return conn.execute(UPDATE_SQL).to_arrow_table()


def build_graph(current: pa.Table, end_to_end_edges: pa.Table) -> dict[str, pa.Table]:
    """`column_lineage` and `table_lineage` over the current jobs' end-to-end edges, stitched by name (in memory)."""
    job_ids = end_to_end_edges.column("job_id")
    by_job = [job_column_lineage(job, end_to_end_edges.filter(pc.equal(job_ids, job["job_id"]))) for job in current.to_pylist()]
    column_lineage = _concat(by_job, _empty_column_lineage())
    return {
        "current_jobs": current,
        "column_lineage": column_lineage,
        "table_lineage": table_lineage(shares(column_lineage)),
    }


def _concat(tables: list[pa.Table], empty: pa.Table) -> pa.Table:
    return pa.concat_tables(tables) if tables else empty


def _empty_column_lineage() -> pa.Table:
    return job_column_lineage({"source": "", "job_id": ""}, _empty_edges())


def _empty_shares() -> pa.Table:
    return shares(_empty_column_lineage())


def _empty_table_lineage() -> pa.Table:
    return table_lineage(_empty_shares())


# --- impact --------------------------------------------------------------------------------------

# The documented impact query: plain recursive SQL that DuckDB and PostgreSQL both run. UNION (not
# UNION ALL) and the depth bound make it terminate on cycles; each column is reported at its
# shortest depth, with the chain rule over the paths of that length (fdd if an all-fdd one exists)
# and the edge types along those paths (`fdd`, `fdr`, or `fdd+fdr` for a path mixing both); lists
# are sorted, so an answer does not depend on the order edges are stored in.
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
       string_agg(DISTINCT CASE WHEN w.all_fdd THEN 'fdd' WHEN w.any_fdd THEN 'fdd+fdr' ELSE 'fdr' END, ','
                  ORDER BY CASE WHEN w.all_fdd THEN 'fdd' WHEN w.any_fdd THEN 'fdd+fdr' ELSE 'fdr' END) AS edge_types,
       string_agg(DISTINCT w.via_object || '.' || w.via_column, ',' ORDER BY w.via_object || '.' || w.via_column) AS via,
       string_agg(DISTINCT w.job_id, ',' ORDER BY w.job_id) AS jobs
FROM walk AS w
JOIN shortest AS s ON s.object = w.object AND s.column_name = w.column_name AND s.depth = w.depth
GROUP BY w.object, w.column_name, s.depth
ORDER BY s.depth, w.object, w.column_name
"""
_IMPACT_TREE = sqlglot.parse_one(IMPACT_SQL, dialect="postgres")
IMPACT_COLUMNS = ("source_object", "source_column", "target_object", "target_column", "relationship_type", "job_id")
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


def unknown_target(target: str, column_lineage: pa.Table) -> str | None:
    """Why `target` (`db.schema.table[.column]`) is not in the graph, with the closest names; None when it is.

    A table that is not in the graph, or a column its table does not have: a misspelt column must
    not read as "nothing downstream".
    """
    columns: dict[str, set[str]] = {}
    for side in ("source", "target"):
        for table, name in zip(column_lineage.column(f"{side}_object").to_pylist(), column_lineage.column(f"{side}_column").to_pylist(), strict=True):
            columns.setdefault(table, set()).add(name)
    object_name, column = split_target(target, set(columns))
    if object_name is None:
        close = difflib.get_close_matches(target.rpartition(".")[0] if target.count(".") >= 3 else target, list(columns), n=3)
        return f"{target!r} is not a table of the current lineage graph" + (f"; closest: {', '.join(close)}" if close else "")
    if column is not None and column not in columns[object_name]:
        close = difflib.get_close_matches(column, sorted(columns[object_name]), n=3)
        hint = f"; closest: {', '.join(f'{object_name}.{name}' for name in close)}" if close else ""
        return f"{object_name} has no column {column!r} in the current lineage graph{hint}"
    return None


def impact(
    column_lineage: pa.Table, object_name: str, column: str | None, direction: Direction, depth: int = DEFAULT_DEPTH
) -> pa.Table:
    """Every column downstream (or upstream) of `object_name[.column]` to `depth` hops: `IMPACT_SQL`
    in DuckDB, over only the edges the walk can take.

    Which edges those are is plain reachability (`walked_edges`, hop by hop over the Arrow
    columns); the answer (shortest depth, chain rule, edge types, via, jobs) is the documented
    query's alone. Running that query over a whole warehouse graph in memory cost a copy into
    DuckDB plus a scan of every edge per hop (1.5 s of CPU at depth 10 over 2M edges, 0.4 s
    now); the walk's own edges are usually a few thousand.
    """
    conn = duckdb.connect()
    conn.register("edges", walked_edges(column_lineage, object_name, column, direction, depth))
    conn.execute("CREATE TABLE column_lineage AS SELECT * FROM edges")
    sql = impact_sql(direction, "column_lineage", marker="$")
    return conn.execute(sql, {"object": object_name, "column": column, "depth": depth}).to_arrow_table()


def walked_edges(column_lineage: pa.Table, object_name: str, column: str | None, direction: Direction, depth: int) -> pa.Table:
    """The edges (`IMPACT_COLUMNS`) out of `object_name[.column]` and out of every column reachable
    from it in fewer than `depth` hops, following `direction`: the only edges `IMPACT_SQL` reads.

    Hop by hop, each hop one pass over the edges' from-object column (a hash lookup per edge)
    and the few rows it picks, so the cost is `depth` scans, not a sort or an index of the graph.
    Columns are compared as SQL does: a NULL name never matches.
    """
    edges = column_lineage.select([name for name in IMPACT_COLUMNS if name in column_lineage.column_names])
    ends = ("source", "target") if direction is Direction.DOWNSTREAM else ("target", "source")
    from_object, from_column, to_object, to_column = (f"{end}_{part}" for end in ends for part in ("object", "column"))
    objects = edges.column(from_object).combine_chunks()  # one hash lookup pass per hop, not one per chunk
    mask = pc.equal(objects, object_name)
    if column is not None:
        mask = pc.and_(mask, pc.equal(edges.column(from_column), column))
    picked = [edges.filter(mask)]
    reached: set[tuple[str, str]] = set()
    for _ in range(1, depth):
        step = picked[-1]
        new = {
            (o, c) for o, c in zip(step.column(to_object).to_pylist(), step.column(to_column).to_pylist(), strict=True)
            if o is not None and c is not None and (o, c) not in reached
        }  # fmt: skip
        reached |= new
        frontier = {(o, c) for o, c in new if not (o == object_name and (column is None or c == column))}  # the start's edges are in
        if not frontier:
            break
        step = edges.filter(pc.is_in(objects, value_set=pa.array({o for o, _ in frontier}, pa.string())))
        keep = [pair in frontier for pair in zip(step.column(from_object).to_pylist(), step.column(from_column).to_pylist(), strict=True)]
        picked.append(step.filter(pa.array(keep, pa.bool_())))
    return pa.concat_tables(picked)


# --- reading and writing the destination ---------------------------------------------------------


def read_table(
    dataset: Any, table: str, *, columns: tuple[str, ...] = (), job_ids: list[str] | None = None, where: tuple[str, list] | None = None
) -> pa.Table | None:
    """A table of a dlt dataset as Arrow (only `columns`, only `job_ids`' rows, only the rows whose
    `where[0]` is in `where[1]`, when given); None when it does not exist yet."""
    relation = _relation(dataset, table, columns=columns, job_ids=job_ids, where=where)
    return None if relation is None else relation.arrow()


def _relation(
    dataset: Any, table: str, *, columns: tuple[str, ...] = (), job_ids: list[str] | None = None, where: tuple[str, list] | None = None
) -> Any:
    """`read_table`'s selection as a dlt relation, not yet read (None when the table does not exist yet)."""
    if table not in dataset.schema.tables:
        return None
    relation = dataset.table(table)
    if columns:
        relation = relation.select(*columns)
    if job_ids is not None:
        relation = relation.where("job_id", "in", job_ids)
    if where is not None:
        relation = relation.where(where[0], "in", where[1])
    return relation


@dataclass(frozen=True)
class GraphRefresh:
    """What a refresh did: the current jobs, the sources whose rows it replaced (all of them on a
    full rebuild), and each graph table's row count and columns as stored."""

    current_jobs: pa.Table
    changed_sources: list[str]
    rebuilt: bool
    row_counts: dict[str, int] = field(default_factory=dict)
    schemas: dict[str, pa.Schema] = field(default_factory=dict)
    retired: list[str] = field(default_factory=list)  # sources this refresh took out because they were retired
    changes: pa.Table | None = None  # the `lineage_changes` rows this refresh recorded (None: none)
    impact: pa.Table | None = None  # and their `change_impact` rows


def refresh(storage: Storage, retired: Iterable[str] = ()) -> GraphRefresh | None:
    """Bring the current graph up to date with the destination's per-job tables; None before any job is loaded.

    Incremental: a source's `column_lineage` rows depend only on its current job, so only the
    sources whose current job changed (or that disappeared) are read, computed and written: their
    rows are deleted and their new job's rows appended, and `table_lineage` is updated on the
    table pairs they touch by taking their old share out and putting the new one in. Without a
    stored graph (first refresh, another destination) it is rebuilt whole, one job at a time.
    `current_jobs` is written last, so an interrupted refresh is redone by the next one.
    `retired`: sources (job names) that leave the graph though their jobs stay loaded
    (`submission.retired_jobs`: SQL sources no longer configured).
    """
    # A job step that ran before in this process (Dagster's in-process executor) leaves its Arrow
    # tables in reference cycles until Python's next full collection: 650 MiB at 1M relationships,
    # held through the whole refresh. Collected here, and the Arrow pool's freed pages given back.
    gc.collect()
    pa.default_memory_pool().release_unused()
    with storage.writing():
        return _refresh(storage, frozenset(retired))


def _refresh(storage: Storage, retired: frozenset[str] = frozenset()) -> GraphRefresh | None:
    jobs = read_table(storage.pipeline().dataset(), "jobs")
    pipeline = storage.lineage_pipeline()
    lineage = pipeline.dataset()
    loaded = read_table(lineage, "objects", columns=("job_id",))
    if jobs is None or loaded is None:
        return None
    current = current_jobs(jobs, set(pc.unique(loaded.column("job_id")).to_pylist()), retired)
    # a refresh killed mid-load left a package: what it wrote is unknown, so drop it and rebuild
    stored = None if pipeline.has_pending_data else _stored_current_jobs(pipeline)
    if stored is None:
        pipeline.abort_packages()
    now = {row["source"]: row for row in current.to_pylist()}
    changed = sorted(now if stored is None else (source for source, job in now.items() if stored.get(source) != job["job_id"]))
    removed = sorted(set(stored or ()) - set(now))
    recorded: list[pa.Table] = []
    if stored is None or changed or removed:
        try:
            with TemporaryDirectory(prefix="sqlflow_graph_") as spill:
                if stored is None:
                    resources = _rebuilt(lineage, list(now.values()), Path(spill))
                else:
                    replaced = {source: stored[source] for source in [*changed, *removed] if source in stored}
                    resources, recorded = _updated(pipeline, lineage, [now[source] for source in changed], replaced, Path(spill))
                resources.append(dlt.resource([current], name="current_jobs", write_disposition="replace"))
                # drop_resources on a rebuild: the graph tables are dropped and created again from
                # their schema, so a pipeline folder that once loaded elsewhere (another destination)
                # cannot make dlt believe they exist where they do not.
                run = partial(pipeline.run, resources, loader_file_format="parquet")
                (run(refresh="drop_resources") if stored is None else run()).raise_on_failed_jobs()
                if stored is None and not _has_change_tables(pipeline):  # kept through rebuilds: created once, empty
                    pipeline.run(_change_resources(*_empty_changes()), loader_file_format="parquet").raise_on_failed_jobs()
        except Exception:
            _forget_stored_graph(pipeline)  # half written: the next refresh rebuilds it whole
            raise
    return GraphRefresh(
        current, changed, stored is None, _row_counts(pipeline),
        {"current_jobs": current.schema, "column_lineage": _empty_column_lineage().schema, "table_lineage": _empty_table_lineage().schema,
         **{table: empty.schema for table, empty in zip(CHANGE_TABLES, _empty_changes(), strict=True)}},
        retired=sorted(retired & set(removed)),
        changes=recorded[0] if recorded else None, impact=recorded[1] if recorded else None,
    )


def _forget_stored_graph(pipeline: dlt.Pipeline) -> None:
    with contextlib.suppress(Exception), pipeline.sql_client() as client:
        client.execute_sql(f"DROP TABLE IF EXISTS {client.make_qualified_table_name('current_jobs')}")


def _stored_current_jobs(pipeline: dlt.Pipeline) -> dict[str, str] | None:
    """source -> job id of the stored graph; None when the destination holds no complete graph."""
    try:
        with pipeline.sql_client() as client:
            for table in ("column_lineage", "table_lineage"):
                client.execute_sql(f"SELECT 1 FROM {client.make_qualified_table_name(table)} WHERE 1 = 0")
            rows = client.execute_sql(f"SELECT source, job_id FROM {client.make_qualified_table_name('current_jobs')}")
    except DatabaseUndefinedRelation:
        return None
    return {str(source): str(job_id) for source, job_id in rows or []}


def _row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    with pipeline.sql_client() as client:
        counts = {table: client.execute_sql(f"SELECT count(*) FROM {client.make_qualified_table_name(table)}")
                  for table in (*GRAPH_TABLES, *CHANGE_TABLES)}
    return {table: int(rows[0][0]) if rows else 0 for table, rows in counts.items()}


# A refresh's own DuckDB, one per job: a file in the refresh's temporary folder, bounded in memory
# and spilling there, so a 1M-relationship job's edges and the sort of its rows never sit in memory
# whole (they did as Arrow tables: about 1 GiB over the job's step). Its rows leave it in batches.
LOCAL_MEMORY_LIMIT = "512MB"
BATCH_ROWS = 100_000


def _computed(lineage: Any, jobs: list[dict], spill: Path) -> tuple[Callable[[], Iterator[pa.Table]], pa.Table, list[Path]]:
    """The `column_lineage` rows of `jobs` as a generator reading them back from `spill` (one row
    group in memory at a time), the jobs' shares of `table_lineage`, and the spilt files (one per job)."""
    files, job_shares = [], []
    for number, job in enumerate(jobs):
        files.append(spill / f"{number}.parquet")
        job_shares.append(_job_rows(lineage, job, files[-1], spill / f"{number}.duckdb"))

    def column_lineage() -> Iterator[pa.Table]:
        yield _empty_column_lineage()  # the table exists even when no job has an edge
        for file in files:
            parquet = pq.ParquetFile(file)
            for group in range(parquet.num_row_groups):
                yield parquet.read_row_group(group)

    return column_lineage, _concat(job_shares, _empty_shares()), files


def _job_rows(lineage: Any, job: Mapping[str, Any], file: Path, database: Path) -> pa.Table:
    """Write `job`'s `column_lineage` rows (`job_column_lineage`'s, in its order) to the Parquet
    `file`, its end-to-end edges streamed from the destination in batches through a bounded DuckDB
    at `database`; return the job's share of `table_lineage`."""
    known: dict[str, str] = {}
    with contextlib.closing(duckdb.connect(str(database), config=_bounded(database.with_suffix(".tmp")))) as conn:
        batches = _edge_batches(lineage, job["job_id"])
        first = next(batches, None)
        for number, batch in enumerate(itertools.chain([_empty_edges() if first is None else first], batches)):
            conn.register("batch", with_normalized_names(batch, context_of(job), known))
            # the table typed by the first batch, as read
            conn.execute("INSERT INTO edges SELECT * FROM batch" if number else "CREATE TABLE edges AS SELECT * FROM batch")
            conn.unregister("batch")
        reader = conn.execute(COLUMN_LINEAGE_SQL, _column_lineage_parameters(job)).to_arrow_reader(BATCH_ROWS)
        with pq.ParquetWriter(file, reader.schema) as writer:
            for rows in reader:
                writer.write_batch(rows)
        conn.execute("DROP TABLE edges")
        conn.read_parquet(str(file)).create_view("column_lineage")
        return conn.execute(SHARE_SQL).to_arrow_table()


def _bounded(spill: Path) -> dict[str, str | bool | int | float | list[str]]:
    """A private DuckDB's settings: `LOCAL_MEMORY_LIMIT`, spilling to the folder `spill`."""
    return {"memory_limit": LOCAL_MEMORY_LIMIT, "temp_directory": str(spill)}


def _edge_batches(lineage: Any, job_id: str) -> Iterator[pa.Table]:
    """The job's end-to-end edges (`EDGE_COLUMNS`) from the destination, `BATCH_ROWS` at a time."""
    relation = _relation(lineage, "end_to_end_edges", columns=EDGE_COLUMNS, job_ids=[job_id])
    if relation is not None:
        yield from relation.iter_arrow(BATCH_ROWS)


def _rebuilt(lineage: Any, jobs: list[dict], spill: Path) -> list[Any]:
    """Every current job's rows and `table_lineage` from their shares, replacing the stored ones."""
    rows, job_shares, _ = _computed(lineage, jobs, spill)
    return [dlt.resource(rows, name="column_lineage", write_disposition="replace"),
            dlt.resource([table_lineage(job_shares, spill / "table_lineage.tmp")], name="table_lineage", write_disposition="replace")]


def _updated(
    pipeline: dlt.Pipeline, lineage: Any, jobs: list[dict], replaced: dict[str, str], spill: Path
) -> tuple[list[Any], list[pa.Table]]:
    """Delete the rows of the sources of `jobs` (their new current jobs) and of `replaced` (source ->
    stored job id); the new jobs' rows, the touched `table_lineage` rows and the change record of
    the replaced sources to append, and that record (`lineage_changes`, `change_impact` rows).

    The queries run in the destination with each list sent as one text parameter and split there
    (`IN_LIST`, the same SQL on DuckDB and PostgreSQL): spelt out as thousands of parameters, bound
    as a Python list, or built through dlt's relation builder, a list cost seconds per thousand names.
    """
    sources = sorted({*replaced, *(job["source"] for job in jobs)})
    with pipeline.sql_client() as client:
        old_rows = _query(client, f"SELECT {', '.join(OLD_COLUMNS)} FROM {{column_lineage}} WHERE source {IN_LIST}", sources)
    old_rows = old_rows if old_rows is not None else _empty_column_lineage().select(list(OLD_COLUMNS))
    old = shares(old_rows.select(list(SHARE_COLUMNS)))
    rows, new, files = _computed(lineage, jobs, spill)
    new_rows = _concat([pq.read_table(file, columns=list(OLD_COLUMNS)) for file in files], _empty_column_lineage().select(list(OLD_COLUMNS)))
    touched = sorted(set(old.column("source_object").to_pylist()) | set(new.column("source_object").to_pylist()))
    columns = _empty_table_lineage().column_names
    record = _record_keys(jobs, replaced, old_rows)
    with pipeline.sql_client() as client:
        stored = _query(client, f"SELECT {', '.join(columns)} FROM {{table_lineage}} WHERE source_object {IN_LIST}", touched)
        updated = updated_table_lineage(stored if stored is not None else _empty_table_lineage(), old, new)
        _query(client, "DELETE FROM {column_lineage} WHERE source " + IN_LIST, sources, fetch=False)
        _query(client, "DELETE FROM {table_lineage} WHERE source_object " + IN_LIST, touched, fetch=False)
        recorded = _changes(pipeline, client, record, old_rows, new_rows)  # over the graph without the replaced sources' rows
    return [dlt.resource(rows, name="column_lineage", write_disposition="append"),
            dlt.resource([updated], name="table_lineage", write_disposition="append"),
            *_change_resources(*recorded)], list(recorded)  # fmt: skip


# What a replaced source's old rows are read with: its `table_lineage` share and its edges as the
# change record compares them (changes.py: the edge key and its kinds).
OLD_COLUMNS: tuple[str, ...] = (
    "source", *SHARE_COLUMNS, "source_column", "target_column", "transformation_type", "transformation_subtype"
)  # fmt: skip
KEY_SEPARATOR = chr(30)  # ASCII's record separator: joins the parts of one list item (never in a name either)


def _record_keys(jobs: list[dict], replaced: dict[str, str], old_rows: pa.Table) -> pa.Table:
    """(source, previous_job_id, new_job_id) of every source whose stored current job is replaced:
    by its new current job, or by nothing when the source disappeared. A new source has no previous
    job and is not recorded; nor is a source whose stored rows already are its new job's (a refresh
    that loaded them but not `current_jobs`: its record, if any, went in with them)."""
    new_job = {job["source"]: job["job_id"] for job in jobs}
    stored_jobs: dict[str, set[str]] = {}
    for source, job_id in zip(old_rows.column("source").to_pylist(), old_rows.column("job_id").to_pylist(), strict=True):
        stored_jobs.setdefault(source, set()).add(job_id)
    names = sorted(name for name in replaced if new_job.get(name) is None or new_job[name] not in stored_jobs.get(name, set()))
    return pa.table(
        {"source": names, "previous_job_id": [replaced[name] for name in names], "new_job_id": [new_job.get(name) for name in names]},
        schema=pa.schema([("source", pa.string()), ("previous_job_id", pa.string()), ("new_job_id", pa.string())]),
    )


def _changes(pipeline: dlt.Pipeline, client: Any, record: pa.Table, old_rows: pa.Table, new_rows: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The change record of the `record` sources, their earlier rows for the same pair of jobs deleted
    (a refresh redone after a failure records once).

    The downstream walk reads only the edges it needs: from the destination (its graph without the
    replaced sources' rows, already deleted) and the new jobs' rows, those going out of the columns
    reached so far, one query per hop, to the impact query's depth; `changes.impact_over` walks them.
    """
    from sqlflow_assets.warehouse import changes  # it builds on this module

    if record.num_rows == 0:
        return _empty_changes()
    keys = [KEY_SEPARATOR.join(value or "" for value in row.values()) for row in record.to_pylist()]
    if _has_change_tables(pipeline, client):
        for table in CHANGE_TABLES:
            _query(client, f"DELETE FROM {{{table}}} WHERE {_PAIR_KEY} {IN_LIST}", keys, fetch=False)
    recorded = changes.edge_changes(old_rows, new_rows, record)
    seeds = changes.seeds(recorded)
    if not seeds:
        return recorded, changes.impact_over(recorded, new_rows, DEFAULT_DEPTH)
    local = duckdb.connect()
    local.register("new_rows", new_rows.select(list(_WALK_COLUMNS)))
    local.execute("CREATE TABLE new_edges AS SELECT * FROM new_rows")
    reached, frontier, found = set(seeds), sorted(seeds), []
    for _ in range(DEFAULT_DEPTH - 1):  # the walk from a seed goes depth - 1 hops
        if not frontier:
            break
        items = [f"{obj}{KEY_SEPARATOR}{col}" for obj, col in frontier]
        stored = _query(client, _OUT_OF, items)
        local.register("frontier", pa.table({"item": pa.array(items, pa.string())}))
        fresh = local.execute(
            "SELECT e.* FROM new_edges AS e JOIN frontier AS f ON f.item = e.source_object || chr(30) || e.source_column"
        ).to_arrow_table()
        step = pa.concat_tables([fresh, *([stored.select(list(_WALK_COLUMNS)).cast(fresh.schema)] if stored is not None else [])])
        found.append(step)
        targets = set(zip(step.column("target_object").to_pylist(), step.column("target_column").to_pylist(), strict=True))
        frontier = sorted(targets - reached)
        reached |= targets
    return recorded, changes.impact_over(recorded, pa.concat_tables(found), DEFAULT_DEPTH)


_WALK_COLUMNS = ("source_object", "source_column", "target_object", "target_column", "relationship_type")
# The edges going out of the listed columns (`object chr(30) column` items), joined, not compared row by row.
_OUT_OF = f"""
SELECT {", ".join(f"e.{name}" for name in _WALK_COLUMNS)}
FROM {{column_lineage}} AS e
JOIN (SELECT split_part(item, chr(30), 1) AS object_name, split_part(item, chr(30), 2) AS column_name
      FROM (SELECT unnest(string_to_array(%s, chr(31))) AS item) AS items) AS k
  ON e.source_object = k.object_name AND e.source_column = k.column_name
"""
_PAIR_KEY = "source || chr(30) || coalesce(previous_job_id, '') || chr(30) || coalesce(new_job_id, '')"


def _has_change_tables(pipeline: dlt.Pipeline, client: Any = None) -> bool:
    """Whether the destination holds the change record's tables (a graph stored by an older version
    does not); asked of the information schema, so no statement fails (PostgreSQL's transaction)."""
    if client is None:
        with pipeline.sql_client() as client:
            return _has_change_tables(pipeline, client)
    rows = client.execute_sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name IN (%s, %s)",
        client.dataset_name, *CHANGE_TABLES,
    )
    return bool(rows) and int(rows[0][0]) == len(CHANGE_TABLES)


def _change_resources(changes: pa.Table, impact: pa.Table) -> list[Any]:
    return [dlt.resource([changes], name="lineage_changes", write_disposition="append"),
            dlt.resource([impact], name="change_impact", write_disposition="append")]


def _empty_changes() -> tuple[pa.Table, pa.Table]:
    from sqlflow_assets.tables import CHANGES

    return CHANGES["lineage_changes"].empty(), CHANGES["change_impact"].empty()


LIST_SEPARATOR = chr(31)  # ASCII's unit separator: never part of a name SQLFlow reports
IN_LIST = "IN (SELECT unnest(string_to_array(%s, chr(31))))"  # one text parameter, split where the query runs


def _query(client: Any, sql: str, values: list[str], fetch: bool = True) -> pa.Table | None:
    """`sql` with `{table}` as the destination names the graph table and `values` as its one array parameter."""
    sql = sql.format(**{table: client.make_qualified_table_name(table) for table in (*GRAPH_TABLES, *CHANGE_TABLES)})
    if any(LIST_SEPARATOR in value for value in values):
        raise ValueError(f"a name holds the list separator chr(31): {next(v for v in values if LIST_SEPARATOR in v)!r}")
    joined = LIST_SEPARATOR.join(values)
    if not fetch:
        client.execute_sql(sql, joined)
        return None
    with client.execute_query(sql, joined) as cursor:
        table = cursor.arrow()
    return table if table is not None and table.num_rows else None  # no rows: the caller's typed empty table


def _empty_edges() -> pa.Table:
    from sqlflow_assets.tables import LINEAGE  # the contract's end_to_end_edges, with no rows

    return LINEAGE["end_to_end_edges"].empty()
