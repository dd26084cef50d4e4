"""`sqlflow-assets`: `start` set-up (a local user created once, never printed, kept) and the commands for work outside the UI."""

import json
import os
import stat
import subprocess
import sys

import pytest

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets_tests.support import REPO_ROOT

ENSURE = (
    "from pathlib import Path; from sqlflow_assets.cli import ensure_credentials; "
    "user, secret = ensure_credentials(Path('.')); print('resolved', user, secret)"
)


def ensure_credentials_in(project, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    return subprocess.run(
        [sys.executable, "-c", ENSURE],
        cwd=project, env={**clean, "DLT_PROJECT_DIR": str(project), "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True, text=True, check=True, timeout=120,
    )


def test_first_start_writes_a_private_local_user_then_keeps_it(tmp_path):
    first = ensure_credentials_in(tmp_path)
    secrets_file = tmp_path / ".dlt" / "secrets.toml"
    text = secrets_file.read_text()
    secret = text.split('secret_key = "')[1].split('"')[0]
    assert len(secret) >= 24 and 'user_id = "local|' in text
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600

    second = ensure_credentials_in(tmp_path)
    assert "created" not in second.stdout
    assert secrets_file.read_text() == text
    assert second.stdout.strip().endswith(secret)  # the same user and secret are resolved again
    setup_message = next(line for line in first.stdout.splitlines() if line.startswith("created"))
    assert secret not in setup_message


def test_configured_credentials_are_used_as_they_are(tmp_path):
    result = ensure_credentials_in(tmp_path, SOURCES__SQLFLOW__USER_ID="auth0|me", SOURCES__SQLFLOW__SECRET_KEY="k" * 20)
    assert "auth0|me" in result.stdout and not (tmp_path / ".dlt" / "secrets.toml").exists()


# --- submit, jobs, status, export against the real local server ---------------------------------

INSERT_1 = "INSERT INTO t2 (x) SELECT x FROM t1;"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    from sqlflow_assets.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sql_folder(tmp_path):
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "a.sql").write_text(INSERT_1)
    return folder


def test_submit_a_folder_then_only_when_it_changed(project_env, sql_folder, capsys):
    code, out, _ = run_cli(capsys, "submit", str(sql_folder), "--wait", "--poll", "0.1")
    assert code == 0 and f"{sql_folder}: submitted 1 file (new job) as job " in out and out.rstrip().endswith(": success")
    job_id = out.split(" as job ")[1].split()[0]
    client = SQLFlowClient.from_config()
    assert client.job_summary(job_id)["jobName"] == str(sql_folder)  # a folder's job is named after its path

    code, out, _ = run_cli(capsys, "submit", str(sql_folder))
    assert code == 0 and f"unchanged since job {job_id}; nothing submitted" in out
    code, out, _ = run_cli(capsys, "submit", str(sql_folder), "--dbvendor", "dbvoracle")
    assert code == 0 and "submitted 1 file" in out
    assert client.job_summary(out.split(" as job ")[1].split()[0])["dbVendor"] == "dbvoracle"
    code, out, _ = run_cli(capsys, "submit", str(sql_folder), "--dbvendor", "dbvoracle", "--force", "--name", "nightly")
    new_job = out.split(" as job ")[1].split()[0]
    assert code == 0 and "nightly: submitted" in out and client.job_summary(new_job)["jobName"] == "nightly"


def test_submit_a_configured_source_and_its_errors(project_env, sql_folder, capsys, monkeypatch):
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([{"name": "etl", "path": str(sql_folder), "default_schema": "raw"}]))
    code, out, _ = run_cli(capsys, "submit", "etl")
    assert code == 0 and "etl: submitted 1 file" in out
    assert SQLFlowClient.from_config().job_summary(out.split(" as job ")[1].split()[0])["defaultSchema"] == "raw"

    code, out, err = run_cli(capsys, "submit", "nope")
    assert code == 2 and out == "" and "'nope' is neither a configured SQL source ('etl') nor a folder" in err
    (sql_folder / "a.sql").unlink()
    code, _, err = run_cli(capsys, "submit", "etl")
    assert code == 1 and "holds no matching files" in err
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([{"name": "etl", "kind": "svn", "path": "x"}]))
    code, _, err = run_cli(capsys, "submit", "etl")
    assert code == 2 and "kind 'svn' is not one of folder, git, files" in err


