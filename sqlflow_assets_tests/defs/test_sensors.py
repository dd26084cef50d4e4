"""The sensor against the real local server: completed jobs become partitions and runs, once."""

import dagster as dg

from sqlflow_assets.defs.resources import SQLFlowResource
from sqlflow_assets.defs.sensors import sqlflow_job_sensor
from sqlflow_assets_tests.conftest import submit_and_wait


def tick(cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), cursor=cursor, resources={"sqlflow": SQLFlowResource()})
    return sqlflow_job_sensor(context)


def test_completed_jobs_are_requested_once_and_failed_jobs_never(project_env):
    done = submit_and_wait([("ok.sql", b"INSERT INTO t2 (x) SELECT x FROM t1;")])
    failed = submit_and_wait([("bad.sql", b"SELEC nonsense FROM WHERE ;;")])
    assert done["status"] == "success" and failed["status"] == "fail", (done, failed)

    first = tick(None)
    requested = {request.partition_key: request for request in first.run_requests}
    assert done["jobId"] in requested and requested[done["jobId"]].run_key == done["jobId"]
    assert failed["jobId"] not in requested
    added = {key for request in first.dynamic_partitions_requests for key in request.partition_keys}
    assert done["jobId"] in added and failed["jobId"] not in added

    second = tick(first.cursor)
    assert second.run_requests == []
    assert second.dynamic_partitions_requests == []
    assert second.cursor == first.cursor
