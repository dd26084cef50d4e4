"""Assets: SQL submission, raw SQLFlow tables (dlt) and the flattened `lineage.*` tables."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dagster_duckdb import DuckDBResource

from sqlflow_assets import config, flatten, quality, submission
from sqlflow_assets.config import sql_dir
from sqlflow_assets.defs.partitions import sqlflow_jobs_partitions
from sqlflow_assets.defs.resources import DUCKDB_POOL, LineagePipelineResource, SQLFlowResource
from sqlflow_assets.lineage_json import TABLE_NAMES
from sqlflow_assets.source import sqlflow_source

RAW_GROUP = "sqlflow_raw"
LINEAGE_GROUP = "lineage"
SUBMISSION_KEY = dg.AssetKey(["sqlflow", "sql_submission"])


class SQLFlowTranslator(DagsterDltTranslator):
    """Keys raw tables as `sqlflow_raw/<table>` with no stub upstream assets."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(key=dg.AssetKey([config.RAW_SCHEMA, data.resource.name]), deps=[], group_name=RAW_GROUP)
        )


# Only describes the assets (destination kind); every run builds its own pipeline from the resource.
SPEC_PIPELINE = dlt.pipeline(
    pipeline_name=config.PIPELINE_NAME,
    pipelines_dir=str(Path(tempfile.gettempdir()) / "sqlflow_assets_specs"),
    destination="duckdb",
    dataset_name=config.RAW_SCHEMA,
)
TRANSLATOR = SQLFlowTranslator()


def sqlflow_dlt_assets(
    name: str, resources: tuple[str, ...], partitions_def: dg.PartitionsDefinition | None = None
) -> dg.AssetsDefinition:
    """dlt assets for some resources of the `sqlflow` source; partitioned ones load one job per run.

    Every run builds a fresh source and pipeline (reusing the import-time source breaks dagster-dlt's
    metadata, dagster#34052) and loads parquet: the Arrow tables then skip dlt's normaliser.
    """

    @dlt_assets(
        dlt_source=sqlflow_source().with_resources(*resources),
        dlt_pipeline=SPEC_PIPELINE,
        name=name,
        dagster_dlt_translator=TRANSLATOR,
        partitions_def=partitions_def,
        pool=DUCKDB_POOL,
    )
    def load(
        context: dg.AssetExecutionContext,
        dlt: DagsterDltResource,
        sqlflow: SQLFlowResource,
        lineage_pipeline: LineagePipelineResource,
    ):
        job_id = context.partition_key if partitions_def else None
        source = sqlflow_source(job_id=job_id, client=sqlflow.client()).with_resources(*resources)
        yield from dlt.run(
            context=context, dlt_source=source, dlt_pipeline=lineage_pipeline.pipeline(), loader_file_format="parquet"
        ).fetch_row_count()

    return load


sqlflow_jobs_raw = sqlflow_dlt_assets("sqlflow_jobs_raw", ("jobs",))
sqlflow_lineage_raw = sqlflow_dlt_assets("sqlflow_lineage_raw", TABLE_NAMES, sqlflow_jobs_partitions)

LINEAGE_DESCRIPTIONS = {
    "objects": "Every object of a job's lineage (tables, views, result sets, processes) with its qualified name.",
    "columns": "Every column of every object, pseudo columns (PseudoRows) flagged.",
    "column_edges": "One row per source column → target column pair of every relationship (fdd and fdr).",
    "end_to_end_edges": "Column lineage between real tables and views, intermediate result sets collapsed (chain rule).",
    "table_edges": "Table-level lineage between real tables and views: end-to-end edges counted per type.",
}
RAW_LINEAGE_KEYS = [dg.AssetKey([config.RAW_SCHEMA, name]) for name in TABLE_NAMES]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey([config.LINEAGE_SCHEMA, table]),
            deps=RAW_LINEAGE_KEYS,
            group_name=LINEAGE_GROUP,
            kinds={"duckdb"},
            description=LINEAGE_DESCRIPTIONS[table],
        )
        for table in flatten.LINEAGE_TABLES
    ],
    partitions_def=sqlflow_jobs_partitions,
    pool=DUCKDB_POOL,
    name="lineage_tables",
)
def lineage_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> Iterator[dg.MaterializeResult]:
    """Rebuild one job's rows of every `lineage.*` table from the raw tables, in one transaction."""
    job_id = context.partition_key
    with duckdb.get_connection() as conn:
        counts = flatten.build_all(conn, job_id)
        schemas = {table: quality.table_columns(conn, table) for table in flatten.LINEAGE_TABLES}
    for table, rows in counts.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([config.LINEAGE_SCHEMA, table]),
            metadata={
                "dagster/partition_row_count": rows,
                "dagster/table_name": f"{config.LINEAGE_SCHEMA}.{table}",
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(name, type_) for name, type_ in schemas[table]]
                ),
            },
        )


class SqlFolderConfig(dg.Config):
    """Which SQL files to submit, and how SQLFlow should read them."""

    folder: str | None = None  # None: SQLFLOW_SQL_DIR, else the bundled sample
    dbvendor: str = "dbvpostgresql"
    job_name: str = "sqlflow_assets sql folder"


@dg.asset(key=SUBMISSION_KEY, group_name="sqlflow", output_required=False, kinds={"sql"})
def sql_submission(context: dg.AssetExecutionContext, config: SqlFolderConfig, sqlflow: SQLFlowResource):
    """Submit the SQL files of a folder as one SQLFlow job, only when their content changed."""
    folder = Path(config.folder) if config.folder else sql_dir()
    files = submission.read_sql_folder(folder)
    fingerprint = submission.fingerprint(files)
    last = context.instance.get_latest_materialization_event(SUBMISSION_KEY)
    last_fingerprint = last.asset_materialization.metadata.get("content_hash") if last else None
    if last_fingerprint is not None and last_fingerprint.value == fingerprint:
        context.log.info(f"{len(files)} SQL files unchanged since the last submission; nothing submitted")
        return
    job = sqlflow.client().submit_user_job(config.job_name, files, config.dbvendor)
    yield dg.MaterializeResult(
        metadata={"job_id": job["jobId"], "content_hash": fingerprint, "file_count": len(files), "folder": str(folder)}
    )
