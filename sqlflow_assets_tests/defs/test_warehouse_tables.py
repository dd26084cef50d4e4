"""The user's warehouse tables as Dagster assets: built from real materialisations (jobs analysed by
the local server, the graph rebuilt), loaded as the code location loads (a fresh process), checked
against the `lineage.*` tables; the setting that chooses them; no snapshot; the reload on change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb
import pytest
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
from dagster._grpc.client import DagsterGrpcClient

from sqlflow_assets import config
from sqlflow_assets.defs import warehouse_tables
from sqlflow_assets.warehouse import table_catalog
from sqlflow_assets_tests.support import LOOP, REPO_ROOT, free_port, load_jobs, poll, refresh

LISTING = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from sqlflow_assets.definitions import defs
graph = defs.resolve_asset_graph()
out = {}
for spec in defs.resolve_all_asset_specs():
    lineage = spec.metadata.get("dagster/column_lineage")
    schema = spec.metadata.get("dagster/column_schema")
    out[spec.key.to_user_string()] = {
        "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
        "group": spec.group_name,
        "kinds": sorted(spec.kinds),
        "external": not graph.get(spec.key).is_materializable,
        "columns": [c.name for c in schema.columns] if schema else [],
        "lineage": {c: sorted([d.asset_key.to_user_string(), d.column_name] for d in deps)
                    for c, deps in lineage.deps_by_column.items()} if lineage else {},
        "table_name": spec.metadata.get("dagster/table_name"),
        "files": spec.metadata.get("sqlflow/files"),
        "jobs": spec.metadata.get("sqlflow/jobs"),
        "description": spec.description,
        "column_descriptions": {c.name: c.description for c in schema.columns} if schema else {},
        "lineage_markdown": getattr(spec.metadata.get("sqlflow/column_lineage"), "value", None),
    }
print(json.dumps(out))
"""


def load_code_location(**env: str) -> tuple[dict[str, dict], str]:
    """Every asset of `sqlflow_assets.definitions` loaded in a fresh process, as the code server does; and its log."""
    result = subprocess.run(
        [sys.executable, "-c", LISTING], cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1]), result.stderr


def warehouse_assets(assets: dict[str, dict]) -> dict[str, dict]:
    return {key: asset for key, asset in assets.items() if key.startswith("warehouse/")}


def loaded_graph(project_env) -> dict[str, list[dict]]:
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        return {
            table: [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor.fetchall()]
            for table in ("current_jobs", "column_lineage", "table_lineage")
            for cursor in [conn.execute(f"SELECT * FROM lineage.{table}")]
        }


def key(name: str) -> str:
    return "warehouse/" + name.replace(".", "/")


def test_every_table_of_the_graph_is_an_external_asset_with_its_lineage(project_env, warehouse):
    instance, (ingest, _, marts_v2) = warehouse
    refresh(project_env, instance)
    graph = loaded_graph(project_env)
    assets, log = load_code_location()
    tables = warehouse_assets(assets)

    names = {e["source_object"] for e in graph["column_lineage"]} | {e["target_object"] for e in graph["column_lineage"]}
    assert set(tables) == {key(name) for name in names} == {"warehouse/raw/orders", "warehouse/staging/orders", "warehouse/marts/revenue"}
    assert "3 of 3 tables and views as assets" in log
    for name in names:
        table = tables[key(name)]
        assert table["external"] and table["table_name"] == name
        assert table["group"] == "warehouse_" + name.split(".")[0]
        assert table["kinds"] == ["postgres"]
        assert table["deps"] == sorted({key(t["source_object"]) for t in graph["table_lineage"] if t["target_object"] == name})
        expected: dict[str, set] = {}
        for e in graph["column_lineage"]:
            if e["target_object"] == name and not table_catalog.is_pseudo(e["target_column"]):
                expected.setdefault(e["target_column"], set()).add((key(e["source_object"]), e["source_column"]))
        assert {c: {tuple(d) for d in deps} for c, deps in table["lineage"].items()} == expected
        assert set(expected) <= set(table["columns"])
    revenue = tables["warehouse/marts/revenue"]
    assert revenue["lineage"] == {"total": [["warehouse/staging/orders", "amount"]]}
    assert revenue["column_descriptions"] == {"total": "DIRECT AGGREGATION"}
    # what Dagster OSS shows of it (it draws `dagster/column_lineage` nowhere): a Markdown table on the page
    assert revenue["lineage_markdown"].splitlines() == ["| Column | Upstream columns |", "| --- | --- |", "| `total` | `staging.orders.amount` |"]
    assert tables["warehouse/raw/orders"]["lineage_markdown"] is None  # nothing upstream
    assert revenue["files"] == "marts.sql" and revenue["jobs"] == f"marts (writes, job {marts_v2})"
    assert "`marts.revenue`" in revenue["description"] and "Written by `marts`" in revenue["description"]
    assert tables["warehouse/raw/orders"]["jobs"] == f"ingest (reads, job {ingest})"
    assert tables["warehouse/raw/orders"]["files"] == "ingest.sql"
    # the pipeline keeps its own assets beside them
    assert {"lineage/table_lineage", "sqlflow_raw/jobs", "sqlflow/sql_submission"} <= set(assets)


