"""Assets: the SQLFlow jobs list (dlt), and each job's raw and `lineage.*` tables.

A job's lineage is one step (`sqlflow_job_lineage`): export, parse, flatten, check and one dlt load
per dataset, all in the run's process, so a run costs seconds of overhead, not a subprocess per
table, and the lineage rows always come from the raw rows loaded with them.
"""

import tempfile
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from sqlflow_assets import config
from sqlflow_assets import tables as contract
from sqlflow_assets.config import LINEAGE_SCHEMA, RAW_SCHEMA
from sqlflow_assets.defs.partitions import job_id_of, sqlflow_jobs_partitions
from sqlflow_assets.defs.resources import SQLFlowResource, StorageResource
from sqlflow_assets.defs.shared import GRAPH_AUTOMATION, OWNERS, column_schema, layer_tags
from sqlflow_assets.domain import shown_name
from sqlflow_assets.errors import LineageCheckFailed
from sqlflow_assets.job import flatten, lineage_step, quality
from sqlflow_assets.job.dlt_source import sqlflow_source
from sqlflow_assets.job.lineage_json import TABLE_NAMES
from sqlflow_assets.render import glance
from sqlflow_assets.submit import submission
from sqlflow_assets.warehouse import graph, table_catalog

RAW_GROUP = RAW_SCHEMA
LINEAGE_GROUP = LINEAGE_SCHEMA

# The jobs list is reloaded every hour (and by the sensor whenever new jobs appear); two missed
# hours make it stale.
JOBS_AUTOMATION = dg.AutomationCondition.on_cron("0 * * * *")
JOBS_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2), warn_window=timedelta(minutes=90))


# The configured storage as the code location loads: it names kinds and tables in the specs.
# Runs resolve it again (StorageResource), so a changed setting reaches them without a reload.
SPEC_STORAGE = config.storage()
STORAGE_KINDS = {"dlt", SPEC_STORAGE.destination_type}


