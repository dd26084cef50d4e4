"""Queries over the `lineage.*` tables that asset checks and metadata need (plain DuckDB SQL)."""

from __future__ import annotations

import duckdb

from sqlflow_assets.config import LINEAGE_SCHEMA


def table_columns(conn: duckdb.DuckDBPyConnection, table: str, schema: str = LINEAGE_SCHEMA) -> list[tuple[str, str]]:
    """(name, type) of every column of `schema.table`, in table order."""
    return conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()


def unresolved_edge_endpoints(conn: duckdb.DuckDBPyConnection, job_id: str, limit: int = 5) -> tuple[int, list[tuple]]:
    """Column edges of a job whose source or target object is not in `lineage.objects`."""
    query = f"""
        FROM {LINEAGE_SCHEMA}.column_edges e
        WHERE e.job_id = $job_id AND (
            NOT EXISTS (SELECT 1 FROM {LINEAGE_SCHEMA}.objects o WHERE o.job_id = e.job_id AND o.object_id = e.source_object_id)
            OR NOT EXISTS (SELECT 1 FROM {LINEAGE_SCHEMA}.objects o WHERE o.job_id = e.job_id AND o.object_id = e.target_object_id))
    """
    return _count_and_sample(conn, query, job_id, "e.relationship_id, e.source_object_id, e.target_object_id", limit)


def duplicate_edges(conn: duckdb.DuckDBPyConnection, job_id: str, limit: int = 5) -> tuple[int, list[tuple]]:
    """Source→target column pairs of a job that appear more than once within one relationship."""
    query = f"""
        FROM (SELECT relationship_id, source_column_id, target_column_id, count(*) AS copies
              FROM {LINEAGE_SCHEMA}.column_edges WHERE job_id = $job_id
              GROUP BY ALL HAVING count(*) > 1)
    """
    return _count_and_sample(conn, query, job_id, "relationship_id, source_column_id, target_column_id, copies", limit)


def _count_and_sample(conn: duckdb.DuckDBPyConnection, query: str, job_id: str, columns: str, limit: int) -> tuple[int, list[tuple]]:
    count = conn.execute(f"SELECT count(*) {query}", {"job_id": job_id}).fetchone()[0]
    sample = conn.execute(f"SELECT {columns} {query} LIMIT {int(limit)}", {"job_id": job_id}).fetchall()
    return count, sample
