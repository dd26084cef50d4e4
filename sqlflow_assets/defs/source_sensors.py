"""The sensor that submits a source minutes after it changed: git sources by their branch's commit,
folder and file sources by their fingerprint. The rules live in `sqlflow_assets.submit.source_watch`;
this reads the settings and turns each moved source into a run of the submission job for it alone.

Its interval is `[sources.sqlflow] source_poll_seconds` (60 s by default), read when the code
location loads; folder sources are looked at every `folder_poll_seconds` (600 s), read every tick.
"""

from __future__ import annotations

import time

import dagster as dg

from sqlflow_assets import config
from sqlflow_assets.defs.jobs import sql_submission_job
from sqlflow_assets.submit import source_watch, submission

SUBMISSION_OP = "sqlflow__sql_submission"  # the run config key of the `sqlflow/sql_submission` asset


def run_request(moved: source_watch.Moved) -> dg.RunRequest:
    """One submission run for one moved source; its run key makes a second request for the same state a no-op."""
    return dg.RunRequest(
        run_key=f"{moved.source}@{moved.seen}",
        run_config={"ops": {SUBMISSION_OP: {"config": {"only": [moved.source]}}}},
        tags={"sqlflow/source": moved.source, "sqlflow/seen": moved.seen[:40]},
    )


@dg.sensor(
    job=sql_submission_job,
    minimum_interval_seconds=config.source_poll_seconds()[0],
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def sqlflow_source_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Submit each configured SQL source whose git branch moved (one `git ls-remote` per source) or whose files changed."""
    config.reload_changed_settings()
    folder_seconds = config.source_poll_seconds()[1]
    tick = source_watch.watch(submission.configured_sources(), context.cursor, time.time(), folder_seconds)
    for name, why in tick.failures.items():
        context.log.warning(f"SQL source {name!r} not looked at: {why}")
    for moved in tick.moved:
        context.log.info(f"SQL source {moved.source!r} changed ({moved.before[:12]} -> {moved.seen[:12]}): submitting it")
    return dg.SensorResult(run_requests=[run_request(moved) for moved in tick.moved], cursor=tick.cursor)
