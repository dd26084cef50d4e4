"""`lineage_step.load` into DuckDB and PostgreSQL: a job new to a table is appended (written once, not
through dlt's staging dataset), a job the table holds is merged, and either way every table ends with
exactly the job's rows, the other jobs' rows untouched."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from sqlflow_assets import config
from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA, Storage
from sqlflow_assets.job import lineage_step
from sqlflow_assets_tests.fixtures import FIXTURES_DIR


def _job(job_id: str) -> lineage_step.JobLineage:
    details = {"jobId": job_id, "jobName": job_id, "status": "success", "createTime": "2024-01-01 00:00:00", "dbVendor": "dbvoracle"}
    return lineage_step.analyse(job_id, FIXTURES_DIR / "nested_format_example.json", details)


def _shrunk(job: lineage_step.JobLineage) -> lineage_step.JobLineage:
    """The job with no relationships left and half of its lineage objects."""
    def cut(name: str, table: pa.Table) -> pa.Table:
        if name in ("relationships", "relationship_sources", "column_edges", "end_to_end_edges", "table_edges"):
            return table.slice(0, 0)
        return table.slice(0, table.num_rows // 2) if name == "objects" else table

    raw = {name: cut(name, table) for name, table in job.raw.items()}
    return lineage_step.JobLineage(job.job_id, raw, {name: cut(name, table) for name, table in job.lineage.items()}, job.checks, job.details)


def _pipeline(storage: Storage, dataset: str):
    return storage.pipeline() if dataset == RAW_SCHEMA else storage.lineage_pipeline()


def _stored(storage: Storage, job: lineage_step.JobLineage) -> dict[tuple[str, str], list[tuple]]:
    """Every stored row of the job per table, in the job's columns (a sorted list, so duplicates show)."""
    out = {}
    for (dataset, table), rows in job.tables().items():
        stored = _pipeline(storage, dataset).dataset().table(table).arrow().select(rows.column_names)
        out[(dataset, table)] = sorted((tuple(row.values()) for row in stored.to_pylist() if row["job_id"] == job.job_id), key=repr)
    return out


def _expected(job: lineage_step.JobLineage) -> dict[tuple[str, str], list[tuple]]:
    return {key: sorted((tuple(row.values()) for row in rows.to_pylist()), key=repr) for key, rows in job.tables().items()}


def _staged_job_ids(storage: Storage, dataset: str) -> set[str]:
    """The job ids in dlt's staging dataset of `dataset` (empty when it was never used)."""
    with _pipeline(storage, dataset).sql_client() as client, client.with_staging_dataset():
        if not client.has_dataset():
            return set()
        found: set[str] = set()
        for table in ("relationships", "columns", "column_edges", "objects"):
            try:
                found |= {row[0] for row in client.execute_sql(f"SELECT DISTINCT job_id FROM {client.make_qualified_table_name(table)}")}
            except Exception:  # noqa: BLE001 (the staging table was never created)
                continue
        return found


@pytest.fixture(params=["duckdb", "postgres"])
def storage(request, tmp_path: Path, monkeypatch) -> Storage:
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data"))
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("SQLFLOW_DUCKDB_PATH", str(tmp_path / "sqlflow.duckdb"))
    monkeypatch.delenv("DESTINATION_TYPE", raising=False)
    if request.param == "postgres":
        monkeypatch.setenv("DESTINATION_TYPE", "postgres")
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", request.getfixturevalue("postgres_database"))
    return config.storage()


def test_a_new_job_is_written_once_and_a_reload_replaces_exactly_its_rows(storage: Storage) -> None:
    first, second = _job("job-a"), _job("job-b")
    lineage_step.load(first, storage)
    lineage_step.load(second, storage)  # tables exist, the job is new to them
    for dataset in (RAW_SCHEMA, LINEAGE_SCHEMA):
        assert "job-b" not in _staged_job_ids(storage, dataset)  # appended: never copied through staging
    assert _stored(storage, first) == _expected(first) and _stored(storage, second) == _expected(second)

    shrunk = _shrunk(first)
    lineage_step.load(shrunk, storage)  # merged: the rows it lost are deleted (tombstones for emptied tables)
    assert _stored(storage, shrunk) == _expected(shrunk)
    assert _stored(storage, second) == _expected(second)

    lineage_step.load(first, storage)  # grown back: merged where rows remain, appended where none did
    lineage_step.load(second, storage)
    assert _stored(storage, first) == _expected(first) and _stored(storage, second) == _expected(second)

    # what a killed load leaves (some tables hold the job, others not): merged where present, appended where absent
    for dataset, table in ((RAW_SCHEMA, "relationships"), (LINEAGE_SCHEMA, "column_edges")):
        with _pipeline(storage, dataset).sql_client() as client:
            client.execute_sql(f"DELETE FROM {client.make_qualified_table_name(table)} WHERE job_id = %s", "job-a")
    counts = lineage_step.load(first, storage)
    assert _stored(storage, first) == _expected(first) and _stored(storage, second) == _expected(second)
    assert counts[(LINEAGE_SCHEMA, "column_edges")] == 2 * first.lineage["column_edges"].num_rows
