"""`sqlflow_source_sensor` on a real git repository and folder: a baseline first, then one submission
run per moved source (config `only: [source]`), which the real submission job runs against the local server."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from sqlflow_assets.definitions import defs
from sqlflow_assets.defs.source_sensors import sqlflow_source_sensor
from sqlflow_assets.errors import SourceError
from sqlflow_assets.submit import git_source
from sqlflow_assets.submit.submission import SqlSource
from sqlflow_assets_tests.fixtures.review_repo import make_review_repo


def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    return sqlflow_source_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def requested(result: dg.SensorResult) -> list[tuple[str, list[str]]]:
    return [(r.run_key, r.run_config["ops"]["sqlflow__sql_submission"]["config"]["only"]) for r in result.run_requests or []]


def test_moved_sources_are_requested_once_each(project_env, tmp_path, monkeypatch) -> None:
    review = make_review_repo(tmp_path)
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([review.source(), review.marts_source()]))
    instance = dg.DagsterInstance.ephemeral()

    first = tick(instance, None)  # a baseline: nothing requested
    assert requested(first) == []
    assert json.loads(first.cursor)["stg"] == review.commits["base"]
    assert requested(tick(instance, first.cursor)) == []

    review.move_main("rename")  # a commit lands on the watched branch
    (review.marts / "marts.sql").write_text("CREATE TABLE mart.x AS SELECT id FROM stg.legacy;\n")
    moved = tick(instance, first.cursor)
    assert requested(moved) == [(f"stg@{review.commits['rename']}", ["stg"])]  # the folder waits for its longer interval
    assert requested(tick(instance, moved.cursor)) == []

    due = json.dumps({**json.loads(moved.cursor), "_folders_checked_at": 0})  # the folder interval passed
    folder = tick(instance, due)
    assert [only for _, only in requested(folder)] == [["marts"]]
    assert requested(tick(instance, folder.cursor)) == []

    # the request runs: the real submission job submits that one source to the local server
    request = moved.run_requests[0]
    result = defs.resolve_job_def("sqlflow_sql_submission").execute_in_process(run_config=request.run_config, instance=instance)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("sqlflow__sql_submission")
    assert materialization.metadata["submitted"].value == ["stg"]
    assert materialization.metadata["revision/stg"].value == review.commits["rename"]


def test_a_source_that_cannot_be_looked_at_keeps_its_state(project_env, tmp_path, monkeypatch) -> None:
    review = make_review_repo(tmp_path)
    gone = {**review.source(), "name": "gone", "branch": "no-such-branch"}
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([review.source(), gone]))
    result = tick(dg.DagsterInstance.ephemeral(), None)
    assert set(json.loads(result.cursor)) == {"stg", "_folders_checked_at"} and requested(result) == []


def test_remote_head_refuses_what_git_would_read_as_an_option(tmp_path) -> None:
    with pytest.raises(SourceError, match="starts with '-'"):
        git_source.remote_head(
            SqlSource(name="x", kind="git", url="--upload-pack=touch /tmp/x", branch="main"), "--upload-pack=x"
        )
    with pytest.raises(SourceError, match="remote helper"):
        git_source.remote_head(SqlSource(name="x", kind="git", url="ext::sh -c touch% /tmp/x"), "ext::sh")
