"""Submitting SQL from where it lives: a folder, a git repository or a list of files, as SQLFlow jobs.

Each configured source (`[[sources.sqlflow.sql_sources]]`, Dagster run config, or the CLI) is read
into (name, bytes) pairs and fingerprinted together with everything else that shapes its job
(dbvendor, default database/schema, job name, incremental). A source is submitted again only
when that fingerprint changed since its last submission, or when forced, so an unchanged
repository costs one `git fetch` and no job. The job is named after the source: the graph's
"current job per source" (`graph.source_of`) is keyed by `jobName`.

The state remembered between submissions (fingerprint, job id, and for incremental sources each
file's digest) is a plain JSON-able dict per source name; the Dagster asset keeps it in its
materialisation metadata, the CLI in a file under dlt's data folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from sqlflow_assets import config
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.errors import SourceError, SQLFlowError
from sqlflow_assets.submit import git_source, source_paths
from sqlflow_assets.submit.source_paths import Files, Skipped

KINDS = ("folder", "git", "files")
DEFAULT_INCLUDE = ("**/*.sql",)
DEFAULT_SOURCE_NAME = "sqlflow_assets sql folder"  # the job name the single-folder asset always used
DEFAULT_DBVENDOR = "dbvpostgresql"

log = logging.getLogger(__name__)


class SqlSource(BaseModel):
    """Where one job's SQL lives and how SQLFlow should read it.

    `kind` folder: every file under `path` (recursive) matching `include` and none of `exclude`.
    `kind` git: the same, under `subfolder` of `branch` (default: the remote's HEAD) of the
    repository at `url` or the local repository at `path`, at the fetched commit (never a working copy).
    `kind` files: exactly `files`, relative to `path` (default: the project folder).
    Globs match paths relative to the folder, `**` crossing folders, case-insensitively;
    `include` defaults to `**/*.sql` for folders and repositories.
    `incremental`: one persistent job (`submitPersistJob`) re-analysed under the same id, sent
    only the changed files, instead of a new job per change.
    Only regular files inside the source are read (`source_paths`, `git_source`): symbolic links
    are never followed, and what is skipped is reported with the files.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str = "folder"  # folder | git | files (a plain str: Dagster config has no Literal)
    path: str | None = None
    url: str | None = None
    branch: str | None = None
    subfolder: str | None = None
    files: list[str] | None = None
    include: list[str] | None = None
    exclude: list[str] | None = None
    dbvendor: str = DEFAULT_DBVENDOR
    default_database: str | None = None
    default_schema: str | None = None
    job_name: str | None = None
    incremental: bool = False

    @model_validator(mode="after")
    def _where(self) -> SqlSource:
        """Each kind names its location, so a typo fails when the config is read, not at submission."""
        if not self.name.strip():
            raise ValueError("a SQL source needs a name")
        if self.kind not in KINDS:
            raise ValueError(f"SQL source {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "folder" and not self.path:
            raise ValueError(f"SQL source {self.name!r}: a folder source needs `path`")
        if self.kind == "git" and not (self.url or self.path):
            raise ValueError(f"SQL source {self.name!r}: a git source needs `url` or `path`")
        if self.kind == "files" and not self.files:
            raise ValueError(f"SQL source {self.name!r}: a files source needs `files`")
        return self

    @property
    def job(self) -> str:
        """The SQLFlow job name: `job_name`, else the source's name."""
        return self.job_name or self.name

    def shape(self) -> dict[str, Any]:
        """Everything besides the files that shapes the job: a change here resubmits too."""
        return {
            "dbvendor": self.dbvendor,
            "default_database": self.default_database,
            "default_schema": self.default_schema,
            "job_name": self.job,
            "incremental": self.incremental,
        }

    def describe(self) -> str:
        """Where the source lives, for logs and metadata; never a password of a git URL."""
        if self.kind == "git":
            where = git_source.public_url(self.url) if self.url else self.path
            return f"git {where}" + (f" branch {self.branch}" if self.branch else "") + (
                f" subfolder {self.subfolder}" if self.subfolder else ""
            )
        if self.kind == "files":
            return f"{len(self.files or [])} files" + (f" under {self.path}" if self.path else "")
        return f"folder {self.path}"

    def __repr_args__(self) -> Any:
        """The repr (and a Dagster config's) shows the URL without its credentials."""
        for key, value in super().__repr_args__():
            yield key, git_source.public_url(value) if key == "url" and value else value


@dataclass(frozen=True)
class SourceFiles:
    """What a source holds now: its files, for git the commit they were read at, and what was skipped (path -> why)."""

    files: Files
    revision: str | None = None
    skipped: Skipped = field(default_factory=dict)


# --- configured sources --------------------------------------------------------------------------


def default_source() -> SqlSource:
    """With nothing configured: the folder `SQLFLOW_SQL_DIR`, else the bundled sample."""
    return SqlSource(name=DEFAULT_SOURCE_NAME, path=str(config.sql_dir()))


def configured_sources(settings: Sequence[Mapping[str, Any]] | None = None) -> list[SqlSource]:
    """`[[sources.sqlflow.sql_sources]]` (or `settings`) as sources; the default folder when none."""
    settings = config.sql_source_settings() if settings is None else settings
    sources = [SqlSource.model_validate(dict(entry)) for entry in settings] or [default_source()]
    seen: set[str] = set()
    for source in sources:
        if source.name in seen:
            raise ValueError(f"two SQL sources are named {source.name!r}; names must be unique")
        seen.add(source.name)
    return sources


def find_source(name_or_path: str, sources: Sequence[SqlSource], name: str | None = None) -> SqlSource:
    """The configured source called `name_or_path`, else a folder source at that path.

    A folder given by path is named `name`, else its absolute path, so the same folder is always
    the same source (and the same job name) wherever the command runs from.
    """
    for source in sources:
        if source.name == name_or_path:
            return source
    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        resolved = str(folder.resolve())
        return SqlSource(name=name or resolved, path=resolved)
    known = ", ".join(repr(s.name) for s in sources)
    raise SourceError(message=f"{name_or_path!r} is neither a configured SQL source ({known}) nor a folder")


# --- reading -------------------------------------------------------------------------------------


def read_source(source: SqlSource) -> SourceFiles:
    """The source's files now, in a stable order; SourceError when there are none."""
    readers: dict[str, Callable[[SqlSource], SourceFiles]] = {"folder": _read_folder, "git": _read_git, "files": _read_files}
    found = readers[source.kind](source)
    if found.skipped:
        listed = ", ".join(f"{path} ({why})" for path, why in list(found.skipped.items())[:20])
        more = f" and {len(found.skipped) - 20} more" if len(found.skipped) > 20 else ""
        log.warning("SQL source %r: skipped %d entries: %s%s", source.name, len(found.skipped), listed, more)
    if not found.files:
        raise SourceError(message=f"SQL source {source.name!r} ({source.describe()}) holds no matching files")
    return found


def read_sql_folder(folder: Path) -> Files:
    """Every `.sql` file under `folder`, as (relative path, bytes), in a stable order."""
    return read_source(SqlSource(name=str(folder), path=str(folder))).files


def _project_path(path: str) -> Path:
    """A configured path: absolute, `~` expanded, or relative to the project folder (`.dlt/`'s parent)."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else config.project_dir() / candidate


def _read_folder(source: SqlSource) -> SourceFiles:
    folder = _project_path(source.path or "")
    if not folder.is_dir():
        raise SourceError(message=f"SQL source {source.name!r}: folder {folder} does not exist")
    files, skipped = source_paths.read_folder(folder, _matcher(source))
    return SourceFiles(files, skipped=skipped)


def _read_files(source: SqlSource) -> SourceFiles:
    base = _project_path(source.path or ".")
    files, skipped = source_paths.read_entries(source.name, base, source.files or [])
    names = [name for name, _ in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SourceError(message=f"SQL source {source.name!r}: two files would be sent as {', '.join(duplicates)}")
    return SourceFiles(sorted(files), skipped=skipped)


def git_remote(source: SqlSource) -> str:
    """What git fetches a git source from: its `url`, else its repository path (project-relative)."""
    return source.url or str(_project_path(source.path or "").resolve())


def _read_git(source: SqlSource) -> SourceFiles:
    files, skipped, commit = git_source.read_git(source, git_remote(source), _matcher(source))
    return SourceFiles(files, revision=commit, skipped=skipped)


def _matcher(source: SqlSource) -> Callable[[str], bool]:
    return source_paths.glob_matcher(source.include or DEFAULT_INCLUDE, source.exclude or ())


# --- fingerprint and submission ------------------------------------------------------------------


def file_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def fingerprint(files: Files, shape: Mapping[str, Any] | None = None) -> str:
    """sha256 over the job's shape and each file's name and content.

    Renaming, editing, adding or removing a file changes it, and so does a different dbvendor,
    default database/schema, job name or incremental flag; where the files live does not.
    """
    digest = hashlib.sha256()
    parts = [json.dumps(shape, sort_keys=True).encode()] if shape is not None else []
    for name, content in files:
        parts += [name.encode(), content]
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass
class Outcome:
    """What one source's submission did; `state` is what to remember for the next one."""

    source: SqlSource
    submitted: bool
    fingerprint: str
    file_count: int
    state: dict[str, Any]
    job_id: str | None = None
    revision: str | None = None
    action: str = "unchanged"  # new job | persist: new job | persist: added N files | persist: replaced files
    job: dict[str, Any] = field(default_factory=dict)
    skipped: Skipped = field(default_factory=dict)  # path -> why it was not read


def submit_source(
    client: SQLFlowClient, source: SqlSource, previous: Mapping[str, Any] | None = None, force: bool = False
) -> Outcome:
    """Submit `source` unless its fingerprint equals `previous["fingerprint"]` (and not `force`).

    An incremental source keeps one persistent job: files are added to it (`incremental=true`)
    when files only changed or were added, all of them replace its files when one was removed,
    and a new persistent job starts when its shape changed or the old job is gone.
    """
    found = read_source(source)
    shape = source.shape()
    digest_now = fingerprint(found.files, shape)
    previous = previous or {}
    if previous.get("fingerprint") == digest_now and not force:
        return Outcome(
            source, False, digest_now, len(found.files), dict(previous), previous.get("job_id"), found.revision, skipped=found.skipped
        )
    digests = {name: file_digest(content) for name, content in found.files}
    options = {"default_database": source.default_database, "default_schema": source.default_schema}
    state: dict[str, Any] = {"fingerprint": digest_now, "shape": fingerprint([], shape)}
    if source.incremental:
        job, action = _submit_persist(client, source, found.files, digests, previous, state["shape"], options)
        state["files"] = digests
    else:
        job, action = client.submit_user_job(source.job, found.files, source.dbvendor, **options), "new job"
    state["job_id"] = job["jobId"]
    if found.revision:
        state["revision"] = found.revision
    return Outcome(source, True, digest_now, len(found.files), state, job["jobId"], found.revision, action, job, found.skipped)


def _submit_persist(
    client: SQLFlowClient,
    source: SqlSource,
    files: Files,
    digests: Mapping[str, str],
    previous: Mapping[str, Any],
    shape: str,
    options: Mapping[str, Any],
) -> tuple[dict[str, Any], str]:
    job_id, known = previous.get("job_id"), previous.get("files")
    if job_id and known is not None and previous.get("shape") == shape and _job_exists(client, job_id):
        removed = set(known) - set(digests)
        changed = [(name, content) for name, content in files if known.get(name) != digests[name]]
        if changed and not removed:
            job = client.submit_persist_job(source.job, changed, source.dbvendor, job_id=job_id, incremental=True)
            return job, f"persist: added {len(changed)} files"
        job = client.submit_persist_job(source.job, files, source.dbvendor, job_id=job_id, incremental=False)
        return job, "persist: replaced files"
    return client.submit_persist_job(source.job, files, source.dbvendor, **options), "persist: new job"


def _job_exists(client: SQLFlowClient, job_id: str) -> bool:
    """Whether the server still knows the persistent job; an error *answer* (not a transport failure) means no."""
    try:
        client.job_summary(job_id)
    except SQLFlowError as error:
        if error.code is None:
            raise
        return False
    return True


def submit_sources(
    client: SQLFlowClient,
    sources: Sequence[SqlSource],
    state: Mapping[str, Mapping[str, Any]],
    force: bool = False,
    report: Callable[[Outcome], None] = lambda outcome: None,
) -> tuple[list[Outcome], dict[str, Exception]]:
    """Submit each source that changed; one source failing does not stop the others.

    Returns the outcomes and the errors by source name, so a caller can record what was submitted
    before it reports what failed (an unrecorded submission would be sent again next time).
    """
    outcomes, failures = [], {}
    for source in sources:
        try:
            outcome = submit_source(client, source, state.get(source.name), force)
        except (SourceError, SQLFlowError, OSError) as error:
            failures[source.name] = error
            continue
        report(outcome)
        outcomes.append(outcome)
    return outcomes, failures


def merged_state(state: Mapping[str, Mapping[str, Any]], outcomes: Iterable[Outcome]) -> dict[str, dict[str, Any]]:
    """The remembered state of every source after these outcomes (sources not in them are kept)."""
    merged = {name: dict(entry) for name, entry in state.items()}
    merged.update({outcome.source.name: outcome.state for outcome in outcomes if outcome.submitted})
    return merged


# --- state kept by the CLI -----------------------------------------------------------------------


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    """The CLI's remembered submissions (`{source name: state}`); empty when there is no file yet."""
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise SourceError(message=f"{path} is not readable JSON; delete it to submit every source again") from None
    if not isinstance(state, dict):
        raise SourceError(message=f"{path} holds no map of sources; delete it to submit every source again")
    return state


def save_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write the state atomically, so a killed command never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=1, sort_keys=True))
    temporary.replace(path)
