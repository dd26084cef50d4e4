"""The table contract: the loaded tables have exactly its columns, and `docs/tables.md` is its reference."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import duckdb

from sqlflow_assets import tables
from sqlflow_assets.defs import assets
from sqlflow_assets.defs.resources import default_resources
from sqlflow_assets_tests.support import REPO_ROOT, materialize_job_lineage


def test_docs_table_reference_is_the_contract_s() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "sqlflow_assets.tables"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert printed == tables.reference()
    assert (REPO_ROOT / "docs" / "tables.md").read_text(encoding="utf-8") == printed, (
        "docs/tables.md is stale: python -m sqlflow_assets.tables > docs/tables.md"
    )


def test_every_loaded_table_has_the_contract_s_columns(project_env, sample_job) -> None:
    """A real job, the jobs list and the graph loaded into DuckDB: each table's columns and types, in
    order, are the contract's, and the per-job tables end with dlt's hard-delete flag."""
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_job_lineage(instance, sample_job).success
    assert dg.materialize([assets.sqlflow_jobs_raw], instance=instance, resources=default_resources()).success
    assert dg.materialize([assets.lineage_graph], instance=instance, resources=default_resources()).success
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema IN (?, ?) AND NOT starts_with(column_name, '_dlt') "
            "AND NOT starts_with(table_name, '_dlt') ORDER BY table_schema, table_name, ordinal_position",
            [tables.RAW_SCHEMA, tables.LINEAGE_SCHEMA],
        ).fetchall()
    loaded: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        loaded.setdefault((schema, table), []).append((column, kind))
    assert set(loaded) == {(table.schema, table.name) for table in tables.ALL}
    for table in tables.ALL:
        tombstone = [(tables.TOMBSTONE, "BOOLEAN")] if table.merge_key else []
        assert loaded[(table.schema, table.name)] == [*table.sql_columns(), *tombstone], table.qualified_name


def test_every_table_asset_spec_shows_the_contract_s_description_and_columns() -> None:
    specs = {spec.key: spec for asset in (assets.sqlflow_jobs_raw, assets.sqlflow_job_lineage, assets.lineage_graph) for spec in asset.specs}
    for table in tables.ALL:
        spec = specs[dg.AssetKey([table.schema, table.name])]
        columns = spec.metadata["dagster/column_schema"].columns
        assert [(c.name, c.description) for c in columns] == [(c.name, c.description) for c in table.columns], table.qualified_name
        assert spec.description == table.asset_description, table.qualified_name
