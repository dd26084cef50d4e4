"""Server tests that need their own configuration: `create_app` under uvicorn in a thread, over HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt

from sqlflow_assets_tests.support import (
    GEN_PATH,
    GOOD_SQL,
    JOB_PATH,
    NEXT_SQL,
    Api,
    start_local_server,
    stop_local_server,
    threaded_server,
)
from sqlflow_assets_tests.support import sqlflow_edges as edges

USERS = {"alice|1": "alice-secret", "bob|2": "bob-secret"}


def test_token_expires(tmp_path: Path) -> None:
    with threaded_server(tmp_path, users=USERS, token_ttl_seconds=1) as url:
        alice = Api(url, "alice|1", "alice-secret")
        assert alice.call(GEN_PATH, {"sqltext": GOOD_SQL})["code"] == 200
        time.sleep(2.1)
        expired = alice.call(GEN_PATH, {"sqltext": GOOD_SQL})
        assert expired["code"] == 401 and "expired" in expired["error"]


def test_jobs_are_private_to_their_user(tmp_path: Path) -> None:
    with threaded_server(tmp_path, users=USERS) as url:
        alice, bob = Api(url, "alice|1", "alice-secret"), Api(url, "bob|2", "bob-secret")
        job = alice.run_job([("a.sql", GOOD_SQL)])
        assert bob.run_job([("b.sql", NEXT_SQL)])["status"] == "success"
        summary = alice.call(f"{JOB_PATH}/displayUserJobsSummary")["data"]
        assert (summary["total"], summary["success"], summary["partialSuccess"], summary["fail"]) == (1, 1, 0, 0)
        assert summary["jobIds"] == [job["jobId"]] and summary["jobDetails"][0]["userId"] == "alice|1"
        for path in ("displayUserJobSummary", "exportLineageAsJson", "deleteUserJob"):
            refused = bob.call(f"{JOB_PATH}/{path}", {"jobId": job["jobId"]})
            assert refused["code"] == 400 and "unknown jobId" in refused["error"]


def test_upload_limit(tmp_path: Path) -> None:
    with threaded_server(tmp_path, users=USERS, max_upload_bytes=2_000) as url:
        alice = Api(url, "alice|1", "alice-secret")
        big = alice.submit([("big.sql", GOOD_SQL * 100)])
        assert big["code"] == 413 and "limit" in big["error"]
        assert alice.submit([("small.sql", GOOD_SQL)])["code"] == 200


def test_export_before_done_is_refused_while_server_keeps_answering(tmp_path: Path) -> None:
    """One worker busy with a big job: a queued job cannot be exported yet, and HTTP calls still work."""
    big_sql = "\n".join(f"INSERT INTO t{i} (a, b) SELECT x, y FROM s{i} WHERE z > {i};" for i in range(3000))
    with threaded_server(tmp_path, users=USERS, workers=1) as url:
        alice = Api(url, "alice|1", "alice-secret")
        big = alice.submit([("big.sql", big_sql)])["data"]
        queued = alice.submit([("a.sql", GOOD_SQL)])["data"]
        early = alice.call(f"{JOB_PATH}/exportLineageAsJson", {"jobId": queued["jobId"]})
        assert early["code"] == 400 and "not finished" in early["error"]
        assert alice.call(f"{JOB_PATH}/displayUserJobSummary", {"jobId": big["jobId"]})["data"]["status"] in (
            "create",
            "running",
        )
        assert alice.wait(queued["jobId"], timeout=60)["status"] == "success"


def test_jobs_survive_a_restart_and_interrupted_ones_rerun(tmp_path: Path) -> None:
    with threaded_server(tmp_path, users=USERS) as url:
        alice = Api(url, "alice|1", "alice-secret")
        done = alice.run_job([("a.sql", GOOD_SQL)])
        interrupted = alice.run_job([("b.sql", NEXT_SQL)])
    job_dir = tmp_path / "jobs" / interrupted["jobId"]
    record = json.loads((job_dir / "job.json").read_text())
    record["job"]["status"] = "running"  # what a crash mid-analysis leaves behind
    (job_dir / "job.json").write_text(json.dumps(record))
    (job_dir / "result.json").unlink()

    with threaded_server(tmp_path, users=USERS) as url:
        alice = Api(url, "alice|1", "alice-secret", token=alice.token)  # the signing key persisted too
        summary = alice.call(f"{JOB_PATH}/displayUserJobsSummary")["data"]
        assert set(summary["jobIds"]) == {done["jobId"], interrupted["jobId"]}
        assert alice.wait(interrupted["jobId"])["status"] == "success"
        export = alice.call(f"{JOB_PATH}/exportLineageAsJson", {"jobId": done["jobId"], "simpleOutput": "true"})
        assert ("orders", "amount", "stg_orders", "total") in edges(export["data"]["sqlflow"])


def test_cli_reads_users_ttl_and_upload_limit_from_config_json(tmp_path: Path) -> None:
    config = {"users": {"cfg|1": "cfg-secret"}, "token_ttl_seconds": 60, "max_upload_mb": 0.001}
    (tmp_path / "config.json").write_text(json.dumps(config))
    proc, url = start_local_server(tmp_path, users="")
    try:
        api = Api(url, "cfg|1", "cfg-secret")
        claims = jwt.decode(api.token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 60
        too_big = api.call(GEN_PATH, {"sqltext": GOOD_SQL * 30})
        assert too_big["code"] == 413
        assert api.call(GEN_PATH, {"sqltext": GOOD_SQL})["code"] == 200
    finally:
        stop_local_server(proc)
