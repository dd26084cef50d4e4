"""Resources: the SQLFlow client and the lineage storage, both resolved at run time.

Credentials never pass through Dagster config: `SQLFlowResource` asks dlt's config providers
(`.dlt/secrets.toml`, `SOURCES__SQLFLOW__*`) when a run needs a client, and `StorageResource`
leaves destination credentials to dlt (`[destination.<type>]`), so they stay out of run config,
the UI and metadata, and the code location loads without them.
"""

from __future__ import annotations

import functools

import dagster as dg
from dagster_dlt import DagsterDltResource

from sqlflow_assets import config, config_traps
from sqlflow_assets.api.client import SQLFlowClient


class SQLFlowResource(dg.ConfigurableResource):
    """Builds a `SQLFlowClient` from dlt config; `base_url` here overrides `[sources.sqlflow]`."""

    base_url: str | None = None

    def client(self) -> SQLFlowClient:
        """One client per distinct config in this process, so sensor ticks reuse its token.

        Config is read again on every call: a changed secret or server gets a new client.
        """
        config.reload_changed_settings()
        overrides = {"base_url": self.base_url} if self.base_url else {}
        return shared_client(frozenset(dict(config.sqlflow_connection(**overrides)).items()))


@functools.lru_cache(maxsize=8)
def shared_client(connection_items: frozenset) -> SQLFlowClient:
    return SQLFlowClient(config.SQLFlowConnection(**dict(connection_items)))


class StorageResource(dg.ConfigurableResource):
    """Where lineage lands: dlt's `destination_type` (config or env), else DuckDB at `SQLFLOW_DUCKDB_PATH`.

    `destination_type` here overrides dlt's setting; either way it is read when a run starts.
    """

    destination_type: str | None = None

    def storage(self) -> config.Storage:
        """The storage now; a destination key in a wrong TOML section, or a changed destination, is a warning in the step's log."""
        config.reload_changed_settings()
        for message in config_traps.misplaced_destination_keys(project=config.project_dir()):
            dg.get_dagster_logger().warning(message)
        storage = config.storage(self.destination_type)
        changed = config_traps.destination_change(storage.destination_type, config.PIPELINE_NAME, config.submissions_dir())
        if changed:
            dg.get_dagster_logger().warning(changed)
        return storage


def default_resources() -> dict[str, object]:
    """The resources of the code location; nothing here opens a database or reads a secret."""
    return {
        "sqlflow": SQLFlowResource(),
        "storage": StorageResource(),
        "dlt": DagsterDltResource(),
    }


@dg.definitions
def resources() -> dg.Definitions:
    """The resources every asset of the defs folder binds to."""
    return dg.Definitions(resources=default_resources())
