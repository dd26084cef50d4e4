"""Asset jobs that the sensor and the schedule launch."""

import dagster as dg

from sqlflow_assets.defs.assets import sqlflow_job_lineage, sqlflow_jobs_raw
from sqlflow_assets.defs.sql_submission import SUBMISSION_KEY

lineage_job = dg.define_asset_job(
    "sqlflow_lineage",
    selection=dg.AssetSelection.assets(sqlflow_job_lineage),
    description="Load one SQLFlow job's lineage: its raw tables and its rows of the lineage.* tables, checked.",
)
jobs_refresh_job = dg.define_asset_job(
    "sqlflow_jobs_refresh", selection=dg.AssetSelection.assets(sqlflow_jobs_raw), description="Reload the SQLFlow jobs list."
)
sql_submission_job = dg.define_asset_job(
    "sqlflow_sql_submission",
    selection=dg.AssetSelection.assets(SUBMISSION_KEY),
    description="Submit each configured SQL source whose content or options changed as a SQLFlow job.",
)
