"""SQLFlow jobs as dynamic partitions: the sensor adds one per completed job, keyed so a person can read it.

Dagster's partition lists (an asset's Partitions tab, the launch dialog, the health bar) show keys
only: Dagster 1.13 has no label beside a dynamic partition key. So the key is the job's name and
creation time with its id in parentheses, `sample @ 2026-12-02 10:16:42 (c359aef4…)`, the full id
last so `job_id_of` reads it back without a lookup. Keys made before (the bare job id) keep working:
a key without that shape is the id itself, and the sensor keeps a job's existing key.

Dagster's rules for keys: no `...` and no control characters; the UI also splits selections on `,`
and reads `[`/`]` as ranges and `|` as a multi-partition separator, and the key goes into URLs. The
name and time are therefore cut to safe characters (others become `_`), and a job whose id is not
plain (letters, digits, `-`, `_`) keeps its bare id as key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import dagster as dg

PARTITIONS_NAME = "sqlflow_jobs"
sqlflow_jobs_partitions = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)

NAME_CHARS = 60  # of the job name in a key
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE = re.compile(r"[^\w .:/+=-]+")  # everything else becomes `_`
_READABLE = re.compile(r".* @ .* \(([A-Za-z0-9_-]+)\)|.* \(([A-Za-z0-9_-]+)\)")


def _safe(text: object, limit: int) -> str:
    cleaned = " ".join(_UNSAFE.sub("_", "" if text is None else str(text)).split())
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def partition_key(job: Mapping[str, Any]) -> str:
    """The partition key of a listed job: `<name> @ <created> (<job id>)`, or the bare id when it is not plain."""
    job_id = str(job["jobId"])
    if not _PLAIN_ID.fullmatch(job_id):
        return job_id
    name = _safe(job.get("jobName"), NAME_CHARS) or "job"
    created = _safe(job.get("createTime"), 40)
    return f"{name} @ {created} ({job_id})" if created else f"{name} ({job_id})"


def job_id_of(key: str) -> str:
    """The SQLFlow job id a partition key names (a bare-id key is the id)."""
    found = _READABLE.fullmatch(key)
    return (found.group(1) or found.group(2)) if found else key
