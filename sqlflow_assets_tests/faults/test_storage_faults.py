"""Killed runs and concurrent writers of one database (issue #11, items 1 and 7), through the CLI.

Each case runs `dagster asset materialize` as a real process against a loopback SQLFlow peer
serving a 20,000-relationship export, into a real DuckDB file, kills it with SIGKILL at a point
of the load, and checks that the next run neither hangs nor leaves a row missing or doubled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from sqlflow_assets import config as config_module
from sqlflow_assets.job import lineage_step
from sqlflow_assets.job.flatten import LINEAGE_TABLES
from sqlflow_assets.job.lineage_json import TABLE_NAMES
from sqlflow_assets_tests.fixtures import generated_payload
from sqlflow_assets_tests.support import http_peer, json_body

pytestmark = pytest.mark.faults
JOBS = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210")
RUN_TIMEOUT = 300
TOKEN = "peer-token-7f3a9c"  # a token the runs hold; it must not land in any file
SECRET = "peer-secret-+/=&%-41d2"  # the secret key a run fetches that token with
# every asset of the one-step job lineage (it cannot be subset)
JOB_ASSETS = ",".join([*(f"sqlflow_raw/{t}" for t in TABLE_NAMES), *(f"lineage/{t}" for t in LINEAGE_TABLES)])


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "export.json"
    path.write_bytes(generated_payload(20_000, tmp_path))
    return path


@pytest.fixture
def peer(export: Path):
    body = export.read_bytes()
    details = {"code": 200, "data": {"jobDetails": [{"jobId": job, "jobName": "big", "status": "success"} for job in JOBS]}}

    def answer(path: str) -> tuple[int, bytes]:
        if path.endswith("generateToken"):
            return 200, json_body({"code": 200, "token": TOKEN})
        return 200, json_body(details) if path.endswith(("JobSummary", "JobsSummary")) else body

    with http_peer(answer) as running:
        yield running


def project(tmp_path: Path, peer, name: str, database: Path) -> dict[str, str]:
    """The environment of one Dagster home with its own dlt folder, writing `database`."""
    home = tmp_path / name
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DLT_DATA_DIR": str(home / "dlt"),
        "DLT_PROJECT_DIR": str(home),
        "SQLFLOW_DUCKDB_PATH": str(database),
        "SOURCES__SQLFLOW__BASE_URL": peer.base_url,
        "SOURCES__SQLFLOW__USER_ID": "peer|1",
        "SOURCES__SQLFLOW__TOKEN": TOKEN,
    }


def materialize(env: dict[str, str], job_id: str) -> subprocess.Popen:
    """`dagster asset materialize` of one job's lineage, in a process group of its own."""
    subprocess.run(
        [sys.executable, "-c", f"import dagster as dg; dg.DagsterInstance.get().add_dynamic_partitions('sqlflow_jobs', [{job_id!r}])"],
        env=env, check=True, capture_output=True, timeout=120,
    )
    command = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "--select", JOB_ASSETS,
               "--partition", job_id, "-m", "sqlflow_assets.definitions"]
    # run in the Dagster home: from the repo root, a `.env` written by scripts/bootstrap.sh would override DAGSTER_HOME
    return subprocess.Popen(
        command, cwd=env["DAGSTER_HOME"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=RUN_TIMEOUT)
    assert process.returncode == 0, output.decode()[-4000:]
    return output.decode()


def expected_rows(export: Path, job_id: str) -> dict[str, set[tuple]]:
    """The job's rows as a clean in-process analysis gives them (the reference for every table)."""
    job = lineage_step.analyse(job_id, export)
    return {f"{dataset}.{table}": set(zip(*(c.to_pylist() for c in rows.columns), strict=True)) for (dataset, table), rows in job.tables().items()}


def stored_rows(database: Path, job_id: str, expected: dict[str, set[tuple]]) -> dict[str, list[tuple]]:
    """Every row of the job per table (a list, so duplicates show), in the reference's columns."""
    with duckdb.connect(str(database), read_only=True) as conn:
        out = {}
        for table in expected:
            columns = ", ".join(f'"{c}"' for c in _columns(conn, table) if not c.startswith("_dlt") and c != "tombstone")
            out[table] = conn.execute(f"SELECT {columns} FROM {table} WHERE job_id = ?", [job_id]).fetchall()
        return out


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name]).fetchall()]


