"""The code location: assembles the Dagster definitions and nothing else."""

import dagster as dg

from sqlflow_assets.defs import assets, automation, jobs, openlineage, schedules, sensors, submission
from sqlflow_assets.defs.resources import default_resources

defs = dg.Definitions(
    assets=[
        submission.sql_submission,
        assets.sqlflow_jobs_raw,
        assets.sqlflow_job_lineage,
        assets.lineage_graph,
        openlineage.openlineage_events,
    ],
    jobs=[jobs.lineage_job, jobs.jobs_refresh_job, jobs.sql_submission_job],
    schedules=[schedules.jobs_refresh_schedule, schedules.sql_submission_schedule],
    sensors=[sensors.sqlflow_job_sensor, automation.graph_automation_sensor],
    resources=default_resources(),
)
