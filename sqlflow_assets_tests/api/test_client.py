"""SQLFlowClient against the real local server, and against tiny stdlib HTTP peers for transport failures."""

from __future__ import annotations

import time

import jwt
import pytest

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.config import SQLFlowConnection
from sqlflow_assets.errors import ConfigError, JobNotFinished, SQLFlowAssetsError, SQLFlowError
from sqlflow_assets.job.lineage_json import read_lineage
from sqlflow_assets_tests.support import http_peer, json_body, peer_client

SQL = "INSERT INTO sales_summary (region, total) SELECT region, SUM(amount) FROM orders WHERE amount > 0 GROUP BY region;"
WRONG_SECRET = "wrong-secret-5f3a9c"
GARBAGE_TOKEN = "garbage.token.7e1b"


@pytest.fixture()
def client(local_server) -> SQLFlowClient:
    return SQLFlowClient(SQLFlowConnection(base_url=local_server.base_url, user_id=local_server.user_id, secret_key=local_server.secret_key))


# --- the real local server -------------------------------------------------------------------------


def test_token_is_fetched_once_and_cached(client: SQLFlowClient) -> None:
    assert client.token is None
    client.jobs_summary()
    first = client.token
    assert first and first.count(".") == 2
    client.jobs_summary()
    assert client.token == first


def test_wrong_secret_raises_without_leaking_it(local_server) -> None:
    client = SQLFlowClient(SQLFlowConnection(base_url=local_server.base_url, user_id=local_server.user_id, secret_key=WRONG_SECRET))
    with pytest.raises(SQLFlowError) as caught:
        client.jobs_summary()
    assert caught.value.endpoint == "/user/generateToken"
    assert str(caught.value.code) == "401"
    assert WRONG_SECRET not in str(caught.value) and WRONG_SECRET not in repr(caught.value)


class CountingClient(SQLFlowClient):
    """The real client, counting the tokens it fetches."""

    refreshes = 0

    def generate_token(self) -> str:
        self.refreshes += 1
        return super().generate_token()


def test_invalid_token_is_replaced_once(local_server) -> None:
    client = CountingClient(SQLFlowConnection(base_url=local_server.base_url, user_id=local_server.user_id, secret_key=local_server.secret_key))
    client.token = GARBAGE_TOKEN
    summary = client.jobs_summary()
    assert isinstance(summary["total"], int) and isinstance(summary["jobDetails"], list)
    assert client.refreshes == 1 and client.token != GARBAGE_TOKEN
    client.jobs_summary()
    assert client.refreshes == 1  # the fresh token is kept


def test_expired_token_is_replaced(local_server, client: SQLFlowClient) -> None:
    key = (local_server.data_dir / "signing.key").read_bytes()
    past = int(time.time()) - 3600
    client.token = jwt.encode({"sub": local_server.user_id, "aud": "gudusoft", "iat": past - 60, "exp": past}, key, "HS256")
    expired = client.token
    client.jobs_summary()
    assert client.token != expired


def test_invalid_token_without_secret_raises(local_server) -> None:
    client = SQLFlowClient(SQLFlowConnection(base_url=local_server.base_url, user_id=local_server.user_id, token=GARBAGE_TOKEN))
    with pytest.raises(SQLFlowError, match="invalid token") as caught:
        client.jobs_summary()
    assert GARBAGE_TOKEN not in str(caught.value)


def test_job_submit_wait_and_exports(client: SQLFlowClient) -> None:
    job = client.submit_user_job("client-test", [("summary.sql", SQL.encode())], "dbvpostgresql")
    assert job["jobName"] == "client-test" and len(job["jobId"]) == 32
    done = client.wait_for_job(job["jobId"], poll_seconds=0.2, timeout=120)
    assert done["status"] in {"success", "partial_success"}
    assert client.job_summary(job["jobId"])["status"] == done["status"]
    assert job["jobId"] in client.jobs_summary()["jobIds"]

    tables = read_lineage(client.export_lineage_json(job["jobId"]), job["jobId"])
    assert {"orders", "sales_summary"} <= set(tables.objects.column("name").to_pylist())
    assert tables.relationships.num_rows > 0

    csv_text = client.export_full_lineage_csv(job["jobId"], delimiter=";")
    header = csv_text.splitlines()[0]
    assert ";" in header and "," not in header
    assert "sales_summary" in csv_text


