"""The `sqlflow/sql_submission` asset, materialised for real against the local server."""

from __future__ import annotations

import json
import logging
import subprocess

import dagster as dg
import pytest

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.defs import sql_submission as submission_defs
from sqlflow_assets.defs.resources import default_resources
from sqlflow_assets.defs.sql_submission import SqlSourceConfig, SqlSubmissionConfig
from sqlflow_assets.submit.submission import DEFAULT_SOURCE_NAME

INSERT_1 = "INSERT INTO t2 (x) SELECT x FROM t1;"


def submit(project_env, instance, raise_on_error: bool = True, **config) -> tuple[dg.ExecuteInPipelineResult, list[dg.AssetMaterialization]]:
    result = dg.materialize(
        [submission_defs.sql_submission],
        instance=instance,
        resources=default_resources(),
        run_config=dg.RunConfig({"sqlflow__sql_submission": SqlSubmissionConfig(**config)}),
        raise_on_error=raise_on_error,
    )
    return result, [event.materialization for event in result.get_asset_materialization_events()]


def test_sql_submission_only_resubmits_changed_content(project_env, tmp_path, monkeypatch):
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "a.sql").write_text(INSERT_1)
    monkeypatch.setenv("SQLFLOW_SQL_DIR", str(folder))
    instance = dg.DagsterInstance.ephemeral()

    _, first = submit(project_env, instance)  # nothing configured: the folder from SQLFLOW_SQL_DIR
    assert len(first) == 1
    job_id = first[0].metadata[f"job_id/{DEFAULT_SOURCE_NAME}"].value
    assert len(job_id) == 32 and first[0].metadata[f"where/{DEFAULT_SOURCE_NAME}"].value == f"folder {folder}"
    assert SQLFlowClient.from_config().job_summary(job_id)["jobName"] == DEFAULT_SOURCE_NAME
    assert submit(project_env, instance, folder=str(folder))[1] == []  # same content, named in run config: nothing sent
    (folder / "a.sql").write_text("INSERT INTO t3 (x) SELECT x FROM t1;")
    _, third = submit(project_env, instance)
    assert len(third) == 1 and third[0].metadata[f"job_id/{DEFAULT_SOURCE_NAME}"].value != job_id