class SQLFlowTranslator(DagsterDltTranslator):
    """Keys raw tables as `sqlflow_raw/<table>` with no stub upstream assets, their real table name, hourly."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        name = data.resource.name
        table = contract.table(RAW_SCHEMA, name)
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=dg.AssetKey([RAW_SCHEMA, name]),
                description=table.asset_description,
                deps=[],
                group_name=RAW_GROUP,
                kinds=STORAGE_KINDS,
                automation_condition=JOBS_AUTOMATION,
                freshness_policy=JOBS_FRESHNESS,
                owners=OWNERS,
            )
            .merge_attributes(
                metadata={
                    "dagster/table_name": SPEC_STORAGE.table_name(RAW_SCHEMA, name),
                    "dagster/column_schema": column_schema(table, table.arrow_columns()),
                },
                tags=layer_tags("raw"),
            )
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
            metadata: dict[str, Any] = {**(result.metadata or {}), "dagster/table_name": table_name}
            yield result._replace(metadata=metadata)


def _arrow_columns(schema: pa.Schema) -> list[tuple[str, str]]:
    return [(field.name, str(field.type)) for field in schema]


def _table_spec(table: contract.Table, deps: list[dg.AssetKey]) -> dg.AssetSpec:
    raw = table.schema == RAW_SCHEMA
    return dg.AssetSpec(
        dg.AssetKey([table.schema, table.name]),
        deps=deps,
        group_name=table.schema,
        kinds=STORAGE_KINDS,
        tags=layer_tags("raw" if raw else "lineage"),
        owners=OWNERS,
        description=table.asset_description,
        metadata={
            "dagster/table_name": SPEC_STORAGE.table_name(table.schema, table.name),
            "dagster/column_schema": column_schema(table, table.arrow_columns() if raw else table.sql_columns()),
        },
    )


def _job_table_specs() -> list[dg.AssetSpec]:
    """The eleven per-job tables (built in a function: `load_from_defs_folder` would load module-level specs twice)."""
    raw_keys = [dg.AssetKey([RAW_SCHEMA, name]) for name in TABLE_NAMES]
    return [_table_spec(contract.RAW[name], []) for name in TABLE_NAMES] + [
        _table_spec(contract.LINEAGE[name], raw_keys) for name in flatten.LINEAGE_TABLES
    ]


def _check_specs() -> list[dg.AssetCheckSpec]:
    # Partitioned checks are a Dagster preview (1.13); without them the UI lists every result under
    # "Partition —". The warning would print at every code-location load, so it is silenced here only.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return _partitioned_check_specs()


def _partitioned_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        # partitioned like the asset, so each result is listed under its job's partition
        dg.AssetCheckSpec(
            check.name, asset=dg.AssetKey(list(check.table)), description=check.doc, blocking=check.blocking,
            partitions_def=sqlflow_jobs_partitions,
        )
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
    job_id = job_id_of(context.partition_key)
    client = sqlflow.client()
    details = client.job_summary(job_id)
    with tempfile.TemporaryDirectory(prefix="sqlflow_export_") as folder:
        export = client.export_lineage_json_file(job_id, Path(folder) / f"{job_id}.json")
        job = lineage_step.analyse(job_id, export, details)
    job_label = shown_name(details.get("jobName") or job_id)
    results = [_check_result(outcome, job_id, job_label) for outcome in job.checks]
    if job.blocking_failures():
        yield from results
        raise dg.Failure(str(LineageCheckFailed(job_id=job_id, failed=job.blocking_failures())))
    target = storage.storage()
    row_counts = lineage_step.load(job, target)
    job_metadata = _job_metadata(details)
    tables = job.tables()
    summary = {
        (LINEAGE_SCHEMA, "table_edges"): _summary_metadata(job_label, job.lineage, tables)
    }
    checked = _checks_metadata(job.checks)
    for (dataset, table), rows in tables.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([dataset, table]),
            metadata={
                **checked.get((dataset, table), {}),
                "dagster/partition_row_count": rows.num_rows,
                "dagster/row_count": row_counts[(dataset, table)],
                "dagster/table_name": target.table_name(dataset, table),
                "dagster/column_schema": column_schema(contract.table(dataset, table), _arrow_columns(rows.schema)),
                "destination": target.destination_type,
                **job_metadata,
                **summary.get((dataset, table), {}),
            },
        )
    yield from results


def _summary_metadata(job_label: str, lineage: dict[str, pa.Table], tables: dict[tuple[str, str], pa.Table]) -> dict[str, Any]:
    """The job at a glance, on `lineage/table_edges`: pictures, counts by type, the busiest table pairs."""
    summary: dict[str, Any] = glance.job_glance(job_label, lineage)
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


def _job_metadata(details: dict) -> dict[str, Any]:
    """What a person reads a partition by: the SQLFlow job's name, source, files, status and created time."""
    return {
        "sqlflow/job_name": shown_name(details.get("jobName")),  # whole in sqlflow_raw.jobs
        "sqlflow/source": shown_name(graph.source_of(details.get("jobName"), details.get("jobId"))),
        "sqlflow/files": dg.MetadataValue.json(details.get("fileNames") or []),
        "sqlflow/status": details.get("status") or "",
        "sqlflow/created": str(details.get("createTime") or ""),
    }


def _check_result(outcome: quality.CheckOutcome, job_id: str, job_label: str) -> dg.AssetCheckResult:
    """One check's result, naming its job: `<job name>: <what the check found>`, the job in the metadata too."""
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(outcome.table)),
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity(outcome.severity.value),
        description=f"{job_label}: {outcome.description}",
        metadata={
            "sqlflow/job_name": job_label, "sqlflow/job_id": job_id,
            "count": outcome.count,
            **({"sample": dg.MetadataValue.md(outcome.sample_markdown())} if outcome.count else {}),
            **({"notes": outcome.notes, "notes_sample": dg.MetadataValue.md(outcome.notes_markdown())} if outcome.notes else {}),
        },
    )