def test_export_of_unknown_job_raises(client: SQLFlowClient) -> None:
    with pytest.raises(SQLFlowError) as caught:
        client.export_lineage_json("0" * 32)
    assert caught.value.endpoint == "/sqlflow/job/exportLineageAsJson"
    assert str(caught.value.code) == "400"


def test_generation_endpoints(client: SQLFlowClient) -> None:
    envelope = client.generate_lineage(SQL, "dbvpostgresql", show_relation_type=["fdd", "fdr"])
    assert str(envelope["code"]) in {"200", "203"}
    sqlflow = envelope["data"]["sqlflow"]
    assert {r["type"] for r in sqlflow["relationships"]} == {"fdd", "fdr"}

    csv_text = client.generate_lineage_csv(SQL, "dbvpostgresql", table_to_table=True)
    assert "orders" in csv_text and "sales_summary" in csv_text
    image = client.generate_graph_image(SQL, "dbvpostgresql")
    assert image.lstrip().startswith((b"<svg", b"<?xml", b"\x89PNG"))


def test_unknown_vendor_is_an_api_error(client: SQLFlowClient) -> None:
    with pytest.raises(SQLFlowError, match="code 400"):
        client.generate_lineage(SQL, "dbvnotadatabase")


def test_unknown_option_is_rejected_before_sending(client: SQLFlowClient) -> None:
    with pytest.raises(TypeError, match="showRelationType"):
        client.generate_lineage(SQL, "dbvoracle", showRelationType="fdd")


# --- construction and config ---------------------------------------------------------------------


def test_credentials_are_required_and_hidden() -> None:
    with pytest.raises(ConfigError, match="secret_key or a token"):
        SQLFlowClient(SQLFlowConnection(base_url="http://127.0.0.1:9", user_id="u|1"))
    text = repr(SQLFlowClient(SQLFlowConnection(base_url="http://127.0.0.1:9", user_id="u|1", secret_key=WRONG_SECRET, token=GARBAGE_TOKEN)))
    assert WRONG_SECRET not in text and GARBAGE_TOKEN not in text and "secret_key=***" in text