def test_each_configured_source_is_submitted_when_it_changed(project_env, tmp_path, monkeypatch):
    """Two sources from `[[sources.sqlflow.sql_sources]]` (a folder and a real git repository)."""
    folder, repo = tmp_path / "etl", tmp_path / "repo"
    (folder).mkdir()
    (folder / "load.sql").write_text(INSERT_1)
    (repo / "models").mkdir(parents=True)
    (repo / "models" / "m.sql").write_text("INSERT INTO m (y) SELECT y FROM t1;")
    for args in (["init", "--quiet", "-b", "main"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "1"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    monkeypatch.setenv(
        "SOURCES__SQLFLOW__SQL_SOURCES",
        json.dumps([{"name": "etl", "path": str(folder)},
                    {"name": "models", "kind": "git", "path": str(repo), "subfolder": "models", "dbvendor": "dbvsnowflake"}]),
    )
    instance = dg.DagsterInstance.ephemeral()
    client = SQLFlowClient.from_config()

    _, [first] = submit(project_env, instance)
    assert first.metadata["submitted"].value == ["etl", "models"]
    models_job = first.metadata["job_id/models"].value
    assert client.job_summary(models_job)["dbVendor"] == "dbvsnowflake"
    assert len(first.metadata["revision/models"].value) == 40

    (folder / "load.sql").write_text("INSERT INTO t7 (x) SELECT x FROM t1;")
    _, [second] = submit(project_env, instance)
    assert second.metadata["submitted"].value == ["etl"]
    state = second.metadata["sources"].value
    assert state["models"]["job_id"] == models_job  # the unchanged source keeps its state
    assert state["etl"]["job_id"] == second.metadata["job_id/etl"].value != first.metadata["job_id/etl"].value

    assert submit(project_env, instance)[1] == []
    _, [vendor] = submit(project_env, instance, dbvendor="dbvoracle", only=["models"])  # the "unchanged" case
    assert vendor.metadata["submitted"].value == ["models"]
    assert client.job_summary(vendor.metadata["job_id/models"].value)["dbVendor"] == "dbvoracle"
    _, [forced] = submit(project_env, instance, force=True)
    assert forced.metadata["submitted"].value == ["etl", "models"]
    with pytest.raises(dg.Failure, match="unknown SQL source"):
        submit(project_env, instance, only=["nope"])


def test_a_failing_source_fails_the_run_after_the_others_are_recorded(project_env, tmp_path):
    folder = tmp_path / "ok"
    folder.mkdir()
    (folder / "a.sql").write_text(INSERT_1)
    sources = [SqlSourceConfig(name="ok", path=str(folder)), SqlSourceConfig(name="broken", path=str(tmp_path / "missing"))]
    instance = dg.DagsterInstance.ephemeral()

    result, recorded = submit(project_env, instance, raise_on_error=False, sources=sources)
    assert not result.success
    failure = result.failure_data_for_node("sqlflow__sql_submission").error
    assert "broken" in failure.message and "does not exist" in failure.message
    assert recorded and recorded[0].metadata["submitted"].value == ["ok"]
    (folder.parent / "missing").mkdir()
    (folder.parent / "missing" / "b.sql").write_text(INSERT_1)
    _, [retried] = submit(project_env, instance, sources=sources)
    assert retried.metadata["submitted"].value == ["broken"]  # "ok" is not sent twice


def test_a_git_url_typed_in_run_config_runs_no_command(project_env, tmp_path):
    """Issue 16's attack through the Dagster UI: a `sources` run config whose git url is a git option."""
    marker = tmp_path / "marker"
    evil = SqlSourceConfig(name="evil", kind="git", url=f"--upload-pack=touch {marker};true")
    result, recorded = submit(project_env, dg.DagsterInstance.ephemeral(), raise_on_error=False, sources=[evil])
    assert not result.success and recorded == []
    failure = result.failure_data_for_node("sqlflow__sql_submission").error.message
    assert "evil" in failure and "git `url` starts with '-'" in failure
    assert not marker.exists()


def test_links_out_of_a_folder_are_skipped_and_listed(project_env, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.sql").write_text("SELECT 'the secret' FROM outside_table;")
    folder = tmp_path / "sql"
    folder.mkdir()
    (folder / "a.sql").write_text(INSERT_1)
    (folder / "passwd.sql").symlink_to("/etc/passwd")
    (folder / "escape").symlink_to(outside)

    instance = dg.DagsterInstance.ephemeral()
    result, [materialised] = submit(project_env, instance, sources=[SqlSourceConfig(name="etl", path=str(folder))])
    link = "symbolic link (never followed)"
    assert materialised.metadata["skipped/etl"].value == {"escape": link, "passwd.sql": link}
    warnings = [entry.user_message for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING]
    assert f"etl: skipped 2 entries (escape: {link}; passwd.sql: {link})" in warnings
    job = SQLFlowClient.from_config().job_summary(materialised.metadata["job_id/etl"].value)
    assert job["fileNames"] == ["a.sql"]


def _outside_repo(root) -> str:
    """A real git repository with one SQL file, outside the project folder."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    (repo / "k.sql").write_text("SELECT 'the secret outside' FROM keys;")
    for args in (["init", "--quiet", "-b", "main"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "1"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return str(repo)


def test_run_config_cannot_choose_a_root_outside_the_project(project_env, tmp_path, tmp_path_factory):
    """Issue 19: `path: /root/.ssh, include: ["**"]` typed in the UI must not send those files to SQLFlow."""
    outside = tmp_path_factory.mktemp("outside")  # beside the project (tmp_path), like /root/.ssh
    (outside / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY----- the secret")
    repo = _outside_repo(outside)
    (tmp_path / "escape").symlink_to(outside)  # inside the project by name, outside once resolved
    attacks = {
        "keys": (SqlSourceConfig(name="keys", path=str(outside), include=["**"]), "path"),
        "link": (SqlSourceConfig(name="link", path="escape", include=["**"]), "path"),
        "dotdot": (SqlSourceConfig(name="dotdot", path=f"../{outside.name}", include=["**"]), "path"),
        "listed": (SqlSourceConfig(name="listed", kind="files", path=str(outside), files=["id_rsa"]), "path"),
        "repo": (SqlSourceConfig(name="repo", kind="git", path=repo), "path"),
        "plain-url": (SqlSourceConfig(name="plain-url", kind="git", url=repo), "url"),
        "file-url": (SqlSourceConfig(name="file-url", kind="git", url=f"file://{repo}"), "url"),
    }
    jobs_before = len(SQLFlowClient.from_config().jobs_summary()["jobDetails"])
    instance = dg.DagsterInstance.ephemeral()
    for name, (source, field_name) in attacks.items():
        result, recorded = submit(project_env, instance, raise_on_error=False, sources=[source])
        assert not result.success and recorded == [], name
        message = result.failure_data_for_node("sqlflow__sql_submission").error.message
        assert f"SQL source(s) not submitted: {name}: SQL source {name!r}: `{field_name}` " in message, message
        assert "lies outside the project folder" in message and "\n" not in message.strip(), message
    result, recorded = submit(project_env, instance, raise_on_error=False, folder=str(outside))
    assert not result.success and recorded == []
    assert "lies outside the project folder" in result.failure_data_for_node("sqlflow__sql_submission").error.message
    assert len(SQLFlowClient.from_config().jobs_summary()["jobDetails"]) == jobs_before  # nothing reached SQLFlow


def test_run_config_never_reads_the_projects_secrets(project_env, tmp_path):
    """Inside the project, `.dlt/` (secrets.toml), `.env` and the like are never sent from run config."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text('[sources.sqlflow]\nsecret_key = "the secret"\n')
    (tmp_path / ".env").write_text("TOKEN=the secret\n")
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "a.sql").write_text(INSERT_1)
    instance = dg.DagsterInstance.ephemeral()

    _, [whole] = submit(project_env, instance, sources=[SqlSourceConfig(name="all", path=".", include=["**"])])
    names = SQLFlowClient.from_config().job_summary(whole.metadata["job_id/all"].value)["fileNames"]
    assert "sql/a.sql" in names and not any(name.startswith((".dlt/", ".env", "data/")) for name in names), names
    result, recorded = submit(project_env, instance, raise_on_error=False, sources=[SqlSourceConfig(name="dlt", path=".dlt", include=["**"])])
    assert not result.success and recorded == []
    assert "`path` '.dlt' lies in the project's .dlt" in result.failure_data_for_node("sqlflow__sql_submission").error.message
    listed = SqlSourceConfig(name="listed", kind="files", files=[".dlt/secrets.toml"])
    result, _ = submit(project_env, instance, raise_on_error=False, sources=[listed])
    assert "`files` entry '.dlt/secrets.toml' lies in the project's .dlt" in result.failure_data_for_node("sqlflow__sql_submission").error.message


def test_configured_sources_may_name_any_folder(project_env, tmp_path_factory, monkeypatch):
    """`.dlt/config.toml` and the environment are the operator's: their folders are not confined."""
    outside = tmp_path_factory.mktemp("shared_sql")
    (outside / "a.sql").write_text(INSERT_1)
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([{"name": "shared", "path": str(outside)}]))
    _, [materialised] = submit(project_env, dg.DagsterInstance.ephemeral())
    assert materialised.metadata["submitted"].value == ["shared"]


def test_the_cli_and_the_asset_keep_one_submission_record(project_env, tmp_path, monkeypatch, capsys):
    """Issue 19: a change submitted by `sqlflow-assets submit` is not submitted again by the asset, and the reverse."""
    from sqlflow_assets import cli

    folder = tmp_path / "etl"
    folder.mkdir()
    (folder / "a.sql").write_text(INSERT_1)
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([{"name": "etl", "path": str(folder)}]))
    client = SQLFlowClient.from_config()
    instance = dg.DagsterInstance.ephemeral()
    jobs = lambda: len(client.jobs_summary()["jobDetails"])  # noqa: E731

    assert cli.main(["submit", "etl"]) == 0
    assert "etl: submitted 1 file " in capsys.readouterr().out
    before = jobs()
    result, recorded = submit(project_env, instance)
    assert result.success and recorded == [] and jobs() == before  # the CLI's submission is known to the asset

    (folder / "a.sql").write_text("INSERT INTO t9 (x) SELECT x FROM t1;")
    _, [materialised] = submit(project_env, instance)
    assert materialised.metadata["submitted"].value == ["etl"]
    assert cli.main(["submit", "etl"]) == 0
    assert "nothing submitted" in capsys.readouterr().out and jobs() == before + 1  # the asset's is known to the CLI
    record = json.loads((tmp_path / "dlt_data" / "sqlflow_assets" / "submissions.json").read_text())
    assert record["etl"] == materialised.metadata["sources"].value["etl"]  # the metadata shows the one record


