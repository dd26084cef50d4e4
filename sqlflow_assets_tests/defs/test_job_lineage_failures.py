"""Bad exports and a broken destination fail the job's run clearly and keep its previous rows."""

from __future__ import annotations

import copy
import errno
import json
import os
import subprocess

import dagster as dg
import pytest

from sqlflow_assets.defs import assets
from sqlflow_assets.defs.resources import SQLFlowResource, default_resources
from sqlflow_assets_tests.fixtures import FIXTURES_DIR
from sqlflow_assets_tests.support import (
    LINEAGE_TABLES,
    counts,
    free_port,
    http_peer,
    json_body,
    materialize_job_lineage,
    submit_and_wait,
)

JOB_ID = "0123456789abcdef0123456789abcdef"
GOOD = json.loads((FIXTURES_DIR / "nested_format_example.json").read_text())


def without_sources(payload: dict) -> dict:
    """Relationships kept, every source dropped: no column edge can be built."""
    broken = copy.deepcopy(payload)
    for relationship in broken["data"]["sqlflow"]["relationships"]:
        relationship["sources"] = []
    return broken


def run_with_export(project_env, instance: dg.DagsterInstance, export: bytes) -> dg.ExecuteInPipelineResult:
    """Materialise JOB_ID's lineage from a peer serving `export` (and a token)."""
    summary = {"code": 200, "data": {"jobId": JOB_ID, "jobName": "peer job", "status": "success"}}

    def answer(path: str) -> tuple[int, bytes]:
        if path.endswith("generateToken"):
            return 200, json_body({"code": 200, "token": "peer-token"})
        return 200, json_body(summary) if path.endswith("displayUserJobSummary") else export

    with http_peer(answer) as peer:
        instance.add_dynamic_partitions("sqlflow_jobs", [JOB_ID])
        return dg.materialize(
            [assets.sqlflow_job_lineage],
            partition_key=JOB_ID,
            instance=instance,
            resources=default_resources() | {"sqlflow": SQLFlowResource(base_url=peer.base_url)},
            raise_on_error=False,
        )


def step_failure(result: dg.ExecuteInPipelineResult) -> str:
    return str(next(event for event in result.all_events if event.is_step_failure).step_failure_data.error)


@pytest.fixture
def loaded(project_env) -> tuple[dg.DagsterInstance, dict[str, int]]:
    """JOB_ID loaded once from a good export; its row counts."""
    instance = dg.DagsterInstance.ephemeral()
    assert run_with_export(project_env, instance, json_body(GOOD)).success
    before = counts(project_env.duckdb_path, JOB_ID)
    assert before["column_edges"] > 0
    return instance, before


def test_relationships_without_edges_fail_a_blocking_check_and_load_nothing(project_env, loaded):
    instance, before = loaded
    result = run_with_export(project_env, instance, json_body(without_sources(GOOD)))

    assert not result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    present = evaluations["column_edges_present"]
    assert not present.passed and present.severity == dg.AssetCheckSeverity.ERROR
    assert present.metadata["count"].value == len(GOOD["data"]["sqlflow"]["relationships"])
    assert "column_edges_present" in step_failure(result) and JOB_ID in step_failure(result)
    assert counts(project_env.duckdb_path, JOB_ID) == before


def test_good_export_passes_the_blocking_check(project_env, loaded):
    instance, before = loaded
    result = run_with_export(project_env, instance, json_body(GOOD))
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert counts(project_env.duckdb_path, JOB_ID) == before


@pytest.mark.parametrize(
    ("export", "cause"),
    [
        (json_body(GOOD)[:-40], "not valid JSON"),
        (b'{"code": 200, "data": {"rows": [1, 2, 3]}}', "no `dbobjs`"),
        (b"<html>gateway error</html>", "not valid JSON"),
    ],
    ids=["truncated", "not-sqlflow", "html"],
)
def test_unreadable_export_fails_naming_job_and_cause(project_env, loaded, export, cause):
    instance, before = loaded
    result = run_with_export(project_env, instance, export)
    assert not result.success
    message = step_failure(result)
    assert JOB_ID in message and cause in message
    assert counts(project_env.duckdb_path, JOB_ID) == before


