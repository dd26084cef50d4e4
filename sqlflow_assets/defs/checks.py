"""Asset checks on a job's column edges: every endpoint resolves, and no edge is duplicated."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from sqlflow_assets import config, quality
from sqlflow_assets.defs.resources import DUCKDB_POOL

COLUMN_EDGES_KEY = dg.AssetKey([config.LINEAGE_SCHEMA, "column_edges"])


def check_result(count: int, sample: list[tuple], what: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=count == 0,
        description=f"{count} {what}",
        metadata={"count": count, "sample": dg.MetadataValue.json([list(row) for row in sample])},
    )


@dg.asset_check(asset=COLUMN_EDGES_KEY, pool=DUCKDB_POOL)
def edge_endpoints_resolve(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """Every source and target of the job's column edges is a known object of the same job."""
    with duckdb.get_connection() as conn:
        count, sample = quality.unresolved_edge_endpoints(conn, context.partition_key)
    return check_result(count, sample, "column edges with an endpoint missing from lineage.objects")


@dg.asset_check(asset=COLUMN_EDGES_KEY, pool=DUCKDB_POOL)
def edges_not_duplicated(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    """No source→target column pair appears twice within one relationship of the job."""
    with duckdb.get_connection() as conn:
        count, sample = quality.duplicate_edges(conn, context.partition_key)
    return check_result(count, sample, "duplicated column edges")
