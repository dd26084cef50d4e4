"""The current, warehouse-wide graph: versions, stitching across jobs, OpenLineage types, impact.

Real parts end to end: jobs analysed by the local server, loaded by real materialisations, the
graph built from the destination and walked by the documented SQL on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import duckdb
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from sqlflow_assets import tables
from sqlflow_assets.defs import assets
from sqlflow_assets.defs.resources import default_resources
from sqlflow_assets.warehouse import changes, graph
from sqlflow_assets_tests.support import INGEST, LOOP, MARTS_V1, MARTS_V2, REPO_ROOT, load_jobs, materialize_job_lineage, refresh


def edges(tables: dict[str, list[dict]]) -> set[tuple]:
    return {
        (e["source_object"], e["source_column"], e["target_object"], e["target_column"], e["relationship_type"],
         e["transformation_type"], e["transformation_subtype"])
        for e in tables["column_lineage"]
    }


def test_current_graph_keeps_the_latest_job_per_source_and_stitches_jobs(project_env, warehouse):
    instance, (ingest, marts_v1, marts_v2) = warehouse
    tables = refresh(project_env, instance)

    assert {(j["source"], j["job_id"]) for j in tables["current_jobs"]} == {("ingest", ingest), ("marts", marts_v2)}
    found = edges(tables)
    assert ("raw.orders", "amount", "staging.orders", "amount", "fdd", "DIRECT", "IDENTITY") in found
    assert ("staging.orders", "amount", "marts.revenue", "total", "fdd", "DIRECT", "AGGREGATION") in found
    assert ("staging.orders", "amount", "marts.revenue", "total", "fdr", "INDIRECT", "FILTER") not in found  # fdd wins
    assert any(e[:2] == ("staging.orders", "amount") and e[5:] == ("INDIRECT", "FILTER") for e in found), found
    # the older job of source "marts" is gone: no `revenue` column, no GROUP BY edge
    assert not any(e[3] == "revenue" or e[0] == "staging.orders" and e[1] == "customer_id" for e in found), found
    assert all(e["job_id"] in {ingest, marts_v2} for e in tables["column_lineage"])
    assert {(t["source_object"], t["target_object"]) for t in tables["table_lineage"]} == {
        ("raw.orders", "staging.orders"), ("staging.orders", "marts.revenue")
    }


def test_impact_crosses_jobs_in_both_directions(project_env, warehouse):
    instance, (ingest, _, marts_v2) = warehouse
    tables = refresh(project_env, instance)
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        column_lineage = conn.execute("SELECT * FROM lineage.column_lineage").to_arrow_table()

    down = graph.impact(column_lineage, "raw.orders", "amount", graph.Direction.DOWNSTREAM).to_pylist()
    reached = {(r["object"], r["column"]): r for r in down}
    assert reached[("staging.orders", "amount")]["depth"] == 1
    assert reached[("marts.revenue", "total")]["depth"] == 2
    assert reached[("marts.revenue", "total")]["relationship_type"] == "fdd"
    assert reached[("marts.revenue", "total")]["edge_types"] == "fdd"
    assert reached[("marts.revenue", "PseudoRows")]["edge_types"] == "fdd+fdr"  # amount -fdd-> amount -fdr-> rows
    assert reached[("marts.revenue", "total")]["jobs"] == marts_v2
    assert graph.impact(column_lineage, "raw.orders", "amount", graph.Direction.DOWNSTREAM, depth=1).num_rows == 1

    up = graph.impact(column_lineage, "marts.revenue", "total", graph.Direction.UPSTREAM).to_pylist()
    assert {(r["object"], r["column"], r["depth"]) for r in up} >= {("staging.orders", "amount", 1), ("raw.orders", "amount", 2)}
    assert tables["current_jobs"]


def test_a_cycle_through_jobs_terminates(project_env, warehouse):
    instance, _ = warehouse
    load_jobs(project_env, instance, ("loop", LOOP))
    refresh(project_env, instance)
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        column_lineage = conn.execute("SELECT * FROM lineage.column_lineage").to_arrow_table()
    down = {(r["object"], r["column"]): r["depth"] for r in graph.impact(column_lineage, "raw.orders", "amount", graph.Direction.DOWNSTREAM, depth=50).to_pylist()}
    assert down[("raw.orders", "amount")] == 3  # back to itself through staging and marts


def test_documented_impact_sql_gives_the_same_answer_on_postgres(project_env, warehouse, postgres_database, monkeypatch):
    instance, _ = warehouse
    refresh(project_env, instance)
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        in_duckdb = conn.execute(
            graph.impact_sql(marker="$"),
            {"object": "raw.orders", "column": "amount", "depth": 10},
        ).fetchall()

    monkeypatch.setenv("DESTINATION_TYPE", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_database)
    pg_instance = dg.DagsterInstance.ephemeral()
    for job_id in [j for j in _loaded_job_ids(project_env)]:
        assert materialize_job_lineage(pg_instance, job_id).success
    assert dg.materialize([assets.lineage_graph], instance=pg_instance, resources=default_resources()).success
    engine = sa.create_engine(postgres_database.replace("postgresql:", "postgresql+psycopg2:"))
    with engine.connect() as conn:
        in_postgres = conn.execute(sa.text(graph.impact_sql()), {"object": "raw.orders", "column": "amount", "depth": 10}).fetchall()
    engine.dispose()
    assert [tuple(r) for r in in_postgres] == [tuple(r) for r in in_duckdb]
    # the WHERE of marts v2 makes the row count of marts.revenue depend on amount too (fdr)
    assert {(r[0], r[1], r[2], r[3]) for r in in_duckdb} == {
        ("staging.orders", "amount", 1, "fdd"), ("marts.revenue", "total", 2, "fdd"), ("marts.revenue", "PseudoRows", 2, "fdr")
    }


def _loaded_job_ids(project_env) -> list[str]:
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        return [row[0] for row in conn.execute("SELECT DISTINCT job_id FROM lineage.objects ORDER BY job_id").fetchall()]


def test_impact_command_reads_the_configured_destination(project_env, warehouse):
    instance, (_, _, marts_v2) = warehouse
    refresh(project_env, instance)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "sqlflow_assets.cli", "impact", *args],
            cwd=REPO_ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=120,
        )

    as_json = run("raw.orders.amount", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert {(r["object"], r["column"], r["depth"], r["relationship_type"]) for r in rows} >= {
        ("staging.orders", "amount", 1, "fdd"), ("marts.revenue", "total", 2, "fdd")
    }
    up = run("marts.revenue.total", "--upstream", "--depth", "1", "--format", "csv")
    assert up.returncode == 0 and up.stdout.splitlines()[0].startswith("object,column,depth")
    assert [line.split(",")[:3] for line in up.stdout.splitlines()[1:]] == [["staging.orders", "amount", "1"]]
    table = run("raw.orders")
    assert table.returncode == 0 and "marts.revenue" in table.stdout and marts_v2 in table.stdout
    missing = run("nowhere.nothing")
    assert missing.returncode == 1 and "not a table of the current lineage graph" in missing.stderr
    misspelt = run("raw.orders.amountt")  # a misspelt column is no "nothing downstream"
    assert misspelt.returncode == 1 and misspelt.stdout == ""
    assert "raw.orders has no column 'amountt'" in misspelt.stderr and "closest: raw.orders.amount" in misspelt.stderr
    near = run("raw.order.amount")
    assert near.returncode == 1 and "closest: raw.orders" in near.stderr
    assert run("--help").returncode == 0


def test_an_unknown_target_names_the_closest_tables_and_columns() -> None:
    import pyarrow as pa

    edges = pa.table({
        "source_object": ["raw.orders", "raw.orders"], "source_column": ["amount", "PseudoRows"],
        "target_object": ["marts.revenue", "marts.revenue"], "target_column": ["total", "PseudoRows"],
    })
    assert graph.unknown_target("raw.orders.amount", edges) is None
    assert graph.unknown_target("marts.revenue", edges) is None
    assert graph.unknown_target("raw.orders.amountt", edges) == "raw.orders has no column 'amountt' in the current lineage graph; closest: raw.orders.amount"
    assert graph.unknown_target("mart.revenue.total", edges) == "'mart.revenue.total' is not a table of the current lineage graph; closest: marts.revenue"
    assert graph.unknown_target("x", edges) == "'x' is not a table of the current lineage graph"


# a -> b -> c -> a (a cycle), c -> d -> e (a chain), x -> y (elsewhere), b -> NULL column, a -fdr-> f
WALK = [
    ("t.a", "c1", "t.b", "c1", "fdd", "j1"), ("t.b", "c1", "t.c", "c1", "fdd", "j1"), ("t.c", "c1", "t.a", "c1", "fdr", "j2"),
    ("t.c", "c1", "t.d", "c1", "fdd", "j2"), ("t.d", "c1", "t.e", "c1", "fdr", "j3"), ("t.x", "c1", "t.y", "c1", "fdd", "j3"),
    ("t.b", "c1", "t.b", None, "fdd", "j1"), ("t.a", "c1", "t.f", "c1", "fdr", "j1"), ("t.a", "c2", "t.d", "c1", "fdd", "j4"),
    ("t.d", "c1", "t.b", "c1", "fdr", "j4"),
]


def _walk_edges():
    import pyarrow as pa

    return pa.table(dict(zip(graph.IMPACT_COLUMNS, map(list, zip(*WALK, strict=True)), strict=True)))


def test_impact_reads_only_the_edges_its_walk_can_take() -> None:
    edges = _walk_edges()
    picked = {tuple(row.values()) for row in graph.walked_edges(edges, "t.a", "c1", graph.Direction.DOWNSTREAM, 3).to_pylist()}
    # out of a (depth 0), of b and f (1), of c (2); not out of d (3 = the limit), nor x, nor t.a.c2
    assert picked == {WALK[0], WALK[7], WALK[1], WALK[6], WALK[2], WALK[3]}
    up = graph.walked_edges(edges, "t.e", None, graph.Direction.UPSTREAM, 10).to_pylist()
    assert {(e["source_object"], e["source_column"]) for e in up} == {("t.d", "c1"), ("t.c", "c1"), ("t.a", "c2"), ("t.b", "c1"), ("t.a", "c1")}
    assert len(up) == len({tuple(e.values()) for e in up})  # each edge once, cycle or not


def test_impact_answers_as_the_documented_query_over_every_edge() -> None:
    """Every start column, table, direction and depth: `impact` (the walked edges only) equals
    `IMPACT_SQL` run over the whole edge table."""
    edges = _walk_edges()
    conn = duckdb.connect()
    conn.register("column_lineage", edges)
    starts = {(row[0], row[1]) for row in WALK} | {(row[2], row[3]) for row in WALK if row[3]} | {(row[0], None) for row in WALK}
    for (object_name, column), direction, depth in (
        (start, direction, depth) for start in sorted(starts, key=repr) for direction in graph.Direction for depth in (1, 2, 3, 10)
    ):
        sql = graph.impact_sql(direction, "column_lineage", marker="$")
        expected = conn.execute(sql, {"object": object_name, "column": column, "depth": depth}).to_arrow_table()
        found = graph.impact(edges, object_name, column, direction, depth)
        assert found.schema == expected.schema
        assert found.to_pylist() == expected.to_pylist(), (object_name, column, direction, depth)


def test_graph_is_requested_after_a_job_lands_even_with_unloaded_partitions(project_env):
    from sqlflow_assets.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("sqlflow_jobs", ["never-loaded"])
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    load_jobs(project_env, instance, ("ingest", INGEST))
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {result.key.to_user_string() for result in after.results if result.true_subset.size}
    assert {"lineage/current_jobs", "lineage/column_lineage", "lineage/table_lineage"} <= requested


@pytest.mark.parametrize(
    ("name", "context", "expected"),
    [
        ("raw.orders", graph.NameContext("dbvpostgresql", None, None), "raw.orders"),
        ('"raw"."orders"', graph.NameContext("dbvpostgresql", None, None), "raw.orders"),  # quoting
        ("RAW.Orders", graph.NameContext("dbvpostgresql", None, None), "raw.orders"),  # postgres folds to lower
        ('"Raw"."Orders"', graph.NameContext("dbvpostgresql", None, None), "Raw.Orders"),  # quoted keeps its case
        ("scott.emp", graph.NameContext("dbvoracle", None, None), "SCOTT.EMP"),  # oracle folds to upper
        ("[dbo].[Orders]", graph.NameContext("dbvmssql", None, None), "dbo.orders"),  # case-insensitive: lower
        ("`hotel`.`rooms`", graph.NameContext("dbvmysql", None, None), "hotel.rooms"),
        ("DEFAULT.DEFAULT.orders", graph.NameContext("dbvmssql", None, "dbo"), "dbo.orders"),  # placeholders
        ("orders", graph.NameContext("dbvpostgresql", "wh", "public"), "wh.public.orders"),  # job defaults
        ("raw.orders", graph.NameContext("dbvpostgresql", "wh", "public"), "wh.raw.orders"),
        ("db.raw.orders", graph.NameContext("dbvpostgresql", "wh", "public"), "db.raw.orders"),
    ],
)
def test_names_are_normalised_per_dialect(name, context, expected):
    assert graph.normalize_name(name, context) == expected


def test_partition_materialisations_carry_the_job_as_people_read_it(project_env):
    instance = dg.DagsterInstance.ephemeral()
    [job_id] = load_jobs(project_env, instance, ("ingest", INGEST))
    event = instance.get_latest_materialization_event(dg.AssetKey(["lineage", "column_edges"]))
    metadata = event.asset_materialization.metadata
    assert event.asset_materialization.partition == job_id
    assert metadata["sqlflow/job_name"].value == "ingest" and metadata["sqlflow/source"].value == "ingest"
    assert metadata["sqlflow/files"].value == ["ingest.sql"]
    assert metadata["sqlflow/status"].value == "success" and metadata["sqlflow/created"].value


def test_docs_show_what_impact_sql_prints() -> None:
    architecture = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"```sql\n{graph.impact_sql().rstrip()};\n```" in architecture


def test_impact_sql_rewrites_identifiers_and_markers_not_text() -> None:
    """Upstream swaps source_/target_ columns only; the table name is parsed and quoted; markers are checked."""
    down, up = graph.impact_sql(), graph.impact_sql(graph.Direction.UPSTREAM)
    assert up.replace("source_", "X_").replace("target_", "source_").replace("X_", "target_") == down
    assert "FROM column_lineage\n" in graph.impact_sql(edges="column_lineage", marker="$")
    assert ":object" not in graph.impact_sql(marker="$") and "$object" in graph.impact_sql(marker="$")
    hostile = graph.impact_sql(edges='lineage."x; DROP TABLE y"')
    assert 'FROM lineage."x; DROP TABLE y"\n' in hostile and hostile.count("DROP") == 2  # quoted, in both FROMs
    with pytest.raises(ValueError, match="marker"):
        graph.impact_sql(marker="{")


# shares the table pair staging.orders -> marts.revenue with source "marts": table_lineage lists both jobs
ALSO = b"INSERT INTO marts.revenue (total) SELECT amount FROM staging.orders;"


def _stored_graph(storage) -> dict[str, list[tuple]]:
    """Each graph table as stored, rows sorted (a table is a set of rows)."""
    dataset = storage.lineage_pipeline().dataset()
    return {
        table: sorted((tuple(row.values()) for row in dataset.table(table).arrow().to_pylist()), key=repr)
        for table in graph.GRAPH_TABLES
    }


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_an_incremental_refresh_equals_a_full_rebuild(project_env, destination, request, monkeypatch):
    """A new job of one source replaces only that source's rows; the graph equals a rebuild from scratch."""
    from sqlflow_assets import config

    if destination == "postgres":
        monkeypatch.setenv("DESTINATION_TYPE", "postgres")
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", request.getfixturevalue("postgres_database"))
    instance = dg.DagsterInstance.ephemeral()
    ingest, marts_v1, also = load_jobs(project_env, instance, ("ingest", INGEST), ("marts", MARTS_V1), ("also", ALSO))
    storage = config.storage()
    first = graph.refresh(storage)
    assert first.rebuilt and first.changed_sources == ["also", "ingest", "marts"]
    assert graph.refresh(storage).changed_sources == []  # nothing new: nothing read or written

    [marts_v2, _] = load_jobs(project_env, instance, ("marts", MARTS_V2), ("loop", LOOP))  # a changed source and a new one
    second = graph.refresh(storage)
    assert not second.rebuilt and second.changed_sources == ["loop", "marts"]
    incremental = _stored_graph(storage)
    shared = [row for row in incremental["table_lineage"] if row[:2] == ("staging.orders", "marts.revenue")]
    assert {row[4] for row in shared} >= {",".join(sorted([also, marts_v2]))}  # the pair both sources feed
    assert not any(marts_v1 in repr(row) for table in incremental.values() for row in table)
    assert {table: second.row_counts[table] for table in graph.GRAPH_TABLES} == {table: len(rows) for table, rows in incremental.items()}

    with storage.lineage_pipeline().sql_client() as client:  # without a stored graph the refresh rebuilds it whole
        client.execute_sql(f"DROP TABLE {client.make_qualified_table_name('current_jobs')}")
    assert graph.refresh(storage).rebuilt
    assert _stored_graph(storage) == incremental
    assert ingest in repr(incremental["column_lineage"])