@pytest.mark.parametrize("problem", ["down", "bad-password"])
def test_unreachable_destination_fails_naming_job_and_keeps_rows(project_env, loaded, postgres_server, monkeypatch, problem):
    instance, before = loaded
    credentials = postgres_server.credentials
    if problem == "down":
        credentials = credentials.rsplit(":", 1)[0] + f":{free_port()}/postgres"
    else:
        credentials = credentials.replace("pg-test-password", "wrong-password")
    monkeypatch.setenv("DESTINATION_TYPE", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", credentials)
    monkeypatch.setenv("LOAD__RAISE_ON_MAX_RETRIES", "1")
    result = run_with_export(project_env, instance, json_body(GOOD))
    assert not result.success
    message = step_failure(result)
    assert JOB_ID in message and "postgres" in message
    assert "pg-test-password" not in message and "wrong-password" not in message
    monkeypatch.delenv("DESTINATION_TYPE")
    assert counts(project_env.duckdb_path, JOB_ID) == before
    assert set(before) == set(LINEAGE_TABLES)


def test_sql_errors_warn_when_some_statements_failed(project_env):
    job = submit_and_wait([("good.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;"), ("bad.sql", b"SELEC nonsense FROM WHERE ;")])
    assert job["status"] == "partial_success", job
    result = materialize_job_lineage(dg.DagsterInstance.ephemeral(), job["jobId"])

    assert result.success  # the statements that parsed are loaded
    errors = {e.check_name: e for e in result.get_asset_check_evaluations()}["sql_errors"]
    assert not errors.passed and errors.severity == dg.AssetCheckSeverity.WARN
    assert errors.asset_key == dg.AssetKey(["sqlflow_raw", "errors"])
    header, _, row = errors.metadata["sample"].value.splitlines()
    file_name, line, _, _, message = [cell.strip() for cell in row.strip("|").split("|")]
    assert header == "| file | line | column | type | message |"
    assert file_name == "bad.sql" and message and line == "1"


def test_sql_errors_pass_on_clean_sql_and_are_an_error_when_nothing_parsed(project_env, loaded):
    instance, _ = loaded
    clean = {e.check_name: e for e in run_with_export(project_env, instance, json_body(GOOD)).get_asset_check_evaluations()}
    assert clean["sql_errors"].passed

    nothing_parsed = copy.deepcopy(GOOD)
    lineage = nothing_parsed["data"]["sqlflow"]
    lineage["processes"], lineage["errors"] = [], [{"errorMessage": "syntax error at WHERE", "errorType": "SyntaxError", "fileName": "a.sql"}]
    lineage["relationships"], lineage["dbobjs"]["servers"] = [], []  # the job yields no lineage at all
    failed = {e.check_name: e for e in run_with_export(project_env, instance, json_body(nothing_parsed)).get_asset_check_evaluations()}
    assert not failed["sql_errors"].passed and failed["sql_errors"].severity == dg.AssetCheckSeverity.ERROR


def test_syntax_hints_of_a_job_without_processes_pass_and_are_listed(project_env, loaded):
    """An older-shape export with relations and objects, no processes, and only SyntaxHints: a green check."""
    instance, _ = loaded
    result = run_with_export(project_env, instance, (FIXTURES_DIR / "flat_syntax_hints_no_processes.json").read_bytes())
    assert result.success
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}["sql_errors"]
    assert check.passed and check.metadata["notes"].value == 2
    rows = check.metadata["notes_sample"].value.splitlines()[2:]
    assert len(rows) == 2 and all(row.split("|")[4].strip() == "SyntaxHint" for row in rows)
    assert check.description.endswith("every statement analysed: no SQL error; 2 hints or warnings listed as information")


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 64 MiB tmpfs holding the DuckDB file and dlt's data folder, so it can really run full.

    Mounting needs root (CI runs as root); elsewhere the test is skipped with that reason.
    """
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs in CI: {mounted.stderr}")
        pytest.skip(f"mounting a tmpfs needs root: {mounted.stderr.strip()}")
    monkeypatch.setenv("SQLFLOW_DUCKDB_PATH", str(mount_point / "sqlflow.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(mount_point / "dlt"))
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill(folder) -> None:
    """Write until the file system says it is full."""
    with open(folder / "filler", "wb") as filler:
        block = b"\0" * (1 << 20)
        try:
            while True:
                filler.write(block)
                filler.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def test_a_full_disk_fails_naming_job_and_cause_and_keeps_rows(project_env, small_disk):
    duckdb_path = small_disk / "sqlflow.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    assert run_with_export(project_env, instance, json_body(GOOD)).success
    before = counts(duckdb_path, JOB_ID)

    fill(small_disk)
    result = run_with_export(project_env, instance, json_body(GOOD))
    assert not result.success
    message = step_failure(result)
    assert JOB_ID in message and "No space left on device" in message, message

    (small_disk / "filler").unlink()
    assert counts(duckdb_path, JOB_ID) == before
    assert run_with_export(project_env, instance, json_body(GOOD)).success
    assert counts(duckdb_path, JOB_ID) == before