def test_a_source_removed_from_the_config_leaves_the_current_graph(project_env, tmp_path, monkeypatch, capsys):
    """Issue 19: the sample (the default folder) is retired as soon as a source of the user's own is
    configured, and that source when it is removed again; a folder submitted ad hoc stays."""
    from sqlflow_assets import cli
    from sqlflow_assets_tests.support import materialize_job_lineage, refresh

    sample, etl, adhoc = tmp_path / "sample", tmp_path / "etl", tmp_path / "adhoc"
    for folder, sql in ((sample, INSERT_1), (etl, "INSERT INTO t4 (y) SELECT y FROM t3;"), (adhoc, "INSERT INTO t6 (z) SELECT z FROM t5;")):
        folder.mkdir()
        (folder / "a.sql").write_text(sql)
    monkeypatch.setenv("SQLFLOW_SQL_DIR", str(sample))
    instance = dg.DagsterInstance.ephemeral()
    client = SQLFlowClient.from_config()

    def submitted_and_loaded() -> None:
        _, [materialised] = submit(project_env, instance)
        for name in materialised.metadata["submitted"].value:
            job_id = materialised.metadata[f"job_id/{name}"].value
            client.wait_for_job(job_id, poll_seconds=0.2, timeout=60)
            assert materialize_job_lineage(instance, job_id).success

    def graph_sources() -> set[str]:
        return {row["source"] for row in refresh(project_env, instance)["current_jobs"]}

    submitted_and_loaded()
    assert cli.main(["submit", str(adhoc), "--name", "adhoc", "--wait"]) == 0  # a folder given to the CLI: ad hoc
    adhoc_job = next(job for job in client.jobs_summary()["jobDetails"] if job["jobName"] == "adhoc")
    assert materialize_job_lineage(instance, adhoc_job["jobId"]).success
    assert graph_sources() == {DEFAULT_SOURCE_NAME, "adhoc"}

    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([{"name": "etl", "path": str(etl)}]))
    submitted_and_loaded()
    graph = refresh(project_env, instance)
    assert {row["source"] for row in graph["current_jobs"]} == {"etl", "adhoc"}  # the sample left, the ad hoc folder stayed
    assert {row["target_object"] for row in graph["column_lineage"]} == {"t4", "t6"}  # and its edges with it

    monkeypatch.delenv("SOURCES__SQLFLOW__SQL_SOURCES")  # back to the default folder: etl retired, the sample current again
    assert graph_sources() == {DEFAULT_SOURCE_NAME, "adhoc"}
    capsys.readouterr()
