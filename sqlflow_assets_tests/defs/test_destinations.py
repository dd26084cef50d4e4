"""The same job materialised into DuckDB and into a real PostgreSQL server gives the same rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from sqlflow_assets import config
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.job.flatten import LINEAGE_TABLES
from sqlflow_assets.job.lineage_json import TABLE_NAMES
from sqlflow_assets_tests.support import REPO_ROOT, materialize_job_lineage, submit_and_wait


def job_rows(fetch, job_id: str) -> dict[str, list[tuple]]:
    """Every row of the job in each public table, without dlt's bookkeeping columns, sorted."""
    tables = [("sqlflow_raw", name) for name in TABLE_NAMES] + [("lineage", name) for name in LINEAGE_TABLES]
    out = {}
    for schema, table in tables:
        columns = [c for c in fetch(f"SELECT * FROM {schema}.{table} WHERE false", job_id, header=True) if not c.startswith("_dlt")]
        selected = ", ".join(f'"{c}"' for c in columns)
        out[f"{schema}.{table}"] = sorted(fetch(f"SELECT {selected} FROM {schema}.{table} WHERE job_id = :job_id", job_id), key=repr)
    return out


def test_duckdb_and_postgres_hold_identical_rows(project_env, sample_job, postgres_server, monkeypatch):  # noqa: F811
    materialize_job_lineage(dg.DagsterInstance.ephemeral(), sample_job)

    monkeypatch.setenv("DESTINATION_TYPE", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_server.credentials)
    assert config.storage().destination_type == "postgres"
    result = materialize_job_lineage(dg.DagsterInstance.ephemeral(), sample_job)
    materialized = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert materialized["lineage/column_edges"]["destination"].value == "postgres"
    assert materialized["lineage/column_edges"]["dagster/table_name"].value == "lineage.column_edges"

    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:

        def from_duckdb(sql, job_id, header=False):
            cursor = conn.execute(sql.replace(":job_id", "$job_id"), {"job_id": job_id} if ":job_id" in sql else {})
            return [d[0] for d in cursor.description] if header else [tuple(r) for r in cursor.fetchall()]

        in_duckdb = job_rows(from_duckdb, sample_job)
    engine = sa.create_engine(postgres_server.credentials.replace("postgresql:", "postgresql+psycopg2:"))
    with engine.connect() as conn:

        def from_postgres(sql, job_id, header=False):
            result = conn.execute(sa.text(sql), {"job_id": job_id} if ":job_id" in sql else {})
            return list(result.keys()) if header else [tuple(r) for r in result.fetchall()]

        in_postgres = job_rows(from_postgres, sample_job)
    engine.dispose()
    assert in_duckdb.keys() == in_postgres.keys()
    for table in in_duckdb:
        assert in_duckdb[table] == in_postgres[table], table
    assert in_duckdb["lineage.column_edges"] and in_duckdb["lineage.end_to_end_edges"]


@pytest.mark.parametrize("variable", ["DESTINATION_TYPE"])
def test_destination_comes_from_dlt_config_alone(project_env, monkeypatch, variable):
    assert config.storage().destination_type == "duckdb"
    monkeypatch.setenv(variable, "postgres")
    assert config.storage() == config.Storage("postgres")
    monkeypatch.delenv(variable)
    monkeypatch.setenv("SQLFLOW_DUCKDB_PATH", "md:lineage_db")
    assert config.storage() == config.Storage("motherduck", "md:lineage_db")


def postgres_env(postgres_server) -> dict[str, str]:
    return {**os.environ, "DESTINATION_TYPE": "postgres", "DESTINATION__POSTGRES__CREDENTIALS": postgres_server.credentials}


def test_cli_materialisation_and_asset_kinds_follow_the_configured_destination(project_env, postgres_server, tmp_path):
    submit_and_wait([("t.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")])
    env = postgres_env(postgres_server) | {"DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    materialize = [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "--select", "sqlflow_raw/jobs",
                   "-m", "sqlflow_assets.definitions"]
    result = subprocess.run(materialize, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # no `.env` there
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    engine = sa.create_engine(postgres_server.credentials.replace("postgresql:", "postgresql+psycopg2:"))
    with engine.connect() as conn:
        loaded = {job_id for (job_id,) in conn.execute(sa.text("SELECT job_id FROM sqlflow_raw.jobs"))}
    assert loaded == {job["jobId"] for job in SQLFlowClient.from_config().jobs_summary()["jobDetails"]}
    engine.dispose()
    assert not project_env.duckdb_path.exists()

    kinds = subprocess.run(
        [sys.executable, "-c", "from sqlflow_assets.definitions import defs; "
         "print(sorted({k for s in defs.resolve_all_asset_specs() if 'dlt' in s.kinds for k in s.kinds}))"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert kinds.stdout.strip() == "['dlt', 'postgres']", kinds.stdout + kinds.stderr