def test_from_config_reads_dlt_env_at_call_time(monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", "http://sqlflow.example:8081")
    monkeypatch.setenv("SOURCES__SQLFLOW__USER_ID", "auth0|cfg")
    monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", "cfg-secret")
    monkeypatch.setenv("SOURCES__SQLFLOW__PATH_PREFIX", "/api/gspLive_backend")
    client = SQLFlowClient.from_config(token="given")
    assert (client.base_url, client.user_id, client.secret_key, client.token, client.path_prefix) == (
        "http://sqlflow.example:8081", "auth0|cfg", "cfg-secret", "given", "/api/gspLive_backend",
    )
    with pytest.raises(ConfigError, match="sources.sqlflow.user_id"):
        SQLFlowClient.from_config(user_id="")


# --- stdlib HTTP peers: retries, submissions, broken bodies --------------------------------------

@pytest.fixture()
def fast_retries(monkeypatch) -> None:
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")


@pytest.mark.usefixtures("fast_retries")
def test_idempotent_call_is_retried_on_503_then_raises() -> None:
    with http_peer(lambda path: (503, b"busy")) as peer, pytest.raises(SQLFlowError, match="HTTP 503") as caught:
        peer_client(peer).jobs_summary()
    assert caught.value.code == 503
    assert peer.counts["/gspLive_backend/sqlflow/job/displayUserJobsSummary"] == 3


@pytest.mark.usefixtures("fast_retries")
def test_submission_is_sent_exactly_once_on_503() -> None:
    with http_peer(lambda path: (503, b"busy")) as peer, pytest.raises(SQLFlowError, match="HTTP 503"):
        peer_client(peer).submit_user_job("j", [("a.sql", b"select 1")], "dbvoracle")
    assert peer.counts["/gspLive_backend/sqlflow/job/submitUserJob"] == 1


@pytest.mark.usefixtures("fast_retries")
def test_dropped_connection_is_retried_except_for_submissions() -> None:
    with http_peer(lambda path: None) as peer:
        client = peer_client(peer)
        with pytest.raises(SQLFlowError, match="request failed"):
            client.submit_persist_job("j", [("a.sql", b"select 1")], "dbvoracle", incremental=False)
        with pytest.raises(SQLFlowError, match="request failed"):
            client.export_full_lineage_csv("j1")
    assert peer.counts["/gspLive_backend/sqlflow/job/submitPersistJob"] == 1
    assert peer.counts["/gspLive_backend/sqlflow/job/exportFullLineageAsCsv"] == 3


def test_malformed_and_non_object_bodies_raise() -> None:
    with http_peer(lambda path: (200, b"<html>oops</html>")) as peer, pytest.raises(SQLFlowError, match="not JSON"):
        peer_client(peer).jobs_summary()
    with http_peer(lambda path: (200, b"[1, 2]")) as peer, pytest.raises(SQLFlowError, match="not a JSON object"):
        peer_client(peer).jobs_summary()


def test_export_json_checks_the_envelope_code() -> None:
    with http_peer(lambda path: (200, json_body({"code": 500, "error": "export failed"}))) as peer, pytest.raises(SQLFlowError, match="export failed") as caught:
        peer_client(peer).export_lineage_json("j1")
    assert caught.value.code == 500
    warned = json_body({"code": 203, "error": "a warning", "data": {"sqlflow": {"dbobjs": []}}})
    with http_peer(lambda path: (200, warned)) as peer:
        assert peer_client(peer).export_lineage_json("j1") == warned


def test_token_refresh_happens_once_then_gives_up() -> None:
    def answer(path: str) -> tuple[int, bytes]:
        if path.endswith("/user/generateToken"):
            return 200, json_body({"code": "200", "token": "fresh-token"})
        return 200, json_body({"code": 401, "error": "token expired"})

    with http_peer(answer) as peer:
        client = peer_client(peer, secret_key="s3cret")
        with pytest.raises(SQLFlowError, match="token expired"):
            client.jobs_summary()
    assert peer.counts["/gspLive_backend/user/generateToken"] == 1
    assert peer.counts["/gspLive_backend/sqlflow/job/displayUserJobsSummary"] == 2


def test_wait_for_job_polls_until_done_and_raises_on_fail() -> None:
    statuses = iter(["create", "running", "success"])

    def answer(path: str) -> tuple[int, bytes]:
        return 200, json_body({"code": 200, "data": {"jobId": "j1", "status": next(statuses)}})

    with http_peer(answer) as peer:
        assert peer_client(peer).wait_for_job("j1", poll_seconds=0.01, timeout=5)["status"] == "success"
    assert peer.counts["/gspLive_backend/sqlflow/job/displayUserJobSummary"] == 3

    failed = json_body({"code": 200, "data": {"jobId": "j1", "status": "fail", "errorMessage": "parser crashed"}})
    with http_peer(lambda path: (200, failed)) as peer, pytest.raises(SQLFlowError, match="parser crashed"):
        peer_client(peer).wait_for_job("j1", poll_seconds=0.01, timeout=5)

    running = json_body({"code": 200, "data": {"jobId": "j1", "status": "running"}})
    with http_peer(lambda path: (200, running)) as peer, pytest.raises(JobNotFinished, match="job j1 not finished") as caught:
        peer_client(peer).wait_for_job("j1", poll_seconds=0.01, timeout=0.05)
    # the job's status is kept as a status, not passed off as the server's error code
    assert (caught.value.code, caught.value.status) == (None, "running")
    assert caught.value.endpoint == "/sqlflow/job/displayUserJobSummary"
    assert isinstance(caught.value, SQLFlowError) and isinstance(caught.value, SQLFlowAssetsError)


def test_job_summary_falls_back_to_job_details() -> None:
    aggregate = {"code": 200, "data": {"total": 2, "jobDetails": [
        {"jobId": "j0", "status": "fail"}, {"jobId": "j1", "status": "partial_success"}]}}
    with http_peer(lambda path: (200, json_body(aggregate))) as peer:
        assert peer_client(peer).job_summary("j1") == {"jobId": "j1", "status": "partial_success"}


def test_csv_without_declared_charset_is_read_as_utf8() -> None:
    csv_bytes = "source_table,target_table\ncafé,crème\n".encode()
    with http_peer(lambda path: (200, csv_bytes)) as peer:
        assert peer_client(peer).export_full_lineage_csv("j1").splitlines()[1] == "café,crème"
