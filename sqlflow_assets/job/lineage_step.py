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
    raw = [per_job_resource("lineage", lambda: [(job.job_id, job.raw)])]
    details = job.details
    if details is not None:
        raw.append(jobs_resource(lambda: [details]))
    loads: list[tuple[dlt.Pipeline, DltResource | list[DltResource], list[str]]] = [
        (storage.pipeline(), raw, list(job.raw)),
        (storage.lineage_pipeline(), per_job_resource("lineage_tables", lambda: [(job.job_id, job.lineage)]), list(job.lineage)),
    ]
    counts: dict[tuple[str, str], int] = {}
    with storage.writing():
        for pipeline, resources, tables in loads:
            _run(job.job_id, storage, pipeline, resources)
            counts.update(_row_counts(pipeline, tables))
    return counts


def _row_counts(pipeline: dlt.Pipeline, tables: list[str]) -> dict[tuple[str, str], int]:
    """`dagster/row_count` of the whole tables (all jobs), from one count query through dlt's dataset."""
    rows = pipeline.dataset().row_counts(table_names=tables).fetchall()
    return {(pipeline.dataset_name, table): count for table, count in rows}


def _run(job_id: str, storage: Storage, pipeline: dlt.Pipeline, resource: DltResource | list[DltResource]) -> LoadInfo:
    """One dlt load of parquet files; packages a killed run left behind are dropped first, never half-loaded.

    A merge is one transaction per table on the destination, so a failed load keeps the job's old rows.
    """
    try:
        pipeline.abort_packages()
        info = pipeline.run(resource, loader_file_format="parquet")
        info.raise_on_failed_jobs()
    except Exception as exc:  # dlt wraps every destination failure in its own step exceptions
        cause = exc.__cause__ or exc
        raise JobLineageError(
            job_id=job_id,
            message=f"loading into {storage.destination_type} ({pipeline.dataset_name}) failed: {type(cause).__name__}: {mask_url(cause)}",
        ) from exc
    return info
