"""SQL sources (folder, file list, git repository) submitted to the real local server only when they changed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.errors import SourceError
from sqlflow_assets.submit import submission
from sqlflow_assets.submit.submission import SqlSource

INSERT_1 = "INSERT INTO t2 (x) SELECT x FROM t1;"
INSERT_2 = "INSERT INTO t3 (y) SELECT y FROM t1;"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A real local git repository on branch `main` with SQL under `sql/` and other files beside it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "tester")
    write(repo, {"sql/a.sql": INSERT_1, "sql/marts/b.sql": INSERT_2, "other/c.sql": "SELECT 1;", "README.md": "x"})
    commit(repo, "first")
    return repo


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def names(source: SqlSource) -> list[str]:
    return [name for name, _ in submission.read_source(source).files]


def test_folder_include_exclude_globs(tmp_path, monkeypatch):
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    write(tmp_path / "sql", {"a.sql": "1", "B.SQL": "2", "marts/c.sql": "3", "marts/tmp/d.sql": "4", "e.txt": "5"})
    assert names(SqlSource(name="s", path="sql")) == ["B.SQL", "a.sql", "marts/c.sql", "marts/tmp/d.sql"]
    assert names(SqlSource(name="s", path="sql", include=["marts/**"])) == ["marts/c.sql", "marts/tmp/d.sql"]
    assert names(SqlSource(name="s", path="sql", include=["*.sql"])) == ["B.SQL", "a.sql"]  # `*` stays in one folder
    assert names(SqlSource(name="s", path="sql", exclude=["**/tmp/**", "b.*"])) == ["a.sql", "marts/c.sql"]
    assert names(SqlSource(name="s", path="sql", include=["**/*.txt", "a.sql"])) == ["a.sql", "e.txt"]
    with pytest.raises(SourceError, match="holds no matching files"):
        names(SqlSource(name="s", path="sql", include=["*.bteq"]))
    with pytest.raises(SourceError, match="does not exist"):
        names(SqlSource(name="s", path="missing"))


def test_file_list_is_read_exactly(tmp_path):
    write(tmp_path, {"etl/load.sql": INSERT_1, "etl/views/v.bteq": INSERT_2, "elsewhere/x.sql": "SELECT 1;"})
    source = SqlSource(name="s", kind="files", path=str(tmp_path / "etl"), files=["views/v.bteq", "load.sql"])
    assert submission.read_source(source).files == [("load.sql", INSERT_1.encode()), ("views/v.bteq", INSERT_2.encode())]
    # a file outside the folder is named from a folder that holds it (an absolute entry is refused)
    outside = source.model_copy(update={"path": str(tmp_path), "files": ["etl/load.sql", "elsewhere/x.sql"]})
    assert submission.read_source(outside).files == [("elsewhere/x.sql", b"SELECT 1;"), ("etl/load.sql", INSERT_1.encode())]
    with pytest.raises(SourceError, match="nope.sql does not exist"):
        submission.read_source(source.model_copy(update={"files": ["nope.sql"]}))


def test_sources_are_validated_and_read_from_dlt_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLFLOW_SQL_DIR", str(tmp_path))
    monkeypatch.delenv("SOURCES__SQLFLOW__SQL_SOURCES", raising=False)
    default = submission.configured_sources()
    assert [(s.name, s.path) for s in default] == [(submission.DEFAULT_SOURCE_NAME, str(tmp_path))]
    monkeypatch.setenv(
        "SOURCES__SQLFLOW__SQL_SOURCES",
        json.dumps([{"name": "wh", "kind": "git", "url": "https://example.com/wh.git", "branch": "prod", "dbvendor": "dbvsnowflake"},
                    {"name": "etl", "path": "sql", "default_schema": "raw"}]),
    )
    wh, etl = submission.configured_sources()
    assert (wh.kind, wh.branch, wh.dbvendor, wh.job) == ("git", "prod", "dbvsnowflake", "wh")
    assert (etl.kind, etl.default_schema, etl.dbvendor) == ("folder", "raw", submission.DEFAULT_DBVENDOR)
    for bad, message in [
        ([{"name": "x", "kind": "svn", "path": "p"}], "kind 'svn'"),
        ([{"name": "x", "kind": "git"}], "needs `url` or `path`"),
        ([{"name": "x", "path": "p", "colour": "red"}], "colour"),
        ([{"name": "x", "path": "p"}, {"name": "x", "path": "q"}], "two SQL sources are named 'x'"),
    ]:
        with pytest.raises(ValueError, match=message):
            submission.configured_sources(bad)
    with pytest.raises(SourceError, match="neither a configured SQL source"):
        submission.find_source("nowhere", [wh, etl])
    assert submission.find_source("etl", [wh, etl]) is etl
    assert submission.find_source(str(tmp_path), [wh, etl]).name == str(tmp_path.resolve())


def test_git_repository_through_two_commits(project_env, repo, tmp_path):
    client = SQLFlowClient.from_config()
    source = SqlSource(name="warehouse", kind="git", path=str(repo), branch="main", subfolder="sql")

    first = submission.submit_source(client, source)
    assert first.submitted and first.action == "new job" and first.revision == git(repo, "rev-parse", "HEAD")
    job = client.wait_for_job(first.job_id, poll_seconds=0.1, timeout=60)
    assert job["jobName"] == "warehouse" and sorted(job["fileNames"]) == ["a.sql", "marts/b.sql"]  # only the subfolder

    assert not submission.submit_source(client, source, first.state).submitted  # same commit
    write(repo, {"other/c.sql": "SELECT 2;", "README.md": "y"})
    commit(repo, "outside the subfolder")
    unchanged = submission.submit_source(client, source, first.state)
    assert not unchanged.submitted and unchanged.job_id == first.job_id  # a new commit, the same SQL

    write(repo, {"sql/a.sql": INSERT_2})
    second_commit = commit(repo, "second")
    second = submission.submit_source(client, source, first.state)
    assert second.submitted and second.job_id != first.job_id and second.revision == second_commit
    assert second.state["revision"] == second_commit
    lineage = client.export_full_lineage_csv(client.wait_for_job(second.job_id, poll_seconds=0.1, timeout=60)["jobId"])
    assert "t3" in lineage.lower() and "t2" not in lineage.lower()

    # a working-copy edit that is not committed is not what the branch holds
    write(repo, {"sql/a.sql": "INSERT INTO t9 (z) SELECT z FROM t1;"})
    assert not submission.submit_source(client, source, second.state).submitted


def test_git_branch_and_url_are_honoured(project_env, repo):
    git(repo, "checkout", "--quiet", "-b", "dev")
    write(repo, {"sql/dev_only.sql": INSERT_2})
    commit(repo, "dev work")
    git(repo, "checkout", "--quiet", "main")
    on_main = SqlSource(name="w", kind="git", path=str(repo), branch="main", subfolder="sql/")
    on_dev = SqlSource(name="w", kind="git", url=repo.as_uri(), branch="dev", subfolder="sql")
    assert names(on_main) == ["a.sql", "marts/b.sql"]
    assert names(on_dev) == ["a.sql", "dev_only.sql", "marts/b.sql"]
    assert names(on_main.model_copy(update={"branch": None, "subfolder": None, "exclude": ["other/**"]})) == [
        "sql/a.sql", "sql/marts/b.sql"
    ]  # no branch: the remote's HEAD (main, checked out)
    with pytest.raises(SourceError, match="git failed"):
        names(on_main.model_copy(update={"branch": "no-such-branch"}))


def test_a_git_url_password_never_reaches_an_error(project_env):
    from sqlflow_assets_tests.support import free_port

    source = SqlSource(name="w", kind="git", url=f"http://me:s3cret-tok@127.0.0.1:{free_port()}/repo.git")
    assert "s3cret-tok" not in source.describe() and "127.0.0.1" in source.describe()
    with pytest.raises(SourceError) as failure:
        submission.read_source(source)
    assert "s3cret-tok" not in str(failure.value) and "git failed" in str(failure.value)


def test_dbvendor_change_and_force_resubmit(project_env, tmp_path):
    client = SQLFlowClient.from_config()
    write(tmp_path / "sql", {"a.sql": INSERT_1})
    source = SqlSource(name="etl", path=str(tmp_path / "sql"), default_schema="raw")
    first = submission.submit_source(client, source)
    assert not submission.submit_source(client, source, first.state).submitted
    forced = submission.submit_source(client, source, first.state, force=True)
    assert forced.submitted and forced.job_id != first.job_id and forced.fingerprint == first.fingerprint
    oracle = submission.submit_source(client, source.model_copy(update={"dbvendor": "dbvoracle"}), forced.state)
    assert oracle.submitted and oracle.fingerprint != first.fingerprint
    job = client.job_summary(oracle.job_id)
    assert (job["dbVendor"], job["defaultSchema"], job["jobName"]) == ("dbvoracle", "raw", "etl")
    schema = submission.submit_source(client, source.model_copy(update={"default_schema": "stage"}), first.state)
    assert schema.submitted  # the default schema shapes the job too


def test_incremental_source_keeps_one_persistent_job(project_env, tmp_path):
    client = SQLFlowClient.from_config()
    folder = tmp_path / "sql"
    write(folder, {"a.sql": INSERT_1, "b.sql": INSERT_2})
    source = SqlSource(name="inc", path=str(folder), incremental=True)
    first = submission.submit_source(client, source)
    assert first.action == "persist: new job"
    client.wait_for_job(first.job_id, poll_seconds=0.1, timeout=60)

    write(folder, {"b.sql": "INSERT INTO t4 (y) SELECT y FROM t1;", "c.sql": "INSERT INTO t5 (x) SELECT x FROM t2;"})
    added = submission.submit_source(client, source, first.state)
    assert (added.job_id, added.action) == (first.job_id, "persist: added 2 files")  # a.sql is not sent again
    assert sorted(client.wait_for_job(first.job_id, poll_seconds=0.1, timeout=60)["fileNames"]) == ["a.sql", "b.sql", "c.sql"]

    (folder / "a.sql").unlink()
    replaced = submission.submit_source(client, source, added.state)
    assert (replaced.job_id, replaced.action) == (first.job_id, "persist: replaced files")
    assert sorted(client.wait_for_job(first.job_id, poll_seconds=0.1, timeout=60)["fileNames"]) == ["b.sql", "c.sql"]

    other_vendor = submission.submit_source(client, source.model_copy(update={"dbvendor": "dbvmssql"}), replaced.state)
    assert other_vendor.action == "persist: new job" and other_vendor.job_id != first.job_id  # a job keeps its vendor
    client.wait_for_job(other_vendor.job_id, poll_seconds=0.1, timeout=60)
    gone = {**other_vendor.state, "job_id": "0" * 32}
    write(folder, {"d.sql": INSERT_1})
    assert submission.submit_source(client, source.model_copy(update={"dbvendor": "dbvmssql"}), gone).action == "persist: new job"


def test_retired_jobs_are_the_recorded_configured_sources_configured_no_more():
    from sqlflow_assets.submit.submission import DEFAULT_SOURCE_NAME, SqlSource, retired_jobs

    record = {
        DEFAULT_SOURCE_NAME: {"job_id": "1"},  # recorded before the flag: the default folder counts as configured
        "old": {"job_id": "2", "configured": True, "job_name": "old job"},
        "adhoc": {"job_id": "3", "configured": False},
        "renamed": {"job_id": "4", "configured": True, "job_name": "shared job"},
        "legacy": {"job_id": "5"},  # before the flag and not the default: maybe ad hoc, kept
    }
    now = [SqlSource(name="etl", path="x"), SqlSource(name="kept", path="y", job_name="shared job")]
    assert retired_jobs(record, now) == sorted([DEFAULT_SOURCE_NAME, "old job"])
    assert retired_jobs(record, [SqlSource(name=DEFAULT_SOURCE_NAME, path="x"), SqlSource(name="old", path="y")]) == ["shared job"]
    assert retired_jobs({}, now) == []
