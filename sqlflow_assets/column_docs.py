"""What every column of the `sqlflow_raw.*` per-job tables and the `lineage.*` tables means, in one place.

Why here: Dagster's catalog shows a table's columns with these descriptions before any run (the
asset specs' `dagster/column_schema`), each materialisation repeats them, and the README's tables
section says the same in prose. Names and types come from the tables' own definitions
(`lineage_json.SCHEMAS`, `flatten.LINEAGE_COLUMNS`, `GRAPH_COLUMNS` here) and the tests check that
every column has a description, so a new column cannot go undocumented.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlflow_assets.job import flatten
from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA
from sqlflow_assets.job.lineage_json import SCHEMAS

_COMMON = {
    "job_id": "The SQLFlow job (and Dagster partition) the row belongs to.",
    "coordinates": "JSON text: where in the SQL the item is ([{x: line, y: column, hashCode}, ...], start/end pairs).",
}
_RAW = {
    "objects": {
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
    },
    "columns": {
        "object_id": "The dbobj this column belongs to.",
        "column_id": "SQLFlow's id of the column.",
        "name": "The column name as written.",
        "data_type": "The declared data type, when SQLFlow knows it.",
        "source": "Where SQLFlow took the column from (system for pseudo columns).",
        "is_pseudo": "True for PseudoRows/RelationRows and system columns: not a real column.",
        "primary_key": "True when the column is (part of) a primary key.",
        "foreign_key": "True when the column is (part of) a foreign key.",
        "unique_key": "True when the column is (part of) a unique key.",
    },
    "relationships": {
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
    },
    "relationship_sources": {
        "relationship_id": "The relationship this source belongs to.",
        "ord": "The source's position in the relationship's sources.",
        "column_id": "The source column's id.",
        "object_id": "The source column's dbobj id.",
        "column": "The source column's name as written.",
        "parent_name": "The source object's name as written in the relationship.",
        "clause_type": "On fdr sources: where, joinCondition, groupBy, having, ...",
    },
    "processes": {
        "process_id": "SQLFlow's id of the process (one analysed statement).",
        "name": "The process name SQLFlow gives (file and statement).",
        "process_type": "The statement kind (insert, create view, ...).",
        "procedure_name": "The enclosing procedure, if any.",
        "query_hash_id": "SQLFlow's hash of the statement text.",
    },
    "errors": {
        "ord": "The error's position in the job's error list.",
        "error_message": "What SQLFlow said about the statement.",
        "error_type": "SQLFlow's error kind (syntax error, ...).",
        "file_name": "The SQL file of the statement.",
    },
}
_OBJECT = "The object's qualified name (database.schema.name without DEFAULT placeholders)."
_LINEAGE = {
    "objects": {
        "object_id": "SQLFlow's id of the object.",
        "object_type": "table, view, select_list, insert-select, function, process, ...",
        "database": "The database part of the name (placeholders dropped).",
        "schema": "The schema part of the name (placeholders dropped).",
        "name": "The object's own name.",
        "qualified_name": _OBJECT,
        "is_intermediate": "False for tables, views and storage objects; true for result sets, CTEs, functions, processes.",
        "server": "The server the object was found under.",
        "display_name": "SQLFlow's display name, when it gives one.",
        "db_vendor": "The SQL dialect SQLFlow read the object with.",
        "bucket": "The nested list the object came from (tables, views, others, ...).",
    },
    "columns": {
        "object_id": "The object this column belongs to.",
        "column_id": "SQLFlow's id of the column.",
        "name": "The column name.",
        "is_pseudo": "True for PseudoRows/RelationRows and system columns.",
        "data_type": "The declared data type, when known.",
        "object_qualified_name": "The qualified name of the column's object.",
        "source": "Where SQLFlow took the column from.",
        "primary_key": "True when the column is (part of) a primary key.",
        "foreign_key": "True when the column is (part of) a foreign key.",
        "unique_key": "True when the column is (part of) a unique key.",
    },
    "column_edges": {
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
        "source_ord": "The source's position in the relationship.",
        "clause_type": "On fdr edges: where, joinCondition, groupBy, having, ...",
        "process_id": "The process (statement) of the relationship.",
        "process_name": "That process's name.",
        "process_type": "That process's kind.",
        "function": "The function on the edge, if any.",
        "source_is_intermediate": "True when the source is a result set, CTE, function or process.",
        "target_is_intermediate": "True when the target is a result set, CTE, function or process.",
    },
    "end_to_end_edges": {
        "source_object": "The source table or view (qualified name).",
        "source_column": "The source column.",
        "target_object": "The target table or view (qualified name).",
        "target_column": "The target column.",
        "relationship_type": "fdd when at least one all-fdd path exists, else fdr (SQLFlow's chain rule over intermediates).",
        "hops": "Shortest path length of the winning kind (at most 32).",
        "clause_type": "The clause of the winning path's fdr hop (where, joinCondition, ...).",
        "function": "The function on the winning path, if any.",
    },
    "table_edges": {
        "source_object": "The source table or view (qualified name).",
        "target_object": "The target table or view (qualified name).",
        "relationship_type": "fdd or fdr.",
        "edge_count": "How many end-to-end column edges of this type join the pair.",
    },
    "current_jobs": {
        "source": "The submission the job snapshots (its job name, else its id).",
        "job_id": "The source's current job: its latest completed job with loaded lineage.",
        "job_name": "The job's name.",
        "status": "success or partial_success.",
        "create_time": "When SQLFlow created the job.",
        "db_vendor": "The job's SQL dialect.",
        "default_database": "The database unqualified names resolve to.",
        "default_schema": "The schema unqualified names resolve to.",
    },
    "column_lineage": {
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
        "hops": "Shortest path length inside the job.",
        "source_object_as_written": "The source object's name as the job wrote it.",
        "target_object_as_written": "The target object's name as the job wrote it.",
    },
    "table_lineage": {
        "source_object": "The source table or view, by normalised name.",
        "target_object": "The target table or view, by normalised name.",
        "relationship_type": "fdd or fdr.",
        "edge_count": "How many column_lineage edges of this type join the pair.",
        "job_ids": "The current jobs the edges come from, comma-separated.",
    },
}

# The graph tables are built by SQL in `graph.py`; their column types as loaded.
GRAPH_COLUMNS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        table: tuple((name, "BIGINT" if name in ("hops", "edge_count") else "VARCHAR") for name in _LINEAGE[table])
        for table in ("current_jobs", "column_lineage", "table_lineage")
    }
)

COLUMN_DESCRIPTIONS: Mapping[tuple[str, str], Mapping[str, str]] = MappingProxyType(
    {
        **{(RAW_SCHEMA, table): {**_COMMON, **columns} for table, columns in _RAW.items()},
        **{(LINEAGE_SCHEMA, table): {**_COMMON, **columns} for table, columns in _LINEAGE.items()},
    }
)


def declared_columns(dataset: str, table: str) -> tuple[tuple[str, str], ...]:
    """(name, type) of a table's columns as its definition declares them, before any run."""
    if dataset == RAW_SCHEMA:
        return tuple((field.name, str(field.type)) for field in SCHEMAS[table])
    if table in flatten.LINEAGE_COLUMNS:
        return flatten.LINEAGE_COLUMNS[table]
    return GRAPH_COLUMNS[table]


def description(dataset: str, table: str, column: str) -> str | None:
    """The column's description; None for bookkeeping columns (dlt's, the tombstone flag)."""
    return COLUMN_DESCRIPTIONS.get((dataset, table), {}).get(column)
