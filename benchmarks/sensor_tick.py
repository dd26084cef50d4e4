"""Speed of `sqlflow_job_sensor` ticks over a 10,000-job account. Target: a tick under 1 s.

    python benchmarks/sensor_tick.py [--jobs N] [--ticks T] [--limit SECONDS]

A loopback stdlib HTTP server (`sqlflow_assets_tests.support.http_peer`, stopped when the script ends)
serves one `displayUserJobsSummary` of N completed jobs; a throwaway SQLite Dagster instance (the
storage of `.dagster_home`; the in-memory one lacks the run-partition index) holds one successful
`sqlflow_lineage` run per job, tagged as the daemon tags the sensor's runs. Each scenario times T
full ticks (HTTP call, parse, plan, instance queries, requests, cursor) and prints the median:

- first: no cursor, every job new (N lineage requests, one jobs refresh, N partitions);
- pending: every version requested last tick, its run now succeeded (the instance is asked);
- steady: every version settled, nothing new (no instance query).

Exits 1 when a median exceeds --limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the sensor of this checkout, whatever is installed
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dagster as dg  # noqa: E402

from sqlflow_assets.defs.jobs import lineage_job  # noqa: E402
from sqlflow_assets.defs.resources import SQLFlowResource  # noqa: E402
from sqlflow_assets.defs.sensors import sqlflow_job_sensor  # noqa: E402
from sqlflow_assets.job import job_versions  # noqa: E402
from sqlflow_assets_tests.support import http_peer, json_body  # noqa: E402


def account(count: int) -> list[dict]:
    return [
        {
            "jobId": uuid.UUID(int=n).hex,
            "jobName": f"nightly-{n % 50}",
            "userId": "u|1",
            "dbVendor": "dbvsnowflake",
            "fileNames": [f"part{n}.sql"],
            "createTime": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d} 03:00:00",
            "status": "success" if n % 10 else "partial_success",
            "sessionId": f"{uuid.UUID(int=n + 1).hex}_{1796000000000 + n}",
        }
        for n in range(count)
    ]


def prior_runs(instance: dg.DagsterInstance, jobs: list[dict]) -> None:
    """One succeeded lineage run per job, with the tags the sensor puts on its requests."""
    for job in jobs:
        version = job_versions.analysis_version(job)
        key = job_versions.version_key(job["jobId"], version)
        tags = {**job_versions.job_tags(job, version), "dagster/run_key": key, "dagster/partition": job["jobId"]}
        instance.add_run(dg.DagsterRun(job_name=lineage_job.name, run_id=str(uuid.uuid4()), tags=tags, status=dg.DagsterRunStatus.SUCCESS))


def time_ticks(instance: dg.DagsterInstance, cursor: str | None, ticks: int) -> tuple[float, dg.SensorResult]:
    seconds = []
    for _ in range(ticks):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"sqlflow": SQLFlowResource()})
        start = time.perf_counter()
        result = sqlflow_job_sensor(context)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--limit", type=float, default=1.0)
    args = parser.parse_args()

    jobs = account(args.jobs)
    body = json_body({"code": 200, "data": {"total": len(jobs), "jobIds": [j["jobId"] for j in jobs], "jobDetails": jobs}})
    token = json_body({"code": "200", "token": "tk"})
    with tempfile.TemporaryDirectory(prefix="sensor_tick_") as home:
        return run(args, jobs, body, token, dg.DagsterInstance.local_temp(home))


def run(args: argparse.Namespace, jobs: list[dict], body: bytes, token: bytes, instance: dg.DagsterInstance) -> int:
    """The three scenarios against a throwaway SQLite instance, the storage `dagster dev` uses."""
    started = time.perf_counter()
    prior_runs(instance, jobs)
    print(f"{args.jobs} jobs, {len(body) / 1e6:.1f} MB summary; {args.jobs} prior runs added in {time.perf_counter() - started:.1f} s")

    with http_peer(lambda path: (200, token if path.endswith("/generateToken") else body)) as peer:
        os.environ.update(
            SOURCES__SQLFLOW__BASE_URL=peer.base_url, SOURCES__SQLFLOW__USER_ID="u|1", SOURCES__SQLFLOW__SECRET_KEY="s" * 24
        )
        first, first_result = time_ticks(instance, None, args.ticks)
        pending, pending_result = time_ticks(instance, first_result.cursor, args.ticks)
        steady, steady_result = time_ticks(instance, pending_result.cursor, args.ticks)
    assert len(first_result.run_requests) == args.jobs + 1 and not pending_result.run_requests and not steady_result.run_requests

    print(f"cursor: {len(steady_result.cursor) / 1e3:.0f} kB ({len(steady_result.cursor) / args.jobs:.1f} bytes a job)")
    worst = 0.0
    for name, median in (("first (all new)", first), ("pending (instance asked)", pending), ("steady (none new)", steady)):
        print(f"{name:26} median of {args.ticks}: {median:.3f} s = {median / 1.0:.2f}x of 1 s")
        worst = max(worst, median)
    return 1 if worst > args.limit else 0


if __name__ == "__main__":
    raise SystemExit(main())
