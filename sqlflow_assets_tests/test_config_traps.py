"""Issue 19, config that cannot be misplaced: destination keys in a wrong TOML section are reported, with real
`.dlt/` files in a temp project folder, through `config.storage()`, a job step's run log and `sqlflow-assets start`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from sqlflow_assets import config, config_traps
from sqlflow_assets_tests.support import materialize_job_lineage, submit_and_wait

# what a user gets by appending the README's line to the end of the generated config.toml
APPENDED_CONFIG = '[runtime]\nlog_level = "WARNING"\ndlthub_telemetry = false\ndestination_type = "postgres"\n'
APPENDED_SECRETS = '[sources.sqlflow]\nuser_id = "u"\ndestination.postgres.credentials = "postgresql://u:the-secret@db/x"\n'
RUNTIME_MESSAGE = (
    "found `destination_type` under `[runtime]` in .dlt/config.toml; it must be at the top level (above every [section])"
)
SECRETS_MESSAGE = (
    "found `[destination.postgres]` under `[sources.sqlflow]` in .dlt/secrets.toml; it must be a top-level table `[destination.postgres]`"
)


def write_dlt(project: Path, config_toml: str, secrets_toml: str = "") -> None:
    (project / ".dlt").mkdir(exist_ok=True)
    (project / ".dlt" / "config.toml").write_text(config_toml)
    (project / ".dlt" / "secrets.toml").write_text(secrets_toml)
    config.reload_changed_settings()


def test_misplaced_destination_keys_are_named_with_their_section_and_file(project_env, tmp_path, caplog):
    write_dlt(tmp_path, APPENDED_CONFIG, APPENDED_SECRETS)
    with caplog.at_level(logging.WARNING, logger="sqlflow_assets.config"):
        storage = config.storage()
    assert storage.destination_type == "duckdb"  # the trap: the misplaced key is not read
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert RUNTIME_MESSAGE in warnings and SECRETS_MESSAGE in warnings
    assert not any("the-secret" in message for message in warnings)


def test_well_placed_keys_are_not_reported(project_env, tmp_path):
    write_dlt(
        tmp_path,
        'destination_type = "duckdb"\n[runtime]\nlog_level = "WARNING"\n[sqlflow.destination.postgres]\nx = 1\n',
        '[destination.postgres]\ncredentials = "postgresql://u:p@db/x"\n[sources.sqlflow]\nuser_id = "u"\n',
    )
    assert config_traps.misplaced_destination_keys(project=tmp_path) == []
    assert config.storage().destination_type == "duckdb"


def test_a_job_step_warns_in_its_run_log(project_env, tmp_path):
    write_dlt(tmp_path, APPENDED_CONFIG)
    job = submit_and_wait([("a.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")], job_name="traps")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_job_lineage(instance, job["jobId"])
    warnings = [entry.user_message for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING]
    assert RUNTIME_MESSAGE in warnings


def test_start_reports_them_before_it_starts_anything(project_env, tmp_path):
    """`sqlflow-assets start`: the warning comes first (here the start then stops: its Dagster home is a file)."""
    write_dlt(tmp_path, APPENDED_CONFIG)
    home = tmp_path / "not_a_folder"
    home.write_text("")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DLT_PROJECT_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "sqlflow_assets.cli", "start", "--no-sample"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert f"warning: {RUNTIME_MESSAGE}" in done.stderr.splitlines() and done.stderr.count(RUNTIME_MESSAGE) == 1


# --- dlt's data folder inside the project ---------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[1]


def source_project_env(root: Path, **env: str) -> str:
    """`scripts/project_env.sh` as bootstrap.sh sources it, from a copy in `root/scripts`; DLT_DATA_DIR after it."""
    (root / "scripts").mkdir(exist_ok=True)
    (root / "scripts" / "project_env.sh").write_bytes((REPO_ROOT / "scripts" / "project_env.sh").read_bytes())
    clean = {k: v for k, v in os.environ.items() if k not in ("DLT_DATA_DIR", "ROOT")}
    done = subprocess.run(
        ["bash", "-c", 'set -euo pipefail; source "$0/scripts/project_env.sh"; echo "$DLT_DATA_DIR"', str(root)],
        env={**clean, **env}, capture_output=True, text=True, check=True,
    )
    return done.stdout.strip()


def test_the_scripts_keep_dlts_data_folder_in_the_checkout(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    assert 'source "$ROOT/scripts/project_env.sh"' in (REPO_ROOT / "scripts" / "bootstrap.sh").read_text()
    assert source_project_env(checkout) == f"{checkout}/{config.PROJECT_DATA_DIR}"
    assert source_project_env(checkout) == f"{checkout}/{config.PROJECT_DATA_DIR}"
    assert (checkout / ".env").read_text() == f"DLT_DATA_DIR={checkout}/{config.PROJECT_DATA_DIR}\n"  # appended once
    assert source_project_env(checkout, DLT_DATA_DIR="/srv/dlt") == "/srv/dlt"  # one the user set is kept
    ignored = subprocess.run(["git", "-C", str(REPO_ROOT), "check-ignore", "-q", f"{config.PROJECT_DATA_DIR}/pipelines/x"])
    assert ignored.returncode == 0


def test_two_checkouts_never_share_submission_records(project_env, tmp_path):
    """`sqlflow-assets` (without the scripts) defaults DLT_DATA_DIR to `<project>/.dlt_data` too."""
    env = {k: v for k, v in os.environ.items() if k != "DLT_DATA_DIR"}
    outputs = []
    for name in ("one", "two"):
        checkout = tmp_path / name
        (checkout / "sql").mkdir(parents=True)
        (checkout / "sql" / "a.sql").write_text("INSERT INTO t2 (x) SELECT x FROM t1;")
        command = [sys.executable, "-m", "sqlflow_assets.cli", "submit", "sql", "--name", "shared name"]
        done = subprocess.run(command, env={**env, "DLT_PROJECT_DIR": str(checkout)}, cwd=checkout, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
        assert (checkout / config.PROJECT_DATA_DIR / "sqlflow_assets" / "submissions.json").is_file()
    assert all("submitted 1 file " in output for output in outputs), outputs  # the second checkout has its own record


# --- changing the destination ---------------------------------------------------------------------


def test_a_changed_destination_is_reported_until_every_job_is_reloaded_there(project_env, tmp_path, postgres_database, monkeypatch, capsys):
    """DuckDB first, then `destination_type = postgres`: each run and `start` say so and name the command, which works."""
    import sqlalchemy as sa

    from sqlflow_assets import cli

    monkeypatch.setenv("SOURCES__SQLFLOW__SENSOR_JOB_NAME_PATTERN", "reload-*")  # this test's jobs among the session's
    jobs = [
        submit_and_wait([("a.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")], job_name="reload-a")["jobId"],
        submit_and_wait([("b.sql", b"INSERT INTO t3 (y) SELECT x FROM t2;")], job_name="reload-b")["jobId"],
    ]
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_job_lineage(instance, jobs[0]).success  # into DuckDB

    monkeypatch.setenv("DESTINATION_TYPE", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_database)
    message = "the destination is now postgres but the jobs loaded so far went to duckdb: `sqlflow-assets reload --all` loads every job into postgres"

    def run_warnings(job_id: str) -> list[str]:
        result = materialize_job_lineage(instance, job_id)
        return [entry.user_message for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING]

    assert message in run_warnings(jobs[1])  # the first run into PostgreSQL
    assert message in run_warnings(jobs[1])  # and the next: the change is remembered past dlt's state
    home = tmp_path / "not_a_folder"
    home.write_text("")
    started = subprocess.run(
        [sys.executable, "-m", "sqlflow_assets.cli", "start", "--no-sample"],
        env={**os.environ, "DAGSTER_HOME": str(home)}, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert f"warning: {message}" in started.stderr.splitlines(), started.stderr

    assert cli.main(["reload", "--all"]) == 0
    out = capsys.readouterr().out
    assert "2 jobs loaded into postgres, 0 not; the current graph has" in out, out
    engine = sa.create_engine(postgres_database.replace("postgresql:", "postgresql+psycopg2:"))
    with engine.connect() as conn:
        loaded = {row[0] for row in conn.execute(sa.text("SELECT DISTINCT job_id FROM lineage.column_edges"))}
        current = conn.execute(sa.text("SELECT count(*) FROM lineage.table_lineage")).scalar()
    engine.dispose()
    assert loaded == set(jobs) and current >= 2
    assert message not in run_warnings(jobs[0])  # reloaded: no longer reported