def test_the_setting_chooses_schemas_or_none(project_env, warehouse):
    instance, _ = warehouse
    refresh(project_env, instance)

    marts_only, _ = load_code_location(SOURCES__SQLFLOW__WAREHOUSE_ASSETS='["marts", "nothing.*"]')
    assert set(warehouse_assets(marts_only)) == {"warehouse/marts/revenue"}
    assert warehouse_assets(marts_only)["warehouse/marts/revenue"]["deps"] == []  # lineage stays among chosen tables

    none, log = load_code_location(SOURCES__SQLFLOW__WAREHOUSE_ASSETS="[]")
    assert warehouse_assets(none) == {} and "0 of 3 tables and views" in log
    assert "lineage/table_lineage" in none


def test_without_a_snapshot_the_code_location_has_the_pipeline_assets_alone(project_env):
    assert not config.catalog_snapshot_path().exists()
    assets, log = load_code_location()
    assert warehouse_assets(assets) == {}
    assert {"lineage/table_lineage", "lineage/column_edges", "sqlflow_raw/jobs"} <= set(assets)
    assert f"no warehouse catalog snapshot at {config.catalog_snapshot_path()} yet" in log


def test_a_snapshot_of_another_destination_or_unreadable_gives_no_warehouse_assets(project_env, warehouse, tmp_path):
    instance, _ = warehouse
    refresh(project_env, instance)
    elsewhere, log = load_code_location(SQLFLOW_DUCKDB_PATH=str(tmp_path / "other.duckdb"))
    assert warehouse_assets(elsewhere) == {} and "not the configured duckdb:" in log

    config.catalog_snapshot_path().write_text("{broken")
    broken, log = load_code_location()
    assert warehouse_assets(broken) == {} and "not JSON" in log and "lineage/table_lineage" in broken


def test_the_code_location_runs_the_reload_sensor():
    from sqlflow_assets.definitions import defs

    assert defs.resolve_sensor_def("warehouse_catalog_reload").default_status == dg.DefaultSensorStatus.RUNNING


def test_the_sensor_says_when_the_catalog_changed(project_env, warehouse):
    instance, _ = warehouse
    warehouse_tables.warehouse_tables()  # what this process loaded: no snapshot yet
    context = dg.build_sensor_context(instance=instance)
    assert "current" in warehouse_tables.warehouse_catalog_reload(context).skip_message
    refresh(project_env, instance)
    assert "reload the code location" in warehouse_tables.warehouse_catalog_reload(context).skip_message


def test_a_new_snapshot_reloads_the_code_server_with_the_new_tables(project_env, warehouse, tmp_path):
    """The sensor, given the code server the daemon reached it through, has that server load the new graph."""
    instance, _ = warehouse
    refresh(project_env, instance)
    with code_server(tmp_path) as port:
        client = DagsterGrpcClient(host="127.0.0.1", port=port)
        first = poll(lambda: _server_id(client), timeout=240, what="code server up")
        assert _served_keys(port) >= {"warehouse/marts/revenue"} and "warehouse/marts/loop" not in _served_keys(port)

        warehouse_tables.warehouse_tables()  # this process plays the code server's part: it loaded the snapshot as it was
        load_jobs(project_env, instance, ("loop", LOOP))
        refresh(project_env, instance)
        origin = GrpcServerCodeLocationOrigin(host="127.0.0.1", port=port, location_name="sqlflow_assets")
        context = dg.build_sensor_context(instance=instance)
        context._code_location_origin = origin  # what the daemon passes with each tick
        assert "reloading the code location" in warehouse_tables.warehouse_catalog_reload(context).skip_message
        assert "under way" in warehouse_tables.warehouse_catalog_reload(context).skip_message  # asked once
        poll(lambda: (_server_id(client) or first) != first, timeout=240, what="code server reloaded")
        raw_orders = poll(lambda: _served_deps(port).get("warehouse/raw/orders"), timeout=60, what="new snapshot served")
        assert "warehouse/marts/revenue" in raw_orders  # LOOP: raw.orders is now written from marts.revenue


