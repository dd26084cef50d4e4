"""The code location loads with no SQLFlow secret anywhere, and holds what the README promises."""

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from sqlflow_assets_tests.support import REPO_ROOT


@pytest.mark.parametrize(
    "command",
    [["dagster", "definitions", "validate", "-w", "workspace.yaml"], ["dg", "check", "defs"]],
    ids=["dagster-validate", "dg-check"],
)
def test_code_location_loads_without_secrets(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env.update(
        DLT_PROJECT_DIR=str(tmp_path),
        SQLFLOW_DUCKDB_PATH=str(tmp_path / "x.duckdb"),
        DAGSTER_HOME=str(tmp_path),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
    )
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "x.duckdb").exists(), "loading definitions must not open the database"


def test_definitions_hold_assets_checks_sensors_schedule_and_automation():
    from sqlflow_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "sqlflow/sql_submission",
        "sqlflow_raw/jobs",
        "sqlflow_raw/objects",
        "sqlflow_raw/relationships",
        "sqlflow_raw/relationship_sources",
        "lineage/objects",
        "lineage/columns",
        "lineage/column_edges",
        "lineage/table_edges",
        "lineage/current_jobs",
        "lineage/column_lineage",
        "lineage/table_lineage",
    } <= keys
    assert not any(key.startswith("dlt_") or key.startswith("sqlflow_") and "/" not in key for key in keys), keys
    assert defs.resolve_sensor_def("sqlflow_job_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("sqlflow_graph_automation").default_status == dg.DefaultSensorStatus.RUNNING
    assert {s.name: s.cron_schedule for s in defs.schedules} == {"sqlflow_sql_submission_daily": "0 3 * * *"}
    assert defs.resolve_asset_graph().get(dg.AssetKey(["sqlflow_raw", "jobs"])).freshness_policy is not None
    tags = {spec.key.to_user_string(): spec.tags.get("sqlflow/layer") for spec in defs.resolve_all_asset_specs()}
    assert tags["sqlflow_raw/relationships"] == "raw" and tags["lineage/column_edges"] == "lineage"
    assert tags["lineage/column_lineage"] == "graph"
    lineage_job = defs.resolve_job_def("sqlflow_lineage")
    assert lineage_job.partitions_def.name == "sqlflow_jobs"


def test_dagster_cli_in_a_folder_with_the_scripts_env_file_uses_the_project_instance(project_env, tmp_path):
    """`dagster job execute` of one job partition as the README shows it: DAGSTER_HOME comes from `.env`.

    scripts/bootstrap.sh appends `DAGSTER_HOME=<repo>/.dagster_home` to the repo's `.env`; here the
    same line points at a temp home, the variable is absent from the environment, and the job
    partition, known only to that home, materialises.
    """
    from sqlflow_assets_tests.support import submit_and_wait

    job_id = submit_and_wait([("t.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")])["jobId"]
    home, folder = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    folder.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    bootstrap = (REPO_ROOT / "scripts" / "bootstrap.sh").read_text()
    assert 'echo "DAGSTER_HOME=$ROOT/.dagster_home" >> .env' in bootstrap
    (folder / ".env").write_text(f"DAGSTER_HOME={home}\n")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    add_partition = f"import dagster as dg; dg.DagsterInstance.get().add_dynamic_partitions('sqlflow_jobs', [{job_id!r}])"
    subprocess.run([sys.executable, "-c", add_partition], env={**env, "DAGSTER_HOME": str(home)}, check=True, timeout=120)
    dagster = str(Path(sys.executable).parent / "dagster")
    partition = json.dumps({"dagster/partition": job_id})
    command = [dagster, "job", "execute", "-m", "sqlflow_assets.definitions", "-j", "sqlflow_lineage", "--tags", partition]
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        assert instance.get_latest_materialization_event(dg.AssetKey(["lineage", "column_edges"])) is not None


def test_a_module_added_to_the_defs_folder_is_loaded(tmp_path):
    """What `dg scaffold defs dagster.asset …` creates is picked up with no edit to definitions.py."""
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "sqlflow_assets", project / "sqlflow_assets", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "pyproject.toml", project)
    (project / "sqlflow_assets" / "defs" / "scaffolded.py").write_text(
        "import dagster as dg\n\n\n@dg.asset\ndef scaffolded_asset() -> None: ...\n"
    )
    listing = "from sqlflow_assets.definitions import defs; print(sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()))"
    env = {**os.environ, "PYTHONPATH": str(project)}
    result = subprocess.run([sys.executable, "-c", listing], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'scaffolded_asset'" in result.stdout and "'lineage/column_edges'" in result.stdout


def test_the_jobs_list_is_requested_once_per_hour_by_its_automation_condition():
    from sqlflow_assets.definitions import defs

    jobs_list = dg.AssetKey(["sqlflow_raw", "jobs"])
    instance, cursor, requested = dg.DagsterInstance.ephemeral(), None, []
    for hour, minute in [(9, 50), (10, 1), (10, 5), (10, 59), (11, 0)]:
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=dg.AssetSelection.assets(jobs_list), cursor=cursor,
            evaluation_time=datetime(2026, 12, 1, hour, minute, 30),
        )
        cursor = result.cursor
        requested.append(result.get_num_requested(jobs_list))
    assert requested == [0, 1, 0, 0, 1]


def test_configured_owners_are_on_every_asset(tmp_path):
    env = {**os.environ, "SOURCES__SQLFLOW__ASSET_OWNERS": '["team:data-platform", "lineage@example.com"]'}
    listing = "from sqlflow_assets.definitions import defs; print(sorted({tuple(s.owners) for s in defs.resolve_all_asset_specs()}))"
    result = subprocess.run([sys.executable, "-c", listing], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[('team:data-platform', 'lineage@example.com')]"
