"""The product as the README starts it: `sqlflow-assets start` (local server + `dagster dev`) on free ports.

One `product` per test module: it runs `start` in a process group of its own, with a temp Dagster
home (the project's `dagster.yaml`), DuckDB file, dlt folder and local-server data folder, waits
until Dagster's GraphQL answers and the sample job's lineage run succeeded, and on teardown stops
it as a person does (SIGINT), then checks that no process it started is left.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest
import requests
from filelock import FileLock

from sqlflow_assets.cli import restore_sigint
from sqlflow_assets_tests.support import REPO_ROOT, free_port, poll

LINEAGE_JOB = "sqlflow_lineage"
LOCATION = "sqlflow_assets"
START_TIMEOUT = 240  # sample submission + dagster dev + the sensor's first tick + the lineage run, on 2 busy cores
STOP_TIMEOUT = 60  # seconds every process of the product gets to exit after `start` did (a code server's heartbeat timeout is 45)
USER_ID, SECRET = "e2e|1", "e2e-secret-0123456789"
RUNS_QUERY = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status jobName parentRunId rootRunId tags { key value } } }
    ... on PythonError { message }
  }
}
"""
RUN_EVENTS_QUERY = """
query Events($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor) {
    __typename
    ... on EventConnection { cursor hasMore events { __typename ... on MessageEvent { message } } }
    ... on PythonError { message }
  }
}
"""


