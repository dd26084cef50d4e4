"""SQLFlow job ids as dynamic partitions: the sensor adds one per completed job."""

import dagster as dg

sqlflow_jobs_partitions = dg.DynamicPartitionsDefinition(name="sqlflow_jobs")
