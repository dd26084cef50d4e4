"""The sensor against the real local server and a loopback peer, with ephemeral Dagster instances.

`launch` does what the sensor daemon does with a tick's result (partitions added, one run created
per lineage request); runs then succeed or fail through the instance's own events, or for real.
"""

from __future__ import annotations

import json
import time
import uuid

import dagster as dg
import duckdb
import pytest

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.definitions import defs
from sqlflow_assets.defs.jobs import jobs_refresh_job, lineage_job
from sqlflow_assets.defs.partitions import job_id_of
from sqlflow_assets.defs.resources import SQLFlowResource, StorageResource
from sqlflow_assets.defs.sensors import sqlflow_job_sensor
from sqlflow_assets.domain import JOB_NAME_MAX_CHARS
from sqlflow_assets.errors import SQLFlowError
from sqlflow_assets.job.job_versions import fingerprint
from sqlflow_assets_tests.support import free_port, http_peer, json_body, submit_and_wait


def tick(cursor: str | None, instance: dg.DagsterInstance | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance or dg.DagsterInstance.ephemeral(), cursor=cursor, resources={"sqlflow": SQLFlowResource()}
    )
    return sqlflow_job_sensor(context)


def lineage_requests(result: dg.SensorResult) -> dict[str, dg.RunRequest]:
    """The tick's lineage requests by run_key."""
    return {request.run_key: request for request in result.run_requests if request.job_name == lineage_job.name}


def refresh_requests(result: dg.SensorResult) -> list[dg.RunRequest]:
    return [request for request in result.run_requests if request.job_name == jobs_refresh_job.name]


def launch(instance: dg.DagsterInstance, result: dg.SensorResult, status=dg.DagsterRunStatus.NOT_STARTED) -> dict[str, dg.DagsterRun]:
    """The daemon's part: add the requested partitions and create one run per lineage request."""
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return {key: launch_one(instance, request, status) for key, request in lineage_requests(result).items()}


def launch_one(instance: dg.DagsterInstance, request: dg.RunRequest, status: dg.DagsterRunStatus, extra_tags=None) -> dg.DagsterRun:
    """The run the daemon creates for one request: its tags, run_key and partition."""
    tags = {**request.tags, "dagster/run_key": request.run_key, "dagster/partition": request.partition_key, **(extra_tags or {})}
    return instance.add_run(dg.DagsterRun(job_name=lineage_job.name, run_id=str(uuid.uuid4()), tags=tags, status=status))


def succeed(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    event = dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name)
    instance.report_dagster_event(event, run.run_id)


def peer_env(monkeypatch, base_url: str) -> None:
    monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", base_url)
    monkeypatch.setenv("SOURCES__SQLFLOW__USER_ID", "u|1")
    monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", "s" * 24)


def summary_peer(listing: dict):
    """A peer whose jobs list is `listing["jobs"]`, read on every call (tests change it between ticks)."""

    def answer(path: str) -> tuple[int, bytes]:
        if path.endswith("/generateToken"):
            return 200, json_body({"code": "200", "token": "tk"})
        jobs = listing["jobs"]
        return 200, json_body({"code": 200, "data": {"total": len(jobs), "jobIds": [j["jobId"] for j in jobs], "jobDetails": jobs}})

    return http_peer(answer)


def job(number: int, *, session: str = "s1", status: str = "success", name: str | None = None, created: str = "2026-11-15 10:00:00") -> dict:
    return {"jobId": f"job{number:05d}", "jobName": name or f"job {number}", "status": status, "createTime": created, "sessionId": session}


