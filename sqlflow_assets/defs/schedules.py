"""Schedules: the jobs list hourly, the SQL folder submission daily."""

import dagster as dg

from sqlflow_assets.defs.jobs import jobs_refresh_job, sql_submission_job

jobs_refresh_schedule = dg.ScheduleDefinition(
    name="sqlflow_jobs_hourly",
    job=jobs_refresh_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
sql_submission_schedule = dg.ScheduleDefinition(
    name="sqlflow_sql_submission_daily",
    job=sql_submission_job,
    cron_schedule="0 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