def test_submit_wait_reports_a_failed_job(project_env, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.sql").write_text("SELEC nonsense FRM ;;")
    code, out, err = run_cli(capsys, "submit", str(folder), "--wait", "--poll", "0.1")
    job_id = out.split(" as job ")[1].split()[0]
    status = SQLFlowClient.from_config().job_summary(job_id)["status"]
    assert (code, status) == (1, "fail") and f"job {job_id} failed" in err  # no statement parsed: the job fails


def test_jobs_status_and_export(project_env, sql_folder, capsys, tmp_path):
    code, out, _ = run_cli(capsys, "submit", str(sql_folder), "--name", "listed", "--wait", "--poll", "0.1")
    job_id = out.split(" as job ")[1].split()[0]

    code, out, _ = run_cli(capsys, "jobs", "--format", "json")
    assert code == 0 and {"jobId": job_id, "jobName": "listed", "status": "success"}.items() <= {
        k: v for job in json.loads(out) if job["jobId"] == job_id for k, v in job.items()
    }.items()
    code, out, _ = run_cli(capsys, "jobs")
    header, *rows = out.splitlines()
    assert code == 0 and header.split() == ["jobId", "jobName", "status", "dbVendor", "createTime", "files"]
    assert any(row.split()[:3] == [job_id, "listed", "success"] for row in rows)

    code, out, _ = run_cli(capsys, "status", job_id)
    assert code == 0 and "status: success" in out.splitlines() and "fileNames: a.sql" in out.splitlines()
    code, out, _ = run_cli(capsys, "status", job_id, "--format", "json")
    assert json.loads(out)["jobId"] == job_id

    code, out, _ = run_cli(capsys, "export", job_id)
    lineage = json.loads(out)
    assert code == 0 and lineage["code"] == 200 and "relationships" in json.dumps(lineage)
    target = tmp_path / "out.csv"
    code, out, err = run_cli(capsys, "export", job_id, "--format", "csv", "-o", str(target))
    text = target.read_text().lower()
    assert code == 0 and out == "" and f"written to {target}" in err and "t1" in text and "t2" in text


def test_errors_name_the_cause_and_exit_non_zero(project_env, capsys, monkeypatch, tmp_path):
    code, _, err = run_cli(capsys, "status", "0" * 32)
    assert code == 1 and "displayUserJobSummary" in err and "0" * 32 in err
    code, _, err = run_cli(capsys, "export", "0" * 32, "--format", "csv")
    assert code == 1 and "exportFullLineageAsCsv" in err
    code, _, err = run_cli(capsys, "export", "x", "-o", str(tmp_path / "no" / "such" / "dir" / "f.json"))
    assert code == 1
    with pytest.raises(SystemExit) as usage:
        run_cli(capsys, "export", "x", "--format", "xml")
    assert usage.value.code == 2 and "invalid choice: 'xml'" in capsys.readouterr().err

    from sqlflow_assets_tests.support import free_port

    monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "1")
    code, out, err = run_cli(capsys, "jobs")
    assert code == 1 and out == "" and "ConnectionError" in err and "Traceback" not in err
    assert project_env.server.secret_key not in err


@pytest.mark.parametrize("command", ["submit", "jobs", "status", "export", "impact", "start"])
def test_every_command_has_help(command, capsys):
    from sqlflow_assets.cli import main

    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0 and f"usage: sqlflow-assets {command}" in capsys.readouterr().out


