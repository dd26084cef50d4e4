"""The table contract: every table this project loads, its columns, their types and meanings, in one place.

Each table has its schema (`sqlflow_raw` or `lineage`), name, description, how it is loaded (the
merge key of the per-job tables, the primary key of `jobs`, or replaced whole) and its columns in
order; each column has a name, one type and a description. Everything else is derived from here:
the raw Arrow schemas (`lineage_json.SCHEMAS`), the flatten DDL (`flatten.LINEAGE_COLUMNS`), the
Dagster asset specs' descriptions and column schemas (`defs/assets.py`), the graph's empty inputs,
the tests and the table reference `docs/tables.md` (`python -m sqlflow_assets.tables` prints it).

Adding a column: add it here (new columns go at the end: users query these tables), then produce it
(the parser for a raw table, `job/flatten_sql/<table>.sql` for a lineage table, `warehouse/graph.py`
for a graph table) and regenerate `docs/tables.md`. A test loads a real job and fails when a loaded
table's columns differ from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pyarrow as pa

from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA

# The one type notation: each type's Arrow type (parsing, flattening) and SQL type (DuckDB DDL, docs).
TYPES: Mapping[str, tuple[pa.DataType, str]] = MappingProxyType(
    {"text": (pa.string(), "VARCHAR"), "bool": (pa.bool_(), "BOOLEAN"), "bigint": (pa.int64(), "BIGINT")}
)
JOB_KEY = "job_id"  # the column every per-job table is merged on (delete-insert: a reload replaces the job's rows)
# dlt's hard-delete flag, the last column of every per-job table: true only on the marker row of a job
# left with no rows (dlt deletes the job's rows and stores nothing), so it is NULL in every stored row.
TOMBSTONE = "tombstone"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of TYPES
    description: str

    @property
    def arrow_type(self) -> pa.DataType:
        return TYPES[self.type][0]

    @property
    def sql_type(self) -> str:
        return TYPES[self.type][1]


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    merge_key: str | None = None  # delete-insert on this column (the per-job tables)
    primary_key: str | None = None  # merged on this key (`jobs`); neither key: replaced whole (the graph)
    appended: bool = False  # rows only added, never replaced (the change record)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(column.name, column.arrow_type) for column in self.columns])

    def sql_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, SQL type) of each column, in order: the DDL and the loaded table's columns."""
        return tuple((column.name, column.sql_type) for column in self.columns)

    def arrow_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, Arrow type name) of each column, in order."""
        return tuple((column.name, str(column.arrow_type)) for column in self.columns)

    def empty(self) -> pa.Table:
        return self.arrow_schema().empty_table()

    def description_of(self, column: str) -> str | None:
        return next((c.description for c in self.columns if c.name == column), None)

    def loading(self) -> str:
        if self.merge_key:
            return f"merged per job: a load deletes the rows of its `{self.merge_key}` and inserts the new ones"
        if self.primary_key:
            return f"merged on the primary key `{self.primary_key}`"
        if self.appended:
            return "appended when a graph refresh replaces a source's current job (the history of changes)"
        return "replaced whole on every graph refresh"

    def refreshed(self) -> str:
        """When the table is written, and when it is not (what its asset's description ends with)."""
        if self.merge_key:
            return ("Written per SQLFlow job by the lineage run `sqlflow_job_sensor` requests when the job finishes; "
                    "nothing new lands while that sensor is stopped (materialise a partition by hand then).")  # fmt: skip
        if self.primary_key:
            return ("Reloaded hourly (`sqlflow_graph_automation`) and whenever `sqlflow_job_sensor` sees new jobs; "
                    "stale while both are stopped.")  # fmt: skip
        if self.appended:
            return ("Appended by the graph refresh (`sqlflow_graph_automation`) when a source's current job is replaced; "
                    "nothing is recorded while that sensor is stopped, nor by a refresh that rebuilds the graph whole.")  # fmt: skip
        return ("Rebuilt by `sqlflow_graph_automation` after any job's lineage lands; "
                "not rebuilt while that sensor is stopped.")  # fmt: skip

    @property
    def asset_description(self) -> str:
        """The description its Dagster asset shows: what the table holds, then when it is written."""
        return f"{self.description} {self.refreshed()}"


def _table(schema: str, name: str, description: str, columns: Mapping[str, str], **keys: Any) -> Table:
    """`columns`: `"name"` is text, `"name:bool"` / `"name:bigint"` set the type -> description."""
    parsed = []
    for spec, text in columns.items():
        column, _, kind = spec.partition(":")
        parsed.append(Column(column, kind or "text", text))
    return Table(schema, name, description, tuple(parsed), **keys)


def _per_job(schema: str, name: str, description: str, columns: Mapping[str, str]) -> Table:
    return _table(schema, name, description, {JOB_KEY: _JOB_ID, **columns}, merge_key=JOB_KEY)


_JOB_ID = "The SQLFlow job the row belongs to (its Dagster partition key ends with it)."
_COORDINATES = "JSON text: where in the SQL the item is ([{x: line, y: column, hashCode}, ...], start/end pairs)."
_OBJECT = "The object's qualified name (database.schema.name without DEFAULT placeholders)."

JOBS = _table(
    RAW_SCHEMA,
    "jobs",
    "Every SQLFlow job of the user, as displayUserJobsSummary lists it.",
    {
        "job_id": "SQLFlow's id of the job (the end of the Dagster partition key of its lineage).",
        "job_name": "The job's name: the submission's source name when this project submitted it.",
        "user_id": "The SQLFlow user the job belongs to.",
        "db_vendor": "The job's SQL dialect (dbvpostgresql, ...).",
        "status": "create, running, success, partial_success or fail.",
        "create_time": "When SQLFlow created the job.",
        "error_message": "What SQLFlow said when the job failed.",
        "session_id": "The job's analysis version: a persist job analysed again gets a new one.",
        "default_database": "The database unqualified names resolve to.",
        "default_schema": "The schema unqualified names resolve to.",
        "file_names": "JSON text: the job's SQL files.",
    },
    primary_key=JOB_KEY,
)

RAW: Mapping[str, Table] = MappingProxyType({table.name: table for table in (
    _per_job(RAW_SCHEMA, "objects", "Every dbobj of a job's lineage export (tables, views, result sets, functions, processes).", {
        "object_id": "SQLFlow's id of the dbobj (VARCHAR: ids such as 28_0 exist).",
        "name": "The name as SQLFlow wrote it (quoting and case as in the SQL).",
        "display_name": "SQLFlow's display name, when it gives one.",
        "object_type": "table, view, select_list, insert-select, function, process, ... (the dbobj's type).",
        "server": "The server the object was found under (nested shape).",
        "database": "The database part of the name (or SQLFlow's DEFAULT placeholder).",
        "schema": "The schema part of the name (or SQLFlow's DEFAULT placeholder).",
        "db_vendor": "The SQL dialect SQLFlow read the object with (dbvpostgresql, ...).",
        "bucket": "The nested list the object came from (tables, views, others, ...) or dbobjs for the flat shape.",
        "alias": "The alias the SQL gave the object, if any.",
        "coordinates": _COORDINATES,
    }),
    _per_job(RAW_SCHEMA, "columns", "Every column of every dbobj, pseudo columns (PseudoRows) flagged.", {
        "object_id": "The dbobj this column belongs to.",
        "column_id": "SQLFlow's id of the column.",
        "name": "The column name as written.",
        "data_type": "The declared data type, when SQLFlow knows it.",
        "source": "Where SQLFlow took the column from (system for pseudo columns).",
        "is_pseudo:bool": "True for PseudoRows/RelationRows and system columns: not a real column.",
        "primary_key:bool": "True when the column is (part of) a primary key.",
        "foreign_key:bool": "True when the column is (part of) a foreign key.",
        "unique_key:bool": "True when the column is (part of) a unique key.",
        "coordinates": _COORDINATES,
    }),
    _per_job(RAW_SCHEMA, "relationships", "One row per SQLFlow relationship (fdd, fdr, join...) of a job.", {
        "relationship_id": "SQLFlow's id of the relationship.",
        "relationship_type": "fdd (data flows), fdr (data decides which rows), join, ...",
        "effect_type": "The statement effect (insert, create_view, select, ...).",
        "process_id": "The process (statement) that made the relationship.",
        "process_type": "The kind of that process.",
        "function": "The function on the path, if any (sum, coalesce, ...).",
        "target_column_id": "The target column's id.",
        "target_object_id": "The target column's dbobj id.",
        "target_column": "The target column's name as written.",
        "target_parent_name": "The target object's name as written in the relationship.",
    }),
    _per_job(RAW_SCHEMA, "relationship_sources", "One row per source of a relationship, with its clause type.", {
        "relationship_id": "The relationship this source belongs to.",
        "ord:bigint": "The source's position in the relationship's sources.",
        "column_id": "The source column's id.",
        "object_id": "The source column's dbobj id.",
        "column": "The source column's name as written.",
        "parent_name": "The source object's name as written in the relationship.",
        "clause_type": "On fdr sources: where, joinCondition, groupBy, having, ...",
    }),
    _per_job(RAW_SCHEMA, "processes", "One row per analysed statement of a job.", {
        "process_id": "SQLFlow's id of the process (one analysed statement).",
        "name": "The process name SQLFlow gives (file and statement).",
        "process_type": "The statement kind (insert, create view, ...).",
        "procedure_name": "The enclosing procedure, if any.",
        "query_hash_id": "SQLFlow's hash of the statement text.",
        "coordinates": _COORDINATES,
    }),
    _per_job(RAW_SCHEMA, "errors", "Statements SQLFlow could not analyse.", {
        "ord:bigint": "The error's position in the job's error list.",
        "error_message": "What SQLFlow said about the statement.",
        "error_type": "SQLFlow's error kind (syntax error, ...).",
        "file_name": "The SQL file of the statement.",
        "coordinates": _COORDINATES,
    }),
)})  # fmt: skip

# In build order: each table's SQL reads the tables before it.
LINEAGE: Mapping[str, Table] = MappingProxyType({table.name: table for table in (
    _per_job(LINEAGE_SCHEMA, "objects", "Every object of a job's lineage (tables, views, result sets, processes) with its qualified name.", {
        "object_id": "SQLFlow's id of the object.",
        "object_type": "table, view, select_list, insert-select, function, process, ...",
        "database": "The database part of the name (placeholders dropped).",
        "schema": "The schema part of the name (placeholders dropped).",
        "name": "The object's own name.",
        "qualified_name": _OBJECT,
        "is_intermediate:bool": "False for tables, views and storage objects; true for result sets, CTEs, functions, processes.",
        "server": "The server the object was found under.",
        "display_name": "SQLFlow's display name, when it gives one.",
        "db_vendor": "The SQL dialect SQLFlow read the object with.",
        "bucket": "The nested list the object came from (tables, views, others, ...).",
    }),
    _per_job(LINEAGE_SCHEMA, "columns", "Every column of every object, pseudo columns (PseudoRows) flagged.", {
        "object_id": "The object this column belongs to.",
        "column_id": "SQLFlow's id of the column.",
        "name": "The column name.",
        "is_pseudo:bool": "True for PseudoRows/RelationRows and system columns.",
        "data_type": "The declared data type, when known.",
        "object_qualified_name": "The qualified name of the column's object.",
        "source": "Where SQLFlow took the column from.",
        "primary_key:bool": "True when the column is (part of) a primary key.",
        "foreign_key:bool": "True when the column is (part of) a foreign key.",
        "unique_key:bool": "True when the column is (part of) a unique key.",
    }),
    _per_job(LINEAGE_SCHEMA, "column_edges", "One row per source column → target column pair of every relationship (fdd and fdr).", {
        "relationship_id": "The SQLFlow relationship the edge comes from.",
        "relationship_type": "fdd (data flows) or fdr (data decides which rows).",
        "effect_type": "The statement effect (insert, create_view, select, ...).",
        "source_object": "The source object's qualified name.",
        "source_column": "The source column.",
        "target_object": "The target object's qualified name.",
        "target_column": "The target column.",
        "source_object_id": "The source object's id (objects are joined by id, never by name).",
        "source_column_id": "The source column's id.",
        "target_object_id": "The target object's id.",
        "target_column_id": "The target column's id.",
        "source_ord:bigint": "The source's position in the relationship.",
        "clause_type": "On fdr edges: where, joinCondition, groupBy, having, ...",
        "process_id": "The process (statement) of the relationship.",
        "process_name": "That process's name.",
        "process_type": "That process's kind.",
        "function": "The function on the edge, if any.",
        "source_is_intermediate:bool": "True when the source is a result set, CTE, function or process.",
        "target_is_intermediate:bool": "True when the target is a result set, CTE, function or process.",
    }),
    _per_job(LINEAGE_SCHEMA, "end_to_end_edges", "Column lineage between real tables and views, intermediate result sets collapsed (chain rule).", {
        "source_object": "The source table or view (qualified name).",
        "source_column": "The source column.",
        "target_object": "The target table or view (qualified name).",
        "target_column": "The target column.",
        "relationship_type": "fdd when at least one all-fdd path exists, else fdr (SQLFlow's chain rule over intermediates).",
        "hops:bigint": "Shortest path length of the winning kind (at most 32).",
        "clause_type": "The clause of the winning path's fdr hop (where, joinCondition, ...).",
        "function": "The function on the winning path, if any.",
    }),
    _per_job(LINEAGE_SCHEMA, "table_edges", "Table-level lineage between real tables and views: end-to-end edges counted per type.", {
        "source_object": "The source table or view (qualified name).",
        "target_object": "The target table or view (qualified name).",
        "relationship_type": "fdd or fdr.",
        "edge_count:bigint": "How many end-to-end column edges of this type join the pair.",
    }),
)})  # fmt: skip

GRAPH: Mapping[str, Table] = MappingProxyType({table.name: table for table in (
    _table(LINEAGE_SCHEMA, "current_jobs",
        "The current job of each source (its latest completed job with loaded lineage): what the graph is built from.", {
        "source": "The submission the job snapshots (its job name, else its id).",
        "job_id": "The source's current job: its latest completed job with loaded lineage.",
        "job_name": "The job's name.",
        "status": "success or partial_success.",
        "create_time": "When SQLFlow created the job.",
        "db_vendor": "The job's SQL dialect.",
        "default_database": "The database unqualified names resolve to.",
        "default_schema": "The schema unqualified names resolve to.",
    }),
    _table(LINEAGE_SCHEMA, "column_lineage",
        "Warehouse-wide column lineage between real tables and views over all current jobs, stitched by "
        "normalised name, with OpenLineage's transformation type and subtype.", {
        "source_object": "The source table or view, by normalised name.",
        "source_column": "The source column.",
        "target_object": "The target table or view, by normalised name.",
        "target_column": "The target column.",
        "relationship_type": "fdd or fdr.",
        "transformation_type": "OpenLineage: DIRECT (fdd) or INDIRECT (fdr).",
        "transformation_subtype": "OpenLineage: IDENTITY, TRANSFORMATION, AGGREGATION, FILTER, JOIN, GROUP_BY, SORT, WINDOW, CONDITIONAL.",
        "job_id": "The current job the edge comes from.",
        "source": "That job's source.",
        "clause_type": "The clause of an fdr edge.",
        "function": "The function on the path, if any.",
        "hops:bigint": "Shortest path length inside the job.",
        "source_object_as_written": "The source object's name as the job wrote it.",
        "target_object_as_written": "The target object's name as the job wrote it.",
    }),
    _table(LINEAGE_SCHEMA, "table_lineage",
        "Warehouse-wide table lineage over all current jobs: column_lineage counted per table pair and type.", {
        "source_object": "The source table or view, by normalised name.",
        "target_object": "The target table or view, by normalised name.",
        "relationship_type": "fdd or fdr.",
        "edge_count:bigint": "How many column_lineage edges of this type join the pair.",
        "job_ids": "The current jobs the edges come from, comma-separated.",
    }),
)})  # fmt: skip

_CHANGED_EDGE = {
    "source": "The source whose current job was replaced.",
    "previous_job_id": "Its previous current job (NULL for a new source).",
    "new_job_id": "Its new current job (NULL when compared against a working copy not loaded).",
    "change": "added, removed or retyped (same columns, another relationship type or transformation).",
    "source_object": "The edge's source table or view, by normalised name.",
    "source_column": "The edge's source column.",
    "target_object": "The edge's target table or view, by normalised name.",
    "target_column": "The edge's target column.",
}
# The change record: what a new current job of a source changes in column_lineage (warehouse/changes.py).
CHANGES: Mapping[str, Table] = MappingProxyType({table.name: table for table in (
    _table(LINEAGE_SCHEMA, "lineage_changes",
        "One row per column edge a source's new current job added, removed or retyped against its previous one.", {
        **_CHANGED_EDGE,
        "previous_relationship_type": "fdd or fdr before the change (NULL when added).",
        "relationship_type": "fdd or fdr after the change (NULL when removed).",
        "previous_transformation_type": "OpenLineage DIRECT or INDIRECT before the change (NULL when added).",
        "transformation_type": "OpenLineage DIRECT or INDIRECT after the change (NULL when removed).",
        "previous_transformation_subtype": "OpenLineage subtype before the change (NULL when added).",
        "transformation_subtype": "OpenLineage subtype after the change (NULL when removed).",
    }, appended=True),
    _table(LINEAGE_SCHEMA, "change_impact",
        "For every removed or retyped edge, the downstream columns that lose or change an input, to the impact query's depth.", {
        **_CHANGED_EDGE,
        "impacted_object": "A downstream table or view, by normalised name.",
        "impacted_column": "Its column that loses or changes an input.",
        "depth:bigint": "Hops from the changed edge's source column (1: the edge's own target column).",
        "relationship_type": "fdd when an all-fdd path from the edge's target reaches the column, else fdr.",
    }, appended=True),
)})  # fmt: skip

ALL: tuple[Table, ...] = (JOBS, *RAW.values(), *LINEAGE.values(), *GRAPH.values(), *CHANGES.values())
DOCUMENTED: tuple[Table, ...] = ALL  # documented (docs/tables.md) and found by `table()`


def table(schema: str, name: str) -> Table:
    """The table `schema.name` of the contract; KeyError for one it does not hold."""
    for candidate in DOCUMENTED:
        if (candidate.schema, candidate.name) == (schema, name):
            return candidate
    raise KeyError(f"{schema}.{name}")


def reference() -> str:
    """The table reference in Markdown: `docs/tables.md`."""
    lines = [
        "# Tables",
        "",
        "Generated from `sqlflow_assets/tables.py` by `python -m sqlflow_assets.tables > docs/tables.md`;",
        "edit that module, not this file. Types are DuckDB's; other destinations get dlt's equivalent.",
        f"The per-job tables (merged per job) end with a BOOLEAN `{TOMBSTONE}` column: dlt's hard-delete flag,",
        "set only on the marker row that clears a job left with no rows, so NULL in every stored row.",
        "dlt keeps its own state in the `_dlt_*` tables of each schema.",
    ]
    for group, title in ((RAW_SCHEMA, "Raw tables"), (LINEAGE_SCHEMA, "Lineage tables")):
        lines += ["", f"## {title} (`{group}`)"]
        for entry in (t for t in DOCUMENTED if t.schema == group):
            lines += ["", f"### `{entry.qualified_name}`", "", entry.description, "", f"Loaded: {entry.loading()}.", "", entry.refreshed(), ""]
            lines += ["| Column | Type | Description |", "| --- | --- | --- |"]
            lines += [f"| `{c.name}` | {c.sql_type} | {c.description.replace('|', '/')} |" for c in entry.columns]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference(), end="")
