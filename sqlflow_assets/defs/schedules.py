"""The daily submission of the configured SQL sources, a scheduled asset job.

A schedule rather than an automation condition: a submission sends work to an external service,
and a schedule is the switch a user expects to find and turn off on its own. (The jobs list, which
only reads, refreshes through its automation condition.)
"""

import dagster as dg

from sqlflow_assets.defs.jobs import sql_submission_job

sql_submission_schedule = dg.ScheduleDefinition(
    name="sqlflow_sql_submission_daily",
    job=sql_submission_job,
    cron_schedule="0 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
