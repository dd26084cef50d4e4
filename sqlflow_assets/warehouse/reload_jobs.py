"""Every job's lineage loaded again into the configured destination, in this process (`sqlflow-assets reload --all`).

After `destination_type` changed, new jobs load into the new destination while the ones loaded
before stay in the old one. This loads every job the sensor would load (finished, admitted by
`sensor_created_after` / `sensor_job_name_pattern`, chosen by the sensor's own `job_versions.plan_tick`)
through the sensor's per-job step (`lineage_step.analyse` then `load`, merged on `job_id`, so a job
already there is replaced, not doubled), then rebuilds the current graph once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlflow_assets import config
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.config import Storage
from sqlflow_assets.errors import JobLineageError, SQLFlowError
from sqlflow_assets.job import job_versions, lineage_step
from sqlflow_assets.warehouse import graph


@dataclass
class Reloaded:
    """Which jobs were loaded, which could not be (job id -> why), and the rows of the rebuilt `lineage.table_lineage`."""

    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    table_edges: int = 0


def reload_all(
    client: SQLFlowClient, storage: Storage, report: Callable[[str], None] = lambda line: None, retired: Iterable[str] = ()
) -> Reloaded:
    """Load every finished job into `storage` and rebuild the graph without the `retired` sources; one job failing does not stop the others."""
    settings = config.sensor_settings()
    job_filter = job_versions.JobFilter.parse(settings.created_after, settings.job_name_pattern)
    plan = job_versions.plan_tick(client.jobs_summary()["jobDetails"], job_filter, job_versions.Cursor())
    done = Reloaded()
    for listed in plan.new:
        try:
            details = client.job_summary(listed.job_id)
            with tempfile.TemporaryDirectory(prefix="sqlflow_export_") as folder:
                export = client.export_lineage_json_file(listed.job_id, Path(folder) / f"{listed.job_id}.json")
                job = lineage_step.analyse(listed.job_id, export, details)
            lineage_step.load(job, storage)
        except (SQLFlowError, JobLineageError) as error:
            done.failed[listed.job_id] = str(error)
            report(f"job {listed.job_id} ({listed.job.get('jobName')}): not loaded: {error}")
            continue
        done.loaded.append(listed.job_id)
        report(f"job {listed.job_id} ({listed.job.get('jobName')}): loaded into {storage.destination_type}")
    refreshed = graph.refresh(storage, retired)
    done.table_edges = refreshed.row_counts.get("table_lineage", 0) if refreshed else 0
    return done
