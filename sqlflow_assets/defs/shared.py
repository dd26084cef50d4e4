"""What the Dagster definitions of the defs folder share: owners, automation, state kept in metadata, column schemas."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from sqlflow_assets import config, tables

# Owners are part of the definitions: read when the code location loads.
OWNERS = config.asset_owners()

_AC = dg.AutomationCondition

# What counts as having handled a dep update: the tick after the request, unless a dep updated since.
# Eager's `since_last_handled` also counts the target's own materialisation, and resets on the tick
# after its request whatever landed meanwhile (the timing of `any_deps_updated` does not reach its
# `since`): a job's lineage that landed during a graph run was dropped, the graph stale until the
# next job. Here an update seen while a run is in progress is kept, and requests one more refresh
# when it ends; the run's own materialisations are no dep update (`any_deps_updated` leaves out
# updates made by a run that also targeted this asset), so nothing is requested again and again.
_GRAPH_HANDLED = ((_AC.newly_requested() & ~_AC.any_deps_updated()) | _AC.initial_evaluation()).with_label("handled, nothing new since")

# Eager otherwise, except that a job partition never loaded (a failed run, a partition added but not
# yet run) must not hold the whole graph back: it is built from what is loaded.
GRAPH_AUTOMATION = (
    (_AC.newly_missing() | _AC.any_deps_updated()).since(_GRAPH_HANDLED)
    & ~_AC.any_deps_in_progress()
    & ~_AC.in_progress()
).with_label("eager, keeping updates that land during a run")


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