def wait_for(condition, timeout: float = RUN_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.mark.parametrize("kill_at", [None, "sqlflow", "sqlflow_lineage"], ids=["starting", "raw-load", "lineage-load"])
def test_a_killed_run_blocks_nothing_and_a_rerun_is_exact(tmp_path, peer, export, kill_at):
    database = tmp_path / "shared.duckdb"
    env = project(tmp_path, peer, "home", database)
    job_id = JOBS[0]
    finish(materialize(env, job_id))  # an earlier good load: the killed run must not damage it either

    asked = sum(peer.counts.values())
    run = materialize(env, job_id)
    if kill_at is None:  # once the run asks SQLFlow (token, job, export): before it parses and loads
        wait_for(lambda: sum(peer.counts.values()) > asked or run.poll() is not None)
    else:  # while dlt loads that pipeline's package
        load_folder = Path(env["DLT_DATA_DIR"]) / "pipelines" / kill_at / "load"
        wait_for(lambda: any(load_folder.glob("normalized/*")) or run.poll() is not None)
    assert run.poll() is None, "the run ended before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()

    finish(materialize(env, job_id))  # would hang on a pool slot the killed run kept
    expected = expected_rows(export, job_id)
    stored = stored_rows(database, job_id, expected)
    for table, rows in expected.items():
        assert len(stored[table]) == len(rows), table  # nothing doubled, nothing lost
        assert set(stored[table]) == rows, table


def test_two_dagster_homes_writing_one_database_take_turns(tmp_path, peer, export):
    database = tmp_path / "shared.duckdb"
    envs = [project(tmp_path, peer, f"home{i}", database) for i in range(len(JOBS))]
    envs[1] = {k: v for k, v in envs[1].items() if k != "SOURCES__SQLFLOW__TOKEN"} | {"SOURCES__SQLFLOW__SECRET_KEY": SECRET}
    runs = [materialize(env, job_id) for env, job_id in zip(envs, JOBS, strict=True)]
    outputs = [finish(run) for run in runs]
    assert all("RUN_SUCCESS" in output for output in outputs)
    # no file the runs left (Dagster homes, dlt folders, the database) nor their logs holds a secret
    for secret in (TOKEN, SECRET):
        leaked = [path for path in tmp_path.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]
        assert leaked == [] and not any(secret in output for output in outputs), secret
    for job_id in JOBS:
        expected = expected_rows(export, job_id)
        stored = stored_rows(database, job_id, expected)
        assert {table: len(rows) for table, rows in stored.items()} == {table: len(rows) for table, rows in expected.items()}


HOLDER = """
import sys
from sqlflow_assets import config
with config.Storage("duckdb", sys.argv[1]).writing(timeout=60):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_deleting_the_lock_files_of_a_writer_lets_no_second_writer_in(tmp_path, monkeypatch):
    """Issue #16 point 5: `<db>.duckdb.lock` and the pipelines' `sqlflow.lock` deleted while a writer
    (a real process) holds them; a second writer must still wait, and gets in once the first is done."""
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    database = tmp_path / "data" / "sqlflow.duckdb"
    storage = config_module.Storage("duckdb", str(database))
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt")}
    first = subprocess.Popen([sys.executable, "-c", HOLDER, str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert first.stdout.readline() == "held\n"
        lock_files = [Path(f"{database}.lock"), Path(config_module.get_dlt_pipelines_dir()) / "sqlflow.lock"]
        for path in lock_files:
            path.unlink()
        with pytest.raises(config_module.StorageBusy), storage.writing(timeout=0.3):
            pytest.fail("a second writer got in while the first still held the storage")
    finally:
        first.stdin.close()
        assert first.wait(timeout=30) == 0
    with storage.writing(timeout=30):  # the first writer is gone: the lock is free again
        pass

