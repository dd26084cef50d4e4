"""What a new version of a source changes in the lineage graph, and what that breaks downstream.

A source's lineage is its column edges in `lineage.column_lineage` (the edges of its current job).
Two versions of those edges compare by the edge's columns, (source_object, source_column,
target_object, target_column): an edge only in the new version is `added`, only in the previous one
`removed`, in both with another relationship type or transformation `retyped`.

Every removed or retyped edge takes or changes an input of its target column, and of every column
downstream of it: those are found by the impact query (`graph.impact`, the same walk and depth bound
as `sqlflow-assets impact`), over the graph as it is with the new version: the current graph's edges
of other sources plus the new edges, so the answer does not depend on whether the caller passes the
graph from before or after the change.

`compare` is the one entry point (previous edges, new edges, current graph) -> the two tables of the
contract, `lineage.lineage_changes` and `lineage.change_impact`; `summary_markdown` renders them.
Plain Python, pyarrow and DuckDB: no Dagster, any destination.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sqlflow_assets.tables import CHANGES
from sqlflow_assets.warehouse import graph

EDGE_KEY = ("source_object", "source_column", "target_object", "target_column")
KINDS = ("relationship_type", "transformation_type", "transformation_subtype")  # what "retyped" compares
ADDED, REMOVED, RETYPED = "added", "removed", "retyped"
LINEAGE_CHANGES = CHANGES["lineage_changes"]
CHANGE_IMPACT = CHANGES["change_impact"]

# One row per source, edge key and version; a key written twice in a version (two statements) keeps
# its kinds sorted and joined, so a comparison is of sets, not of row order.
_VERSION = """
SELECT source, source_object, source_column, target_object, target_column,
       string_agg(DISTINCT relationship_type, '+' ORDER BY relationship_type) AS relationship_type,
       string_agg(DISTINCT transformation_type, '+' ORDER BY transformation_type) AS transformation_type,
       string_agg(DISTINCT transformation_subtype, '+' ORDER BY transformation_subtype) AS transformation_subtype
FROM {edges} GROUP BY ALL
"""
# Any number of sources at once: `pairs` (source, previous_job_id, new_job_id) names each compared
# source's jobs; `source` is the join key of the two versions (never NULL: '' for an unnamed one).
_CHANGES_SQL = f"""
WITH previous AS ({_VERSION.format(edges="previous_edges")}), new AS ({_VERSION.format(edges="new_edges")})
SELECT pr.source_name AS source, pr.previous_job_id, pr.new_job_id,
       CASE WHEN p.source_object IS NULL THEN 'added' WHEN n.source_object IS NULL THEN 'removed' ELSE 'retyped' END AS change,
       coalesce(n.source_object, p.source_object) AS source_object, coalesce(n.source_column, p.source_column) AS source_column,
       coalesce(n.target_object, p.target_object) AS target_object, coalesce(n.target_column, p.target_column) AS target_column,
       p.relationship_type AS previous_relationship_type, n.relationship_type,
       p.transformation_type AS previous_transformation_type, n.transformation_type,
       p.transformation_subtype AS previous_transformation_subtype, n.transformation_subtype
FROM previous AS p FULL JOIN new AS n USING (source, source_object, source_column, target_object, target_column)
JOIN pairs AS pr ON pr.source = coalesce(n.source, p.source)
WHERE p.source_object IS NULL OR n.source_object IS NULL
   OR p.relationship_type IS DISTINCT FROM n.relationship_type
   OR p.transformation_type IS DISTINCT FROM n.transformation_type
   OR p.transformation_subtype IS DISTINCT FROM n.transformation_subtype
ORDER BY pr.source, CASE change WHEN 'removed' THEN 0 WHEN 'retyped' THEN 1 ELSE 2 END,
         source_object, source_column, target_object, target_column
