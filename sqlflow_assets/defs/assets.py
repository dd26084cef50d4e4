"""Assets: the SQLFlow jobs list (dlt), and each job's raw and `lineage.*` tables.

A job's lineage is one step (`sqlflow_job_lineage`): export, parse, flatten, check and one dlt load
per dataset, all in the run's process, so a run costs seconds of overhead, not a subprocess per
table, and the lineage rows always come from the raw rows loaded with them.
"""

import tempfile
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import dlt
import pyarrow as pa
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from sqlflow_assets import column_docs
from sqlflow_assets import config
from sqlflow_assets.job import flatten
from sqlflow_assets.render import glance
from sqlflow_assets.warehouse import graph
from sqlflow_assets.warehouse import table_catalog
from sqlflow_assets.job import lineage_step
from sqlflow_assets.job import quality
from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA
from sqlflow_assets.defs.partitions import sqlflow_jobs_partitions
from sqlflow_assets.defs.resources import SQLFlowResource, StorageResource
from sqlflow_assets.job.lineage_json import TABLE_NAMES
from sqlflow_assets.job.dlt_source import sqlflow_source

RAW_GROUP = RAW_SCHEMA
LINEAGE_GROUP = LINEAGE_SCHEMA

RAW_DESCRIPTIONS = {
    "objects": "Every dbobj of a job's lineage export (tables, views, result sets, functions, processes).",
    "columns": "Every column of every dbobj, pseudo columns (PseudoRows) flagged.",
    "relationships": "One row per SQLFlow relationship (fdd, fdr, join...) of a job.",
    "relationship_sources": "One row per source of a relationship, with its clause type.",
    "processes": "One row per analysed statement of a job.",
    "errors": "Statements SQLFlow could not analyse.",
}
LINEAGE_DESCRIPTIONS = {
    "objects": "Every object of a job's lineage (tables, views, result sets, processes) with its qualified name.",
    "columns": "Every column of every object, pseudo columns (PseudoRows) flagged.",
    "column_edges": "One row per source column → target column pair of every relationship (fdd and fdr).",
    "end_to_end_edges": "Column lineage between real tables and views, intermediate result sets collapsed (chain rule).",
    "table_edges": "Table-level lineage between real tables and views: end-to-end edges counted per type.",
}


# The jobs list is reloaded every hour (and by the sensor whenever new jobs appear); two missed
# hours make it stale.
JOBS_AUTOMATION = dg.AutomationCondition.on_cron("0 * * * *")
JOBS_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2), warn_window=timedelta(minutes=90))


def layer_tags(layer: str) -> dict[str, str]:
    """Tags that let `--select tag:sqlflow/layer=raw` (or the catalog's filter) pick a layer."""
    return {"sqlflow/layer": layer}


# The configured storage as the code location loads: it names kinds and tables in the specs.
# Runs resolve it again (StorageResource), so a changed setting reaches them without a reload.
SPEC_STORAGE = config.storage()
STORAGE_KINDS = {"dlt", SPEC_STORAGE.destination_type}
OWNERS = config.asset_owners()