def test_completed_jobs_are_requested_once_and_failed_jobs_never(project_env):
    done = submit_and_wait([("ok.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")])
    failed = submit_and_wait([("bad.sql", b"SELEC nonsense FROM WHERE ;;")])
    assert done["status"] == "success" and failed["status"] == "fail", (done, failed)
    instance = dg.DagsterInstance.ephemeral()

    first = tick(None, instance)
    requested = {job_id_of(request.partition_key): request for request in lineage_requests(first).values()}
    assert requested[done["jobId"]].run_key == f"{done['jobId']}:{done['sessionId']}"
    assert requested[done["jobId"]].tags["sqlflow/job_name"] == "test job"
    assert requested[done["jobId"]].tags["sqlflow/created"] == done["createTime"]
    assert requested[done["jobId"]].tags["sqlflow/session_id"] == done["sessionId"]
    assert requested[done["jobId"]].tags["dagster/max_retries"] == "2"
    assert "dagster/max_retries" not in refresh_requests(first)[0].tags
    secrets = (project_env.server.secret_key, SQLFlowResource().client().token)
    assert not any(secret in str(request.tags) for secret in secrets for request in first.run_requests)
    assert failed["jobId"] not in requested
    added = {job_id_of(key) for request in first.dynamic_partitions_requests for key in request.partition_keys}
    assert done["jobId"] in added and failed["jobId"] not in added
    assert len(refresh_requests(first)) == 1
    launch(instance, first)

    second = tick(first.cursor, instance)
    assert second.run_requests == []
    assert second.dynamic_partitions_requests == []
    assert second.cursor == first.cursor


def test_a_reanalysed_job_is_loaded_for_real_then_requested_once_more(project_env):
    client = SQLFlowClient.from_config()
    job_id = client.submit_persist_job("persist", [("a.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")], "dbvpostgresql")["jobId"]
    before = client.wait_for_job(job_id, poll_seconds=0.2, timeout=60)
    instance = dg.DagsterInstance.ephemeral()
    first = tick(None, instance)
    request = next(r for r in lineage_requests(first).values() if job_id_of(r.partition_key) == job_id)
    instance.add_dynamic_partitions("sqlflow_jobs", [request.partition_key])
    run = defs.resolve_job_def(lineage_job.name).execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        tags={**request.tags, "dagster/run_key": request.run_key},
        resources={"sqlflow": SQLFlowResource(), "storage": StorageResource()},
    )
    assert run.success
    loaded = tick(first.cursor, instance)
    assert job_id not in {job_id_of(r.partition_key) for r in lineage_requests(loaded).values()}
    assert fingerprint(job_id, before["sessionId"]) in json.loads(loaded.cursor)["settled"]

    client.submit_persist_job("persist", [("b.sql", b"INSERT INTO t3 (y) SELECT y FROM t2;")], "dbvpostgresql", job_id=job_id)
    after = client.wait_for_job(job_id, poll_seconds=0.2, timeout=60)
    assert after["sessionId"] != before["sessionId"]
    again = tick(loaded.cursor, instance)
    assert [r.run_key for r in lineage_requests(again).values() if job_id_of(r.partition_key) == job_id] == [f"{job_id}:{after['sessionId']}"]
    assert len(refresh_requests(again)) == 1
    launch(instance, again)
    assert job_id not in {job_id_of(r.partition_key) for r in lineage_requests(tick(again.cursor, instance)).values()}


