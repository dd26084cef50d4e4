"""The sensor against the real local server: completed jobs become partitions and runs, once."""

import dagster as dg

from sqlflow_assets.defs.resources import SQLFlowResource
from sqlflow_assets.defs.sensors import sqlflow_job_sensor
from sqlflow_assets_tests.conftest import submit_and_wait
from sqlflow_assets_tests.http_peer import http_peer, json_body


def tick(cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=cursor, resources={"sqlflow": SQLFlowResource()})
    return sqlflow_job_sensor(context)


def test_completed_jobs_are_requested_once_and_failed_jobs_never(project_env):
    done = submit_and_wait([("ok.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")])
    failed = submit_and_wait([("bad.sql", b"SELEC nonsense FROM WHERE ;;")])
    assert done["status"] == "success" and failed["status"] == "fail", (done, failed)

    first = tick(None)
    requested = {request.partition_key: request for request in first.run_requests}
    assert done["jobId"] in requested and requested[done["jobId"]].run_key == done["jobId"]
    assert failed["jobId"] not in requested
    added = {key for request in first.dynamic_partitions_requests for key in request.partition_keys}
    assert done["jobId"] in added and failed["jobId"] not in added

    second = tick(first.cursor)
    assert second.run_requests == []
    assert second.dynamic_partitions_requests == []
    assert second.cursor == first.cursor


def test_sensor_ticks_reuse_one_token(monkeypatch):
    summary = {"code": 200, "data": {"total": 0, "jobIds": [], "jobDetails": []}}

    def answer(path: str) -> tuple[int, bytes]:
        return (200, json_body({"code": "200", "token": "tk"})) if path.endswith("/generateToken") else (200, json_body(summary))

    with http_peer(answer) as peer:
        monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", peer.base_url)
        monkeypatch.setenv("SOURCES__SQLFLOW__USER_ID", "u|1")
        monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", "s" * 24)
        cursor = None
        for _ in range(3):
            cursor = tick(cursor).cursor
        monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", "t" * 24)
        tick(cursor)
    assert peer.counts["/gspLive_backend/user/generateToken"] == 2  # once, then once for the new secret
    assert peer.counts["/gspLive_backend/sqlflow/job/displayUserJobsSummary"] == 4
