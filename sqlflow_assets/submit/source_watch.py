"""Which configured sources changed since they were last looked at: the rules of `sqlflow_source_sensor`.

A git source is looked at with one `git ls-remote` of its branch (`git_source.remote_head`) on every
tick; folder and file sources by their fingerprint (`submission.fingerprint`: the files and the
options), at most every `folder_seconds`, since that reads every file. What was seen last is the
cursor, a JSON map per source; a source seen for the first time only sets its baseline (the daily
schedule and the submission's own fingerprint cover what happened before), and a source that
moved is returned with what it moved to, to be submitted. A source that cannot be looked at keeps
its last state and is reported, without stopping the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlflow_assets.errors import SQLFlowAssetsError
from sqlflow_assets.submit import git_source, submission

FOLDERS_CHECKED = "_folders_checked_at"  # cursor key: when folder sources were last fingerprinted


@dataclass(frozen=True)
class Moved:
    source: str
    seen: str  # the commit (git) or the fingerprint (folder, files) now
    before: str


@dataclass(frozen=True)
class WatchTick:
    moved: list[Moved]
    cursor: str
    failures: dict[str, str] = field(default_factory=dict)  # source -> why it could not be looked at


def git_head(source: submission.SqlSource) -> str | None:
    return git_source.remote_head(source, submission.git_remote(source))


def folder_fingerprint(source: submission.SqlSource) -> str:
    return submission.fingerprint(submission.read_source(source).files, source.shape())


def watch(
    sources: Sequence[submission.SqlSource],
    cursor: str | None,
    now: float,
    folder_seconds: float,
    head: Callable[[submission.SqlSource], str | None] = git_head,
    digest: Callable[[submission.SqlSource], str] = folder_fingerprint,
) -> WatchTick:
    """Look at every git source, and at the others when `folder_seconds` passed since they were last looked at."""
    seen: dict = json.loads(cursor) if cursor else {}
    checked_at = float(seen.get(FOLDERS_CHECKED, 0) or 0)
    folders_due = now - checked_at >= folder_seconds
    moved, failures = [], {}
    for source in sources:
        if source.kind != "git" and not folders_due:
            continue
        try:
            value = head(source) if source.kind == "git" else digest(source)
        except SQLFlowAssetsError as error:
            failures[source.name] = str(error)
            continue
        if value is None:
            failures[source.name] = f"branch {source.branch or 'HEAD'} not found on the remote"
            continue
        before = seen.get(source.name)
        if before is not None and before != value:
            moved.append(Moved(source.name, value, before))
        seen[source.name] = value
    known = {source.name for source in sources}
    seen = {name: value for name, value in seen.items() if name in known}  # a source no longer configured is forgotten
    seen[FOLDERS_CHECKED] = now if folders_due else checked_at
    return WatchTick(moved, json.dumps(seen, sort_keys=True), failures)
