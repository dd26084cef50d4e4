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
    result = materialize_job_lineage(instance, job["jobId"], project_env.duckdb_path)
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
    assert f"warning: {RUNTIME_MESSAGE}" in done.stderr.splitlines()
