"""One SQLFlow job's lineage, end to end and in this process: export -> Arrow -> lineage rows -> checks -> load.

The export is saved to a file and parsed once, memory-mapped and chunk by chunk; the `lineage.*` rows are computed from those same Arrow tables in an
in-memory DuckDB and checked there; then raw and lineage tables are loaded with dlt into the
configured destination (two datasets, `sqlflow_raw` and `lineage`, merged on `job_id`). A
blocking check that fails stops everything before the load, so a job's previous rows stay intact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.extract.resource import DltResource

from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA, Storage, mask_url
from sqlflow_assets.errors import JobLineageError, LineageCheckFailed, LineagePayloadError
from sqlflow_assets.job import flatten, quality
from sqlflow_assets.job.dlt_source import jobs_resource, per_job_resource
from sqlflow_assets.job.lineage_json import read_lineage_file
from sqlflow_assets.tables import JOB_KEY


@dataclass(frozen=True)
class JobLineage:
    """A job's raw and lineage tables and what the checks said about them."""

    job_id: str
    raw: dict[str, pa.Table]
    lineage: dict[str, pa.Table]
    checks: list[quality.CheckOutcome] = field(default_factory=list)
    details: dict[str, Any] | None = None  # the job's displayUserJobSummary entry, loaded into `jobs`

    def tables(self) -> dict[tuple[str, str], pa.Table]:
        """Every table keyed by (dataset, table)."""
        return {**{(RAW_SCHEMA, n): t for n, t in self.raw.items()}, **{(LINEAGE_SCHEMA, n): t for n, t in self.lineage.items()}}

    def blocking_failures(self) -> list[quality.CheckOutcome]:
        return [outcome for outcome in self.checks if outcome.blocking and not outcome.passed]


def analyse(job_id: str, export: Path, details: dict[str, Any] | None = None) -> JobLineage:
    """Parse an export file and compute the job's lineage rows and check outcomes (nothing is written).

    `details` (the job as SQLFlow lists it) is loaded into `sqlflow_raw.jobs` with the lineage, so
    the job's name, source and dates are there before any jobs-list refresh.
    """
    try:
        raw = read_lineage_file(export, job_id)
    except LineagePayloadError as exc:
        raise JobLineageError(job_id=job_id, message=f"the lineage export is unreadable: {exc}") from None
    with flatten.flattened(raw, job_id) as conn:
        return JobLineage(job_id, raw.as_dict(), flatten.lineage_tables(conn), quality.run_checks(conn, job_id), details)


def load(job: JobLineage, storage: Storage) -> dict[tuple[str, str], int]:
    """Load raw then lineage tables into `storage`; the row count of each whole table afterwards.

    Refuses a job whose blocking checks failed. One load after the other: two dlt loads opening
    one DuckDB file at the same moment from two threads can fail with DuckDB's "Unique file handle
    conflict" (seen in tests). Both run, and the tables are counted, under the storage's write
    locks, so concurrent runs take turns, the counts are this load's, and a killed run blocks nobody.
    """
    failed = job.blocking_failures()
    if failed:
        raise LineageCheckFailed(job_id=job.job_id, failed=failed)
    details = job.details
    loads: list[tuple[dlt.Pipeline, str, dict[str, pa.Table], list[DltResource]]] = [
        (storage.pipeline(), "lineage", job.raw, [] if details is None else [jobs_resource(lambda: [details])]),
        (storage.lineage_pipeline(), "lineage_tables", job.lineage, []),
    ]
    counts: dict[tuple[str, str], int] = {}
    with storage.writing():
        for pipeline, name, tables, others in loads:
            _run(job.job_id, storage, pipeline, name, tables, others)
            counts.update(_row_counts(pipeline, list(tables)))
    return counts


def _row_counts(pipeline: dlt.Pipeline, tables: list[str]) -> dict[tuple[str, str], int]:
    """`dagster/row_count` of the whole tables (all jobs), from one count query through dlt's dataset."""
    rows = pipeline.dataset().row_counts(table_names=tables).fetchall()
    return {(pipeline.dataset_name, table): count for table, count in rows}


def _run(
    job_id: str, storage: Storage, pipeline: dlt.Pipeline, name: str, tables: dict[str, pa.Table], others: list[DltResource]
) -> LoadInfo:
    """One dlt load of the job's `tables` (resource `name`) and `others`, from parquet files; packages a killed run left behind are dropped first, never half-loaded.

    A table the job has rows in is merged (delete-insert on `job_id`: one transaction per table on
    the destination, so a failed load keeps the job's old rows). A table that holds no row of the
    job is appended to: the merge would delete nothing and only copy the rows twice, through dlt's
    staging dataset. Appending is one `INSERT`/`COPY` per table, so a killed load leaves each table
    with all of the job's rows or none, and the next load, seeing the rows, merges that table.
    The check runs under the storage's write locks (`load`), so no other writer adds rows between.
    """
    try:
        pipeline.abort_packages()
        fresh = _tables_without_job(pipeline, job_id, [table for table, rows in tables.items() if rows.num_rows])
        resource = per_job_resource(name, lambda: [(job_id, tables)], append=fresh)
        info = pipeline.run([resource, *others], loader_file_format="parquet")
        info.raise_on_failed_jobs()
    except Exception as exc:  # dlt wraps every destination failure in its own step exceptions
        cause = exc.__cause__ or exc
        raise JobLineageError(
            job_id=job_id,
            message=f"loading into {storage.destination_type} ({pipeline.dataset_name}) failed: {type(cause).__name__}: {mask_url(cause)}",
        ) from exc
    return info


def _tables_without_job(pipeline: dlt.Pipeline, job_id: str, tables: list[str]) -> list[str]:
    """Those of `tables` that hold no row of `job_id` in the destination, missing tables included: one query
    through dlt's sql client. A destination without one (no SQL) gets none: every table is merged."""
    if not tables:
        return []
    with pipeline.destination_client() as client:
        sql = getattr(client, "sql_client", None)
        if sql is None:
            return []
        existing = [table for table, columns in client.get_storage_tables(tables) if columns]  # type: ignore[attr-defined]
        held: set[str] = set()
        if existing:
            key = sql.escape_column_name(JOB_KEY)
            query = " UNION ALL ".join(
                f"SELECT {position} FROM (SELECT 1 FROM {sql.make_qualified_table_name(table)} WHERE {key} = %s LIMIT 1) AS t{position}"
                for position, table in enumerate(existing)
            )
            held = {existing[row[0]] for row in sql.execute_sql(query, *[job_id] * len(existing)) or []}
    return [table for table in tables if table not in held]