def _change_metadata(context: dg.AssetExecutionContext, refreshed: graph.GraphRefresh) -> dict[str, Any]:
    """What this refresh recorded, where people look: per changed source its summary
    ("+12 edges, -3 edges, 5 downstream columns affected in 2 tables", the columns listed) and the
    picture of its changed edges (added green, removed red and dashed, retyped orange). A refresh
    that recorded nothing carries the last recorded change forward (the page shows the latest
    materialisation), saying which run recorded it (`lineage/changes_from`)."""
    from sqlflow_assets.warehouse import changes  # only the graph asset reads it

    if refreshed.changes is None or refreshed.impact is None or refreshed.changes.num_rows == 0:
        event = context.instance.get_latest_materialization_event(dg.AssetKey([LINEAGE_SCHEMA, "lineage_changes"]))
        previous = event.asset_materialization.metadata if event and event.asset_materialization else {}
        kept = {key: previous[key] for key in ("lineage/changes", "lineage/changes_from") if key in previous}
        return {"lineage/changed_sources": 0, **kept}
    sections = []
    for source, drawn in glance.change_pictures(refreshed.changes).items():
        mine = [pc.equal(t.column("source"), source) for t in (refreshed.changes, refreshed.impact)]
        summary = changes.summary_markdown(refreshed.changes.filter(mine[0]), refreshed.impact.filter(mine[1]), limit=CHANGE_SUMMARY_ROWS)
        sections.append(f"{summary}\n{drawn.markdown}")
    return {
        "lineage/changed_sources": len(sections),
        "lineage/changes": dg.MetadataValue.md("\n\n".join(sections)),
        "lineage/changes_from": dg.MetadataValue.text(f"run {context.run.run_id}"),
    }


def _checks_metadata(outcomes: list[quality.CheckOutcome]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per checked table, its checks' verdict on the materialisation itself, so the asset's page says
    "WARN" when a check warned (the catalog's green dot is about the materialisation only)."""
    by_table: dict[tuple[str, str], list[quality.CheckOutcome]] = {}
    for outcome in outcomes:
        by_table.setdefault(outcome.table, []).append(outcome)
    shown: dict[tuple[str, str], dict[str, Any]] = {}
    for table, found in by_table.items():
        failed = [outcome for outcome in found if not outcome.passed]
        worst = "ERROR" if any(o.severity is quality.Severity.ERROR for o in failed) else "WARN" if failed else "PASSED"
        said = "; ".join(f"{o.name}: {o.description}" for o in failed or found)
        shown[table] = {"sqlflow/checks": f"{worst}: {said}"}
    return shown


GRAPH_ASSET_TABLES = (*graph.GRAPH_TABLES, *graph.CHANGE_TABLES)
CHANGE_SUMMARY_ROWS = 25  # affected columns and changed edges listed per source on the materialisation


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
            description=contract.table(LINEAGE_SCHEMA, table).asset_description,
            metadata={
                "dagster/table_name": SPEC_STORAGE.table_name(LINEAGE_SCHEMA, table),
                "dagster/column_schema": column_schema(contract.table(LINEAGE_SCHEMA, table), contract.table(LINEAGE_SCHEMA, table).sql_columns()),
            },
            automation_condition=GRAPH_AUTOMATION,
        )
        for table in GRAPH_ASSET_TABLES
    ],
    name="lineage_graph",
)
def lineage_graph(context: dg.AssetExecutionContext, storage: StorageResource) -> Iterator[dg.MaterializeResult]:
    """Bring the one current, warehouse-wide graph up to date after any job's lineage changed."""
    target = storage.storage()
    refreshed = graph.refresh(target, submission.retired_now())
    if refreshed and refreshed.retired:
        context.log.info(f"retired from the current graph (no longer configured SQL sources): {', '.join(refreshed.retired)}")
    picture = glance.warehouse_picture(graph.read_table(target.lineage_pipeline().dataset(), "table_lineage", columns=glance.TABLE_GRAPH_COLUMNS) if refreshed else None)
    for table in GRAPH_ASSET_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey([LINEAGE_SCHEMA, table]),
            metadata={
                "dagster/row_count": refreshed.row_counts[table] if refreshed else 0,
                "dagster/table_name": target.table_name(LINEAGE_SCHEMA, table),
                **(
                    {"dagster/column_schema": column_schema(contract.table(LINEAGE_SCHEMA, table), _arrow_columns(refreshed.schemas[table]))}
                    if refreshed
                    else {}
                ),
                **({"lineage/picture": dg.MetadataValue.md(picture.markdown)} if table == "table_lineage" else {}),
                **(_change_metadata(context, refreshed) if table == "lineage_changes" and refreshed else {}),
            },
        )
    if refreshed:
        table_catalog.write_snapshot(target, refreshed.current_jobs, config.catalog_snapshot_path())  # the warehouse's tables as assets: defs/warehouse_tables.py