def test_the_entry_point_reads_sources_from_dlt_config_toml(project_env, sql_folder, tmp_path):
    """`[[sources.sqlflow.sql_sources]]` in the project's `.dlt/config.toml`, through a fresh process."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text(
        '[[sources.sqlflow.sql_sources]]\nname = "etl"\npath = "sql"\ndbvendor = "dbvmysql"\n'
    )

    def cli(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sqlflow_assets.cli", *argv], cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True, timeout=120,
        )

    submitted = cli("submit", "etl")
    assert submitted.returncode == 0 and "etl: submitted 1 file" in submitted.stdout, submitted.stderr
    job_id = submitted.stdout.split(" as job ")[1].split()[0]
    assert SQLFlowClient.from_config().job_summary(job_id)["dbVendor"] == "dbvmysql"
    assert "unchanged" in cli("submit", "etl").stdout  # remembered across processes
    missing = cli("status", "f" * 32)
    assert missing.returncode == 1 and missing.stderr.startswith("sqlflow-assets status: SQLFlow")


# --- issue #16 points 6 and 8: one line and exit 1 for failures, exit 2 for usage, a safe `export -o` ---

PG_PASSWORD = "pg-cli-p@ss/word"  # URL-encoded in the credentials string


def cli_in(project, *argv: str, **env: str) -> subprocess.CompletedProcess:
    """`sqlflow-assets` as a fresh process in `project`, with no SQLFlow settings from the environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION"))}
    env = {**clean, "DLT_PROJECT_DIR": str(project), "DLT_DATA_DIR": str(project / "dlt"), "PYTHONPATH": str(REPO_ROOT), **env}
    return subprocess.run([sys.executable, "-m", "sqlflow_assets.cli", *argv], cwd=project, env=env, capture_output=True, text=True, timeout=120)


def assert_one_line(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert all(word in result.stderr for word in words), result.stderr


def test_a_missing_user_id_is_one_line_and_exit_1(tmp_path):
    assert_one_line(cli_in(tmp_path, "jobs"), 1, "sqlflow-assets jobs:", "sources.sqlflow.user_id")


def test_a_malformed_secrets_file_is_one_line_and_exit_1_without_its_values(tmp_path):
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text('[sources.sqlflow]\nuser_id = "me"\nsecret_key = "half-written-s3cr3t\n')
    for command in ("jobs", "submit"):
        result = cli_in(tmp_path, command, *(["x"] if command == "submit" else []))
        assert_one_line(result, 1, f"sqlflow-assets {command}:", "secrets.toml")
        assert "half-written-s3cr3t" not in result.stderr


def test_an_unreachable_postgres_destination_is_one_line_and_exit_1_without_its_password(tmp_path):
    from urllib.parse import quote

    from sqlflow_assets_tests.support import free_port

    credentials = f"postgresql://loader:{quote(PG_PASSWORD, safe='')}@127.0.0.1:{free_port()}/warehouse"
    result = cli_in(tmp_path, "impact", "db.sch.t", DESTINATION_TYPE="postgres", DESTINATION__POSTGRES__CREDENTIALS=credentials)
    assert_one_line(result, 1, "sqlflow-assets impact:", "postgres")
    assert PG_PASSWORD not in result.stderr and quote(PG_PASSWORD, safe="") not in result.stderr


@pytest.mark.parametrize("depth", ["-5", "0"])
def test_a_depth_below_one_is_a_usage_error(tmp_path, depth):
    result = cli_in(tmp_path, "impact", "db.sch.t", "--depth", depth)
    assert result.returncode == 2 and "--depth" in result.stderr and "Traceback" not in result.stderr


def test_export_never_overwrites_nor_writes_through_a_symlink(project_env, sql_folder, capsys, tmp_path):
    code, out, _ = run_cli(capsys, "submit", str(sql_folder), "--name", "exported", "--wait", "--poll", "0.1")
    job_id = out.split(" as job ")[1].split()[0]
    existing, victim, link = tmp_path / "existing.json", tmp_path / "victim.txt", tmp_path / "link.json"
    existing.write_text("keep me")
    victim.write_text("not yours")
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "created-through-link.json")

    for path in (existing, link, dangling):
        code, _, err = run_cli(capsys, "export", job_id, "-o", str(path))
        assert code == 2 and f"{path} exists; --force replaces it" in err
    assert existing.read_text() == "keep me" and victim.read_text() == "not yours"
    assert not (tmp_path / "created-through-link.json").exists()

    code, _, _ = run_cli(capsys, "export", job_id, "-o", str(link), "--force")
    assert code == 0 and not link.is_symlink() and json.loads(link.read_text())["jobId"] == job_id
    assert victim.read_text() == "not yours"  # the symlink was replaced, its target untouched
    code, _, _ = run_cli(capsys, "export", job_id, "-o", str(existing), "--force")
    assert code == 0 and json.loads(existing.read_text())["jobId"] == job_id
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left
