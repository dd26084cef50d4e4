"""Shared fixtures: a real `sqlflow-local` server on a free loopback port, temp dirs for dlt and DuckDB."""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

# set before the package (and dlt) is imported by the support module
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
os.environ.setdefault("DLT_PROJECT_DIR", str(Path(__file__).resolve().parents[1]))

from sqlflow_assets_tests.support import (  # noqa: E402
    INGEST,
    MARTS_V1,
    MARTS_V2,
    LocalServer,
    free_port,
    load_jobs,
    start_local_server,
    stop_local_server,
    submit_and_wait,
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist's `--dist loadgroup` (scripts/test): a module's tests stay on one worker,
    so its module fixtures start once, and the browser tests all share one (each starts a whole product).
    The browser tests come first: the longest group, started last, would leave one worker idle at the end."""
    tests = Path(__file__).resolve().parent
    paths = {item: item.path.resolve().relative_to(tests) for item in items}
    groups = {item: "e2e" if path.parts[0] == "e2e" else path.as_posix() for item, path in paths.items()}
    items.sort(key=lambda item: groups[item] != "e2e")  # stable: collection order otherwise
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item]))


@pytest.fixture(scope="session")
def local_server(tmp_path_factory) -> LocalServer:
    """One real local SQLFlow server for the whole test session."""
    data_dir = tmp_path_factory.mktemp("sqlflow_local")
    user_id, secret_key = "tester|1", "test-secret-0123"
    proc, base_url = start_local_server(data_dir, f"{user_id}:{secret_key}")
    yield LocalServer(base_url=base_url, user_id=user_id, secret_key=secret_key, data_dir=data_dir)
    stop_local_server(proc)


@dataclass(frozen=True)
class ProjectEnv:
    """Environment of one test project: credentials for the local server and a temp DuckDB file."""

    server: LocalServer
    duckdb_path: Path


@pytest.fixture
def project_env(local_server: LocalServer, tmp_path: Path, monkeypatch) -> ProjectEnv:
    """Point dlt config and the project paths at the local server and a temp dir (no `.dlt/` needed)."""
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", local_server.base_url)
    monkeypatch.setenv("SOURCES__SQLFLOW__USER_ID", local_server.user_id)
    monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", local_server.secret_key)
    monkeypatch.delenv("SOURCES__SQLFLOW__TOKEN", raising=False)
    duckdb_path = tmp_path / "data" / "sqlflow.duckdb"
    monkeypatch.setenv("SQLFLOW_DUCKDB_PATH", str(duckdb_path))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt_data"))
    monkeypatch.delenv("DESTINATION_TYPE", raising=False)
    return ProjectEnv(server=local_server, duckdb_path=duckdb_path)


def postgres_bin_dir() -> Path | None:
    """Debian's PostgreSQL server binaries (`apt-get install postgresql`), newest version first."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name), reverse=True)
    return versions[0].parent if versions else None


@dataclass(frozen=True)
class PostgresServer:
    credentials: str  # a dlt/SQLAlchemy URL: postgresql://user:password@127.0.0.1:port/db


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> PostgresServer:
    """A throwaway PostgreSQL cluster on a free loopback port, run as an unprivileged user.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` system user
    that Debian's package creates. Skipped only where the binaries are absent (never in CI).
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing in CI: .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    data_dir = tmp_path_factory.mktemp("postgres") / "data"
    port, password = free_port(), "pg-test-password"
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        data_dir.parent.chmod(0o777)
        for parent in data_dir.parents:
            if parent == Path(tempfile.gettempdir()):
                break
            parent.chmod(parent.stat().st_mode | 0o755)
    password_file = data_dir.parent / "password"
    password_file.write_text(password)
    password_file.chmod(0o644)
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "lineage", "--pwfile", str(password_file),
         "-A", "scram-sha-256", "--no-sync"],
        check=True, capture_output=True,
    )
    options = f"-p {port} -k {data_dir.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(data_dir.parent / "log"), "-w", "start"],
        check=True, capture_output=True,
    )
    try:
        yield PostgresServer(f"postgresql://lineage:{password}@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"], capture_output=True)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, request) -> str:
    """Credentials of a new, empty database on the session's PostgreSQL server, for one test."""
    import psycopg2

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50] + f"_{free_port()}"
    admin = psycopg2.connect(postgres_server.credentials)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return postgres_server.credentials.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def sample_job(project_env) -> str:
    """The bundled sample SQL submitted as one job to the local server, finished."""
    from sqlflow_assets import config
    from sqlflow_assets.submit import submission

    job = submit_and_wait(submission.read_sql_folder(config.SAMPLE_SQL_DIR), job_name="sample")
    assert job["status"] == "success", job
    return job["jobId"]


@pytest.fixture
def warehouse(project_env):
    """Three jobs loaded (ingest, marts v1, marts v2): a small warehouse whose marts changed once."""
    import dagster as dg

    instance = dg.DagsterInstance.ephemeral()
    return instance, load_jobs(project_env, instance, ("ingest", INGEST), ("marts", MARTS_V1), ("marts", MARTS_V2))


@pytest.fixture
def dlt_project_dir(tmp_path, monkeypatch):
    """dlt reading `.dlt/` from a temp project (as a code server started there would), restored afterwards."""
    run_context = Container()[PluggableRunContext]
    original = run_context.context.run_dir
    for name in ("USER_ID", "SECRET_KEY", "TOKEN", "SENSOR_JOB_NAME_PATTERN", "SENSOR_CREATED_AFTER"):
        monkeypatch.delenv(f"SOURCES__SQLFLOW__{name}", raising=False)
    (tmp_path / ".dlt").mkdir()
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    run_context.reload(str(tmp_path))
    yield tmp_path / ".dlt"
    monkeypatch.undo()
    run_context.reload(original)
