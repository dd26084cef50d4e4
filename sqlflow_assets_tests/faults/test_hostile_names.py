"""Hostile identifiers and job names are data: they cannot break or inject into the SQL the product runs.

A loopback peer serves a job whose name, tables and columns are SQL injection attempts; the job's
lineage and the current graph are materialised into a real DuckDB file, then the impact query
walks from the hostile column. Every table must still be there, holding the names verbatim.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from sqlflow_assets.defs import assets
from sqlflow_assets.defs.resources import SQLFlowResource, default_resources
from sqlflow_assets.domain import JOB_NAME_MAX_CHARS
from sqlflow_assets.warehouse import graph
from sqlflow_assets_tests.support import http_peer, json_body

pytestmark = pytest.mark.faults
JOB_ID = "0badc0de0badc0de0badc0de0badc0de"
JOB_NAME = "nightly'); DROP TABLE lineage.column_lineage; --"
TABLE = "evil; DROP TABLE lineage.objects; --"
COLUMN = "c'); DELETE FROM sqlflow_raw.jobs WHERE ('1'='1"


def hostile_export() -> dict:
    source = {"id": "2", "column": COLUMN, "parentId": "1", "parentName": TABLE}
    return {"code": 200, "data": {"sqlflow": {"dbvendor": "dbvpostgresql", "dbobjs": [
        {"id": "1", "name": TABLE, "type": "table", "columns": [{"id": "2", "name": COLUMN}]},
        {"id": "3", "name": "mart.target", "type": "table", "columns": [{"id": "4", "name": "x"}]},
    ], "relationships": [{"id": "10", "type": "fdd", "effectType": "insert",
                          "target": {"id": "4", "column": "x", "parentId": "3", "parentName": "mart.target"},
                          "sources": [source]}]}}}


def job_step_against_a_peer(job_name: str) -> tuple[dg.DagsterInstance, dg.ExecuteInProcessResult]:
    """The job's lineage step against a peer listing the job under `job_name` and exporting the hostile lineage."""
    summary = {"code": 200, "data": {"jobDetails": [{"jobId": JOB_ID, "jobName": job_name, "status": "success"}]}}

    def answer(path: str) -> tuple[int, bytes]:
        if path.endswith("generateToken"):
            return 200, json_body({"code": 200, "token": "peer-token"})
        return 200, json_body(summary if path.endswith(("JobSummary", "JobsSummary")) else hostile_export())

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sqlflow_jobs", [JOB_ID])
    with http_peer(answer) as peer:
        resources = default_resources() | {"sqlflow": SQLFlowResource(base_url=peer.base_url)}
        return instance, dg.materialize([assets.sqlflow_job_lineage], partition_key=JOB_ID, instance=instance, resources=resources)


def test_hostile_names_are_stored_verbatim_and_break_nothing(project_env):
    instance, result = job_step_against_a_peer(JOB_NAME)
    assert result.success
    assert dg.materialize([assets.lineage_graph], instance=instance, resources=default_resources()).success

    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        tables = {f"{s}.{t}" for s, t in conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        assert {"lineage.objects", "lineage.column_lineage", "sqlflow_raw.jobs"} <= tables
        assert conn.execute("SELECT job_name FROM sqlflow_raw.jobs WHERE job_id = ?", [JOB_ID]).fetchone() == (JOB_NAME,)
        assert (TABLE,) in conn.execute("SELECT name FROM lineage.objects WHERE job_id = ?", [JOB_ID]).fetchall()
        lineage = conn.execute("SELECT * FROM lineage.column_lineage WHERE job_id = ?", [JOB_ID]).to_arrow_table()
    [edge] = lineage.to_pylist()
    assert (edge["source_object"], edge["source_column"], edge["target_object"], edge["source"]) == (TABLE, COLUMN, "mart.target", JOB_NAME)
    [reached] = graph.impact(lineage, TABLE, COLUMN, graph.Direction.DOWNSTREAM).to_pylist()
    assert (reached["object"], reached["column"], reached["depth"]) == ("mart.target", "x", 1)


def test_a_huge_job_name_is_cut_in_metadata_and_pictures_and_kept_whole_in_the_table(project_env):
    """Issue #16 point 4: a 2 MB jobName reached every materialisation's metadata and `dot`'s picture title."""
    huge = "n" * 2_000_000
    _, result = job_step_against_a_peer(huge)
    assert result.success
    pictures = []
    for materialization in result.get_asset_materialization_events():
        metadata = materialization.materialization.metadata
        assert len(metadata["sqlflow/job_name"].value) == JOB_NAME_MAX_CHARS and len(metadata["sqlflow/source"].value) == JOB_NAME_MAX_CHARS
        pictures += [metadata[key].value for key in ("lineage/table_picture", "lineage/column_picture") if key in metadata]
    assert len(pictures) == 2 and all("n" * JOB_NAME_MAX_CHARS not in picture for picture in pictures)
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        assert conn.execute("SELECT length(job_name) FROM sqlflow_raw.jobs WHERE job_id = ?", [JOB_ID]).fetchone() == (len(huge),)