class SQLFlowTranslator(DagsterDltTranslator):
    """Keys raw tables as `sqlflow_raw/<table>` with no stub upstream assets, their real table name, hourly."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        name = data.resource.name
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey([RAW_SCHEMA, name]),
                deps=[],
                group_name=RAW_GROUP,
                kinds=STORAGE_KINDS,
                automation_condition=JOBS_AUTOMATION,
                freshness_policy=JOBS_FRESHNESS,
                owners=OWNERS,
            )
            .merge_attributes(metadata={"dagster/table_name": SPEC_STORAGE.table_name(RAW_SCHEMA, name)}, tags=layer_tags("raw"))
        )


@dlt_assets(
    dlt_source=sqlflow_source().with_resources("jobs"),
    # Only describes the asset; every run loads through the pipeline of the configured storage.
    dlt_pipeline=dlt.pipeline(
        pipeline_name=config.PIPELINE_NAME,
        pipelines_dir=str(Path(tempfile.gettempdir()) / "sqlflow_assets_specs"),
        destination=SPEC_STORAGE.destination_type,
        dataset_name=RAW_SCHEMA,
    ),
    name="sqlflow_jobs_raw",
    dagster_dlt_translator=SQLFlowTranslator(),
)
def sqlflow_jobs_raw(context: dg.AssetExecutionContext, dlt: DagsterDltResource, sqlflow: SQLFlowResource, storage: StorageResource):
    """Every SQLFlow job of the user (a fresh source per run: dagster#34052)."""
    target = storage.storage()
    table_name = target.table_name(RAW_SCHEMA, "jobs")
    source = sqlflow_source(client=sqlflow.client()).with_resources("jobs")
    with target.writing():
        for result in dlt.run(context=context, dlt_source=source, dlt_pipeline=target.pipeline(), loader_file_format="parquet"):
            yield result._replace(metadata={**(result.metadata or {}), "dagster/table_name": table_name})


def last_json_metadata(context: dg.AssetExecutionContext, key: dg.AssetKey, name: str) -> dict:
    """The JSON metadata entry `name` of `key`'s latest materialisation: state an asset keeps between runs."""
    last = context.instance.get_latest_materialization_event(key)
    entry = last.asset_materialization.metadata.get(name) if last and last.asset_materialization else None
    return dict(entry.value) if entry is not None and isinstance(entry.value, dict) else {}


def _column_schema(dataset: str, table: str, columns: Iterable[tuple[str, str]]) -> dg.TableSchema:
    """Columns with their descriptions (`column_docs`), for the spec and for each materialisation."""
    return dg.TableSchema(
        columns=[dg.TableColumn(name, kind, description=column_docs.description(dataset, table, name)) for name, kind in columns]
    )


def _arrow_columns(schema: pa.Schema) -> list[tuple[str, str]]:
    return [(field.name, str(field.type)) for field in schema]


def _table_spec(dataset: str, table: str, description: str, deps: list[dg.AssetKey]) -> dg.AssetSpec:
    return dg.AssetSpec(
        dg.AssetKey([dataset, table]),
        deps=deps,
        group_name=dataset,
        kinds=STORAGE_KINDS,
        tags=layer_tags("raw" if dataset == RAW_SCHEMA else "lineage"),
        owners=OWNERS,
        description=description,
        metadata={
            "dagster/table_name": SPEC_STORAGE.table_name(dataset, table),
            "dagster/column_schema": _column_schema(dataset, table, column_docs.declared_columns(dataset, table)),
        },
    )


def _job_table_specs() -> list[dg.AssetSpec]:
    """The eleven per-job tables (built in a function: `load_from_defs_folder` would load module-level specs twice)."""
    raw_keys = [dg.AssetKey([RAW_SCHEMA, name]) for name in TABLE_NAMES]
    return [_table_spec(RAW_SCHEMA, name, RAW_DESCRIPTIONS[name], []) for name in TABLE_NAMES] + [
        _table_spec(LINEAGE_SCHEMA, name, LINEAGE_DESCRIPTIONS[name], raw_keys) for name in flatten.LINEAGE_TABLES
    ]


def _check_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(check.name, asset=dg.AssetKey(list(check.table)), description=check.doc, blocking=check.blocking)
        for check in quality.CHECKS
    ]


@dg.multi_asset(
    specs=_job_table_specs(),
    check_specs=_check_specs(),
    partitions_def=sqlflow_jobs_partitions,
    name="sqlflow_job_lineage",
)
def sqlflow_job_lineage(
    context: dg.AssetExecutionContext, sqlflow: SQLFlowResource, storage: StorageResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """One job's lineage: export → Arrow → `lineage.*` rows → checks → one dlt load per dataset.

    Blocking checks are decided before the load; when one fails nothing is written and the run fails.
    """
    job_id = context.partition_key
    client = sqlflow.client()
    details = client.job_summary(job_id)
    with tempfile.TemporaryDirectory(prefix="sqlflow_export_") as folder:
        export = client.export_lineage_json_file(job_id, Path(folder) / f"{job_id}.json")
        job = lineage_step.analyse(job_id, export, details)
    results = [_check_result(outcome) for outcome in job.checks]
    if job.blocking_failures():
        yield from results
        raise dg.Failure(str(lineage_step.LineageCheckFailed(job_id=job_id, failed=job.blocking_failures())))
    target = storage.storage()
    row_counts = lineage_step.load(job, target)
    job_metadata = _job_metadata(details)
    tables = job.tables()
    summary = {
        (LINEAGE_SCHEMA, "table_edges"): _summary_metadata(details.get("jobName") or job_id, job.lineage, tables)
    }
    for (dataset, table), rows in tables.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([dataset, table]),
            metadata={
                "dagster/partition_row_count": rows.num_rows,
                "dagster/row_count": row_counts[(dataset, table)],
                "dagster/table_name": target.table_name(dataset, table),
                "dagster/column_schema": _column_schema(dataset, table, _arrow_columns(rows.schema)),
                "destination": target.destination_type,
                **job_metadata,
                **summary.get((dataset, table), {}),
            },
        )
    yield from results


