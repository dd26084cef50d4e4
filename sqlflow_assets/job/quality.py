"""Checks on one job's lineage, run on the in-memory flatten database before anything is loaded.

A failing blocking check stops the load, so a bad result never replaces a job's previous rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import duckdb

from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA
from sqlflow_assets.domain import counted, shown_name

SAMPLE_ROWS = 5
CELL_CHARS = 200  # of one value in a sample table


class Severity(str, Enum):
    """How bad a failed check is (the names of Dagster's check severities)."""

    WARN = "WARN"
    ERROR = "ERROR"


@dataclass(frozen=True)
class Facts:
    """What the job has, for the sentences of passing and failing checks."""

    column_edges: int
    raw_relationships: int

    @classmethod
    def of(cls, conn: duckdb.DuckDBPyConnection, job_id: str) -> Facts:
        row = conn.sql(
            "SELECT (SELECT count(*) FROM column_edges WHERE job_id = $job_id),"
            " (SELECT count(*) FROM raw_relationships WHERE job_id = $job_id)",
            params={"job_id": job_id},
        ).fetchone()
        assert row is not None  # two scalar subqueries: always one row
        edges, relationships = row
        return cls(edges, relationships)


@dataclass(frozen=True)
class CheckOutcome:
    """What one check found: offending rows counted, a few of them as a sample (rows under `columns`)."""

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
    columns: tuple[str, ...] = ()

    def sample_markdown(self) -> str:
        """The sample as a Markdown table (what the check's metadata shows)."""
        return markdown_table(self.columns, self.sample)

    def notes_markdown(self) -> str:
        return markdown_table(self.columns, self.notes_sample)


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; each value on one line, `|` escaped, long values cut."""

    def cell(value: Any) -> str:
        text = "" if value is None else " ".join(str(value).split())
        return shown_name(text, CELL_CHARS).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows])


def _position(coordinates: str | None) -> tuple[Any, Any]:
    """(line, column) where an item starts, from its coordinates JSON text (`[{x: line, y: column}, ...]`)."""
    try:
        start = json.loads(coordinates)[0] if coordinates else {}
    except (ValueError, IndexError, KeyError, TypeError):
        return None, None
    return (start.get("x"), start.get("y")) if isinstance(start, dict) else (None, None)


def _sql_error_row(row: Sequence[Any]) -> list[Any]:
    """(file_name, coordinates, error_type, error_message) -> file, line, column, type, message."""
    file_name, coordinates, error_type, error_message = row
    return [file_name, *_position(coordinates), error_type, error_message]


@dataclass(frozen=True)
class Check:
    """A named query over the job's `lineage.*` rows whose result rows are the offenders; blocking checks stop the load.

    `offenders` and `error_when` are whole SQL statements with `$job_id` bound: counted and sampled
    through DuckDB's relational API, never pasted into other SQL text.
    """

    name: str
    doc: str
    failed: Callable[[int, Facts], str]  # (offenders, facts) -> what a failure says
    passed: Callable[[Facts], str]  # what a pass says
    offenders: str
    blocking: bool = False
    table: tuple[str, str] = (LINEAGE_SCHEMA, "column_edges")
    # any row of this query makes a failure ERROR instead of WARN; blocking checks are always ERROR
    error_when: str | None = None
    # rows that are information, not offenders (listed in the metadata, never a failure)
    notes: str | None = None
    # how a sample row is shown, and the shown columns (default: the query's own)
    shown: Callable[[Sequence[Any]], list[Any]] = list
    shown_columns: tuple[str, ...] | None = None

    def run(self, conn: duckdb.DuckDBPyConnection, job_id: str, facts: Facts | None = None) -> CheckOutcome:
        facts = facts or Facts.of(conn, job_id)
        offenders = conn.sql(self.offenders, params={"job_id": job_id})
        count = _count(offenders)
        sample = [self.shown(row) for row in offenders.limit(SAMPLE_ROWS).fetchall()]
        serious = self.blocking or (self.error_when is not None and conn.sql(self.error_when, params={"job_id": job_id}).fetchone() is not None)
        notes, notes_sample = 0, []
        if self.notes is not None:
            noted = conn.sql(self.notes, params={"job_id": job_id})
            notes = _count(noted)
            notes_sample = [self.shown(row) for row in noted.limit(SAMPLE_ROWS).fetchall()]
        description = self.passed(facts) if count == 0 else self.failed(count, facts)
        if notes:
            description += f"; {counted(notes, 'hint or warning', 'hints or warnings')} listed as information"
        return CheckOutcome(
            self.name, count == 0, count, sample, description, self.blocking,
            Severity.ERROR if serious else Severity.WARN, self.table, notes, notes_sample,
            self.shown_columns or tuple(offenders.columns),
        )


# An `errors` entry that is information, not a failed statement: SQLFlow's `SyntaxHint` ("find orphan
# column ...") and anything typed as a warning.
_IS_NOTE = "coalesce(error_type, '') ILIKE '%hint%' OR coalesce(error_type, '') ILIKE '%warning%'"

# The flatten database has `USE lineage`: lineage tables are named unqualified, the job's raw rows are `raw_*`.
CHECKS: tuple[Check, ...] = (
    Check(
        name="column_edges_present",
        doc="A job with raw relationships has column edges: lineage is never silently empty.",
        failed=lambda count, facts: f"no column edge although the job has {counted(count, 'raw relationship')}",
        passed=lambda facts: f"column edges present: {counted(facts.column_edges, 'column edge')} "
        f"for {counted(facts.raw_relationships, 'raw relationship')}"
        if facts.raw_relationships
        else "no raw relationship, so no column edge is expected",
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
        failed=lambda count, facts: f"{counted(count, 'column edge')} of {facts.column_edges} "
        "with an endpoint missing from lineage.objects",
        passed=lambda facts: f"every endpoint resolves: {counted(facts.column_edges, 'column edge')}, all between known objects",
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
        failed=lambda count, facts: f"{counted(count, 'column edge')} of {facts.column_edges} duplicated within a relationship",
        passed=lambda facts: f"no duplicates: {counted(facts.column_edges, 'column edge')}, each once per relationship",
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
        failed=lambda count, facts: f"{counted(count, 'statement')} SQLFlow could not analyse",
        passed=lambda facts: "every statement analysed: no SQL error",
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
        shown=_sql_error_row,
        shown_columns=("file", "line", "column", "type", "message"),
    ),
)


def run_checks(conn: duckdb.DuckDBPyConnection, job_id: str) -> list[CheckOutcome]:
    facts = Facts.of(conn, job_id)
    return [check.run(conn, job_id, facts) for check in CHECKS]


def _count(relation: duckdb.DuckDBPyRelation) -> int:
    """The rows of `relation` (an aggregate always answers one row)."""
    row = relation.aggregate("count(*)").fetchone()
    assert row is not None
    return int(row[0])
