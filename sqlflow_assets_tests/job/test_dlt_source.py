"""The dlt source over real HTTP into a real DuckDB file: per-job merges, shrinking lineage, jobs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import dlt
import duckdb
import pytest

from sqlflow_assets import config
from sqlflow_assets.job.dlt_source import sqlflow_source
from sqlflow_assets.job.lineage_json import TABLE_NAMES
from sqlflow_assets_tests.support import http_peer, json_body, peer_client

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def pipeline(tmp_path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name="source_test",
        pipelines_dir=str(tmp_path / "pipelines"),
        destination=dlt.destinations.duckdb(str(tmp_path / "raw.duckdb")),
        dataset_name="sqlflow_raw",
    )


def job_counts(pipeline: dlt.Pipeline, job_id: str) -> dict[str, int]:
    with duckdb.connect(pipeline.destination_client().config.credentials.database, read_only=True) as conn:
        return {
            name: conn.execute(f"SELECT count(*) FROM sqlflow_raw.{name} WHERE job_id = ?", [job_id]).fetchone()[0]
            for name in TABLE_NAMES
        }


def jobs_summary(*jobs: tuple[str, str]) -> dict:
    details = [{"jobId": job_id, "jobName": "n", "status": status, "fileNames": ["a.sql"]} for job_id, status in jobs]
    return {"code": 200, "data": {"total": len(details), "jobIds": [job_id for job_id, _ in jobs], "jobDetails": details}}


def serve(summary: dict, export: dict):
    """A peer answering the jobs list and, for any job, `export`."""
    return http_peer(lambda path: (200, json_body(summary if path.endswith("displayUserJobsSummary") else export)))


def load_job(pipeline: dlt.Pipeline, job_id: str, payload: dict) -> None:
    with serve(jobs_summary((job_id, "success"), ("other", "success")), payload) as peer:
        source = sqlflow_source(job_ids=[job_id], client=peer_client(peer))
        pipeline.run(source, loader_file_format="parquet").raise_on_failed_jobs()


def test_reloading_a_shrunk_job_leaves_no_stale_rows_and_spares_other_jobs(pipeline):
    full = json.loads((FIXTURES / "nested_format_example.json").read_text())
    shrunk = copy.deepcopy(full)
    lineage = shrunk["data"]["sqlflow"] if "data" in shrunk else shrunk
    lineage["relationships"], lineage["processes"] = [], []

    load_job(pipeline, "job-a", full)
    load_job(pipeline, "job-b", full)
    before = job_counts(pipeline, "job-a")
    assert before["relationships"] > 0 and before["relationship_sources"] > 0 and before["objects"] > 0

    load_job(pipeline, "job-a", shrunk)
    after = job_counts(pipeline, "job-a")
    assert after["relationships"] == after["relationship_sources"] == 0
    assert after["objects"] == before["objects"]
    assert job_counts(pipeline, "job-b") == before

    load_job(pipeline, "job-a", full)
    assert job_counts(pipeline, "job-a") == before


def test_standalone_source_loads_the_jobs_list_and_every_completed_job(pipeline):
    payload = json.loads((FIXTURES / "nested_format_example.json").read_text())
    summary = jobs_summary(("done-1", "success"), ("done-2", "partial_success"), ("failed", "fail"), ("busy", "running"))
    with serve(summary, payload) as peer:
        pipeline.run(sqlflow_source(client=peer_client(peer)), loader_file_format="parquet").raise_on_failed_jobs()
        exports = peer.counts["/gspLive_backend/sqlflow/job/exportLineageAsJson"]
    assert exports == 2
    with duckdb.connect(pipeline.destination_client().config.credentials.database, read_only=True) as conn:
        assert {job for (job,) in conn.execute("SELECT DISTINCT job_id FROM sqlflow_raw.relationships").fetchall()} == {
            "done-1", "done-2"
        }
        assert conn.execute("SELECT count(*) FROM sqlflow_raw.jobs").fetchone()[0] == 4
    dataset = pipeline.dataset()
    relationships = dataset.table("relationships").arrow()
    assert set(relationships.column("job_id").to_pylist()) == {"done-1", "done-2"}
    assert dataset("SELECT count(*) AS n FROM jobs WHERE status = 'fail'").fetchone()[0] == 1


def test_jobs_resource_upserts_by_job_id(pipeline):
    def summary(status: str) -> dict:
        job = {"jobId": "j1", "jobName": "n", "status": status, "fileNames": ["a.sql"], "createTime": "2026-11-25 10:00:00"}
        return {"code": 200, "data": {"total": 1, "jobIds": ["j1"], "jobDetails": [job]}}

    for status in ("create", "success"):
        with http_peer(lambda path, status=status: (200, json_body(summary(status)))) as peer:
            pipeline.run(sqlflow_source(client=peer_client(peer)).with_resources("jobs"), loader_file_format="parquet")
    with duckdb.connect(pipeline.destination_client().config.credentials.database, read_only=True) as conn:
        assert conn.execute("SELECT job_id, status, file_names FROM sqlflow_raw.jobs").fetchall() == [("j1", "success", '["a.sql"]')]


def test_dlt_injects_the_connection_from_config_and_refuses_a_missing_user_only_when_it_runs(pipeline, dlt_project_dir, monkeypatch):
    """As in dlt's verified sources: `[sources.sqlflow]` in `.dlt/` and its env form fill the source's arguments."""
    with serve(jobs_summary(("done-1", "success")), json.loads((FIXTURES / "nested_format_example.json").read_text())) as peer:
        monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", peer.base_url)
        source = sqlflow_source()  # created with no user: nothing is resolved against the server yet
        with pytest.raises(Exception, match="missing config sources.sqlflow.user_id"):
            pipeline.run(source.with_resources("jobs"))
        (dlt_project_dir / "secrets.toml").write_text('[sources.sqlflow]\nuser_id = "u|1"\ntoken = "from-secrets-toml"\n')
        config.reload_changed_settings()
        pipeline.run(sqlflow_source(), loader_file_format="parquet").raise_on_failed_jobs()
        assert peer.counts["/gspLive_backend/sqlflow/job/exportLineageAsJson"] == 1
    assert job_counts(pipeline, "done-1")["relationships"] > 0
