"""Submitting SQL from where it lives: a folder, a git repository or a list of files, as SQLFlow jobs.

Each configured source (`[[sources.sqlflow.sql_sources]]`, Dagster run config, or the CLI) is read
into (name, bytes) pairs and fingerprinted together with everything else that shapes its job
(dbvendor, default database/schema, job name, incremental). A source is submitted again only
when that fingerprint changed since its last submission, or when forced, so an unchanged
repository costs one `git fetch` and no job. The job is named after the source: the graph's
"current job per source" (`graph.source_of`) is keyed by `jobName`.

The state remembered between submissions (fingerprint, job id, and for incremental sources each
file's digest) is a plain JSON-able dict per source name, kept in one record for the CLI and the
Dagster asset alike: `submissions.json` under dlt's data folder, read and written under its lock
(`submit_recorded`), so a change one of them submitted is not submitted again by the other. The
asset's materialisation metadata shows the record after its run.

Sources typed into a run's config (anyone with the Dagster UI can) are *confined* to a folder,
the project's (`read_source(..., inside=...)`): every local root they name (a folder's or files
source's `path`, a git source's `path`, a `url` that is a local path or `file://`) must resolve
inside it, and nothing under `PRIVATE_NAMES` (dlt's settings and secrets, `.env`, Dagster's home,
dlt's data, `.git`, the DuckDB data) is read. Sources from `.dlt/config.toml` or the environment
are the operator's and may name any folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, model_validator

from sqlflow_assets import config
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.domain import counted
from sqlflow_assets.errors import SourceError, SQLFlowError
from sqlflow_assets.submit import git_source, source_paths
from sqlflow_assets.submit.source_paths import Files, Skipped

KINDS = ("folder", "git", "files")
DEFAULT_INCLUDE = ("**/*.sql",)
DEFAULT_SOURCE_NAME = "sqlflow_assets sql folder"  # the job name the single-folder asset always used
CONFIGURED = "configured"  # a record entry's flag: submitted as a configured source (`retired_jobs`)
DEFAULT_DBVENDOR = "dbvpostgresql"
# Top-level entries of the project a confined source never reads: dlt's settings and secrets,
# `.env`, Dagster's home, dlt's data folder, git's metadata (remote URLs may hold tokens), the data.
PRIVATE_NAMES = frozenset({".dlt", ".env", ".dagster_home", config.PROJECT_DATA_DIR, ".git", "data"})

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
            return counted(len(self.files or []), "file") + (f" under {self.path}" if self.path else "")
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


def read_source(source: SqlSource, inside: Path | None = None) -> SourceFiles:
    """The source's files now, in a stable order; SourceError when there are none.

    `inside`: a folder every local root of the source must resolve into (a source from run
    config: the project folder); its `PRIVATE_NAMES` are never read.
    """
    readers: dict[str, Callable[[SqlSource, Path | None], SourceFiles]] = {"folder": _read_folder, "git": _read_git, "files": _read_files}
    found = readers[source.kind](source, inside.resolve() if inside is not None else None)
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


def _confined(source: SqlSource, field_name: str, value: str, path: Path, inside: Path | None) -> Path:
    """`path` resolved (links followed); when `inside` is given it must lie there, outside `PRIVATE_NAMES`."""
    resolved = path.resolve()
    if inside is None:
        return resolved
    shown = git_source.public_url(value)[:200]
    if not resolved.is_relative_to(inside):
        raise SourceError(
            message=f"SQL source {source.name!r}: `{field_name}` {shown!r} lies outside the project folder {inside}; "
            "a source given in run config must stay inside it (configure others in .dlt/config.toml)"
        )
    parts = resolved.relative_to(inside).parts
    if parts and parts[0] in PRIVATE_NAMES:
        raise SourceError(
            message=f"SQL source {source.name!r}: `{field_name}` {shown!r} lies in the project's {parts[0]}, "
            "which a source given in run config never reads"
        )
    return resolved


def _private_filter(matches: Callable[[str], bool], root: Path, inside: Path | None) -> Callable[[str], bool]:
    """`matches`, refusing paths under the project's `PRIVATE_NAMES` when the source is confined to `inside`."""
    if inside is None or root != inside:  # a root below the top level holds none of them (checked by `_confined`)
        return matches
    return lambda relative: matches(relative) and relative.split("/", 1)[0] not in PRIVATE_NAMES


def _read_folder(source: SqlSource, inside: Path | None) -> SourceFiles:
    folder = _project_path(source.path or "")
    root = _confined(source, "path", source.path or "", folder, inside)  # first: a refused path is never probed
    if not folder.is_dir():
        raise SourceError(message=f"SQL source {source.name!r}: folder {folder} does not exist")
    files, skipped = source_paths.read_folder(root, _private_filter(_matcher(source), root, inside))
    return SourceFiles(files, skipped=skipped)


