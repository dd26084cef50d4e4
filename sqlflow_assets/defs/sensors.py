"""The sensor that turns every newly completed SQLFlow job into a partition and a lineage run."""

import json

import dagster as dg

from sqlflow_assets.client import DONE_STATUSES, FAILED_STATUS
from sqlflow_assets.defs.jobs import lineage_job
from sqlflow_assets.defs.partitions import sqlflow_jobs_partitions
from sqlflow_assets.defs.resources import SQLFlowResource


@dg.sensor(job=lineage_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def sqlflow_job_sensor(context: dg.SensorEvaluationContext, sqlflow: SQLFlowResource) -> dg.SensorResult:
    """Poll displayUserJobsSummary; the cursor holds every job id already handled (run or failed)."""
    handled = set(json.loads(context.cursor)) if context.cursor else set()
    jobs = [job for job in sqlflow.client().jobs_summary().get("jobDetails") or [] if job["jobId"] not in handled]
    done = [job["jobId"] for job in jobs if job.get("status") in DONE_STATUSES]
    failed = [job for job in jobs if job.get("status") == FAILED_STATUS]
    for job in failed:
        context.log.warning(f"SQLFlow job {job['jobId']} ({job.get('jobName')}) failed: {job.get('errorMessage')}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=job_id, partition_key=job_id) for job_id in done],
        dynamic_partitions_requests=[sqlflow_jobs_partitions.build_add_request(done)] if done else [],
        cursor=json.dumps(sorted(handled | set(done) | {job["jobId"] for job in failed})),
    )
