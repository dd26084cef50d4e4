"""Faults of the local server (issue #11), reproduced against real `sqlflow-local` subprocesses over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import requests

from sqlflow_assets_tests.support import GEN_PATH, GOOD_SQL, JOB_PATH, NEXT_SQL, SECRET, USER_ID, Api, Servers, poll, zipped

pytestmark = pytest.mark.faults

# About a millisecond of analysis per statement: a job that keeps its worker busy for seconds.
BIG_SQL = "\n".join(f"INSERT INTO t{i} (a, b) SELECT x, y FROM s{i} WHERE z > {i};" for i in range(6000))


def job_record(data_dir: Path, job_id: str) -> dict[str, Any]:
    return json.loads((data_dir / "jobs" / job_id / "job.json").read_text())


def running_worker(data_dir: Path, job_id: str) -> int | None:
    """The pid of the worker process analysing the job, once it runs."""
    record = job_record(data_dir, job_id)
    return record.get("workerPid") if record["job"]["status"] == "running" else None


def status(api: Api, job_id: str) -> str:
    return api.call(f"{JOB_PATH}/displayUserJobSummary", {"jobId": job_id})["data"]["status"]


def spawned_children(pid: int) -> set[int]:
    """Pool worker processes of a server: its children started by multiprocessing's spawn."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            children.add(int(entry.name))
    return children


# --- 2. a dead analysis worker ---------------------------------------------------------------------


def test_killed_job_worker_fails_only_its_job_and_the_server_heals(servers: Servers) -> None:
    _, api = servers.start(workers=1)
    big = api.submit([("big.sql", BIG_SQL)])["data"]["jobId"]
    waiting = api.submit([("a.sql", GOOD_SQL)])["data"]["jobId"]
    pid = poll(lambda: running_worker(servers.data_dir, big), what="big job running")
    assert status(api, waiting) == "create"

    os.kill(pid, signal.SIGKILL)

    killed = api.wait(big, timeout=60)
    assert killed["status"] == "fail" and "worker died" in killed["errorMessage"]
    assert api.wait(waiting, timeout=60)["status"] == "success"
    after = api.submit([("b.sql", NEXT_SQL)])
    assert after["code"] == 200 and api.wait(after["data"]["jobId"], timeout=60)["status"] == "success"
    assert api.call(GEN_PATH, {"dbvendor": "dbvpostgresql", "sqltext": GOOD_SQL})["code"] == 200


def test_job_of_a_sibling_worker_is_analysed_again_when_the_pool_breaks(servers: Servers) -> None:
    """A broken pool stops every worker; the job running beside the killed one must not fail with it."""
    _, api = servers.start(workers=2)
    victim = api.submit([("big.sql", BIG_SQL)])["data"]["jobId"]
    sibling = api.submit([("big2.sql", BIG_SQL)])["data"]["jobId"]
    pid = poll(lambda: running_worker(servers.data_dir, victim), what="first big job running")
    poll(lambda: running_worker(servers.data_dir, sibling), what="second big job running")

    os.kill(pid, signal.SIGKILL)

    assert api.wait(victim, timeout=60)["status"] == "fail"
    assert api.wait(sibling, timeout=120)["status"] == "success"


def test_query_is_answered_while_big_jobs_hold_every_job_worker(servers: Servers) -> None:
    _, api = servers.start(workers=1)
    big = api.submit([("big.sql", BIG_SQL)])["data"]["jobId"]
    queued = api.submit([("a.sql", GOOD_SQL)])["data"]["jobId"]
    poll(lambda: running_worker(servers.data_dir, big), what="big job running")

    answer = api.call(GEN_PATH, {"dbvendor": "dbvpostgresql", "sqltext": NEXT_SQL})

    assert answer["code"] == 200 and answer["data"]["sqlflow"]["relationships"]
    assert status(api, big) == "running" and status(api, queued) == "create"
    assert api.wait(queued, timeout=60)["status"] == "success"


def test_killed_query_worker_is_replaced(servers: Servers) -> None:
    proc, api = servers.start(workers=1)
    assert api.call(GEN_PATH, {"dbvendor": "dbvpostgresql", "sqltext": GOOD_SQL})["code"] == 200
    (query_worker,) = spawned_children(proc.pid)  # no job ran yet: the only worker is the query lane's

    os.kill(query_worker, signal.SIGKILL)

    answer = api.call(GEN_PATH, {"dbvendor": "dbvpostgresql", "sqltext": NEXT_SQL})
    assert answer["code"] == 200 and answer["data"]["sqlflow"]["relationships"]
    assert query_worker not in spawned_children(proc.pid)


