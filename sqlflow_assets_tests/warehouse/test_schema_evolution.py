"""A database made by a previous version (a `lineage.*` table one public column short) gains the
column on the next load: dlt evolves the schema (an ALTER TABLE ADD COLUMN), old rows are kept with
NULL in the new column (not backfilled: that needs the job loaded again), and the graph and the
impact query still work over both jobs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sqlflow_assets.config import LINEAGE_SCHEMA, Storage
from sqlflow_assets.job import lineage_step
from sqlflow_assets.job.flatten import LINEAGE_COLUMNS
from sqlflow_assets.warehouse import graph
from sqlflow_assets_tests.fixtures import FIXTURES_DIR

NEW_COLUMN = "function"  # a column the public contract gained (column_edges, end_to_end_edges)
GROWN_TABLES = [table for table, columns in LINEAGE_COLUMNS.items() if NEW_COLUMN in dict(columns)]


def _job(job_id: str, fixture: str, created: str) -> lineage_step.JobLineage:
    details = {"jobId": job_id, "jobName": job_id, "status": "success", "createTime": created, "dbVendor": "dbvoracle"}
    return lineage_step.analyse(job_id, FIXTURES_DIR / f"{fixture}.json", details)


def _as_previous_version(job: lineage_step.JobLineage) -> lineage_step.JobLineage:
    """The job as the previous version wrote it: its lineage tables without `NEW_COLUMN`."""
    lineage = {name: table.drop_columns([NEW_COLUMN]) if name in GROWN_TABLES else table for name, table in job.lineage.items()}
    return lineage_step.JobLineage(job.job_id, job.raw, lineage, job.checks, job.details)


def _columns(database: Path, table: str) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [LINEAGE_SCHEMA, table],
        ).fetchall()]  # fmt: skip


@pytest.fixture()
def storage(tmp_path: Path, monkeypatch) -> Storage:
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data"))
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    return Storage("duckdb", str(tmp_path / "sqlflow.duckdb"))


def test_a_new_public_column_migrates_an_existing_database(storage: Storage) -> None:
    database = Path(storage.duckdb_database)
    assert GROWN_TABLES == ["column_edges", "end_to_end_edges"]
    lineage_step.load(_as_previous_version(_job("old", "flat_root_relations", "2024-01-01 00:00:00")), storage)
    for table in GROWN_TABLES:
        assert NEW_COLUMN not in _columns(database, table)  # the database the previous version made

    new = _job("new", "nested_format_example", "2024-02-01 00:00:00")
    lineage_step.load(new, storage)

    with duckdb.connect(str(database), read_only=True) as conn:
        for table in GROWN_TABLES:
            assert NEW_COLUMN in _columns(database, table)
            by_job = dict(conn.execute(
                f'SELECT job_id, count(*) FROM {LINEAGE_SCHEMA}.{table} GROUP BY job_id'
            ).fetchall())  # fmt: skip
            assert by_job["old"] > 0 and by_job["new"] == new.lineage[table].num_rows  # old rows kept
            old_values = conn.execute(
                f'SELECT DISTINCT "{NEW_COLUMN}" FROM {LINEAGE_SCHEMA}.{table} WHERE job_id = ?', ["old"]
            ).fetchall()
            assert old_values == [(None,)]  # not backfilled: NULL until the job is loaded again

    tables = graph.refresh(storage)
    assert set(tables.current_jobs.column("job_id").to_pylist()) == {"old", "new"}
    with duckdb.connect(str(database), read_only=True) as conn:
        column_lineage = conn.execute(f"SELECT * FROM {LINEAGE_SCHEMA}.column_lineage").to_arrow_table()
        impacted = conn.execute(graph.impact_sql(marker="$"), {"object": "SHOP.ORDERS", "column": "amount", "depth": 5}).fetchall()
    assert {row["job_id"] for row in column_lineage.to_pylist()} == {"old", "new"}
    assert ("WH.MART.Order Stats", '"Amount"') in {(row[0], row[1]) for row in impacted}  # the old job's edge
    down = graph.impact(column_lineage, "SALES.ORDERS", "total", graph.Direction.DOWNSTREAM).to_pylist()
    assert {(row["object"], row["column"]) for row in down} == {("SALES.V_BIG", "total")}  # the new job's edge
