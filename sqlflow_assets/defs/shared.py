"""What the Dagster definitions of the defs folder share: owners, automation, state kept in metadata, column schemas."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from sqlflow_assets import config, tables

# Owners are part of the definitions: read when the code location loads.
OWNERS = config.asset_owners()

# Eager, except that a job partition never loaded (a failed run, a partition added but not yet run)
# must not hold the whole graph back: it is built from what is loaded.
GRAPH_AUTOMATION = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def layer_tags(layer: str) -> dict[str, str]:
    """Tags that let `--select tag:sqlflow/layer=raw` (or the catalog's filter) pick a layer."""
    return {"sqlflow/layer": layer}


def last_json_metadata(context: dg.AssetExecutionContext, key: dg.AssetKey, name: str) -> dict:
    """The JSON metadata entry `name` of `key`'s latest materialisation: state an asset keeps between runs."""
    last = context.instance.get_latest_materialization_event(key)
    entry = last.asset_materialization.metadata.get(name) if last and last.asset_materialization else None
    return dict(entry.value) if entry is not None and isinstance(entry.value, dict) else {}


def column_schema(table: tables.Table, columns: Iterable[tuple[str, str]]) -> dg.TableSchema:
    """`columns` (name, type) with their descriptions from the table contract, for specs and materialisations.

    Columns the contract does not hold (dlt's, the tombstone flag) have no description.
    """
    return dg.TableSchema(columns=[dg.TableColumn(name, kind, description=table.description_of(name)) for name, kind in columns])