"""
PAIRS_SCHEMA = pa.schema([("source", pa.string()), ("previous_job_id", pa.string()), ("new_job_id", pa.string())])


@dataclass(frozen=True)
class Changes:
    """A comparison's two tables, shaped like the contract's `lineage_changes` and `change_impact`."""

    changes: pa.Table
    impact: pa.Table


def compare(
    previous: pa.Table,
    new: pa.Table,
    current_graph: pa.Table,
    *,
    source: str | None = None,
    previous_job_id: str | None = None,
    new_job_id: str | None = None,
    depth: int = graph.DEFAULT_DEPTH,
) -> Changes:
    """The change rows between two versions of one source's column edges and their downstream impact.

    `previous`, `new`: that source's rows of `lineage.column_lineage` (at least the edge key and the
    three kinds); `current_graph`: all of `lineage.column_lineage`. The source and the job ids default
    to the ones the edge tables carry (`source`, `job_id` columns).
    """
    source = source or _single(new, "source") or _single(previous, "source")
    previous_job_id = previous_job_id or _single(previous, "job_id")
    new_job_id = new_job_id or _single(new, "job_id")
    pairs = pa.table({"source": [source], "previous_job_id": [previous_job_id], "new_job_id": [new_job_id]}, schema=PAIRS_SCHEMA)
    changes = edge_changes(_with_source(previous, source), _with_source(new, source), pairs)
    after = graph_after(current_graph, new, source)
    return Changes(changes, _impact(changes, after, depth))


def edge_changes(previous: pa.Table, new: pa.Table, pairs: pa.Table) -> pa.Table:
    """The `lineage_changes` rows of every source of `pairs` (source, previous_job_id, new_job_id):
    `previous` and `new` hold those sources' edges (`source`, the edge key and the three kinds)."""
    conn = duckdb.connect()
    conn.register("previous_edges", _edges(previous, with_source=True))
    conn.register("new_edges", _edges(new, with_source=True))
    conn.register("pairs", pairs.append_column("source_name", pairs.column("source")).set_column(
        0, "source", pc.fill_null(pairs.column("source").cast(pa.string()), "")))
    return conn.execute(_CHANGES_SQL).to_arrow_table().cast(LINEAGE_CHANGES.arrow_schema())


def _with_source(table: pa.Table | None, source: str | None) -> pa.Table:
    """`table`'s edges with `source` (or '') as their source, the join key of `edge_changes`."""
    edges = _edges(table)
    return edges.append_column("source", pa.array([source or ""] * edges.num_rows, pa.string()))


def graph_after(current_graph: pa.Table, new: pa.Table, source: str | None) -> pa.Table:
    """The current graph with `source`'s edges replaced by `new` (the walk's graph)."""
    conn = duckdb.connect()
    conn.register("current_graph", _edges(current_graph, with_source=True))
    conn.register("new_edges", _edges(new))
    return conn.execute(
        f"""
        SELECT {", ".join(EDGE_KEY)}, relationship_type, job_id FROM current_graph WHERE source IS DISTINCT FROM $source
        UNION ALL SELECT {", ".join(EDGE_KEY)}, relationship_type, job_id FROM new_edges
        """,
        {"source": source},
    ).to_arrow_table()


def _impact(changes: pa.Table, after: pa.Table, depth: int) -> pa.Table:
    """Per removed or retyped edge: its target column (depth 1) and the impact query's downstream
    columns of that target (their depth + 1), to `depth` hops from the edge's source column."""
    rows: list[dict] = []
    downstream: dict[tuple[str, str], list[dict]] = {}
    for change in changes.to_pylist():
        if change["change"] == ADDED:
            continue
        edge = {name: change[name] for name in ("source", "previous_job_id", "new_job_id", "change", *EDGE_KEY)}
        kind = change["relationship_type"] or change["previous_relationship_type"]
        rows.append({**edge, "impacted_object": change["target_object"], "impacted_column": change["target_column"],
                     "depth": 1, "relationship_type": kind.split("+")[0]})  # fmt: skip
        target = (change["target_object"], change["target_column"])
        if target not in downstream:
            walked = graph.impact(after, *target, graph.Direction.DOWNSTREAM, depth - 1) if depth > 1 else None
            downstream[target] = walked.to_pylist() if walked is not None else []
        for column in downstream[target]:
            if (column["object"], column["column"]) == target:
                continue  # a cycle back to the target: already reported at depth 1
            rows.append({**edge, "impacted_object": column["object"], "impacted_column": column["column"],
                         "depth": column["depth"] + 1, "relationship_type": column["relationship_type"]})  # fmt: skip
    return pa.Table.from_pylist(rows, schema=CHANGE_IMPACT.arrow_schema())


