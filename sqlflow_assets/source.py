"""The `sqlflow` dlt source: SQLFlow jobs and per-job lineage as flat Arrow tables.

Lineage rows are parsed by `lineage_json` into Arrow tables, so dlt writes parquet and skips its
slow nested-JSON normaliser. Every lineage table is merged with `merge_key="job_id"`
(delete-insert): re-loading a job replaces exactly that job's rows, even when its lineage shrank.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import dlt
import orjson
import pyarrow as pa

from sqlflow_assets.lineage_json import TABLE_NAMES, LineageTables, read_lineage

JOB_FIELDS = {
    "job_id": "jobId",
    "job_name": "jobName",
    "user_id": "userId",
    "db_vendor": "dbVendor",
    "status": "status",
    "create_time": "createTime",
    "error_message": "errorMessage",
    "session_id": "sessionId",
    "default_database": "defaultDatabase",
    "default_schema": "defaultSchema",
}
TOMBSTONE = "tombstone"
PER_JOB_DISPOSITION = {"disposition": "merge", "strategy": "delete-insert"}


def jobs_table(job_details: list[dict[str, Any]]) -> pa.Table:
    """One row per SQLFlow job, as listed by displayUserJobsSummary."""
    columns = {name: pa.array([_text(job.get(key)) for job in job_details], pa.string()) for name, key in JOB_FIELDS.items()}
    columns["file_names"] = pa.array([orjson.dumps(job.get("fileNames") or []).decode() for job in job_details], pa.string())
    return pa.table(columns)


def with_tombstone(table: pa.Table, job_id: str) -> pa.Table:
    """Mark a job's rows for dlt's hard delete when the job has none left in this table.

    A delete-insert merge only deletes the merge keys it receives, so an empty table would leave a
    shrunk job's old rows behind. One flagged row makes dlt delete them and insert nothing.
    """
    schema = table.schema.set(0, pa.field("job_id", pa.string(), nullable=False)).append(pa.field(TOMBSTONE, pa.bool_()))
    if table.num_rows:
        return table.append_column(TOMBSTONE, pa.nulls(table.num_rows, pa.bool_())).cast(schema)
    row = {field.name: [None] for field in schema}
    row["job_id"], row[TOMBSTONE] = [job_id], [True]
    return pa.table(row, schema=schema)


@dlt.source(name="sqlflow")
def sqlflow_source(job_id: str | None = None, client: Any = None):
    """SQLFlow jobs and, when `job_id` is given, that job's lineage.

    Both arguments default to None so that `@dlt_assets` can call the source at import time with no
    credentials; the Dagster layer passes a fresh client and job id on every run.
    """

    @functools.cache
    def lineage() -> LineageTables:
        if client is None or job_id is None:
            raise ValueError("the sqlflow lineage resources need a client and a job_id")
        return read_lineage(client.export_lineage_json(job_id), job_id)

    @dlt.resource(name="jobs", write_disposition="merge", primary_key="job_id")
    def jobs() -> Iterator[pa.Table]:
        """Every SQLFlow job of the user, with its status (displayUserJobsSummary)."""
        if client is None:
            raise ValueError("the sqlflow jobs resource needs a client")
        yield jobs_table(client.jobs_summary().get("jobDetails") or [])

    def per_job_resource(name: str):
        def rows() -> Iterator[pa.Table]:
            yield with_tombstone(getattr(lineage(), name), job_id)

        rows.__doc__ = f"SQLFlow lineage `{name}` of one job, as delivered by exportLineageAsJson."
        return dlt.resource(
            rows,
            name=name,
            write_disposition=PER_JOB_DISPOSITION,
            merge_key="job_id",
            columns={"job_id": {"nullable": False}, TOMBSTONE: {"hard_delete": True}},
        )

    return [jobs, *(per_job_resource(name) for name in TABLE_NAMES)]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