def test_a_failed_run_is_requested_again_and_a_succeeded_one_is_not(monkeypatch, tmp_path):
    listing = {"jobs": [job(1), job(2), job(3)]}
    instance = dg.DagsterInstance.local_temp(str(tmp_path))  # SQLite, as `.dagster_home`: runs indexed by partition
    with summary_peer(listing) as peer:
        peer_env(monkeypatch, peer.base_url)
        first = tick(None, instance)
        runs = launch(instance, first, status=dg.DagsterRunStatus.SUCCESS)
        instance.delete_run(runs["job00002:s1"].run_id)
        instance.delete_run(runs["job00003:s1"].run_id)
        monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "1")
        broken = {"sqlflow": SQLFlowResource(base_url=f"http://127.0.0.1:{free_port()}"), "storage": StorageResource()}
        request = lineage_requests(first)["job00002:s1"]
        failed = defs.resolve_job_def(lineage_job.name).execute_in_process(
            instance=instance, partition_key=request.partition_key, tags=request.tags, resources=broken, raise_on_error=False
        )
        assert not failed.success
        waiting = launch_one(instance, lineage_requests(first)["job00003:s1"], dg.DagsterRunStatus.FAILURE, {"dagster/will_retry": "true"})

        second = tick(first.cursor, instance)
        assert list(lineage_requests(second)) == ["job00002:s1:2"]  # job 1 succeeded, job 3 awaits Dagster's retry
        assert refresh_requests(second) == []
        retry = launch(instance, second)["job00002:s1:2"]
        assert lineage_requests(tick(second.cursor, instance)) == {}  # the new attempt is queued

        instance.report_run_failed(retry)
        instance.add_run_tags(waiting.run_id, {"dagster/will_retry": "false"})
        third = tick(second.cursor, instance)
        assert sorted(lineage_requests(third)) == ["job00002:s1:3", "job00003:s1:2"]
        for run in launch(instance, third).values():
            succeed(instance, run)
        fourth = tick(third.cursor, instance)
        assert fourth.run_requests == []
        assert json.loads(fourth.cursor)["pending"] == []


def test_each_analysis_of_2000_jobs_is_requested_once_and_the_cursor_stays_bounded(monkeypatch):
    listing = {"jobs": [job(n) for n in range(2000)] + [job(n, status="fail") for n in range(2000, 2050)]}
    instance = dg.DagsterInstance.ephemeral()
    requested: list[str] = []
    refreshes = []
    with summary_peer(listing) as peer:
        peer_env(monkeypatch, peer.base_url)
        cursor = None

        def run_ticks(count: int) -> None:
            nonlocal cursor
            for _ in range(count):
                result = tick(cursor, instance)
                requested.extend(lineage_requests(result))
                refreshes.append(len(refresh_requests(result)))
                for run in launch(instance, result).values():
                    succeed(instance, run)
                cursor = result.cursor

        run_ticks(3)
        assert sorted(requested) == [f"job{n:05d}:s1" for n in range(2000)]
        assert refreshes == [1, 0, 0]
        assert json.loads(cursor)["pending"] == []

        listing["jobs"][7] = job(7, session="s2")
        listing["jobs"][8] = job(8, session="s2")
        listing["jobs"].append(job(5000, status="running"))
        run_ticks(3)
        assert sorted(requested[2000:]) == ["job00007:s2", "job00008:s2"]
        assert refreshes[3:] == [1, 0, 0]

        del listing["jobs"][:1500]
        run_ticks(1)
    state = json.loads(cursor)
    assert len(state["settled"]) == 500 + 50 and state["pending"] == []
    assert fingerprint("job00000", "s1") not in state["settled"] and fingerprint("job01500", "s1") in state["settled"]


def test_date_and_name_settings_pick_the_jobs_and_apply_on_the_next_tick(monkeypatch):
    listing = {
        "jobs": [
            job(1, name="nightly-sales", created="2026-11-02 00:00:00"),
            job(2, name="nightly-hr", created="2026-10-31 23:59:59"),
            job(3, name="adhoc", created="2026-11-20 08:00:00"),
            job(4, name="nightly-x", created="not a time"),
            job(5, name="Nightly-caps", created="2026-11-01 00:00:00"),
        ]
    }
    instance = dg.DagsterInstance.ephemeral()
    with summary_peer(listing) as peer:
        peer_env(monkeypatch, peer.base_url)
        monkeypatch.setenv("SOURCES__SQLFLOW__SENSOR_CREATED_AFTER", "2026-11-01")
        monkeypatch.setenv("SOURCES__SQLFLOW__SENSOR_JOB_NAME_PATTERN", "nightly-*")
        first = tick(None, instance)
        assert {job_id_of(r.partition_key) for r in lineage_requests(first).values()} == {"job00001"}
        launch(instance, first)

        monkeypatch.delenv("SOURCES__SQLFLOW__SENSOR_JOB_NAME_PATTERN")
        second = tick(first.cursor, instance)
        assert {job_id_of(r.partition_key) for r in lineage_requests(second).values()} == {"job00003", "job00005"}

        monkeypatch.setenv("SOURCES__SQLFLOW__SENSOR_CREATED_AFTER", "November")
        with pytest.raises(ValueError, match="sensor_created_after"):
            tick(second.cursor, instance)


