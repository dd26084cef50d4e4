"""The `sqlflow` dlt source: SQLFlow jobs and per-job lineage as flat Arrow tables.

Lineage rows are parsed by `lineage_json` into Arrow tables, so dlt writes parquet and skips its
slow nested-JSON normaliser. Every per-job table is merged with `merge_key="job_id"`
(delete-insert): re-loading a job replaces exactly that job's rows, even when its lineage shrank.

Standalone, as any dlt source:

    dlt.pipeline("sqlflow", destination="duckdb", dataset_name="sqlflow_raw").run(sqlflow_source())

loads the jobs list and the raw lineage of every completed job (`jobs | lineage`); pass `job_ids`
to load only those. The client is built from `[sources.sqlflow]` when the source runs, not when it
is created, so creating it needs no credentials.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import dlt
import orjson
import pyarrow as pa
from dlt.extract.resource import DltResource

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.config import SQLFlowConnection
from sqlflow_assets.domain import DONE_STATUSES
from sqlflow_assets.job.lineage_json import read_lineage
from sqlflow_assets.tables import JOB_KEY, JOBS, TOMBSTONE

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
# Hints of every per-job table, raw or lineage: delete-insert on job_id, tombstones hard-delete.
PER_JOB_HINTS: Mapping[str, Any] = {
    "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
    "merge_key": JOB_KEY,
    "columns": {JOB_KEY: {"nullable": False}, TOMBSTONE: {"hard_delete": True}},
}


def jobs_table(job_details: list[dict[str, Any]]) -> pa.Table:
    """One row per SQLFlow job, as listed by displayUserJobsSummary."""
    columns = {name: [_text(job.get(key)) for job in job_details] for name, key in JOB_FIELDS.items()}
    columns["file_names"] = [orjson.dumps(job.get("fileNames") or []).decode() for job in job_details]
    return pa.table(columns, schema=JOBS.arrow_schema())


def with_tombstone(table: pa.Table, job_id: str) -> pa.Table:
    """Mark a job's rows for dlt's hard delete when the job has none left in this table.

    A delete-insert merge only deletes the merge keys it receives, so an empty table would leave a
    shrunk job's old rows behind. One flagged row makes dlt delete them and insert nothing.
    """
    schema = table.schema.set(0, pa.field("job_id", pa.string(), nullable=False)).append(pa.field(TOMBSTONE, pa.bool_()))
    if table.num_rows:
        return table.append_column(TOMBSTONE, pa.nulls(table.num_rows, pa.bool_())).cast(schema)
    row: dict[str, list[Any]] = {field.name: [None] for field in schema}
    row["job_id"], row[TOMBSTONE] = [job_id], [True]
    return pa.table(row, schema=schema)


def job_tables(tables: Mapping[str, pa.Table], job_id: str) -> Iterator[pa.Table]:
    """A job's tables as dlt items, each routed to its own table and tombstoned when empty."""
    for name, table in tables.items():
        yield dlt.mark.with_table_name(with_tombstone(table, job_id), name)


def per_job_resource(
    name: str, tables: Callable[[], Iterable[tuple[str, Mapping[str, pa.Table]]]], append: Iterable[str] = ()
) -> DltResource:
    """A resource that loads the (job id, tables) pairs `tables` yields, with the per-job hints.

    The tables named in `append` are appended instead of merged: only for tables that the caller
    has checked hold no row of the job (`lineage_step`), where a merge would delete nothing and
    only copy the rows twice (into dlt's staging dataset, then into the table).
    """

    def rows() -> Iterator[pa.Table]:
        for job_id, job in tables():
            yield from job_tables(job, job_id)

    resource = dlt.resource(rows, name=name, **PER_JOB_HINTS)
    for table in append:
        resource.apply_hints(
            table_name=table, write_disposition="append", columns={TOMBSTONE: {"hard_delete": False}}, create_table_variant=True
        )
    return resource


def jobs_resource(job_details: Callable[[], list[dict[str, Any]]]) -> DltResource:
    """The `jobs` table: the jobs `job_details()` lists, merged by job id."""

    def jobs() -> Iterator[pa.Table]:
        """SQLFlow jobs with their status (displayUserJobsSummary)."""
        yield jobs_table(job_details())

    assert JOBS.primary_key is not None  # the jobs table merges on its key
    return dlt.resource(jobs, name=JOBS.name, write_disposition="merge", primary_key=JOBS.primary_key)


@dlt.source(name="sqlflow", section="sqlflow", spec=SQLFlowConnection)
def sqlflow_source(
    job_ids: Sequence[str] | None = None,
    client: SQLFlowClient | None = None,
    connection: SQLFlowConnection = dlt.secrets.value,
):
    """SQLFlow jobs and the raw lineage of every completed job (or of `job_ids`).

    dlt resolves `connection` (its spec) from `[sources.sqlflow]` (`.dlt/`, `SOURCES__SQLFLOW__*`),
    as in its verified sources; every key may be missing, so the source can be created with no
    credentials (Dagster builds asset specs from it at import). The client is built, and a missing
    user refused, only when a resource runs; `client` replaces it (the Dagster resource's).
    """
    wanted = None if job_ids is None else set(job_ids)

    @functools.cache
    def sqlflow() -> SQLFlowClient:
        return client or SQLFlowClient(connection)

    jobs = jobs_resource(lambda: sqlflow().jobs_summary().get("jobDetails") or [])

    @dlt.transformer(name="lineage", **PER_JOB_HINTS)
    def lineage(jobs_page: pa.Table) -> Iterator[pa.Table]:
        """Raw lineage tables of each completed job of the page (exportLineageAsJson)."""
        for job in jobs_page.select(["job_id", "status"]).to_pylist():
            job_id = job["job_id"]
            if job["status"] in DONE_STATUSES and (wanted is None or job_id in wanted):
                yield from job_tables(read_lineage(sqlflow().export_lineage_json(job_id), job_id).as_dict(), job_id)

    return jobs, jobs | lineage


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