def test_a_new_destination_reloads_the_code_server_and_the_kinds_follow(project_env, tmp_path):
    """Switching `destination_type` in `.dlt/config.toml` (no snapshot needed): one sensor tick, and the
    served pipeline assets say postgres, not duckdb, with nobody clicking "Reload definitions"."""
    with code_server(tmp_path) as port:
        client = DagsterGrpcClient(host="127.0.0.1", port=port)
        first = poll(lambda: _server_id(client), timeout=240, what="code server up")
        assert _served_kinds(port)["lineage/table_lineage"] >= {"duckdb"}

        warehouse_tables.warehouse_tables()  # this process plays the code server's part: it loaded DuckDB
        (tmp_path / ".dlt").mkdir(exist_ok=True)
        (tmp_path / ".dlt" / "config.toml").write_text('destination_type = "postgres"\n')
        origin = GrpcServerCodeLocationOrigin(host="127.0.0.1", port=port, location_name="sqlflow_assets")
        context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
        context._code_location_origin = origin  # what the daemon passes with each tick
        assert "reloading the code location" in warehouse_tables.warehouse_catalog_reload(context).skip_message
        poll(lambda: (_server_id(client) or first) != first, timeout=240, what="code server reloaded")
        kinds = poll(lambda: _served_kinds(port), timeout=60, what="the reloaded definitions served")
        for key in ("lineage/table_lineage", "lineage/column_lineage", "sqlflow_raw/jobs"):
            assert "postgres" in kinds[key] and "duckdb" not in kinds[key], (key, kinds[key])


@contextmanager
def code_server(tmp_path) -> Iterator[int]:
    """`dagster code-server start` of the code location (what `dagster dev` runs) on a free port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster", "code-server", "start", "-m", "sqlflow_assets.definitions", "--port", str(port),
         "--location-name", "sqlflow_assets"],
        # not the checkout: the code server injects the `.env` of its folder, and the checkout's (scripts/test
        # writes one) names the project's dlt data folder, not this test's
        cwd=tmp_path, env={**os.environ, "DAGSTER_HOME": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield port
    finally:
        server.terminate()
        server.wait(timeout=60)


def _server_id(client: DagsterGrpcClient) -> str | None:
    try:
        return client.get_server_id(timeout=5)
    except Exception:  # noqa: BLE001 (not up yet, or restarting)
        time.sleep(0.5)
        return None


def _served_deps(port: int) -> dict[str, list[str]]:
    """Each warehouse asset the code server serves, with its upstream keys, read over gRPC as the webserver does."""
    from dagster._core.remote_representation.code_location import GrpcServerCodeLocation

    origin = GrpcServerCodeLocationOrigin(host="127.0.0.1", port=port, location_name="sqlflow_assets")
    with dg.DagsterInstance.ephemeral() as instance, GrpcServerCodeLocation(origin, instance=instance) as location:
        [repository] = location.get_repositories().values()
        return {
            node.asset_key.to_user_string(): sorted(dep.parent_asset_key.to_user_string() for dep in node.parent_edges)
            for node in repository.get_asset_node_snaps()
            if node.asset_key.path[0] == "warehouse"
        }


def _served_kinds(port: int) -> dict[str, set[str]]:
    """Each asset's kinds as the code server serves them (Dagster keeps a kind as a `dagster/kind/<kind>` tag)."""
    from dagster._core.remote_representation.code_location import GrpcServerCodeLocation

    origin = GrpcServerCodeLocationOrigin(host="127.0.0.1", port=port, location_name="sqlflow_assets")
    with dg.DagsterInstance.ephemeral() as instance, GrpcServerCodeLocation(origin, instance=instance) as location:
        [repository] = location.get_repositories().values()
        return {
            node.asset_key.to_user_string(): {tag.removeprefix("dagster/kind/") for tag in node.tags or {} if tag.startswith("dagster/kind/")}
            for node in repository.get_asset_node_snaps()
        }


def _served_keys(port: int) -> set[str]:
    return set(_served_deps(port))


@pytest.fixture(autouse=True)
def _forget_loaded_state():
    """Each test starts as a fresh code server would: nothing loaded, no reload asked."""
    warehouse_tables._loaded.clear()
    warehouse_tables._reload_requested.clear()
    yield
    warehouse_tables._loaded.clear()
    warehouse_tables._reload_requested.clear()
