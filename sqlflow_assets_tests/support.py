"""What the tests share, in one module: no test module imports another, and fixtures live in conftest.

- a loopback HTTP peer that answers with a function (`http_peer`) for what the local server cannot do;
- the local server's start and stop (the product's own `cli.start_local_server`), its API client
  (`Api`), an in-thread server (`threaded_server`) and the SQL the server tests submit;
- engine results as comparable sets (`run`, `edges`, `objects`);
- Dagster materialisation of a job's lineage and of the graph (`materialize_job_lineage`, `refresh`);
- readers of the Graphviz pictures (`drawn_tables`, `svg_of`).

The engine's scoring, which the benchmark scripts share, is the plain module `engine_scoring.py`.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import orjson
import pyarrow as pa
import pytest
import requests
import uvicorn

from sqlflow_assets import cli, tables
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.config import SQLFlowConnection
from sqlflow_assets.defs import assets
from sqlflow_assets.defs.resources import default_resources
from sqlflow_assets.job import flatten
from sqlflow_assets.job.lineage_json import LineageTables
from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze
from sqlflow_assets.local.server import create_app
from sqlflow_assets.warehouse import graph

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LocalServer:
    base_url: str
    user_id: str
    secret_key: str
    data_dir: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_local_server(data_dir: Path, users: str) -> tuple[subprocess.Popen, str]:
    """Start `sqlflow-local serve` on a free loopback port with the product's own start-and-wait."""
    base_url = f"http://127.0.0.1:{free_port()}"
    return cli.start_local_server(base_url, users, data_dir, stdout=subprocess.DEVNULL), base_url


def stop_local_server(proc: subprocess.Popen) -> None:
    cli.stop_local_server(proc, timeout=10)


def submit_and_wait(files: list[tuple[str, bytes]], dbvendor: str = "dbvpostgresql", job_name: str = "test job") -> dict:
    """Submit a job to the server configured in the environment and wait until it is terminal."""
    from sqlflow_assets.errors import SQLFlowError

    client = SQLFlowClient.from_config()
    job_id = client.submit_user_job(job_name, files, dbvendor)["jobId"]
    try:
        return client.wait_for_job(job_id, poll_seconds=0.2, timeout=60)
    except SQLFlowError:
        return client.job_summary(job_id)


# answer(path) -> (status, body) or None to close without answering; answer(path, request body) with
# `pass_body=True`. A body that is an iterable of chunks is sent chunk by chunk, unsized, as it yields them.
Reply = tuple[int, bytes | Iterable[bytes]] | None


Answer = Callable[..., Reply]


@dataclass(frozen=True)
class Peer:
    base_url: str
    counts: Counter
    hangups: list[str] = field(default_factory=list)  # paths whose client left before the whole answer was sent