# The graph step's walk: the impact query's (`graph.IMPACT_SQL`: UNION and the depth bound, each
# column at its shortest depth, fdd when an all-fdd path of that length reaches it) from every seed
# column at once, each row carrying its seed, so thousands of removed edges cost one query, not one
# each. `test_changes` checks it against `graph.impact` per seed.
_WALK_SQL = """
WITH RECURSIVE walk(seed_object, seed_column, object, column_name, depth, all_fdd) AS (
    SELECT s.seed_object, s.seed_column, e.target_object, e.target_column, 1, e.relationship_type = 'fdd'
    FROM seeds AS s JOIN edges AS e ON e.source_object = s.seed_object AND e.source_column = s.seed_column
    UNION
    SELECT w.seed_object, w.seed_column, e.target_object, e.target_column, w.depth + 1, w.all_fdd AND e.relationship_type = 'fdd'
    FROM walk AS w JOIN edges AS e ON e.source_object = w.object AND e.source_column = w.column_name
    WHERE w.depth < $depth
), shortest AS (
    SELECT seed_object, seed_column, object, column_name, min(depth) AS depth FROM walk GROUP BY ALL
)
SELECT w.seed_object, w.seed_column, w.object, w.column_name, s.depth,
       CASE WHEN bool_or(w.all_fdd) THEN 'fdd' ELSE 'fdr' END AS relationship_type
FROM walk AS w JOIN shortest AS s USING (seed_object, seed_column, object, column_name)
WHERE w.depth = s.depth
GROUP BY ALL
"""
# Per removed or retyped edge: its target column (depth 1), then the walk's columns from that
# target (their depth + 1), a cycle back to the target left out (already there at depth 1).
_IMPACT_SQL = f"""
SELECT {", ".join(f"c.{name}" for name in ("source", "previous_job_id", "new_job_id", "change", *EDGE_KEY))},
       c.target_object AS impacted_object, c.target_column AS impacted_column, 1 AS depth,
       split_part(coalesce(c.relationship_type, c.previous_relationship_type), '+', 1) AS relationship_type
FROM changes AS c WHERE c.change <> 'added'
UNION ALL
SELECT {", ".join(f"c.{name}" for name in ("source", "previous_job_id", "new_job_id", "change", *EDGE_KEY))},
       w.object, w.column_name, w.depth + 1, w.relationship_type
FROM changes AS c JOIN walked AS w ON w.seed_object = c.target_object AND w.seed_column = c.target_column
WHERE c.change <> 'added' AND NOT (w.object = c.target_object AND w.column_name = c.target_column)
ORDER BY source, previous_job_id, new_job_id, change, source_object, source_column, target_object, target_column,
         depth, impacted_object, impacted_column
"""


def seeds(changes: pa.Table) -> set[tuple[str, str]]:
    """The target columns of the removed and retyped edges: where the impact walk starts."""
    kept = changes.filter(pc.not_equal(changes.column("change"), ADDED))
    return set(zip(kept.column("target_object").to_pylist(), kept.column("target_column").to_pylist(), strict=True))


def impact_over(changes: pa.Table, edges: pa.Table, depth: int = graph.DEFAULT_DEPTH) -> pa.Table:
    """The `change_impact` rows of `changes` walking `edges` (the graph with the new versions, or
    just the part of it within `depth - 1` hops of the seeds: the walk reads no other edge)."""
    conn = duckdb.connect()
    conn.register("changes", changes)
    found = sorted(seeds(changes))
    conn.register("seeds", pa.table({"seed_object": [o for o, _ in found], "seed_column": [c for _, c in found]},
                                    schema=pa.schema([("seed_object", pa.string()), ("seed_column", pa.string())])))
    conn.register("edge_rows", edges.select(["source_object", "source_column", "target_object", "target_column", "relationship_type"]))
    conn.execute("CREATE TABLE edges AS SELECT * FROM edge_rows")  # statistics: see graph.impact
    if depth > 1 and found:
        conn.execute(f"CREATE TABLE walked AS {_WALK_SQL}", {"depth": depth - 1})
    else:
        conn.execute("CREATE TABLE walked (seed_object VARCHAR, seed_column VARCHAR, object VARCHAR, column_name VARCHAR, "
                     "depth BIGINT, relationship_type VARCHAR)")
    return conn.execute(_IMPACT_SQL).to_arrow_table().cast(CHANGE_IMPACT.arrow_schema())


