"""Asset jobs that the sensor and the schedules launch."""

import dagster as dg

from sqlflow_assets.defs.assets import LINEAGE_GROUP, RAW_LINEAGE_KEYS, SUBMISSION_KEY, sqlflow_jobs_raw

lineage_job = dg.define_asset_job(
    "sqlflow_lineage",
    selection=dg.AssetSelection.assets(*RAW_LINEAGE_KEYS) | dg.AssetSelection.groups(LINEAGE_GROUP),
    description="Load one SQLFlow job's lineage and rebuild its rows of the lineage.* tables.",
)
jobs_refresh_job = dg.define_asset_job(
    "sqlflow_jobs_refresh", selection=dg.AssetSelection.assets(sqlflow_jobs_raw), description="Reload the SQLFlow jobs list."
)
sql_submission_job = dg.define_asset_job(
    "sqlflow_sql_submission",
    selection=dg.AssetSelection.assets(SUBMISSION_KEY),
    description="Submit the SQL folder as a SQLFlow job if its content changed.",
)
