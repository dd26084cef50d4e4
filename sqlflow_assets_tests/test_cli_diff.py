"""`sqlflow-assets diff` on a real git repository (three commits: a column renamed, a join added, a table
dropped) against lineage loaded into a real DuckDB from the real local server: the Markdown (golden
file), JSON, the `--fail-on` gate's exit codes, `--path`, `--from/--to`, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from sqlflow_assets import cli
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.warehouse.source_diff import DIFF_JOB_PREFIX
from sqlflow_assets_tests.fixtures.review_repo import CUSTOMERS, LEGACY, ORDERS, RENAMED, git, make_review_repo
from sqlflow_assets_tests.support import load_jobs, refresh

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "diff_drop.md"


@pytest.fixture
def loaded(project_env, tmp_path, monkeypatch):
    """The base commit of `stg` and the `marts` consumer loaded, the graph refreshed; both sources configured."""
    review = make_review_repo(tmp_path)
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([review.source(), review.marts_source()]))
    instance = dg.DagsterInstance.ephemeral()
    marts_sql = (review.marts / "marts.sql").read_bytes()
    ids = load_jobs(project_env, instance, ("stg", (CUSTOMERS + ORDERS + LEGACY).encode()), ("marts", marts_sql))
    refresh(project_env, instance)
    return review, instance, ids


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what the fixtures printed
    code = cli.main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_markdown_against_the_loaded_lineage_is_the_golden_file(loaded, capsys) -> None:
    code, out, err = run(capsys, "stg", "--git-ref", "drop")
    assert code == 0, err
    assert out == GOLDEN.read_text(encoding="utf-8")
    # nothing loaded, and the throwaway job is gone from the server
    assert not any(job["jobName"].startswith(DIFF_JOB_PREFIX) for job in SQLFlowClient.from_config().jobs_summary()["jobDetails"])


def test_the_gate_exits_1_only_for_the_kind_it_names_with_consumers(loaded, capsys) -> None:
    assert run(capsys, "stg", "--git-ref", "rename", "--fail-on", "removed")[0] == 1
    code, _, err = run(capsys, "stg", "--git-ref", "rename", "--fail-on", "retyped")
    assert code == 0 and err == ""
    code, out, err = run(capsys, "stg", "--git-ref", "join", "--fail-on", "retyped", "--format", "json")
    assert code == 1 and err.strip() == "sqlflow-assets diff: retyped edges have downstream consumers"
    found = json.loads(out)
    assert [(c["change"], c["target_column"]) for c in found["changes"] if c["change"] != "added"] == [
        ("removed", "customer_name"),
        ("retyped", "amount"),
    ]  # against the loaded base: the rename is in this branch too
    assert {(i["impacted_object"], i["impacted_column"]) for i in found["impact"]} >= {("mart.revenue", "revenue")}
    assert run(capsys, "stg", "--fail-on", "removed")[0] == 0  # main is the loaded base: nothing changed


def test_a_working_copy_and_two_loaded_jobs(loaded, capsys, project_env) -> None:
    review, instance, (base_job, _) = loaded
    git(review.repo, "checkout", "--quiet", "rename")
    code, out, _ = run(capsys, "stg", "--path", str(review.repo))
    assert code == 0 and out.startswith("### `stg`\n\n+1 edge, -1 edge, 2 downstream columns affected in 2 tables\n")
    (rename_job,) = load_jobs(project_env, instance, ("stg", (RENAMED + ORDERS + LEGACY).encode()))
    code, out, _ = run(capsys, "stg", "--from", base_job, "--to", rename_job, "--format", "json")
    assert code == 0
    assert [(c["change"], c["target_column"], c["previous_job_id"], c["new_job_id"]) for c in json.loads(out)["changes"]] == [
        ("removed", "customer_name", base_job, rename_job),
        ("added", "full_name", base_job, rename_job),
    ]


def test_errors_are_one_line(loaded, capsys) -> None:
    code, _, err = run(capsys, "nowhere")
    assert code == 2 and err.count("\n") == 1 and "neither a configured SQL source" in err
    code, _, err = run(capsys, "stg", "--from", "x")
    assert code == 2 and "--from and --to go together" in err
    code, _, err = run(capsys, "stg", "--git-ref", "no-such-branch")
    assert code == 1 and err.count("\n") == 1 and err.startswith("sqlflow-assets diff: SQL source 'stg'")
    code, _, err = run(capsys, "stg", "--from", "nope", "--to", "nada")
    assert code == 1 and "SQLFlow job nope: no loaded lineage" in err
    code, _, err = run(capsys, "marts", "--git-ref", "main")
    assert code == 1 and "--git-ref needs a git source" in err