def _summary_metadata(job_label: str, lineage: dict[str, pa.Table], tables: dict[tuple[str, str], pa.Table]) -> dict[str, object]:
    """The job at a glance, on `lineage/table_edges`: pictures, counts by type, the busiest table pairs."""
    summary = glance.job_glance(job_label, lineage)
    return {
        "lineage/table_picture": dg.MetadataValue.md(summary["table_picture"].markdown),
        "lineage/column_picture": dg.MetadataValue.md(summary["column_picture"].markdown),
        "lineage/tables": summary["tables"],
        "lineage/fdd_edges": summary["fdd_edges"],
        "lineage/fdr_edges": summary["fdr_edges"],
        "lineage/edges_by_type": dg.MetadataValue.json(summary["edges_by_type"]),
        "lineage/objects_by_type": dg.MetadataValue.json(summary["objects_by_type"]),
        "lineage/top_edges": dg.MetadataValue.md(summary["top_edges"]),
        "lineage/rows_per_table": dg.MetadataValue.json({f"{d}.{t}": rows.num_rows for (d, t), rows in tables.items()}),
    }


def _job_metadata(details: dict) -> dict[str, object]:
    """What a person reads a partition by: the SQLFlow job's name, source, files, status and created time."""
    return {
        "sqlflow/job_name": details.get("jobName") or "",
        "sqlflow/source": graph.source_of(details.get("jobName"), details.get("jobId")),
        "sqlflow/files": dg.MetadataValue.json(details.get("fileNames") or []),
        "sqlflow/status": details.get("status") or "",
        "sqlflow/created": str(details.get("createTime") or ""),
    }


def _check_result(outcome: quality.CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(outcome.table)),
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity(outcome.severity.value),
        description=outcome.description,
        metadata={"count": outcome.count, "sample": dg.MetadataValue.json(outcome.sample)},
    )


# Eager, except that a job partition never loaded (a failed run, a partition added but not yet run)
# must not hold the whole graph back: it is built from what is loaded.
GRAPH_AUTOMATION = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
GRAPH_DESCRIPTIONS = {
    "current_jobs": "The current job of each source (its latest completed job with loaded lineage): what the graph is built from.",
    "column_lineage": "Warehouse-wide column lineage between real tables and views over all current jobs, stitched by "
    "normalised name, with OpenLineage's transformation type and subtype.",
    "table_lineage": "Warehouse-wide table lineage over all current jobs: column_lineage counted per table pair and type.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey([LINEAGE_SCHEMA, table]),
            deps=[dg.AssetKey([LINEAGE_SCHEMA, "end_to_end_edges"]), dg.AssetKey([LINEAGE_SCHEMA, "objects"])]
            if table == "current_jobs"
            else [dg.AssetKey([LINEAGE_SCHEMA, "current_jobs"])],
            group_name="lineage_graph",
            kinds=STORAGE_KINDS,
            tags=layer_tags("graph"),
            owners=OWNERS,
            description=GRAPH_DESCRIPTIONS[table],
            metadata={
                "dagster/table_name": SPEC_STORAGE.table_name(LINEAGE_SCHEMA, table),
                "dagster/column_schema": _column_schema(LINEAGE_SCHEMA, table, column_docs.declared_columns(LINEAGE_SCHEMA, table)),
            },
            automation_condition=GRAPH_AUTOMATION,
        )
        for table in graph.GRAPH_TABLES
    ],
    name="lineage_graph",
)
def lineage_graph(context: dg.AssetExecutionContext, storage: StorageResource) -> Iterator[dg.MaterializeResult]:
    """Rebuild the one current, warehouse-wide graph after any job's lineage changed."""
    target = storage.storage()
    tables = graph.refresh(target)
    picture = glance.warehouse_picture(tables.get("table_lineage"))
    for table in graph.GRAPH_TABLES:
        rows = tables.get(table)
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([LINEAGE_SCHEMA, table]),
            metadata={
                "dagster/row_count": rows.num_rows if rows is not None else 0,
                "dagster/table_name": target.table_name(LINEAGE_SCHEMA, table),
                **(
                    {"dagster/column_schema": _column_schema(LINEAGE_SCHEMA, table, _arrow_columns(rows.schema))}
                    if rows is not None
                    else {}
                ),
                **({"lineage/picture": dg.MetadataValue.md(picture.markdown)} if table == "table_lineage" else {}),
            },
        )
    table_catalog.write_snapshot(target, tables, config.catalog_snapshot_path())  # the warehouse's tables as assets: defs/warehouse_tables.py
