"""Resources: the SQLFlow client, the dlt pipeline and DuckDB, all resolved at run time.

Credentials never pass through Dagster config: `SQLFlowResource` asks dlt's config providers
(`.dlt/secrets.toml`, `SOURCES__SQLFLOW__*`) when a run needs a client, so they stay out of run
config, the UI and metadata, and the code location loads without them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource
from dagster_duckdb import DuckDBResource

from sqlflow_assets import config
from sqlflow_assets.client import SQLFlowClient

DUCKDB_POOL = "duckdb"


class SQLFlowResource(dg.ConfigurableResource):
    """Builds a `SQLFlowClient` from dlt config; `base_url` here overrides `[sources.sqlflow]`."""

    base_url: str | None = None

    def client(self) -> SQLFlowClient:
        """One client per distinct config in this process, so sensor ticks reuse its token.

        Config is read again on every call: a changed secret or server gets a new client.
        """
        overrides = {"base_url": self.base_url} if self.base_url else {}
        return shared_client(frozenset(SQLFlowClient.resolve_config(**overrides).items()))


@functools.lru_cache(maxsize=8)
def shared_client(config_items: frozenset) -> SQLFlowClient:
    return SQLFlowClient(**dict(config_items))


class LineagePipelineResource(dg.ConfigurableResource):
    """The dlt pipeline that loads SQLFlow data into schema `sqlflow_raw`.

    DuckDB (`SQLFLOW_DUCKDB_PATH`) unless `destination` names another dlt destination, whose
    credentials then come from dlt config as usual.
    """

    destination: str = "duckdb"
    duckdb_path: str | None = None

    def pipeline(self) -> dlt.Pipeline:
        if self.destination == "duckdb":
            self.database_path().parent.mkdir(parents=True, exist_ok=True)
            destination = dlt.destinations.duckdb(str(self.database_path()))
        else:
            destination = self.destination
        return dlt.pipeline(
            pipeline_name=config.PIPELINE_NAME,
            pipelines_dir=str(config.pipelines_dir()),
            destination=destination,
            dataset_name=config.RAW_SCHEMA,
            progress="log",
        )

    def database_path(self) -> Path:
        return Path(self.duckdb_path).resolve() if self.duckdb_path else config.duckdb_path()


def default_resources() -> dict[str, object]:
    """The resources of the code location, pointed at `SQLFLOW_DUCKDB_PATH` when it is loaded."""
    pipeline = LineagePipelineResource()
    return {
        "sqlflow": SQLFlowResource(),
        "lineage_pipeline": pipeline,
        "dlt": DagsterDltResource(),
        "duckdb": DuckDBResource(database=str(pipeline.database_path())),
    }
