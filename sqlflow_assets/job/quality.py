"""Checks on one job's lineage, run on the in-memory flatten database before anything is loaded.

A failing blocking check stops the load, so a bad result never replaces a job's previous rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # information that is not a failure (SyntaxHints, warnings): counted and sampled for the metadata
    notes: int = 0
    notes_sample: list[list] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    """A named query over the job's `lineage.*` rows whose result rows are the offenders; blocking checks stop the load.

    `offenders` and `error_when` are whole SQL statements with `$job_id` bound: counted and sampled
    through DuckDB's relational API, never pasted into other SQL text.
    """

    name: str
    doc: str
    what: str
    offenders: str
    blocking: bool = False
    table: tuple[str, str] = (LINEAGE_SCHEMA, "column_edges")
    # any row of this query makes a failure ERROR instead of WARN; blocking checks are always ERROR
    error_when: str | None = None
    # rows that are information, not offenders (listed in the metadata, never a failure)
    notes: str | None = None

    def run(self, conn: duckdb.DuckDBPyConnection, job_id: str) -> CheckOutcome:
        offenders = conn.sql(self.offenders, params={"job_id": job_id})
        count = offenders.aggregate("count(*)").fetchone()[0]
        sample = offenders.limit(SAMPLE_ROWS).fetchall()
        serious = self.blocking or (self.error_when is not None and conn.sql(self.error_when, params={"job_id": job_id}).fetchone() is not None)
        notes, notes_sample = 0, []
        if self.notes is not None:
            noted = conn.sql(self.notes, params={"job_id": job_id})
            notes = noted.aggregate("count(*)").fetchone()[0]
            notes_sample = [list(row) for row in noted.limit(SAMPLE_ROWS).fetchall()]
        return CheckOutcome(
            self.name, count == 0, count, [list(row) for row in sample], f"{count} {self.what}", self.blocking,
            Severity.ERROR if serious else Severity.WARN, self.table, notes, notes_sample,
        )


# An `errors` entry that is information, not a failed statement: SQLFlow's `SyntaxHint` ("find orphan
# column ...") and anything typed as a warning.
_IS_NOTE = "coalesce(error_type, '') ILIKE '%hint%' OR coalesce(error_type, '') ILIKE '%warning%'"

# The flatten database has `USE lineage`: lineage tables are named unqualified, the job's raw rows are `raw_*`.
CHECKS: tuple[Check, ...] = (
    Check(
        name="column_edges_present",
        doc="A job with raw relationships has column edges: lineage is never silently empty.",
        what="raw relationships while the job has no column edge",
        offenders="""
            SELECT r.relationship_id, r.relationship_type, r.target_parent_name, r.target_column
            FROM raw_relationships r
            WHERE r.job_id = $job_id
              AND NOT EXISTS (SELECT 1 FROM column_edges WHERE job_id = $job_id)
        """,
        blocking=True,
    ),
    Check(
        name="edge_endpoints_resolve",
        doc="Every source and target of the job's column edges is a known object of the same job.",
        what="column edges with an endpoint missing from lineage.objects",
        offenders="""
            SELECT e.relationship_id, e.source_object_id, e.target_object_id
            FROM column_edges e
            WHERE e.job_id = $job_id AND (
                NOT EXISTS (SELECT 1 FROM objects o WHERE o.job_id = e.job_id AND o.object_id = e.source_object_id)
                OR NOT EXISTS (SELECT 1 FROM objects o WHERE o.job_id = e.job_id AND o.object_id = e.target_object_id))
        """,
    ),
    Check(
        name="edges_not_duplicated",
        doc="No source→target column pair appears twice within one relationship of the job.",
        what="duplicated column edges",
        offenders="""
            SELECT relationship_id, source_column_id, target_column_id, count(*) AS copies
            FROM column_edges WHERE job_id = $job_id
            GROUP BY ALL HAVING count(*) > 1
        """,
    ),
    Check(
        name="sql_errors",
        doc="Every statement of the job was analysed: WARN when some failed, ERROR when the job yields no lineage at all "
        "(no relationship, no object, no process). SyntaxHints and warnings are information: listed, never a failure.",
        what="statements SQLFlow could not analyse",
        offenders=f"""
            SELECT file_name, coordinates, error_type, error_message
            FROM raw_errors
            WHERE job_id = $job_id AND error_message IS NOT NULL AND NOT ({_IS_NOTE})
        """,
        table=(RAW_SCHEMA, "errors"),
        error_when="""
            SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM raw_relationships WHERE job_id = $job_id)
                AND NOT EXISTS (SELECT 1 FROM raw_objects WHERE job_id = $job_id)
                AND NOT EXISTS (SELECT 1 FROM raw_processes WHERE job_id = $job_id)
        """,
        notes=f"""
            SELECT file_name, coordinates, error_type, error_message
            FROM raw_errors
            WHERE job_id = $job_id AND error_message IS NOT NULL AND ({_IS_NOTE})
        """,
    ),
)


def run_checks(conn: duckdb.DuckDBPyConnection, job_id: str) -> list[CheckOutcome]:
    return [check.run(conn, job_id) for check in CHECKS]


