"""One SQLFlow job's lineage, end to end and in this process: export -> Arrow -> lineage rows -> checks -> load.

The export is parsed once; the `lineage.*` rows are computed from those same Arrow tables in an
in-memory DuckDB and checked there; then raw and lineage tables are loaded with dlt into the
configured destination (two datasets, `sqlflow_raw` and `lineage`, merged on `job_id`). A
blocking check that fails stops everything before the load, so a job's previous rows stay intact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
from dlt.common.pipeline import LoadInfo

from sqlflow_assets import flatten, quality
from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA, Storage
from sqlflow_assets.lineage_json import read_lineage
from sqlflow_assets.source import per_job_resource


class LineageCheckFailed(Exception):
    """A blocking check failed: the job's lineage is not loaded."""

    def __init__(self, job_id: str, failed: list[quality.CheckOutcome]) -> None:
        detail = "; ".join(f"{outcome.name}: {outcome.description}" for outcome in failed)
        super().__init__(f"job {job_id}: blocking check failed, nothing loaded ({detail})")
        self.job_id = job_id
        self.failed = failed


@dataclass(frozen=True)
class JobLineage:
    """A job's raw and lineage tables and what the checks said about them."""

    job_id: str
    raw: dict[str, pa.Table]
    lineage: dict[str, pa.Table]
    checks: list[quality.CheckOutcome] = field(default_factory=list)

    def tables(self) -> dict[tuple[str, str], pa.Table]:
        """Every table keyed by (dataset, table)."""
        return {**{(RAW_SCHEMA, n): t for n, t in self.raw.items()}, **{(LINEAGE_SCHEMA, n): t for n, t in self.lineage.items()}}

    def blocking_failures(self) -> list[quality.CheckOutcome]:
        return [outcome for outcome in self.checks if outcome.blocking and not outcome.passed]


def analyse(job_id: str, payload: bytes) -> JobLineage:
    """Parse an export and compute the job's lineage rows and check outcomes (nothing is written)."""
    raw = read_lineage(payload, job_id)
    with flatten.flattened(raw, job_id) as conn:
        return JobLineage(job_id, raw.as_dict(), flatten.lineage_tables(conn), quality.run_checks(conn, job_id))


def load(job: JobLineage, storage: Storage) -> list[LoadInfo]:
    """Load raw then lineage tables into `storage`; refuses a job whose blocking checks failed."""
    failed = job.blocking_failures()
    if failed:
        raise LineageCheckFailed(job.job_id, failed)
    return [
        _run(storage.pipeline(), per_job_resource("lineage", lambda: [(job.job_id, job.raw)])),
        _run(storage.lineage_pipeline(), per_job_resource("lineage_tables", lambda: [(job.job_id, job.lineage)])),
    ]


def _run(pipeline, resource) -> LoadInfo:
    """One dlt load of parquet files; packages a killed run left behind are dropped first, never half-loaded."""
    pipeline.abort_packages()
    info = pipeline.run(resource, loader_file_format="parquet")
    info.raise_on_failed_jobs()
    return info