@contextmanager
def http_peer(answer: Answer, *, pass_body: bool = False) -> Iterator[Peer]:
    """A real HTTP server on 127.0.0.1 answering POSTs with `answer(path)` (or `answer(path, body)`)."""
    peer_state: dict[str, Peer] = {}

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            peer = peer_state["peer"]
            peer.counts[self.path] += 1
            reply = answer(self.path, body) if pass_body else answer(self.path)
            if reply is None:
                self.close_connection = True
                return
            status, content = reply
            self.send_response(status)
            if isinstance(content, bytes):
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return
            self.close_connection = True
            self.end_headers()
            try:
                for chunk in content:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except OSError:
                peer.hangups.append(self.path)

    with serving(Handler) as base_url:
        peer_state["peer"] = Peer(base_url, Counter())
        yield peer_state["peer"]


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (test output stays readable)."""

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded stdlib HTTP server for `handler` on a free loopback port; its base URL during the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def peer_client(peer: Peer, timeout: float = 60, **connection: object) -> SQLFlowClient:
    """A client of `peer` (user `u|1`, token `tk` unless `connection` says otherwise)."""
    return SQLFlowClient(SQLFlowConnection(base_url=peer.base_url, user_id="u|1", **({"token": "tk"} | connection)), timeout=timeout)


def json_body(document: object) -> bytes:
    return orjson.dumps(document)


BOTH = ("fdd", "fdr")


def run(sql: str, vendor: str = "dbvpostgresql", **options) -> dict:
    options.setdefault("show_relation_type", BOTH)
    return analyze([SqlFile("job.sql", sql)], vendor, AnalysisOptions(**options))


def edges(result: dict) -> set[tuple[str, str, str]]:
    """{(source parent.column, target parent.column, type)} over every relationship source."""
    return {
        (
            f"{s['parentName']}.{s['column']}",
            f"{r['target']['parentName']}.{r['target']['column']}",
            r["type"],
        )
        for r in result["relationships"]
        for s in r["sources"]
    }


def objects(result: dict) -> dict[str, dict]:
    """Every emitted object by name, across databases/schemas/buckets."""
    out = {}
    for server in result["dbobjs"]["servers"]:
        for database in server["databases"]:
            for schema in database["schemas"]:
                for bucket in ("tables", "views", "others"):
                    for obj in schema[bucket]:
                        out[obj["name"]] = obj
    return out


GOOD_SQL = "INSERT INTO stg_orders (order_id, total) SELECT id, amount FROM orders;"


BAD_SQL = "INSERT INTO oops (a SELECT FROM WHERE ;;"


NEXT_SQL = "INSERT INTO mart_orders (order_id, total) SELECT order_id, total FROM stg_orders;"


JOB_PATH = "/gspLive_backend/sqlflow/job"


GEN_PATH = "/gspLive_backend/sqlflow/generation/sqlflow"


class Api:
    """A tiny SQLFlow client for the tests: form fields, token handling, job polling."""

    def __init__(self, base_url: str, user_id: str, secret_key: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.user_id = user_id
        self.secret_key = secret_key
        self._token = token

    @property
    def token(self) -> str:
        if self._token is None:
            body = self.post("/gspLive_backend/user/generateToken", {"secretKey": self.secret_key}, auth=False).json()
            assert body["code"] == "200", body
            self._token = body["token"]
        return self._token

    def post(
        self, path: str, data: dict[str, Any] | None = None, files: Any = None, auth: bool = True
    ) -> requests.Response:
        fields = {"userId": self.user_id, **({"token": self.token} if auth else {}), **(data or {})}
        response = requests.post(self.base_url + path, data=fields, files=files, timeout=30)
        assert response.status_code == 200, response.text
        return response

    def call(self, path: str, data: dict[str, Any] | None = None, files: Any = None) -> dict[str, Any]:
        return self.post(path, data, files).json()

    def submit(
        self, files: list[tuple[str, str | bytes]], kind: str = "submitUserJob", **fields: Any
    ) -> dict[str, Any]:
        """Submit a job with these (name, content) files; returns the envelope."""
        uploads = [("sqlfiles", (name, content)) for name, content in files]
        return self.call(f"{JOB_PATH}/{kind}", {"jobName": "test job", "dbvendor": "dbvpostgresql", **fields}, uploads)

    def wait(self, job_id: str, timeout: float = 20) -> dict[str, Any]:
        """Poll displayUserJobSummary until the job is done or failed (0.25 s between polls)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.call(f"{JOB_PATH}/displayUserJobSummary", {"jobId": job_id})["data"]
            if job["status"] in ("success", "partial_success", "fail"):
                return job
            time.sleep(0.25)
        raise AssertionError(f"job {job_id} not done after {timeout} s")

    def run_job(self, files: list[tuple[str, str | bytes]], **fields: Any) -> dict[str, Any]:
        return self.wait(self.submit(files, **fields)["data"]["jobId"])


