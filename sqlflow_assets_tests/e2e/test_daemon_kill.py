"""A SIGKILLed run worker under `dagster dev` blocks no later run (issue #11, item 1, the daemon path).

The product runs as the README starts it. A new SQLFlow job is submitted; while the test holds the
database's write lock (so the sensor's lineage run cannot finish before it is killed), the run's
worker process and its step process are SIGKILLed. The run must be marked failed, Dagster's run
retry must load the job, and the job's rows must be complete: the same row counts per table as the
clean run of the same SQL at start-up.
"""

from __future__ import annotations

import time

import psutil
import pytest
from filelock import FileLock

from sqlflow_assets import config
from sqlflow_assets.job.flatten import LINEAGE_TABLES
from sqlflow_assets.job.lineage_json import TABLE_NAMES
from sqlflow_assets_tests.support import poll

pytestmark = pytest.mark.faults
TABLES = [*(f"{config.RAW_SCHEMA}.{t}" for t in TABLE_NAMES), *(f"{config.LINEAGE_SCHEMA}.{t}" for t in LINEAGE_TABLES)]
SENSOR_WAIT = 90  # the sensor ticks every 30 s; the daemon may be busy with the previous tick
FAIL_WAIT = 60  # bound for the killed run to be marked failed
RETRY_WAIT = 120  # bound for Dagster's retry (run_retries daemon) to be launched and succeed


def submit_sample(product, name: str) -> str:
    """Submit the bundled sample SQL again as a new SQLFlow job; its analysis finishes on the server."""
    files = [(path.name, path.read_bytes()) for path in sorted(config.SAMPLE_SQL_DIR.glob("*.sql"))]
    client = product.client()
    job_id = client.submit_user_job(name, files, "dbvpostgresql")["jobId"]
    assert client.wait_for_job(job_id, poll_seconds=0.2, timeout=60)["status"] == "success"
    return job_id


def kill_tree(pid: int) -> list[int]:
    """SIGKILL a process and every process below it (the run worker and its step subprocess)."""
    root = psutil.Process(pid)
    tree = [root, *root.children(recursive=True)]
    for proc in tree:
        proc.kill()
    psutil.wait_procs(tree, timeout=10)
    return [proc.pid for proc in tree]


def test_a_killed_run_worker_is_failed_and_retried_to_complete_rows(product):
    sample_job = product.sample_run["tags"]["sqlflow/job_id"]
    clean = product.table_counts(sample_job, TABLES)
    assert clean["lineage.column_edges"] > 0  # the reference is a real load

    lock = FileLock(f"{product.duckdb_path}.lock")
    lock.acquire(timeout=120)  # between loads: the next lineage run cannot finish while this is held
    try:
        job_id = submit_sample(product, "killed worker")
        partition = {"sqlflow/job_id": job_id}  # the partition key names the job; this tag is its id
        run = poll(lambda: next(iter(product.runs(statuses=["STARTED"], tags=partition)), None), SENSOR_WAIT,
                   "the sensor's lineage run of the new job")
        pid = poll(lambda: product.worker_pid(run["runId"]), 30, "the run worker's pid")
        poll(lambda: any(m.startswith("Started execution of step") for m in product.run_messages(run["runId"])), 60,
             "the lineage step")
        killed_at = time.monotonic()
        killed = kill_tree(pid)
    finally:
        lock.release()
    assert len(killed) >= 2  # the worker and its step process

    failed = poll(lambda: next((r for r in product.runs(tags=partition) if r["runId"] == run["runId"]
                                and r["status"] in ("FAILURE", "CANCELED", "SUCCESS")), None), FAIL_WAIT,
                  "the killed run's end")
    detected_after = time.monotonic() - killed_at
    assert failed["status"] == "FAILURE"
    print(f"killed run {run['runId']} marked FAILURE {detected_after:.1f} s after SIGKILL of pids {killed}: "
          + " | ".join(m for m in product.run_messages(run["runId"]) if "pid" in m.lower() or "signal" in m.lower())[-600:])

    retried = poll(lambda: next(iter(product.runs(statuses=["SUCCESS"], tags=partition)), None), RETRY_WAIT,
                   "a later successful run of the same partition")
    assert retried["rootRunId"] == run["runId"] or retried["tags"].get("dagster/run_key", "").startswith(f"{job_id}:")
    print(f"succeeded again {time.monotonic() - killed_at:.1f} s after the kill, by run {retried['runId']} "
          f"(parent {retried['parentRunId']})")
    assert product.table_counts(job_id, TABLES) == clean
    assert not product.runs(statuses=["STARTED", "STARTING", "QUEUED"], tags=partition)