def test_sensor_ticks_reuse_one_token(monkeypatch):
    summary = {"code": 200, "data": {"total": 0, "jobIds": [], "jobDetails": []}}

    def answer(path: str) -> tuple[int, bytes]:
        return (200, json_body({"code": "200", "token": "tk"})) if path.endswith("/generateToken") else (200, json_body(summary))

    with http_peer(answer) as peer:
        peer_env(monkeypatch, peer.base_url)
        cursor = None
        for _ in range(3):
            cursor = tick(cursor).cursor
        monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", "t" * 24)
        tick(cursor)
    assert peer.counts["/gspLive_backend/user/generateToken"] == 2  # once, then once for the new secret
    assert peer.counts["/gspLive_backend/sqlflow/job/displayUserJobsSummary"] == 4


def test_a_large_jobs_list_from_the_local_server_is_requested_once_per_analysis(project_env):
    client = SQLFlowClient.from_config()
    ours = {client.submit_user_job(f"bulk {n}", [(f"q{n}.sql", f"INSERT INTO t{n} (x) SELECT x FROM s{n};".encode())])["jobId"] for n in range(150)}
    deadline = time.monotonic() + 120
    while True:
        statuses = {j["jobId"]: j["status"] for j in client.jobs_summary()["jobDetails"] if j["jobId"] in ours}
        if all(status in ("success", "partial_success", "fail") for status in statuses.values()) and len(statuses) == len(ours):
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(0.2)
    instance = dg.DagsterInstance.ephemeral()
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        result = tick(cursor, instance)
        for run in launch(instance, result).values():
            succeed(instance, run)
        seen += [job_id_of(request.partition_key) for request in lineage_requests(result).values()]
        cursor = result.cursor
    assert len(seen) == len(set(seen))  # nothing requested twice over three ticks
    assert ours <= set(seen)


def test_a_changed_secrets_file_reaches_the_next_tick_without_a_reload(local_server, dlt_project_dir, monkeypatch):
    monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", local_server.base_url)
    secrets_file = dlt_project_dir / "secrets.toml"
    secrets_file.write_text(f'[sources.sqlflow]\nuser_id = "{local_server.user_id}"\nsecret_key = "wrong"\n')
    with pytest.raises(SQLFlowError, match="generateToken"):
        tick(None)
    secrets_file.write_text(f'[sources.sqlflow]\nuser_id = "{local_server.user_id}"\nsecret_key = "{local_server.secret_key}"\n')
    assert isinstance(tick(None), dg.SensorResult)


def test_a_changed_config_file_reaches_the_next_tick(dlt_project_dir, monkeypatch):
    listing = {"jobs": [job(1, name="nightly-sales"), job(2, name="adhoc")]}
    config_file = dlt_project_dir / "config.toml"
    with summary_peer(listing) as peer:
        peer_env(monkeypatch, peer.base_url)
        config_file.write_text('[sources.sqlflow]\nsensor_job_name_pattern = "nightly-*"\n')
        assert {job_id_of(r.partition_key) for r in lineage_requests(tick(None)).values()} == {"job00001"}
        config_file.write_text('[sources.sqlflow]\nsensor_job_name_pattern = "adhoc*"\n')
        assert {job_id_of(r.partition_key) for r in lineage_requests(tick(None)).values()} == {"job00002"}