@dataclass
class Product:
    """A running product: its URLs, files and environment, and GraphQL helpers to watch its runs."""

    ui_url: str
    sqlflow_url: str
    duckdb_path: Path
    home: Path
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    sample_run: dict[str, Any] = field(default_factory=dict)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = requests.post(f"{self.ui_url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
        answer.raise_for_status()
        body = answer.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def runs(self, job_name: str = LINEAGE_JOB, statuses: list[str] | None = None, tags: dict[str, str] | None = None) -> list[dict]:
        """Runs of a job, newest first (Dagster's `runsOrError`), optionally by status and tags."""
        run_filter: dict[str, Any] = {"pipelineName": job_name}
        if statuses:
            run_filter["statuses"] = statuses
        if tags:
            run_filter["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        found = self.graphql(RUNS_QUERY, {"filter": run_filter})["runsOrError"]
        assert found["__typename"] == "Runs", found
        return [run | {"tags": {t["key"]: t["value"] for t in run["tags"]}} for run in found["results"]]

    def run_messages(self, run_id: str) -> list[str]:
        """Every message of a run's event log, in order."""
        messages, cursor = [], None
        while True:
            page = self.graphql(RUN_EVENTS_QUERY, {"runId": run_id, "cursor": cursor})["logsForRun"]
            assert page["__typename"] == "EventConnection", page
            messages += [event.get("message") or "" for event in page["events"]]
            cursor = page["cursor"]
            if not page["hasMore"]:
                return messages

    def table_counts(self, job_id: str, tables: list[str]) -> dict[str, int]:
        """Rows of the job per table, read between loads (writers hold `<database>.lock` while they write)."""
        with FileLock(f"{self.duckdb_path}.lock", timeout=120), duckdb.connect(str(self.duckdb_path), read_only=True) as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE job_id = ?", [job_id]).fetchone()[0] for t in tables}

    def worker_pid(self, run_id: str) -> int | None:
        """The run worker's process id, from the run's "Started process for run (pid: N)" engine event."""
        for message in self.run_messages(run_id):
            if match := re.search(r"Started process for run \(pid: (\d+)\)", message):
                return int(match.group(1))
        return None

    @property
    def artifacts(self) -> Path:
        return artifacts_dir()

    def client(self):
        """A SQLFlow client of the product's local server, as the product's user."""
        from sqlflow_assets.api.client import SQLFlowClient
        from sqlflow_assets.config import SQLFlowConnection

        return SQLFlowClient(SQLFlowConnection(base_url=self.sqlflow_url, user_id=USER_ID, secret_key=SECRET))


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def product_env(root: Path, sqlflow_port: int) -> dict[str, str]:
    """The environment of an isolated product: everything it writes lives under `root`."""
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION", "SQLFLOW_", "DAGSTER_"))}
    return {
        **inherited,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "DLT_PROJECT_DIR": str(REPO_ROOT),
        "DAGSTER_HOME": str(home),
        "SOURCES__SQLFLOW__BASE_URL": f"http://127.0.0.1:{sqlflow_port}",
        "SOURCES__SQLFLOW__USER_ID": USER_ID,
        "SOURCES__SQLFLOW__SECRET_KEY": SECRET,
        "SQLFLOW_DUCKDB_PATH": str(root / "sqlflow.duckdb"),
        "SQLFLOW_LOCAL_DATA_DIR": str(root / "sqlflow-local"),
        "DLT_DATA_DIR": str(root / "dlt"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }


def descendants(process: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def stop(product: Product, seen: dict[int, psutil.Process]) -> list[str]:
    """SIGINT to `start`'s group (as Ctrl-C does); whatever outlives it is killed and returned."""
    for child in descendants(product.process):
        seen.setdefault(child.pid, child)
    if product.process.poll() is None:
        os.killpg(product.process.pid, signal.SIGINT)
        try:
            product.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(product.process.pid, signal.SIGKILL)
            product.process.wait()
            return ["`sqlflow-assets start` did not stop within 60 s of SIGINT", *stop_rest(product, seen)]
    return stop_rest(product, seen)


def stop_rest(product: Product, seen: dict[int, psutil.Process]) -> list[str]:
    """Processes of the product still alive once `start` is gone (killed, and returned).

    Found by their `DAGSTER_HOME` too: while dagster dev shuts down, its code-server manager may
    restart the code server it just stopped, an orphan that leaves when its heartbeat times out.
    """
    for proc in processes_with_home(product.home):
        seen.setdefault(proc.pid, proc)
    _, alive = psutil.wait_procs(list(seen.values()), timeout=STOP_TIMEOUT)
    survivors = []
    for proc in alive:
        try:
            survivors.append(f"{proc.pid} {' '.join(proc.cmdline())[:160]}")
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    return survivors


def processes_with_home(home: Path) -> list[psutil.Process]:
    """Every process on the machine running with this Dagster home (only the product's have it)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("DAGSTER_HOME") == str(home):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def artifacts_dir() -> Path:
    """Where screenshots and the product's log go (`SQLFLOW_TEST_ARTIFACTS`; CI keeps the folder)."""
    folder = Path(os.environ.get("SQLFLOW_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def product(tmp_path_factory, request) -> Iterator[Product]:
    """The product started like the README's `./scripts/start`, on free ports, with the sample job loaded."""
    root = tmp_path_factory.mktemp("product")
    ui_port, sqlflow_port = free_port(), free_port()
    while sqlflow_port == ui_port:
        sqlflow_port = free_port()
    env = product_env(root, sqlflow_port)
    log_path = artifacts_dir() / f"{request.module.__name__.rsplit('.', 1)[-1]}-start.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sqlflow_assets.cli", "start", "--port", str(ui_port)],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=restore_sigint,  # as in a terminal: a shell's background job (CI) would start it with SIGINT ignored
        )
    running = Product(
        ui_url=f"http://127.0.0.1:{ui_port}",
        sqlflow_url=env["SOURCES__SQLFLOW__BASE_URL"],
        duckdb_path=Path(env["SQLFLOW_DUCKDB_PATH"]),
        home=Path(env["DAGSTER_HOME"]),
        env=env,
        process=process,
        log_path=log_path,
    )
    seen: dict[int, psutil.Process] = {}
    try:
        def up() -> bool:
            assert process.poll() is None, f"start exited ({process.returncode}):\n{log_path.read_text()[-4000:]}"
            for child in descendants(process):
                seen.setdefault(child.pid, child)
            return answers(f"{running.ui_url}/server_info")

        poll(up, START_TIMEOUT, "Dagster's webserver")
        running.sample_run = poll(
            lambda: up() and next(iter(running.runs(statuses=["SUCCESS"])), None), START_TIMEOUT, "the sample job's lineage run"
        )
        yield running
    finally:
        survivors = stop(running, seen)
        assert not survivors, f"processes outlived the product: {survivors}"


# --- the browser: headless Debian Chromium, shared by the UI tests ---

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1600,1000",
)


def missing(why: str) -> None:
    """Skip where the browser is not installed, except in CI, whose `.ci/run` installs it."""
    if os.environ.get("CI"):
        pytest.fail(f"{why} in CI: .ci/run installs Debian's chromium and chromium-driver")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Debian Chromium driven by Selenium, with a fresh profile (no browser download)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        missing("chromium or chromium-driver not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium not installed (the dev extra)")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
