"""The user's warehouse tables and views as external assets, so Dagster's asset graph, search and
asset pages show the warehouse lineage (upstream tables, `dagster/column_lineage`). Dagster OSS
shows `dagster/column_lineage` nowhere (its column view is Dagster+'s), so the same lineage is also
a Markdown table, `sqlflow/column_lineage`, in the Metadata section of each table's page.

Built when the code location loads from the snapshot the graph step writes
(`sqlflow_assets.warehouse.table_catalog`): one JSON file, no database, so loading never waits for a
writer. With no snapshot yet the code location has the pipeline assets alone, and says so.

Refresh: `warehouse_catalog_reload` notices a new snapshot (or a changed `warehouse_assets`
setting or destination) and asks the code server it runs in to reload (gRPC `ReloadCode`, what the
UI's "Reload" does for this location); the webserver sees the new server at once, the daemon
within a minute. Where the location is not served by a gRPC code server, the tick says to reload.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
from dagster._grpc.client import DagsterGrpcClient

from sqlflow_assets import config
from sqlflow_assets.errors import CatalogSnapshotError
from sqlflow_assets.warehouse import table_catalog

log = logging.getLogger(__name__)

RELOAD_TIMEOUT = 300  # seconds the code server may take to load the new definitions
LAYER_TAGS = {"sqlflow/layer": "warehouse"}
COLUMN_LINEAGE_LABEL = "sqlflow/column_lineage"

# what this process's definitions were built from: (snapshot stamp, settings); the sensor compares
_loaded: dict[str, object] = {}
_reload_requested: dict[str, object] = {}


def _state() -> tuple[tuple[int, int, int] | None, tuple[str, ...], str]:
    """Everything the warehouse assets are built from, cheaply: the snapshot's stamp, the setting, the destination."""
    return (table_catalog.stamp(config.catalog_snapshot_path()), config.warehouse_assets(), table_catalog.destination_label(config.storage()))


def table_specs(snapshot_path: Path, patterns: Sequence[str], destination: str, owners: Sequence[str] = ()) -> list[dg.AssetSpec]:
    """One external asset per table or view of the snapshot whose schema `patterns` select; none without a snapshot."""
    try:
        snapshot = table_catalog.read_snapshot(snapshot_path)
    except CatalogSnapshotError as error:
        log.warning("%s: the code location has the pipeline assets alone until the graph step writes it again", error)
        return []
    if snapshot is None:
        log.info(
            "no warehouse catalog snapshot at %s yet: the code location has the pipeline assets alone "
            "until lineage/table_lineage is materialised",
            snapshot_path,
        )
        return []
    if snapshot.get("destination") != destination:
        log.warning(
            "the warehouse catalog snapshot at %s describes %s, not the configured %s: no warehouse assets "
            "until lineage/table_lineage is materialised there",
            snapshot_path, snapshot.get("destination"), destination,
        )  # fmt: skip
        return []
    plans = table_catalog.plan(snapshot, patterns)
    log.info("warehouse catalog: %d of %d tables and views as assets (warehouse_assets = %s)", len(plans), len(snapshot["tables"]), list(patterns))
    return _Specs(plans, owners).specs


def column_lineage_markdown(column_lineage: Mapping[str, Sequence[Sequence[str]]]) -> str:
    """Each column of a table and the upstream columns it comes from, as a Markdown table."""
    rows = (
        f"| `{column}` | {', '.join(f'`{source}.{name}`' for source, name in deps)} |"
        for column, deps in sorted(column_lineage.items())
    )
    return "\n".join(("| Column | Upstream columns |", "| --- | --- |", *rows))