REPORT = b"CREATE TABLE bi.report AS SELECT customer_id, revenue FROM marts.revenue;"  # reads what MARTS_V2 drops


def _stored(storage, table: str) -> list[tuple]:
    rows = storage.lineage_pipeline().dataset().table(table).arrow()
    return sorted((tuple(row.values()) for row in rows.select(list(tables.table("lineage", table).column_names)).to_pylist()), key=repr)


def _as_rows(table) -> list[tuple]:
    return sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_a_replaced_job_s_changes_and_their_downstream_impact_are_recorded_once(project_env, destination, request, monkeypatch):
    """Two versions of `marts` through the real server and job step: the refresh records what
    `changes.compare` finds (walking the whole graph in memory), and a refresh redone records nothing twice."""
    import dlt

    from sqlflow_assets import config

    if destination == "postgres":
        monkeypatch.setenv("DESTINATION_TYPE", "postgres")
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", request.getfixturevalue("postgres_database"))
    instance = dg.DagsterInstance.ephemeral()
    _, marts_v1, _ = load_jobs(project_env, instance, ("ingest", INGEST), ("marts", MARTS_V1), ("report", REPORT))
    storage = config.storage()
    first = graph.refresh(storage)
    assert first.rebuilt and first.changes is None
    assert _stored(storage, "lineage_changes") == _stored(storage, "change_impact") == []  # the tables exist, empty
    before = storage.lineage_pipeline().dataset().table("column_lineage").arrow()

    [marts_v2, _] = load_jobs(project_env, instance, ("marts", MARTS_V2), ("loop", LOOP))  # a replaced source and a new one
    second = graph.refresh(storage)
    assert not second.rebuilt and second.changed_sources == ["loop", "marts"]
    after = storage.lineage_pipeline().dataset().table("column_lineage").arrow()
    in_source = lambda rows, job: rows.filter(pc.equal(rows.column("job_id"), job))  # noqa: E731
    expected = changes.compare(in_source(before, marts_v1), in_source(after, marts_v2), before)
    assert expected.changes.num_rows and expected.impact.num_rows
    assert ("bi.report", "revenue", 2) in {(r["impacted_object"], r["impacted_column"], r["depth"]) for r in expected.impact.to_pylist()}
    recorded = {table: _stored(storage, table) for table in graph.CHANGE_TABLES}
    assert recorded == {"lineage_changes": _as_rows(expected.changes), "change_impact": _as_rows(expected.impact)}
    assert _as_rows(second.changes) == recorded["lineage_changes"] and _as_rows(second.impact) == recorded["change_impact"]
    assert {(r[0], r[1], r[2]) for r in recorded["lineage_changes"]} == {("marts", marts_v1, marts_v2)}  # not the new source
    assert second.row_counts["lineage_changes"] == len(recorded["lineage_changes"])

    assert graph.refresh(storage).changes is None  # nothing new: nothing recorded
    assert {table: _stored(storage, table) for table in graph.CHANGE_TABLES} == recorded

    with storage.lineage_pipeline().sql_client() as client:  # a refresh that loaded the rows but not current_jobs
        client.execute_sql(f"UPDATE {client.make_qualified_table_name('current_jobs')} SET job_id = %s WHERE source = 'marts'", marts_v1)
    assert graph.refresh(storage).changed_sources == ["marts"]
    assert {table: _stored(storage, table) for table in graph.CHANGE_TABLES} == recorded

    with storage.lineage_pipeline().sql_client() as client:  # ... and one redone from the start: the same rows, once
        client.execute_sql(f"UPDATE {client.make_qualified_table_name('current_jobs')} SET job_id = %s WHERE source = 'marts'", marts_v1)
        client.execute_sql(f"DELETE FROM {client.make_qualified_table_name('column_lineage')} WHERE source = 'marts'")
    storage.lineage_pipeline().run(dlt.resource([in_source(before, marts_v1)], name="column_lineage", write_disposition="append"))
    redone = graph.refresh(storage)
    assert _as_rows(redone.changes) == recorded["lineage_changes"]
    assert {table: _stored(storage, table) for table in graph.CHANGE_TABLES} == recorded

    report = in_source(after, after.filter(pc.equal(after.column("source"), "report")).column("job_id")[0].as_py())
    with storage.pipeline().sql_client() as client:  # a source that disappears (its job gone): its edges removed
        client.execute_sql(f"DELETE FROM {client.make_qualified_table_name('jobs')} WHERE job_name = 'report'")
    gone = graph.refresh(storage)
    assert {(r["change"], r["new_job_id"]) for r in gone.changes.to_pylist()} == {("removed", None)}
    assert gone.changes.num_rows == report.num_rows and gone.impact.num_rows == report.num_rows  # nothing reads bi.report