def test_huge_job_names_are_cut_in_tags_and_logs_and_kept_whole_in_the_jobs_table(monkeypatch, tmp_path):
    """Issue #16 point 4: a server listing a 10 MB jobName (and sessionId, errorMessage) once cost
    98 MB of Dagster home per run; tags are now bounded, the tables keep the whole name."""
    huge_name, huge_session = "n" * 10_000_000, "s" * 1_000_000
    failed = {**job(2, status="fail", name=huge_name), "errorMessage": "e" * 5_000_000}
    listing = {"jobs": [job(1, name=huge_name, session=huge_session), failed]}
    instance = dg.DagsterInstance.local_temp(str(tmp_path))
    monkeypatch.setenv("SQLFLOW_DUCKDB_PATH", str(tmp_path / "data" / "sqlflow.duckdb"))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data"))
    with summary_peer(listing) as peer:
        peer_env(monkeypatch, peer.base_url)
        first = tick(None, instance)
        [request] = lineage_requests(first).values()
        assert request.tags["sqlflow/job_name"] == "n" * (JOB_NAME_MAX_CHARS - 1) + "…"
        assert all(len(value) <= JOB_NAME_MAX_CHARS for value in request.tags.values()), {k: len(v) for k, v in request.tags.items()}
        assert len(request.run_key) < 200 and len(first.cursor) < 1000
        run = launch_one(instance, request, dg.DagsterRunStatus.NOT_STARTED)
        assert max(map(len, instance.get_run_by_id(run.run_id).tags.values())) <= JOB_NAME_MAX_CHARS
        assert list(lineage_requests(tick(first.cursor, instance))) == []  # the hashed version is stable
        refreshed = defs.resolve_job_def(jobs_refresh_job.name).execute_in_process(
            instance=instance, resources={"sqlflow": SQLFlowResource(), "storage": StorageResource()}
        )
        assert refreshed.success
    with duckdb.connect(str(tmp_path / "data" / "sqlflow.duckdb"), read_only=True) as conn:
        names = conn.sql("SELECT job_id, length(job_name) FROM sqlflow_raw.jobs ORDER BY job_id").fetchall()
    assert names == [("job00001", len(huge_name)), ("job00002", len(huge_name))]


def test_partitions_read_as_the_job_s_name_and_time_and_load_the_job(project_env):
    """Issue 19: the partition list showed hex ids. The key now names the job and its creation time,
    ends with the id, and a run of that partition loads that job (its check results name it too)."""
    done = submit_and_wait([("ok.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")], job_name="nightly, sales [eu]...")
    instance = dg.DagsterInstance.ephemeral()
    first = tick(None, instance)
    [key] = [r.partition_key for r in lineage_requests(first).values() if r.tags["sqlflow/job_id"] == done["jobId"]]
    assert key == f"nightly_ sales _eu_. @ {done['createTime']} ({done['jobId']})"
    assert key in {k for request in first.dynamic_partitions_requests for k in request.partition_keys}
    launch(instance, first)
    assert key in instance.get_dynamic_partitions("sqlflow_jobs")
    run = defs.resolve_job_def(lineage_job.name).execute_in_process(
        instance=instance, partition_key=key, resources={"sqlflow": SQLFlowResource(), "storage": StorageResource()}
    )
    assert run.success
    checks = run.get_asset_check_evaluations()
    assert {check.partition for check in checks} == {key}
    assert all(check.metadata["sqlflow/job_id"].value == done["jobId"] for check in checks)
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        edges = conn.execute("SELECT count(*) FROM lineage.column_edges WHERE job_id = ?", [done["jobId"]]).fetchone()[0]
    assert edges > 0


def test_a_job_keeps_the_bare_id_partition_it_had_before(monkeypatch):
    """Partitions made before readable keys (the bare job id) keep serving their job: no second partition."""
    listing = {"jobs": [job(1), job(2)]}
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sqlflow_jobs", ["job00001"])
    with summary_peer(listing) as peer:
        peer_env(monkeypatch, peer.base_url)
        first = tick(None, instance)
    keys = {r.tags["sqlflow/job_id"]: r.partition_key for r in lineage_requests(first).values()}
    assert keys == {"job00001": "job00001", "job00002": "job 2 @ 2026-11-15 10:00:00 (job00002)"}
    assert [list(r.partition_keys) for r in first.dynamic_partitions_requests] == [["job 2 @ 2026-11-15 10:00:00 (job00002)"]]
