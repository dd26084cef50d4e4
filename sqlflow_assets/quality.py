"""Checks on one job's lineage, run on the in-memory flatten database before anything is loaded.

A failing blocking check stops the load, so a bad result never replaces a job's previous rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import duckdb

from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA

SAMPLE_ROWS = 5


class Severity(str, Enum):
    """How bad a failed check is (the names of Dagster's check severities)."""

    WARN = "WARN"
    ERROR = "ERROR"


@dataclass(frozen=True)
class CheckOutcome:
    """What one check found: offending rows counted, a few of them as a sample."""

    name: str
    passed: bool
    count: int
    sample: list[list]
    description: str
    blocking: bool
    severity: Severity
    table: tuple[str, str]


@dataclass(frozen=True)
class Check:
    """A named query over `lineage.*` whose offending rows fail it; `blocking` checks stop the load."""

    name: str
    doc: str
    what: str
    query: str
    sample_columns: str
    blocking: bool = False
    table: tuple[str, str] = (LINEAGE_SCHEMA, "column_edges")
    # rows of this (FROM ... WHERE ...) make a failure ERROR instead of WARN; blocking checks are always ERROR
    error_when: str | None = None

    def run(self, conn: duckdb.DuckDBPyConnection, job_id: str) -> CheckOutcome:
        count = _count(conn, self.query, job_id)
        sample = conn.execute(f"SELECT {self.sample_columns} {self.query} LIMIT {SAMPLE_ROWS}", {"job_id": job_id}).fetchall()
        serious = self.blocking or (self.error_when is not None and _count(conn, self.error_when, job_id) > 0)
        return CheckOutcome(
            self.name, count == 0, count, [list(row) for row in sample], f"{count} {self.what}", self.blocking,
            Severity.ERROR if serious else Severity.WARN, self.table,
        )


def _count(conn: duckdb.DuckDBPyConnection, query: str, job_id: str) -> int:
    return conn.execute(f"SELECT count(*) {query}", {"job_id": job_id}).fetchone()[0]


CHECKS: tuple[Check, ...] = (
    Check(
        name="column_edges_present",
        doc="A job with raw relationships has column edges: lineage is never silently empty.",
        what="raw relationships while the job has no column edge",
        query=f"""
            FROM raw_relationships r
            WHERE r.job_id = $job_id
              AND NOT EXISTS (SELECT 1 FROM {LINEAGE_SCHEMA}.column_edges WHERE job_id = $job_id)
        """,
        sample_columns="r.relationship_id, r.relationship_type, r.target_parent_name, r.target_column",
        blocking=True,
    ),
    Check(
        name="edge_endpoints_resolve",
        doc="Every source and target of the job's column edges is a known object of the same job.",
        what="column edges with an endpoint missing from lineage.objects",
        query=f"""
            FROM {LINEAGE_SCHEMA}.column_edges e
            WHERE e.job_id = $job_id AND (
                NOT EXISTS (SELECT 1 FROM {LINEAGE_SCHEMA}.objects o WHERE o.job_id = e.job_id AND o.object_id = e.source_object_id)
                OR NOT EXISTS (SELECT 1 FROM {LINEAGE_SCHEMA}.objects o WHERE o.job_id = e.job_id AND o.object_id = e.target_object_id))
        """,
        sample_columns="e.relationship_id, e.source_object_id, e.target_object_id",
    ),
    Check(
        name="edges_not_duplicated",
        doc="No source→target column pair appears twice within one relationship of the job.",
        what="duplicated column edges",
        query=f"""
            FROM (SELECT relationship_id, source_column_id, target_column_id, count(*) AS copies
                  FROM {LINEAGE_SCHEMA}.column_edges WHERE job_id = $job_id
                  GROUP BY ALL HAVING count(*) > 1)
        """,
        sample_columns="relationship_id, source_column_id, target_column_id, copies",
    ),
    Check(
        name="sql_errors",
        doc="Every statement of the job was analysed: WARN when some failed, ERROR when none did.",
        what="statements SQLFlow could not analyse",
        query="""
            FROM raw_errors
            WHERE job_id = $job_id AND error_message IS NOT NULL AND coalesce(error_type, '') NOT ILIKE '%warning%'
        """,
        sample_columns="file_name, coordinates, error_type, error_message",
        table=(RAW_SCHEMA, "errors"),
        error_when="FROM (SELECT 1) WHERE NOT EXISTS (SELECT 1 FROM raw_processes WHERE job_id = $job_id)",
    ),
)


def run_checks(conn: duckdb.DuckDBPyConnection, job_id: str) -> list[CheckOutcome]:
    return [check.run(conn, job_id) for check in CHECKS]