class _Specs:
    """The specs of `plans`. Dagster's metadata objects are immutable, so one object serves every
    table that needs it (an upstream key, a column dependency, a column): 5,000 tables load in a
    fraction of the time that building each anew takes (benchmarks/catalog_load.py)."""

    def __init__(self, plans: Sequence[table_catalog.TablePlan], owners: Sequence[str]) -> None:
        self.keys = {table.name: dg.AssetKey(table.key) for table in plans}
        self.deps = {name: dg.AssetDep(key) for name, key in self.keys.items()}
        self.column_deps: dict[tuple[str, str], dg.TableColumnDep] = {}
        self.columns: dict[tuple[str, str], dg.TableColumn] = {}
        self.owners = list(owners)
        self.specs = [self.spec(table) for table in plans]

    def column_dep(self, source: str, column: str) -> dg.TableColumnDep:
        found = self.column_deps.get((source, column))
        if found is None:
            found = self.column_deps[(source, column)] = dg.TableColumnDep(asset_key=self.keys[source], column_name=column)
        return found

    def column(self, name: str, description: str) -> dg.TableColumn:
        found = self.columns.get((name, description))
        if found is None:
            found = self.columns[(name, description)] = dg.TableColumn(name, "unknown", description=description or None)
        return found

    def spec(self, table: table_catalog.TablePlan) -> dg.AssetSpec:
        metadata: dict[str, object] = {
            "dagster/table_name": table.name,
            "dagster/column_schema": dg.TableSchema(columns=[self.column(name, description) for name, description in table.columns]),
            "sqlflow/jobs": table.jobs,
            "sqlflow/files": ", ".join(table.files),
        }
        if table.column_lineage:
            metadata["dagster/column_lineage"] = dg.TableColumnLineage(
                deps_by_column={
                    column: [self.column_dep(source, name) for source, name in deps] for column, deps in table.column_lineage.items()
                }
            )
            # Dagster OSS draws `dagster/column_lineage` nowhere (its UI hides the entry; the column view is Dagster+'s):
            # the same lineage as a table people read in the asset page's Metadata section
            metadata[COLUMN_LINEAGE_LABEL] = dg.MetadataValue.md(column_lineage_markdown(table.column_lineage))
        if table.rows_from:
            metadata["sqlflow/rows_decided_by"] = "; ".join(table.rows_from)
        return dg.AssetSpec(
            self.keys[table.name],
            deps=[self.deps[source] for source in table.upstream],
            group_name=table.group,
            kinds=set(table.kinds),
            description=table.description,
            metadata=metadata,
            tags=LAYER_TAGS,
            owners=self.owners,
        )


@dg.sensor(minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def warehouse_catalog_reload(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Reload the code location when the warehouse catalog changed: a new snapshot, setting or destination.

    Compares with what this process loaded, not with a cursor: the reload replaces this process,
    so a lost tick or a failed reload is simply noticed again.
    """
    config.reload_changed_settings()
    state = _state()
    if "state" not in _loaded or state == _loaded["state"]:
        return dg.SkipReason("the warehouse assets are current")
    origin = context.code_location_origin
    if not isinstance(origin, GrpcServerCodeLocationOrigin):
        return dg.SkipReason("the warehouse catalog changed: reload the code location (\"Reload definitions\") to see it")
    if _reload_requested.get("state") == state:
        return dg.SkipReason("the warehouse catalog changed: reload of the code location under way")
    _reload_requested["state"] = state
    threading.Thread(target=_reload, args=(origin,), name="warehouse-catalog-reload", daemon=True).start()
    context.log.info("the warehouse catalog changed: reloading code location %s", origin.location_name)
    return dg.SkipReason("the warehouse catalog changed: reloading the code location")


@dg.definitions
def warehouse_tables() -> dg.Definitions:
    """The warehouse's tables as external assets (built at load, from the catalog snapshot)."""
    state = _state()
    _, patterns, destination = state
    specs = table_specs(config.catalog_snapshot_path(), patterns, destination, config.asset_owners())
    _loaded["state"] = state
    # a module with a @dg.definitions function contributes only what it returns: the sensor goes here
    return dg.Definitions(assets=specs, sensors=[warehouse_catalog_reload])


def _reload(origin: GrpcServerCodeLocationOrigin) -> None:
    """Ask the code server to load the code again (in a thread: the sensor's tick ends meanwhile, and this process is replaced)."""
    try:
        DagsterGrpcClient(host=origin.host, port=origin.port, socket=origin.socket).reload_code(timeout=RELOAD_TIMEOUT)
    except Exception as error:  # noqa: BLE001 (a failed reload is retried on the next tick)
        log.warning("reloading code location %s failed: %s", origin.location_name, error)
        _reload_requested.clear()