def summary_markdown(changes: pa.Table, impact: pa.Table, limit: int | None = None) -> str:
    """Per changed source, "+12 edges, -3 edges, 5 downstream columns affected in 2 tables" and the
    affected columns listed (at most `limit` affected columns and changed edges, the rest counted);
    empty text when nothing changed."""
    sections = []
    change_rows, impact_rows = changes.to_pylist(), impact.to_pylist()
    for source in sorted({row["source"] or "" for row in change_rows}):
        mine = [row for row in change_rows if (row["source"] or "") == source]
        counts = {kind: sum(row["change"] == kind for row in mine) for kind in (ADDED, REMOVED, RETYPED)}
        affected: dict[tuple[str, str], set[str]] = {}
        for row in impact_rows:
            if (row["source"] or "") == source:
                edge = f"{row['source_object']}.{row['source_column']} → {row['target_object']}.{row['target_column']} ({row['change']})"
                affected.setdefault((row["impacted_object"], row["impacted_column"]), set()).add(edge)
        tables = {obj for obj, _ in affected}
        line = f"+{_plural(counts[ADDED], 'edge')}, -{_plural(counts[REMOVED], 'edge')}"
        if counts[RETYPED]:
            line += f", {_plural(counts[RETYPED], 'edge')} retyped"
        line += f", {_plural(len(affected), 'downstream column')} affected in {_plural(len(tables), 'table')}"
        lines = [f"### `{source}`", "", line]
        if affected:
            lines += ["", "| Affected column | Because of |", "| --- | --- |"]
            listed = sorted(affected.items())
            lines += [f"| `{obj}.{col}` | {'<br>'.join(sorted(edges))} |" for (obj, col), edges in listed[:limit]]
            lines += _more(len(listed), limit, "affected columns")
        if mine:
            lines += [
                "",
                "<details><summary>Changed edges</summary>",
                "",
                "| Change | Source column | Target column | Type |",
                "| --- | --- | --- | --- |",
            ]
            lines += [
                f"| {row['change']} | `{row['source_object']}.{row['source_column']}` | `{row['target_object']}.{row['target_column']}` | {_kind(row)} |"
                for row in mine[:limit]
            ]
            lines += [*_more(len(mine), limit, "changed edges"), "", "</details>"]
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + ("\n" if sections else "")


def has_consumers(impact: pa.Table, kinds: set[str]) -> bool:
    """True when a removed or retyped edge of `kinds` has a downstream consumer (a column beyond its own target)."""
    return any(row["change"] in kinds and row["depth"] > 1 for row in impact.to_pylist())


def _kind(row: dict) -> str:
    def one(prefix: str) -> str | None:
        kind, subtype = row[f"{prefix}transformation_type"], row[f"{prefix}transformation_subtype"]
        return f"{row[f'{prefix}relationship_type']} {kind}/{subtype}" if kind else None

    before, after = one("previous_"), one("")
    return " → ".join(part for part in (before, after) if part) if before != after else str(after)


def _more(count: int, limit: int | None, what: str) -> list[str]:
    return [f"| … {count - limit} more {what} (in `lineage.lineage_changes` / `lineage.change_impact`) | |"] if limit is not None and count > limit else []


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _single(table: pa.Table | None, column: str) -> str | None:
    """The one value of `column` in `table` (None when absent, empty or mixed)."""
    if table is None or column not in table.column_names or table.num_rows == 0:
        return None
    values = {value for value in table.column(column).to_pylist() if value is not None}
    return values.pop() if len(values) == 1 else None


def _edges(table: pa.Table | None, with_source: bool = False) -> pa.Table:
    """The columns the comparison reads, typed, whatever else `table` has (NULL job ids when absent)."""
    names = [*EDGE_KEY, *KINDS, "job_id", *(["source"] if with_source else [])]
    arrays = []
    for name in names:
        if table is not None and name in table.column_names:
            arrays.append(table.column(name).cast(pa.string()))
        else:
            arrays.append(pa.nulls(table.num_rows if table is not None else 0, pa.string()))
    return pa.table(dict(zip(names, arrays, strict=True)))
