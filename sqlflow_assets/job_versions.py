"""Which SQLFlow jobs the sensor should (re)load: analysis versions, job filters and its bounded cursor.

A job id alone cannot key a lineage run: `submitPersistJob` re-analyses a job under the same id,
and that new analysis must be loaded too. An *analysis version* (the job's `sessionId`, which
SQLFlow sets anew for every finished analysis) does. Nothing here knows Dagster, so the sensor in
`defs/sensors.py` stays thin glue and these rules are testable alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Any

from sqlflow_assets.client import DONE_STATUSES, FAILED_STATUS

CURSOR_FORMAT = 1
VERSION_KEY_TAG = "sqlflow/version_key"  # on every lineage run of one analysis, retries included
ANY_VERSION = "*"  # settled by the former, version-less cursor: the version listed next is taken as handled


def analysis_version(job: Mapping[str, Any]) -> str:
    """The job's `sessionId`; without one, a hash of its `createTime` and `status`.

    The fallback still tells a job that finished again (new status or time) from one already seen,
    for servers that omit `sessionId`; it cannot see a re-analysis that changes neither.
    """
    session = job.get("sessionId")
    if session:
        return str(session)
    stamp = f"{job.get('createTime')}|{job.get('status')}".encode()
    return "t" + hashlib.sha1(stamp, usedforsecurity=False).hexdigest()[:16]


def version_key(job_id: str, version: str) -> str:
    """`<job id>:<version>`: names one analysis of one job (the first run's run_key, and a run tag)."""
    return f"{job_id}:{version}"


def run_key(job_id: str, version: str, attempt: int) -> str:
    """The version key for the first request; `<version key>:<attempt>` for requests after failed runs.

    Dagster skips a run request whose run_key already has a run, so a new attempt needs a key of its own.
    """
    key = version_key(job_id, version)
    return key if attempt == 1 else f"{key}:{attempt}"


@dataclass(frozen=True)
class JobFilter:
    """Which jobs the sensor looks at, so connecting an account with years of jobs does not flood it.

    `created_after` keeps jobs whose `createTime` is at or after it, both read as times of the
    server's clock (UTC on the local server; a setting with an offset is converted to UTC); a job
    without a readable `createTime` is then left out. `name_pattern` is a
    case-sensitive glob (`nightly-*`) over `jobName`.
    """

    created_after: datetime | None = None
    name_pattern: str | None = None

    @classmethod
    def parse(cls, created_after: str | None, name_pattern: str | None) -> JobFilter:
        """From the settings' text; an unreadable date raises, naming the setting."""
        try:
            after = datetime.fromisoformat(created_after) if created_after else None
        except ValueError as exc:
            raise ValueError(f"sensor_created_after {created_after!r} is not an ISO date or date-time") from exc
        if after is not None and after.tzinfo is not None:
            after = after.astimezone(timezone.utc).replace(tzinfo=None)
        return cls(after, name_pattern or None)

    def matches(self, job: Mapping[str, Any]) -> bool:
        if self.name_pattern is not None and not fnmatchcase(str(job.get("jobName") or ""), self.name_pattern):
            return False
        if self.created_after is None:
            return True
        created = _created(job)
        return created is not None and created >= self.created_after


def _created(job: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(job.get("createTime"))).replace(tzinfo=None)
    except ValueError:
        return None


@dataclass
class Cursor:
    """What the sensor remembers between ticks, keyed by job id, holding analysis versions.

    `settled`: versions needing nothing more (a lineage run succeeded, or the SQLFlow job failed and
    was reported). `pending`: versions requested whose success is not yet seen in the instance.
    Both are rebuilt from the current jobs list every tick, so the cursor holds at most one entry per
    job the server still lists (and the filters admit): a deleted job's entry goes with it, and the
    size never grows with history.
    """

    settled: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        """From the stored JSON. The former cursor, a list of the job ids handled, settles those jobs
        at whatever version they have now, so upgrading the sensor does not reload every job."""
        data = json.loads(text) if text else None
        if isinstance(data, list):
            return cls(settled=dict.fromkeys(map(str, data), ANY_VERSION))
        if not isinstance(data, dict) or data.get("format") != CURSOR_FORMAT:
            return cls()
        return cls(dict(data["settled"]), dict(data["pending"]))

    def dump(self) -> str:
        return json.dumps({"format": CURSOR_FORMAT, "settled": self.settled, "pending": self.pending}, sort_keys=True)


@dataclass(frozen=True)
class ListedJob:
    """One completed or failed job of the list, at its current analysis version."""

    job_id: str
    version: str
    job: Mapping[str, Any]

    @property
    def failed(self) -> bool:
        return self.job.get("status") == FAILED_STATUS


@dataclass
class Plan:
    """One tick's decision before the instance is asked: what is new, what to check, the next cursor."""

    new: list[ListedJob] = field(default_factory=list)
    to_check: list[ListedJob] = field(default_factory=list)
    newly_failed: list[ListedJob] = field(default_factory=list)
    cursor: Cursor = field(default_factory=Cursor)


def plan_tick(jobs: Iterable[Mapping[str, Any]], job_filter: JobFilter, previous: Cursor) -> Plan:
    """Sort the listed jobs against the previous cursor: one dict lookup per job, nothing else.

    A settled version is carried over; a failed SQLFlow job is settled (reported once per version);
    a completed version never requested is new (and pending); a pending one is to be checked against
    the instance. Jobs still running, filtered out or no longer listed leave the cursor.
    """
    plan = Plan()
    settled, pending = plan.cursor.settled, plan.cursor.pending
    for job in jobs:
        status = job.get("status")
        if status not in DONE_STATUSES and status != FAILED_STATUS:
            continue
        if not job_filter.matches(job):
            continue
        job_id, version = job["jobId"], analysis_version(job)
        if previous.settled.get(job_id) in (version, ANY_VERSION):
            settled[job_id] = version
            continue
        listed = ListedJob(job_id, version, job)
        if listed.failed:
            plan.newly_failed.append(listed)
            settled[job_id] = version
        elif previous.pending.get(job_id) == version:
            plan.to_check.append(listed)
            pending[job_id] = version
        else:
            plan.new.append(listed)
            pending[job_id] = version
    return plan


def settle(cursor: Cursor, job_id: str) -> None:
    """Move a pending version to settled: a run of it succeeded."""
    cursor.settled[job_id] = cursor.pending.pop(job_id)


def job_tags(job: Mapping[str, Any], version: str) -> dict[str, str]:
    """Readable run tags: which job, analysis and creation time a lineage run is for (no secret)."""
    tags = {
        "sqlflow/job_id": str(job["jobId"]),
        "sqlflow/job_name": str(job.get("jobName") or "")[:200],
        "sqlflow/status": str(job.get("status") or ""),
        "sqlflow/created": str(job.get("createTime") or ""),
        VERSION_KEY_TAG: version_key(str(job["jobId"]), version),
    }
    if job.get("sessionId"):
        tags["sqlflow/session_id"] = str(job["sessionId"])
    return tags