@contextmanager
def threaded_server(data_dir: Path, **app_options: Any) -> Iterator[str]:
    """`create_app` under uvicorn in a thread, for cases that need their own config; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(data_dir, **app_options), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "threaded server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def sqlflow_edges(sqlflow: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """(source table, source column, target table, target column), lower-cased, of every relationship."""
    return {
        (s["parentName"].lower(), s["column"].lower(), r["target"]["parentName"].lower(), r["target"]["column"].lower())
        for r in sqlflow["relationships"]
        for s in r["sources"]
    }


def csv_rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


LINEAGE_TABLES = tuple(tables.LINEAGE)  # the per-job lineage tables, from the table contract


def lineage_rows(raw: LineageTables, job_id: str) -> dict[str, pa.Table]:
    """A job's `lineage.*` rows as the pipeline's step computes them (before its checks and load)."""
    with flatten.flattened(raw, job_id) as conn:
        return flatten.lineage_tables(conn)


def materialize_job_lineage(instance: dg.DagsterInstance, job_id: str, raise_on_error: bool = True) -> dg.ExecuteInPipelineResult:
    """One job's lineage materialised with the code location's resources (storage: `SQLFLOW_DUCKDB_PATH`)."""
    instance.add_dynamic_partitions("sqlflow_jobs", [job_id])
    return dg.materialize(
        [assets.sqlflow_job_lineage],
        partition_key=job_id,
        instance=instance,
        resources=default_resources(),
        raise_on_error=raise_on_error,
    )


def counts(duckdb_path, job_id: str) -> dict[str, int]:
    with duckdb.connect(str(duckdb_path), read_only=True) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM lineage.{table} WHERE job_id = ?", [job_id]).fetchone()[0]
            for table in LINEAGE_TABLES
        }


INGEST = b"CREATE TABLE staging.orders AS SELECT order_id, amount FROM raw.orders;"


MARTS_V1 = b"CREATE TABLE marts.revenue AS SELECT customer_id, sum(amount) AS revenue FROM staging.orders GROUP BY customer_id;"


MARTS_V2 = b"CREATE TABLE marts.revenue AS SELECT sum(amount) AS total FROM staging.orders WHERE amount > 0;"


LOOP = b"INSERT INTO raw.orders (order_id, amount) SELECT 0, total FROM marts.revenue;"


def load_jobs(project_env, instance: dg.DagsterInstance, *jobs: tuple[str, bytes]) -> list[str]:
    """Submit each (source, SQL) as a job, materialise its lineage; the job ids, in order."""
    ids = []
    for source, sql in jobs:
        job = submit_and_wait([(f"{source}.sql", sql)], job_name=source)
        assert job["status"] == "success", job
        assert materialize_job_lineage(instance, job["jobId"]).success
        ids.append(job["jobId"])
    return ids


def refresh(project_env, instance: dg.DagsterInstance) -> dict[str, list[dict]]:
    result = dg.materialize([assets.lineage_graph], instance=instance, resources=default_resources())
    assert result.success
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        return {
            table: [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor.fetchall()]
            for table in graph.GRAPH_TABLES
            for cursor in [conn.execute(f"SELECT * FROM lineage.{table}")]
        }


USER_ID, SECRET = "fault|1", "fault-secret-0123"  # the user of the fault tests' servers


class Servers:
    """Starts real servers on one data dir (a restart keeps jobs and the signing key) and stops them all."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, secret: str = SECRET, **config: Any) -> tuple[subprocess.Popen, Api]:
        """A server whose config.json holds `config` (`workers`, ...); returns its process and a client for USER_ID."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "config.json").write_text(json.dumps(config))
        proc, url = start_local_server(self.data_dir, f"{USER_ID}:{secret}")
        self.procs.append(proc)
        return proc, Api(url, USER_ID, secret)

    def stop(self, proc: subprocess.Popen) -> None:
        stop_local_server(proc)
        self.procs.remove(proc)


def poll(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """The first truthy value of `condition()`, polled every 50 ms; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.05)
    return value


NS = {"svg": "http://www.w3.org/2000/svg", "xlink": "http://www.w3.org/1999/xlink"}


XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


IMAGE = re.compile(r"!\[[^\]]*\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)")


def require_dot() -> None:
    """Skip without Graphviz `dot`, except in CI, where `.ci/run` installs it and its absence fails."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz `dot` is missing in CI: .ci/run installs Debian's graphviz")
        pytest.skip("Graphviz `dot` not installed (apt-get install graphviz)")


def drawn_tables(svg: str) -> set[str]:
    """The full names of the table boxes of a picture (each node's tooltip)."""
    root = ET.fromstring(svg)
    return {a.get(XLINK_TITLE) for g in root.iterfind(".//svg:g[@class='node']", NS) for a in g.iterfind(".//svg:a", NS)}


def drawn_labels(svg: str) -> set[str]:
    """What each table box shows, its text lines joined."""
    root = ET.fromstring(svg)
    return {"".join(text.text for text in g.iterfind(".//svg:text", NS)) for g in root.iterfind(".//svg:g[@class='node']", NS)}


def drawn_edges(svg: str) -> int:
    return len(ET.fromstring(svg).findall(".//svg:g[@class='edge']", NS))


def svg_of(markdown: str) -> str:
    """The SVG embedded in a Markdown picture (fails when there is none)."""
    found = IMAGE.search(markdown)
    assert found, markdown[:300]
    return base64.b64decode(found.group(1)).decode()


def text_with(driver, *texts: str) -> str | None:
    """The browser page's text once every one of `texts` shows, else None; Dagster's newsletter dialog,
    which greets a fresh browser profile over the page, is skipped first as a person would."""
    for button in driver.find_elements("xpath", "//button[normalize-space()='Skip']"):
        if button.is_displayed():
            button.click()
    text = driver.find_element("tag name", "body").text
    return text if all(t in text for t in texts) else None
