"""Full materialisations of every asset against the real local server into a temp DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sqlflow_assets import tables as contract
from sqlflow_assets.defs import assets
from sqlflow_assets.defs.resources import default_resources
from sqlflow_assets.job import flatten
from sqlflow_assets_tests.support import (
    LINEAGE_TABLES,
    REPO_ROOT,
    counts,
    drawn_tables,
    materialize_job_lineage,
    require_dot,
    submit_and_wait,
    svg_of,
)


def test_sample_job_lands_as_lineage_tables(project_env, sample_job):
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_job_lineage(instance, sample_job)

    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        objects = {
            row[0]
            for row in conn.execute(
                "SELECT qualified_name FROM lineage.objects WHERE job_id = ? AND NOT is_intermediate", [sample_job]
            ).fetchall()
        }
        end_to_end = set(
            conn.execute(
                "SELECT source_object, source_column, target_object, target_column, relationship_type "
                "FROM lineage.end_to_end_edges WHERE job_id = ?",
                [sample_job],
            ).fetchall()
        )
        table_edges = set(
            conn.execute(
                "SELECT DISTINCT source_object, target_object FROM lineage.table_edges WHERE job_id = ?", [sample_job]
            ).fetchall()
        )
    assert {"raw.orders", "raw.customers", "staging.orders", "marts.customer_revenue", "marts.country_revenue"} <= objects
    assert ("raw.orders", "amount", "staging.orders", "amount", "fdd") in end_to_end
    assert ("staging.orders", "amount", "marts.customer_revenue", "revenue", "fdd") in end_to_end
    assert ("marts.customer_revenue", "revenue", "marts.country_revenue", "revenue", "fdd") in end_to_end
    assert any(src == "staging.orders" and col == "status" and kind == "fdr" for src, col, _, _, kind in end_to_end)
    assert table_edges == {
        ("raw.orders", "staging.orders"),
        ("staging.orders", "marts.customer_revenue"),
        ("raw.customers", "marts.customer_revenue"),
        ("marts.customer_revenue", "marts.country_revenue"),
    }
    materialized = {event.asset_key.to_user_string(): event for event in result.get_asset_materialization_events()}
    raw_metadata = materialized["sqlflow_raw/relationships"].materialization.metadata
    raw_columns = {column.name for column in raw_metadata["dagster/column_schema"].schema.columns}
    assert {"job_id", "relationship_id", "relationship_type", "target_column_id"} <= raw_columns
    assert raw_metadata["dagster/partition_row_count"].value > 0
    edges_metadata = materialized["lineage/column_edges"].materialization.metadata
    assert edges_metadata["dagster/partition_row_count"].value == counts(project_env.duckdb_path, sample_job)["column_edges"]
    assert "target_column" in {column.name for column in edges_metadata["dagster/column_schema"].schema.columns}


def test_rematerialising_a_partition_keeps_identical_rows(project_env, sample_job):
    instance = dg.DagsterInstance.ephemeral()
    materialize_job_lineage(instance, sample_job)
    first = counts(project_env.duckdb_path, sample_job)
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        raw_first = conn.execute("SELECT count(*) FROM sqlflow_raw.relationships WHERE job_id = ?", [sample_job]).fetchone()[0]
    dg.materialize(
        [assets.sqlflow_job_lineage],
        partition_key=sample_job,
        instance=instance,
        resources=default_resources(),
    )
    assert counts(project_env.duckdb_path, sample_job) == first
    assert all(first.values()), first
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        raw_second = conn.execute("SELECT count(*) FROM sqlflow_raw.relationships WHERE job_id = ?", [sample_job]).fetchone()[0]
    assert raw_second == raw_first > 0


def test_jobs_asset_lists_job_statuses(project_env, sample_job):
    result = dg.materialize([assets.sqlflow_jobs_raw], resources=default_resources())
    assert result.success
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        rows = dict(conn.execute("SELECT job_id, status FROM sqlflow_raw.jobs").fetchall())
    assert rows[sample_job] == "success"


def test_no_secret_or_token_reaches_events_or_tables(project_env, sample_job):
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_job_lineage(instance, sample_job)
    jobs = dg.materialize([assets.sqlflow_jobs_raw], instance=instance, resources=default_resources())
    secret = project_env.server.secret_key
    events = repr(result.all_events) + repr(jobs.all_events) + repr(result.dagster_run.run_config)
    assert secret not in events and "eyJ" not in events  # "eyJ" starts every JWT
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('sqlflow_raw', 'lineage')"
        ).fetchall()
        dump = repr([conn.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall() for schema, name in tables])
    assert len(tables) >= 10 and secret not in dump and "eyJ" not in dump


def test_a_failed_job_fails_its_run_clearly_and_loses_no_loaded_rows(project_env, sample_job):
    instance = dg.DagsterInstance.ephemeral()
    materialize_job_lineage(instance, sample_job)
    before = counts(project_env.duckdb_path, sample_job)
    failed = submit_and_wait([("bad.sql", b"SELEC nonsense FROM WHERE ;;")])
    assert failed["status"] == "fail"

    result = materialize_job_lineage(instance, failed["jobId"], raise_on_error=False)

    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    message = str(failure.step_failure_data.error)
    assert "exportLineageAsJson" in message and failed["jobId"] in message
    assert project_env.server.secret_key not in message
    assert counts(project_env.duckdb_path, sample_job) == before
    assert counts(project_env.duckdb_path, failed["jobId"]) == dict.fromkeys(LINEAGE_TABLES, 0)


@pytest.mark.parametrize(
    ("command", "expected"),
    [(["info"], "dataset_name: sqlflow_raw"), (["trace"], "relationship_sources"), (["schema"], "relationship_sources")],
    ids=["info", "trace", "schema"],
)
def test_dlt_cli_finds_the_pipelines_from_the_repo_root(project_env, sample_job, command, expected):
    materialize_job_lineage(dg.DagsterInstance.ephemeral(), sample_job)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dlt"), "pipeline", "sqlflow", *command],
        cwd=REPO_ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout, result.stdout
    assert project_env.server.secret_key not in result.stdout + result.stderr


def test_job_materialisation_shows_pictures_counts_and_described_columns(project_env, sample_job):
    """The job at a glance on `lineage/table_edges`: a picture naming every table of the job, counts
    equal to the loaded rows, the busiest pair first, and every column described."""
    require_dot()
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_job_lineage(instance, sample_job)
    materialized = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    summary = materialized["lineage/table_edges"]
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT qualified_name FROM lineage.objects WHERE job_id = ? AND NOT is_intermediate", [sample_job]).fetchall()}
        by_type = dict(conn.execute(
            "SELECT relationship_type, count(*) FROM lineage.end_to_end_edges WHERE job_id = ? GROUP BY 1", [sample_job]).fetchall())
        objects = dict(conn.execute(
            "SELECT object_type, count(*) FROM lineage.objects WHERE job_id = ? GROUP BY 1", [sample_job]).fetchall())
        busiest = conn.execute(
            "SELECT source_object, target_object FROM lineage.table_edges WHERE job_id = ? "
            "GROUP BY 1, 2 ORDER BY sum(edge_count) DESC, 1, 2 LIMIT 1", [sample_job]).fetchone()

    assert drawn_tables(svg_of(summary["lineage/table_picture"].value)) == tables
    column_svg = svg_of(summary["lineage/column_picture"].value)
    assert "marts.customer_revenue" in column_svg and "revenue" in column_svg
    assert summary["lineage/tables"].value == len(tables)
    assert (summary["lineage/fdd_edges"].value, summary["lineage/fdr_edges"].value) == (by_type["fdd"], by_type["fdr"])
    assert summary["lineage/objects_by_type"].value == objects
    assert summary["lineage/top_edges"].value.splitlines()[2].startswith(f"| `{busiest[0]}` | `{busiest[1]}` |")
    rows = summary["lineage/rows_per_table"].value
    assert rows == {key.replace("/", "."): metadata["dagster/partition_row_count"].value for key, metadata in materialized.items()}
    assert summary["sqlflow/job_name"].value == "sample"
    for key, metadata in materialized.items():
        undescribed = [c.name for c in metadata["dagster/column_schema"].schema.columns if not c.description]
        assert set(undescribed) <= {"tombstone"}, (key, undescribed)


def test_specs_describe_every_column_before_any_run():
    specs = [*assets.sqlflow_job_lineage.specs, *assets.lineage_graph.specs]
    assert len(specs) == 16  # 11 per-job tables, 3 graph tables, 2 change tables
    for spec in specs:
        columns = spec.metadata["dagster/column_schema"].columns
        assert columns and all(column.description for column in columns), spec.key
    edges = next(s for s in specs if s.key == dg.AssetKey(["lineage", "column_edges"])).metadata["dagster/column_schema"]
    assert [c.name for c in edges.columns] == [name for name, _ in flatten.LINEAGE_COLUMNS["column_edges"]]


def test_graph_materialisation_shows_the_warehouse_picture(project_env, sample_job):
    require_dot()
    instance = dg.DagsterInstance.ephemeral()
    materialize_job_lineage(instance, sample_job)
    result = dg.materialize([assets.lineage_graph], instance=instance, resources=default_resources())
    materialized = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        pairs = conn.execute("SELECT source_object, target_object FROM lineage.table_lineage").fetchall()
    assert drawn_tables(svg_of(materialized["lineage/table_lineage"]["lineage/picture"].value)) == {t for pair in pairs for t in pair}
    columns = materialized["lineage/table_lineage"]["dagster/column_schema"].schema.columns
    assert [(c.name, c.description) for c in columns] == [(c.name, c.description) for c in contract.GRAPH["table_lineage"].columns]


def test_without_dot_a_job_still_loads_and_its_metadata_says_how_to_install_it(project_env, sample_job, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", f"{tmp_path}")  # a real PATH without Graphviz: the step runs in this process
    result = materialize_job_lineage(dg.DagsterInstance.ephemeral(), sample_job)
    assert result.success
    summary = next(
        e.materialization.metadata for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["lineage", "table_edges"])
    )
    for key in ("lineage/table_picture", "lineage/column_picture"):
        assert "apt-get install graphviz" in summary[key].value and "](data:" not in summary[key].value
    assert summary["lineage/fdd_edges"].value > 0


def test_row_count_is_the_whole_table_and_partition_row_count_the_jobs_rows(project_env, sample_job):
    other = submit_and_wait([("t.sql", b"INSERT INTO t2 (x) SELECT x FROM t1 WHERE y > 0;")], job_name="other")["jobId"]
    instance = dg.DagsterInstance.ephemeral()
    materialize_job_lineage(instance, sample_job)
    result = materialize_job_lineage(instance, other)
    materialized = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        for key, metadata in materialized.items():
            table = key.replace("/", ".")
            total, of_job = conn.execute(f"SELECT count(*), count(*) FILTER (job_id = ?) FROM {table}", [other]).fetchone()
            assert (metadata["dagster/row_count"].value, metadata["dagster/partition_row_count"].value) == (total, of_job), key
    assert materialized["lineage/column_edges"]["dagster/row_count"].value > materialized["lineage/column_edges"]["dagster/partition_row_count"].value


def test_check_results_name_their_job_and_the_checked_asset_says_warn(project_env):
    """Issue 19: the check results showed "Partition —" and no job; a passing check read like a failure;
    the SQL error sample was raw JSON; `sqlflow_raw/errors` looked fine while its check warned."""
    job = submit_and_wait(
        [("good.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;"), ("bad.sql", b"SELEC nonsense FROM WHERE ;;")], job_name="half good"
    )
    assert job["status"] == "partial_success", job
    result = materialize_job_lineage(dg.DagsterInstance.ephemeral(), job["jobId"])

    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    assert {check.partition for check in checks.values()} == {job["jobId"]}
    assert all(check.description.startswith("half good: ") for check in checks.values())
    assert all(check.metadata["sqlflow/job_name"].value == "half good" for check in checks.values())
    assert checks["column_edges_present"].description == "half good: column edges present: 3 column edges for 3 raw relationships"
    errors = checks["sql_errors"]
    assert (errors.passed, errors.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert errors.description == "half good: 1 statement SQLFlow could not analyse"
    table = errors.metadata["sample"].value.splitlines()
    assert table[0] == "| file | line | column | type | message |" and table[2].startswith("| bad.sql | 1 | ")
    materialized = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert materialized["sqlflow_raw/errors"]["sqlflow/checks"].value == "WARN: sql_errors: 1 statement SQLFlow could not analyse"
    assert materialized["lineage/column_edges"]["sqlflow/checks"].value.startswith("PASSED: column_edges_present: column edges present")


def test_every_asset_description_says_when_it_is_off():
    """`lineage/openlineage_events` sat "Never materialized" with no word that it is off until configured."""
    from sqlflow_assets.definitions import defs

    specs = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
    assert specs["lineage/openlineage_events"].description.count("Off until `[sources.sqlflow.openlineage] transport` is set") == 1
    assert "while that schedule is stopped" in specs["sqlflow/sql_submission"].description
    assert "stale while both are stopped" in specs["sqlflow_raw/jobs"].description
    assert "while that sensor is stopped" in specs["lineage/column_edges"].description
    assert "while that sensor is stopped" in specs["lineage/table_lineage"].description
    silent = [key for key, spec in specs.items() if not any(word in (spec.description or "") for word in ("stopped", "Off until"))]
    assert silent == []