def _read_files(source: SqlSource, inside: Path | None) -> SourceFiles:
    base = _project_path(source.path or ".")
    root = _confined(source, "path", source.path or ".", base, inside)
    entries = source.files or []
    if inside is not None and root == inside:
        private = [entry for entry in entries if Path(entry).parts and Path(entry).parts[0] in PRIVATE_NAMES]
        if private:
            raise SourceError(
                message=f"SQL source {source.name!r}: `files` entry {private[0]!r} lies in the project's "
                f"{Path(private[0]).parts[0]}, which a source given in run config never reads"
            )
    files, skipped = source_paths.read_entries(source.name, root, entries)
    names = [name for name, _ in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SourceError(message=f"SQL source {source.name!r}: two files would be sent as {', '.join(duplicates)}")
    return SourceFiles(sorted(files), skipped=skipped)


def git_remote(source: SqlSource, inside: Path | None = None) -> str:
    """What git fetches a git source from: its `url` (a local one read as the folder it names, relative
    to the project folder like `path`), else its repository `path`; confined to `inside` when given."""
    if source.url:
        local = _local_git_path(source.url)
        if local is None:
            return source.url
        git_source.check_git_source(source)  # an option-like url is refused as such, before any path check
        return str(_confined(source, "url", source.url, _project_path(local), inside))
    return str(_confined(source, "path", source.path or "", _project_path(source.path or ""), inside))


def _read_git(source: SqlSource, inside: Path | None) -> SourceFiles:
    files, skipped, commit = git_source.read_git(source, git_remote(source, inside), _matcher(source))
    return SourceFiles(files, revision=commit, skipped=skipped)


def _local_git_path(url: str) -> str | None:
    """The folder a git `url` reads when it names one on this machine (a path or `file://`), else None."""
    if url.lower().startswith("file://"):
        return unquote(urlsplit(url).path) or "/"
    if git_source.is_remote(url):
        return None
    return url


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
    client: SQLFlowClient,
    source: SqlSource,
    previous: Mapping[str, Any] | None = None,
    force: bool = False,
    inside: Path | None = None,
) -> Outcome:
    """Submit `source` unless its fingerprint equals `previous["fingerprint"]` (and not `force`).

    An incremental source keeps one persistent job: files are added to it (`incremental=true`)
    when files only changed or were added, all of them replace its files when one was removed,
    and a new persistent job starts when its shape changed or the old job is gone.
    `inside`: confine the source's local roots to this folder (`read_source`).
    """
    found = read_source(source, inside)
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
    state["job_name"] = source.job  # the graph's source: what `retired_jobs` takes out of the current graph
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
            return job, f"persist: added {counted(len(changed), 'file')}"
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
    inside: Path | None = None,
) -> tuple[list[Outcome], dict[str, Exception]]:
    """Submit each source that changed; one source failing does not stop the others.

    Returns the outcomes and the errors by source name, so a caller can record what was submitted
    before it reports what failed (an unrecorded submission would be sent again next time).
    """
    outcomes: list[Outcome] = []
    failures: dict[str, Exception] = {}
    for source in sources:
        try:
            outcome = submit_source(client, source, state.get(source.name), force, inside)
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


# --- the one record of submissions ----------------------------------------------------------------


def submit_recorded(
    client: SQLFlowClient,
    sources: Sequence[SqlSource],
    path: Path,
    force: bool = False,
    report: Callable[[Outcome], None] = lambda outcome: None,
    inside: Path | None = None,
    known: Mapping[str, Mapping[str, Any]] | None = None,
    configured: bool = True,
) -> tuple[list[Outcome], dict[str, Exception], dict[str, dict[str, Any]]]:
    """`submit_sources` against the record at `path`, holding its lock from reading it to writing it back.

    Two submitters (the CLI, the asset, two runs) take turns, and each sees what the other sent.
    `known`: states to use for sources the record lacks (the asset's former metadata record, so an
    upgrade does not resubmit everything). `configured`: whether `sources` are the configured ones
    (`[[sources.sqlflow.sql_sources]]` or the default folder), which `retired_jobs` retires once they
    leave the config, or ad hoc ones (a folder given to the CLI, sources typed in run config), which
    stay. Returns the outcomes, the failures and the record now.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock"):
        recorded = load_state(path)
        previous = {**{name: dict(entry) for name, entry in (known or {}).items()}, **recorded}
        outcomes, failures = submit_sources(client, sources, previous, force, report, inside)
        state = merged_state(previous, outcomes)
        for outcome in outcomes:
            if outcome.source.name in state:
                state[outcome.source.name][CONFIGURED] = configured or outcome.source.name == DEFAULT_SOURCE_NAME
        if state != recorded:
            save_state(path, state)
    return outcomes, failures, state




def retired_jobs(record: Mapping[str, Mapping[str, Any]], sources: Sequence[SqlSource]) -> list[str]:
    """The job names (graph sources) of recorded configured sources that are configured no more.

    A source removed from `[[sources.sqlflow.sql_sources]]` leaves the current graph, and so does
    the bundled sample (the default folder) as soon as a source of the user's own is configured. A
    source submitted ad hoc stays, and so does a job name a configured source still uses. An entry
    recorded before the flag existed counts as configured only when it is the default folder.
    """
    names, jobs = {source.name for source in sources}, {source.job for source in sources}
    retired = set()
    for name, entry in record.items():
        if name in names or not entry.get(CONFIGURED, name == DEFAULT_SOURCE_NAME):
            continue
        job = str(entry.get("job_name") or name)
        if job not in jobs:
            retired.add(job)
    return sorted(retired)


def retired_now() -> list[str]:
    """`retired_jobs` of the project's record and config (none when the config cannot be read: its error is the submission's to report)."""
    try:
        return retired_jobs(load_state(config.submission_state_path()), configured_sources())
    except (SourceError, ValueError) as error:
        log.warning("no SQL source retired from the current graph: %s", str(error).splitlines()[0])
        return []


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
