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
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from sqlflow_assets.domain import DIFF_JOB_PREFIX, DONE_STATUSES, FAILED_STATUS, shown_name
from sqlflow_assets.errors import ConfigError

CURSOR_FORMAT = 2
VERSION_KEY_TAG = "sqlflow/version_key"  # on every lineage run of one analysis, retries included
MAX_VERSION_CHARS = 128  # a longer `sessionId` is replaced by its hash in version keys and run keys


def analysis_version(job: Mapping[str, Any]) -> str:
    """The job's `sessionId` (its hash when longer than `MAX_VERSION_CHARS`); without one, a hash of its `createTime` and `status`.

    The fallback still tells a job that finished again (new status or time) from one already seen,
    for servers that omit `sessionId`; it cannot see a re-analysis that changes neither.
    """
    session = job.get("sessionId")
    if session and len(str(session)) <= MAX_VERSION_CHARS:
        return str(session)
    if session:  # a run tag and a cursor key: a hash of an overlong one, never the thing itself
        return "h" + hashlib.sha1(str(session).encode(), usedforsecurity=False).hexdigest()
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
            raise ConfigError(message=f"sensor_created_after {created_after!r} is not an ISO date or date-time") from exc
        if after is not None and after.tzinfo is not None:
            after = after.astimezone(UTC).replace(tzinfo=None)
        return cls(after, name_pattern or None)

    def matches(self, job: Mapping[str, Any]) -> bool:
        if str(job.get("jobName") or "").startswith(DIFF_JOB_PREFIX):  # a review's throwaway job is never loaded
            return False
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


def fingerprint(job_id: str, version: str) -> str:
    """12 hex digits (48 bits) of the version key: what the cursor keeps per job.

    Dagster stores the cursor with every tick (2,880 a day at 30 s), so it is kept small: about 16
    bytes per job instead of the ~110 of a 32-hex job id and a SQLFlow `sessionId`. A new version
    taken for a settled one needs a 48-bit collision among the listed jobs (~1e-11 per version at
    10,000 jobs).
    """
    return hashlib.blake2b(version_key(job_id, version).encode(), digest_size=6).hexdigest()


@dataclass
class Cursor:
    """What the sensor remembers between ticks: fingerprints of (job id, analysis version).

    `settled`: versions needing nothing more (a lineage run succeeded, or the SQLFlow job failed and
    was reported). `pending`: versions requested whose success is not yet seen in the instance.
    Both are rebuilt from the current jobs list every tick, so the cursor holds at most one entry per
    job the server still lists (and the filters admit), about 16 bytes each (160 kB at 10,000
    jobs): a deleted job's entry goes with it, and the size never grows with history.
    """

    settled: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        data = json.loads(text) if text else None
        if not isinstance(data, dict) or data.get("format") != CURSOR_FORMAT:
            return cls()
        return cls(set(data["settled"]), set(data["pending"]))

    def dump(self) -> str:
        return json.dumps({"format": CURSOR_FORMAT, "settled": sorted(self.settled), "pending": sorted(self.pending)})


@dataclass(frozen=True)
class ListedJob:
    """One completed or failed job of the list, at its current analysis version."""

    job_id: str
    version: str
    job: Mapping[str, Any]
    fingerprint: str

    @property
    def version_key(self) -> str:
        return version_key(self.job_id, self.version)

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
    """Sort the listed jobs against the previous cursor: one hash and set lookup per job, nothing else.

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
        mark = fingerprint(job_id, version)
        if mark in previous.settled:
            settled.add(mark)
            continue
        listed = ListedJob(job_id, version, job, mark)
        if listed.failed:
            plan.newly_failed.append(listed)
            settled.add(mark)
        elif mark in previous.pending:
            plan.to_check.append(listed)
            pending.add(mark)
        else:
            plan.new.append(listed)
            pending.add(mark)
    return plan


def settle(cursor: Cursor, listed: ListedJob) -> None:
    """Move a pending version to settled: a run of it succeeded."""
    cursor.pending.discard(listed.fingerprint)
    cursor.settled.add(listed.fingerprint)


def job_tags(job: Mapping[str, Any], version: str) -> dict[str, str]:
    """Readable run tags: which job, analysis and creation time a lineage run is for (no secret).

    Every value the server chose is cut to `JOB_NAME_MAX_CHARS` (`shown_name`): a server may list a
    job with a 10 MB name, and Dagster stores each run's tags in its run storage and the run body
    (Dagster bounds tag keys, not the values of run tags). The full name stays in `sqlflow_raw.jobs`.
    """
    tags = {
        "sqlflow/job_id": str(job["jobId"]),
        "sqlflow/job_name": shown_name(job.get("jobName")),
        "sqlflow/status": shown_name(job.get("status")),
        "sqlflow/created": shown_name(job.get("createTime")),
        VERSION_KEY_TAG: version_key(str(job["jobId"]), version),
    }
    if job.get("sessionId"):
        tags["sqlflow/session_id"] = shown_name(job["sessionId"])
    return tags
