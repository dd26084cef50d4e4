"""The sensor that turns every completed analysis of a SQLFlow job into a partition and a lineage run.

The rules (versions, filters, the bounded cursor) live in `sqlflow_assets.job.job_versions`; this module
only reads the settings and the jobs list, asks the instance about versions still pending, and
builds the requests.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence

import dagster as dg

from sqlflow_assets import config
from sqlflow_assets.defs.jobs import jobs_refresh_job, lineage_job
from sqlflow_assets.defs.partitions import PARTITIONS_NAME, job_id_of, partition_key, sqlflow_jobs_partitions
from sqlflow_assets.defs.resources import SQLFlowResource
from sqlflow_assets.domain import shown_name
from sqlflow_assets.job import job_versions
from sqlflow_assets.job.job_versions import VERSION_KEY_TAG, ListedJob

RUNS_QUERY_BATCH = 500  # version keys per instance query (one `IN` list)
LINEAGE_MAX_RETRIES = 2  # Dagster's own retries of a failed lineage run, before the sensor asks again
# run monitoring fails a lineage run still going after this: the longest lock wait plus an hour of work
LINEAGE_MAX_RUNTIME_SECONDS = int(config.WRITE_LOCK_TIMEOUT) + 3600
ERROR_MESSAGE_CHARS = 2000  # of a failed job's `errorMessage` in the sensor's log line
FINISHED_STATUSES = frozenset({dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED})


@dg.sensor(
    jobs=[lineage_job, jobs_refresh_job], minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING
)
def sqlflow_job_sensor(context: dg.SensorEvaluationContext, sqlflow: SQLFlowResource) -> dg.SensorResult:
    """Request a lineage run per new analysis version, again after failed runs, and the jobs list when new ones came.

    Filters are read every tick, so a changed setting applies on the next one. Versions already
    settled cost a hash and a set lookup each; only pending versions are looked up in the instance.
    """
    config.reload_changed_settings()
    settings = config.sensor_settings()
    job_filter = job_versions.JobFilter.parse(settings.created_after, settings.job_name_pattern)
    jobs = sqlflow.client().jobs_summary()["jobDetails"]
    plan = job_versions.plan_tick(jobs, job_filter, job_versions.Cursor.load(context.cursor))
    for listed in plan.newly_failed:
        name, message = shown_name(listed.job.get("jobName")), shown_name(listed.job.get("errorMessage"), ERROR_MESSAGE_CHARS)
        context.log.warning(f"SQLFlow job {shown_name(listed.job_id)} ({name}) failed: {message}")
    retries = _retries(context.instance, plan.to_check, plan.cursor)
    wanted = [*((job, 1) for job in plan.new), *retries]
    keys, added = _partition_keys(context.instance, [job for job, _ in wanted])
    requests = [_lineage_request(listed, attempt, keys[listed.job_id]) for listed, attempt in wanted]
    if plan.new:
        requests.insert(0, _jobs_refresh_request(plan.new))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[sqlflow_jobs_partitions.build_add_request(added)] if added else [],
        cursor=plan.cursor.dump(),
    )


def _partition_keys(instance: dg.DagsterInstance, jobs: Sequence[ListedJob]) -> tuple[dict[str, str], list[str]]:
    """Job id -> partition key for these jobs, and the keys to add.

    A job that has a partition keeps it (a bare-id key from before, or a readable one made under a
    name the job has since changed); only a job without one gets a new, readable key.
    """
    if not jobs:
        return {}, []
    existing = {job_id_of(key): key for key in instance.get_dynamic_partitions(PARTITIONS_NAME)}
    keys, added = {}, []
    for listed in jobs:
        if listed.job_id not in keys:
            keys[listed.job_id] = existing.get(listed.job_id) or partition_key(listed.job)
            if listed.job_id not in existing:
                added.append(keys[listed.job_id])
    return keys, added


def _retries(instance: dg.DagsterInstance, pending: Sequence[ListedJob], cursor: job_versions.Cursor) -> list[tuple[ListedJob, int]]:
    """Pending versions that need another run, with its attempt number; succeeded ones are settled.

    A version waits while a run of it is queued, running, or failed with Dagster's own retry
    (`run_retries`) still to come. With no run at all (deleted, or the tick's request lost) it is
    asked for again under its first run_key, which Dagster deduplicates. The latest run of each
    version is read without its run body (cheap at 10,000); only versions whose latest run neither
    succeeded nor is still going have all their runs loaded.
    """
    latest = _latest_run_status(instance, pending)
    unresolved = []
    for job in pending:
        status = latest.get(job.job_id)
        if status == dg.DagsterRunStatus.SUCCESS:
            job_versions.settle(cursor, job)
        elif status is None or status in FINISHED_STATUSES:
            unresolved.append(job)
    runs: dict[str, list[dg.DagsterRun]] = defaultdict(list)
    for runs_filter in _lineage_runs_filters(unresolved):
        for run in instance.get_runs(filters=runs_filter):
            runs[run.tags[VERSION_KEY_TAG]].append(run)
    retries = []
    for job in unresolved:
        found = runs[job.version_key]
        if any(run.status == dg.DagsterRunStatus.SUCCESS for run in found):
            job_versions.settle(cursor, job)
        elif not any(not run.is_finished or run.is_complete_and_waiting_to_retry for run in found):
            retries.append((job, 1 + sum(run.parent_run_id is None for run in found)))
    return retries


def _latest_run_status(instance: dg.DagsterInstance, pending: Sequence[ListedJob]) -> dict[str, dg.DagsterRunStatus]:
    """Job id -> status of the latest run of its pending version: light columns, no run bodies.

    The filter holds one version per job, so the run's partition (naming the job) names the version.
    """
    return {
        job_id_of(data.partition): data.status
        for runs_filter in _lineage_runs_filters(pending)
        for data in instance.get_run_partition_data(runs_filter)
    }


def _lineage_runs_filters(jobs: Sequence[ListedJob]) -> Iterator[dg.RunsFilter]:
    """Filters for the lineage runs of these versions (Dagster's retries inherit the tag), one `IN` list each."""
    for start in range(0, len(jobs), RUNS_QUERY_BATCH):
        keys = [job.version_key for job in jobs[start : start + RUNS_QUERY_BATCH]]
        yield dg.RunsFilter(job_name=lineage_job.name, tags={VERSION_KEY_TAG: keys})


def _lineage_request(listed: ListedJob, attempt: int, key: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=job_versions.run_key(listed.job_id, listed.version, attempt),
        job_name=lineage_job.name,
        partition_key=key,
        tags={**job_versions.job_tags(listed.job, listed.version), "dagster/max_retries": str(LINEAGE_MAX_RETRIES),
              "dagster/max_runtime": str(LINEAGE_MAX_RUNTIME_SECONDS)},
    )


def _jobs_refresh_request(new: Sequence[ListedJob]) -> dg.RunRequest:
    """One `sqlflow_raw/jobs` reload for the tick, keyed by the versions that triggered it."""
    digest = hashlib.sha1(usedforsecurity=False)
    for job in new:
        digest.update(job.version_key.encode())
    return dg.RunRequest(run_key=f"jobs:{digest.hexdigest()[:16]}", job_name=jobs_refresh_job.name)
