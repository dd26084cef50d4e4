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
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, model_validator

from sqlflow_assets import config
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.errors import SourceError, SQLFlowError

KINDS = ("folder", "git", "files")
DEFAULT_INCLUDE = ("**/*.sql",)
DEFAULT_SOURCE_NAME = "sqlflow_assets sql folder"  # the job name the single-folder asset always used
DEFAULT_DBVENDOR = "dbvpostgresql"
GIT_TIMEOUT = 600.0  # seconds one git command may take (a first fetch of a big repository)

Files = list[tuple[str, bytes]]


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
            where = _public_url(self.url) if self.url else self.path
            return f"git {where}" + (f" branch {self.branch}" if self.branch else "") + (
                f" subfolder {self.subfolder}" if self.subfolder else ""
            )
        if self.kind == "files":
            return f"{len(self.files or [])} files" + (f" under {self.path}" if self.path else "")
        return f"folder {self.path}"


@dataclass(frozen=True)
class SourceFiles:
    """What a source holds now: its files, and for git the commit they were read at."""

    files: Files
    revision: str | None = None


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
    matches = _matcher(source.include or DEFAULT_INCLUDE, source.exclude or ())
    files = [
        (relative, path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file() and matches(relative := path.relative_to(folder).as_posix())
    ]
    return SourceFiles(files)


def _read_files(source: SqlSource) -> SourceFiles:
    base = _project_path(source.path or ".")
    files = []
    for entry in source.files or []:
        path = base / Path(entry).expanduser()
        if not path.is_file():
            raise SourceError(message=f"SQL source {source.name!r}: file {path} does not exist")
        resolved, root = path.resolve(), base.resolve()
        name = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else resolved.name
        files.append((name, path.read_bytes()))
    names = [name for name, _ in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SourceError(message=f"SQL source {source.name!r}: two files would be sent as {', '.join(duplicates)}")
    return SourceFiles(sorted(files))


def _matcher(include: Iterable[str], exclude: Iterable[str]) -> Callable[[str], bool]:
    included, excluded = _glob_regex(include), _glob_regex(exclude)
    return lambda path: bool(included and included.fullmatch(path)) and not (excluded and excluded.fullmatch(path))


def _glob_regex(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for several globs: `**/` any folders (or none), `*` and `?` within one path part."""
    parts = []
    for pattern in patterns:
        out, i = [], 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
            elif pattern.startswith("**", i):
                out.append(".*")
                i += 2
            elif pattern[i] == "*":
                out.append("[^/]*")
                i += 1
            elif pattern[i] == "?":
                out.append("[^/]")
                i += 1
            else:
                out.append(re.escape(pattern[i]))
                i += 1
        parts.append("".join(out))
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None


def _read_git(source: SqlSource) -> SourceFiles:
    """Fetch the branch into a bare cache repository and read `subfolder` at the fetched commit.

    One cache per remote under dlt's data folder, locked while used, so repeated submissions fetch
    only new objects and two runs never fetch into one repository at once.
    """
    remote = source.url or str(_project_path(source.path or "").resolve())
    cache = config.git_cache_dir() / hashlib.sha256(remote.encode()).hexdigest()[:16]
    cache.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{cache}.lock"):
        if not (cache / "HEAD").exists():
            _git(source, ["init", "--bare", "--quiet", str(cache)])
        ref = f"refs/heads/{source.branch}" if source.branch else "HEAD"
        _git(source, ["-C", str(cache), "fetch", "--quiet", "--no-tags", "--depth", "1", remote, ref])
        commit = _git(source, ["-C", str(cache), "rev-parse", "FETCH_HEAD^{commit}"]).decode().strip()
        prefix = (source.subfolder or "").strip("/")
        listing = _git(source, ["-C", str(cache), "ls-tree", "-r", "-z", commit, "--", f"{prefix}/" if prefix else "."])
        matches = _matcher(source.include or DEFAULT_INCLUDE, source.exclude or ())
        blobs = []
        for entry in filter(None, listing.split(b"\0")):
            meta, path = entry.decode().split("\t", 1)
            mode, kind, sha = meta.split()
            relative = path[len(prefix) + 1 :] if prefix else path
            if kind == "blob" and mode != "120000" and matches(relative):  # no symlinks, no submodules
                blobs.append((relative, sha))
        contents = _git_blobs(source, cache, [sha for _, sha in blobs])
    return SourceFiles(sorted((name, contents[sha]) for name, sha in blobs), revision=commit)


def _git_blobs(source: SqlSource, repository: Path, shas: list[str]) -> dict[str, bytes]:
    """The contents of blobs in one `git cat-file --batch` call, not one process per file."""
    if not shas:
        return {}
    out = _git(source, ["-C", str(repository), "cat-file", "--batch"], stdin="\n".join(shas).encode() + b"\n")
    contents, at = {}, 0
    while at < len(out):
        header_end = out.index(b"\n", at)
        sha, _, size = out[at:header_end].decode().split()
        start = header_end + 1
        contents[sha] = out[start : start + int(size)]
        at = start + int(size) + 1
    return contents


def _git(source: SqlSource, args: list[str], stdin: bytes | None = None) -> bytes:
    """Run git without prompts; a failure is a SourceError quoting git, with any URL password masked."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        done = subprocess.run(["git", *args], input=stdin, capture_output=True, env=env, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise SourceError(message="git is not installed (needed by git SQL sources)") from None
    except subprocess.TimeoutExpired:
        raise SourceError(message=f"SQL source {source.name!r} ({source.describe()}): a git command took over {GIT_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        message = _mask_url_secret(done.stderr.decode(errors="replace").strip(), source.url)
        raise SourceError(message=f"SQL source {source.name!r} ({source.describe()}): git failed: {message[:500]}")
    return done.stdout


def _public_url(url: str) -> str:
    """`url` without its user info: a token in `https://user:token@host/repo` stays out of every message."""
    parts = urlsplit(url)
    if not parts.password and not parts.username:
        return url
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))


def _mask_url_secret(text: str, url: str | None) -> str:
    password = urlsplit(url).password if url else None
    return text.replace(password, "***") if password else text


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
        return Outcome(source, False, digest_now, len(found.files), dict(previous), previous.get("job_id"), found.revision)
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
    return Outcome(source, True, digest_now, len(found.files), state, job["jobId"], found.revision, action, job)


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