# --- 5. hostile upload names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ([("x" * 300 + ".sql", GOOD_SQL)], "too long"),
        ([("a\x00b.sql", GOOD_SQL)], "control character"),
        ([("a.sql", GOOD_SQL), ("a.sql/b.sql", NEXT_SQL)], "also used as a folder"),
        ([("d", GOOD_SQL), ("etl.zip", zipped({"d/a.sql": NEXT_SQL}))], "also used as a folder"),
        ([("etl.zip", zipped({"d": GOOD_SQL, "d/a.sql": NEXT_SQL}))], "also used as a folder"),
    ],
    ids=["300-char name", "NUL byte", "file and folder", "zip entry under an uploaded file", "zip file and folder"],
)
def test_hostile_upload_names_are_a_clear_400_leaving_no_job_folder(
    local_server, files: list[tuple[str, Any]], complaint: str
) -> None:
    api = Api(local_server.base_url, local_server.user_id, local_server.secret_key)
    jobs_dir = local_server.data_dir / "jobs"
    before = set(jobs_dir.iterdir())
    refused = api.submit(files)
    assert refused["code"] == 400 and complaint in refused["error"]
    assert set(jobs_dir.iterdir()) == before


def test_hostile_names_added_to_a_persist_job_keep_its_files(local_server) -> None:
    api = Api(local_server.base_url, local_server.user_id, local_server.secret_key)
    job = api.submit([("a.sql", GOOD_SQL)], kind="submitPersistJob")["data"]
    api.wait(job["jobId"])
    refused = api.submit([("a.sql/b.sql", NEXT_SQL)], kind="submitPersistJob", jobId=job["jobId"], incremental="true")
    assert refused["code"] == 400
    kept = api.call(f"{JOB_PATH}/displayUserJobSummary", {"jobId": job["jobId"]})["data"]
    assert kept["fileNames"] == ["a.sql"] and kept["status"] == "success"
    assert (local_server.data_dir / "jobs" / job["jobId"] / "files" / "a.sql").is_file()


# --- 6. tokens and a changed secret; authentication before parsing -----------------------------------


def test_token_issued_before_a_secret_change_is_refused(servers: Servers) -> None:
    proc, api = servers.start()
    old_token = api.token
    assert api.call(f"{JOB_PATH}/displayUserJobsSummary")["code"] == 200
    servers.stop(proc)

    _, changed = servers.start(secret="rotated-secret-4567")
    stale = Api(changed.base_url, USER_ID, SECRET, token=old_token)
    refused = stale.call(f"{JOB_PATH}/displayUserJobsSummary")
    assert refused["code"] == 401 and "older secretKey" in refused["error"]
    assert changed.call(f"{JOB_PATH}/displayUserJobsSummary")["code"] == 200


def answer_before_body_is_sent(base_url: str, target: str, head: bytes, content_type: str, declared: int) -> bytes:
    """Send the request line, headers and `head` of a body declared `declared` bytes long, never the rest.

    A server that parses the whole body before checking the token waits for the rest and the read
    times out; one that checks first answers at once.
    """
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        request = (
            f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
        ).encode()
        sock.sendall(request + head)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


@pytest.mark.parametrize("where", ["query string", "multipart body"])
def test_bad_token_is_refused_before_the_upload_is_read(local_server, where: str) -> None:
    declared = 5_500_000
    target = f"{JOB_PATH}/submitUserJob"
    boundary = "faultboundary"
    fields = {"userId": local_server.user_id, "token": "forged.token.value", "jobName": "j"}
    if where == "query string":
        target += "?" + "&".join(f"{k}={requests.utils.quote(v)}" for k, v in fields.items())
        head = f"--{boundary}\r\n".encode()
    else:
        parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items())
        head = (parts + f'--{boundary}\r\nContent-Disposition: form-data; name="sqlfiles"; filename="big.sql"\r\n\r\n').encode()
    reply = answer_before_body_is_sent(
        local_server.base_url, target, head + b"-- padding\n" * 100, f"multipart/form-data; boundary={boundary}", declared
    )
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 200"), reply[:200]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["code"] == 401 and "invalid token" in body["error"]
