"""One place that resolves the project's settings: paths, environment variables and the destination.

Everything here is read at call time, never at import, so tests and `dagster dev` can point the
project somewhere else with environment variables alone. The destination is dlt's own setting
(`destination_type` in `.dlt/config.toml`, env `DESTINATION_TYPE`, credentials under
`[destination.<type>]`), so a dlt user needs nothing new; without it the destination is the DuckDB
file at `SQLFLOW_DUCKDB_PATH`.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import dlt
import requests
from dlt.common.configuration import configspec, resolve_configuration, with_config
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.destination import TDestinationReferenceArg
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.common.runtime import run_context
from dlt.common.typing import TSecretStrValue

from sqlflow_assets import config_traps
from sqlflow_assets.domain import API_PATH_PREFIX, LOCAL_PORT
from sqlflow_assets.errors import ConfigError, OpenLineageConfigError, StorageBusy

log = logging.getLogger(__name__)

SQLFLOW_SECTIONS = ("sources", "sqlflow")  # `[sources.sqlflow]` in `.dlt/`, `SOURCES__SQLFLOW__*` in the environment
DEFAULT_BASE_URL = f"http://127.0.0.1:{LOCAL_PORT}"  # the local server that `sqlflow-assets start` runs
PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_SQL_DIR = PACKAGE_DIR / "sql"
RAW_SCHEMA = "sqlflow_raw"
LINEAGE_SCHEMA = "lineage"
PIPELINE_NAME = "sqlflow"  # loads `sqlflow_raw`; `dlt pipeline sqlflow info` finds it
LINEAGE_PIPELINE_NAME = "sqlflow_lineage"  # loads `lineage`
DEFAULT_DESTINATION = "duckdb"
MOTHERDUCK_PREFIX = "md:"
PROJECT_DATA_DIR = ".dlt_data"  # dlt's data folder inside the project (the name scripts/project_env.sh uses)
WRITE_LOCK_TIMEOUT = 3600.0  # seconds a run waits for another writer of the same storage


# `scheme://user:password@` (up to the last `@` before the path) and query values named like secrets
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s]*@")
_SECRET_QUERY = re.compile(
    r"(?i)((?:^|[?&;\s])[\w.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|signature|sig)=)[^&#\s]*"
)
MASK = "***"


def mask_url(text: object) -> str:
    """`text` with the user info of every URL in it, and query values named like secrets, replaced by `***`.

    The one masking helper for URLs: an OpenLineage transport URL, a destination's credentials
    string (`postgresql://loader:pw@host/db` -> `postgresql://***@host/db`), a git remote, or an
    error message quoting any of them. A password with URL-encoded characters is masked with the
    rest of its user info; a text without URLs comes back unchanged.
    """
    masked = _URL_USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", str(text))
    return _SECRET_QUERY.sub(lambda match: f"{match[1]}{MASK}", masked)


def url_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without its user info, and the (user, password) it held (decoded), if any."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=netloc)), (unquote(parts.username or ""), unquote(parts.password or ""))


def project_dir() -> Path:
    """The folder holding `.dlt/`: dlt's own `DLT_PROJECT_DIR`, else the current directory."""
    return Path(os.environ.get("DLT_PROJECT_DIR") or os.getcwd()).resolve()


def duckdb_database() -> str:
    """The DuckDB database of the default destination (`SQLFLOW_DUCKDB_PATH`).

    A local path is made absolute; a MotherDuck `md:` URL passes through untouched. The default
    stem is `sqlflow`, never `lineage`: a file named after a schema it holds makes every reference
    to that schema ambiguous in DuckDB.
    """
    configured = os.environ.get("SQLFLOW_DUCKDB_PATH")
    if configured and configured.startswith(MOTHERDUCK_PREFIX):
        return configured
    return str(Path(configured).resolve() if configured else project_dir() / "data" / "sqlflow.duckdb")


def sql_dir() -> Path:
    """The folder the `sqlflow/sql_submission` asset submits (`SQLFLOW_SQL_DIR`), else the bundled sample."""
    configured = os.environ.get("SQLFLOW_SQL_DIR")
    return Path(configured).resolve() if configured else SAMPLE_SQL_DIR


def sql_source_settings() -> list[dict]:
    """`[[sources.sqlflow.sql_sources]]` tables (env `SOURCES__SQLFLOW__SQL_SOURCES` as a JSON list), read now.

    Each is one place SQL lives (folder, git repository, file list) with its dbvendor and default
    database/schema; `submission.SqlSource` says what a table may hold. Empty: the `sql_dir()` folder.
    """
    settings = dlt.config.get("sources.sqlflow.sql_sources", list) or []
    if not all(isinstance(entry, dict) for entry in settings):
        raise ValueError("sources.sqlflow.sql_sources must be a list of tables ([[sources.sqlflow.sql_sources]])")
    return [dict(entry) for entry in settings]


def use_project_data_dir() -> Path:
    """Make dlt's data folder `<project>/.dlt_data` (`PROJECT_DATA_DIR`) unless `DLT_DATA_DIR` is set; the folder.

    dlt's default is machine-wide (`~/.dlt`, `/var/dlt` as root): two checkouts would share pipeline
    state, git caches and the submission record. `sqlflow-assets` calls this before any command;
    `scripts/project_env.sh` exports the same for Dagster.
    """
    return Path(os.environ.setdefault("DLT_DATA_DIR", str(project_dir() / PROJECT_DATA_DIR)))


def submissions_dir() -> Path:
    """`sqlflow_assets/` in dlt's data folder (`DLT_DATA_DIR`): git caches and the CLI's submission state."""
    return Path(run_context.active().get_data_entity("sqlflow_assets"))


def git_cache_dir() -> Path:
    """Bare clones of git SQL sources, one per remote, so a resubmission fetches only new commits."""
    return submissions_dir() / "git"


SUBMISSION_STATE_FILE = "submissions.json"


def submission_state_path() -> Path:
    """What was last sent per SQL source (fingerprint, job id): one record for `sqlflow-assets submit` and the asset."""
    return submissions_dir() / SUBMISSION_STATE_FILE


def catalog_snapshot_path() -> Path:
    """The warehouse graph as the code location turns it into assets: written by the graph step, read at load."""
    return submissions_dir() / "warehouse_catalog.json"


@dataclass(frozen=True)
class Storage:
    """Where lineage lands: a dlt destination type and, for DuckDB, the database file or URL.

    Credentials of other destinations are never held here: dlt resolves them from
    `[destination.<type>]` when a pipeline loads.
    """

    destination_type: str
    duckdb_database: str | None = None

    def __repr__(self) -> str:
        """No secret: a MotherDuck URL's `motherduck_token` is masked."""
        database = None if self.duckdb_database is None else mask_url(self.duckdb_database)
        return f"Storage(destination_type={self.destination_type!r}, duckdb_database={database!r})"

    def destination(self) -> TDestinationReferenceArg:
        """The dlt destination to load into."""
        if self.duckdb_database is None:
            return self.destination_type
        if self.duckdb_database.startswith(MOTHERDUCK_PREFIX):
            return dlt.destinations.motherduck(credentials=self.duckdb_database)
        Path(self.duckdb_database).parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(self.duckdb_database)

    def pipeline(self, name: str = PIPELINE_NAME, dataset_name: str = RAW_SCHEMA) -> dlt.Pipeline:
        """A dlt pipeline into this storage, in dlt's default pipelines dir (`DLT_DATA_DIR`)."""
        return dlt.pipeline(pipeline_name=name, destination=self.destination(), dataset_name=dataset_name, progress="log")

    def lineage_pipeline(self) -> dlt.Pipeline:
        return self.pipeline(LINEAGE_PIPELINE_NAME, LINEAGE_SCHEMA)

    @contextmanager
    def writing(self, timeout: float = WRITE_LOCK_TIMEOUT) -> Iterator[None]:
        """Hold this storage's write locks: the DuckDB file's (when local) and the dlt pipelines folder's.

        Why file locks and not a Dagster pool: the kernel frees a `flock` when its holder dies, so
        a killed run never blocks the next one (a pool slot of a SIGKILLed run stays taken), and
        two Dagster homes or two pipelines folders writing one database wait for each other
        instead of failing with DuckDB's "Could not set lock". Each lock file's folder is locked
        too (`_hold`): a lock file can be deleted while held, its folder cannot without deleting
        what it protects.
        """
        files = [Path(get_dlt_pipelines_dir()) / "sqlflow.lock"]
        if self.duckdb_database is not None and not self.duckdb_database.startswith(MOTHERDUCK_PREFIX):
            files.insert(0, Path(f"{self.duckdb_database}.lock"))
        targets: dict[str, Path] = {}
        for path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            for target in (path.parent.resolve(), path.parent.resolve() / path.name):
                targets.setdefault(str(target), target)
        deadline = time.monotonic() + timeout
        with ExitStack() as held:
            for name in sorted(targets):  # one order for every writer: no two wait for each other crosswise
                held.enter_context(_hold(targets[name], timeout, deadline))
            yield

    def table_name(self, dataset: str, table: str) -> str:
        """The table as the destination names it (`dagster/table_name`)."""
        return f"{dataset}.{table}"


LOCK_POLL_SECONDS = (0.05, 0.5)  # first and longest pause between tries of a held lock


@contextmanager
def _hold(path: Path, timeout: float, deadline: float) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (a lock file, created if missing, or a folder) until the block ends.

    After the lock is taken, the locked file must still be the one at `path` (same device and
    inode): a file deleted or replaced between the open and the lock is let go and the new one
    taken, so a writer never holds a lock nobody else can see. Waits until `deadline`, saying so
    in the log once, then raises `StorageBusy`. A folder on a filesystem without `flock` on
    folders (NFS) is skipped; its lock file still counts.
    """
    pause, told = LOCK_POLL_SECONDS[0], False
    held: int | None  # the descriptor whose closing releases the lock
    while True:
        fd = _open_for_lock(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                if not path.is_dir():
                    raise
                log.warning("cannot lock the folder %s (%s); relying on its lock file", path, exc.strerror)
                held = None
                break
        else:
            if _same_file(fd, path):
                held = fd
                break
            os.close(fd)  # deleted or replaced while we took it: take the one at the path now
            continue
        if time.monotonic() >= deadline:
            raise StorageBusy(lock_file=str(path), timeout=timeout)
        if not told:
            log.info("waiting up to %.0f s for %s: another run is writing", timeout, path)
            told = True
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, LOCK_POLL_SECONDS[1])
    try:
        yield
    finally:
        if held is not None:
            os.close(held)  # closing the only descriptor releases the flock


def _open_for_lock(path: Path) -> int:
    if path.is_dir():
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except FileNotFoundError:
        return False


def storage(destination_type: str | None = None) -> Storage:
    """The configured storage: `destination_type` argument, else dlt config/env, else DuckDB.

    A `md:` `SQLFLOW_DUCKDB_PATH` means MotherDuck, DuckDB's own service. A destination key in a
    wrong section of dlt's TOML files is logged as a warning each time (`config_traps`).
    """
    for message in config_traps.misplaced_destination_keys(project=project_dir()):
        log.warning(message)
    kind = destination_type or dlt.config.get("destination_type") or DEFAULT_DESTINATION
    if kind == DEFAULT_DESTINATION:
        database = duckdb_database()
        return Storage("motherduck" if database.startswith(MOTHERDUCK_PREFIX) else kind, database)
    if kind == "motherduck" and os.environ.get("SQLFLOW_DUCKDB_PATH", "").startswith(MOTHERDUCK_PREFIX):
        return Storage(kind, duckdb_database())
    return Storage(kind)


@dataclass(frozen=True)
class SensorSettings:
    """Limits of `sqlflow_job_sensor`, so connecting an account with a long history does not flood Dagster.

    `created_after`: ISO date or date-time; only jobs whose `createTime` is at or after it.
    `job_name_pattern`: a case-sensitive glob (`nightly-*`) that `jobName` must match.
    """

    created_after: str | None = None
    job_name_pattern: str | None = None


@with_config(sections=SQLFLOW_SECTIONS)
def sensor_settings(sensor_created_after: Any = None, sensor_job_name_pattern: str | None = None) -> SensorSettings:
    """`[sources.sqlflow] sensor_created_after / sensor_job_name_pattern` (env `SOURCES__SQLFLOW__SENSOR_*`), injected by dlt.

    The sensor calls this every tick, so a changed setting applies on the next tick. A TOML date
    (`2026-11-01` unquoted) arrives as a date object and is turned back into its ISO text.
    """
    return SensorSettings(None if sensor_created_after is None else str(sensor_created_after), sensor_job_name_pattern)


DEFAULT_SOURCE_POLL_SECONDS, DEFAULT_FOLDER_POLL_SECONDS = 60, 600


@with_config(sections=SQLFLOW_SECTIONS)
def source_poll_seconds(source_poll_seconds: int = DEFAULT_SOURCE_POLL_SECONDS, folder_poll_seconds: int = DEFAULT_FOLDER_POLL_SECONDS) -> tuple[int, int]:
    """`[sources.sqlflow] source_poll_seconds` (git sources, one `git ls-remote` each, 60 s) and
    `folder_poll_seconds` (folder and file sources, by fingerprint, 600 s): how often `sqlflow_source_sensor` looks."""
    values = (int(source_poll_seconds), int(folder_poll_seconds))
    if min(values) < 1:
        raise ConfigError(message="sources.sqlflow.source_poll_seconds and folder_poll_seconds must be at least 1")
    return values


@with_config(sections=SQLFLOW_SECTIONS)
def asset_owners(asset_owners: list[str] | None = None) -> list[str]:
    """`[sources.sqlflow] asset_owners`: Dagster owners (`team:data-platform`, `someone@example.com`) of every asset.

    Read when the code location loads (owners are part of the definitions); none by default.
    """
    return list(asset_owners or [])


@with_config(sections=SQLFLOW_SECTIONS)
def warehouse_assets(warehouse_assets: list[str] | None = None) -> tuple[str, ...]:
    """`[sources.sqlflow] warehouse_assets`: globs of the schemas (`marts`) or `database.schema`s (`wh.*`)
    whose tables and views become Dagster assets; every one by default (`["*"]`), none with `[]`.

    Read when the code location loads (`defs/warehouse_tables.py`); its sensor reloads it on a change.
    """
    return ("*",) if warehouse_assets is None else tuple(str(pattern) for pattern in warehouse_assets)


@configspec
class SQLFlowConnection(BaseConfiguration):
    """Who and where the SQLFlow user is: `[sources.sqlflow]` in `.dlt/` or `SOURCES__SQLFLOW__*`, resolved by dlt.

    The one place these keys and their defaults are written: the dlt source (its spec), the client
    and the Dagster resource all take this. Every key may be missing here, so the source and the
    code location load without credentials; the client refuses a missing server or user.
    """

    base_url: str = DEFAULT_BASE_URL
    user_id: str | None = None
    secret_key: TSecretStrValue | None = dlt.secrets.value
    token: TSecretStrValue | None = dlt.secrets.value
    path_prefix: str = API_PATH_PREFIX

    def __repr__(self) -> str:
        hidden = "".join(f", {name}=***" for name in ("secret_key", "token") if getattr(self, name))
        return f"SQLFlowConnection(base_url={self.base_url!r}, user_id={self.user_id!r}, path_prefix={self.path_prefix!r}{hidden})"

    def missing(self) -> list[str]:
        """The config keys a client cannot do without that are not set."""
        return [f"{'.'.join(SQLFLOW_SECTIONS)}.{name}" for name in ("base_url", "user_id") if not getattr(self, name)]


def sqlflow_connection(**overrides: Any) -> SQLFlowConnection:
    """The connection from dlt's config and secrets, read now; `overrides` given explicitly win."""
    return resolve_configuration(SQLFlowConnection(), sections=SQLFLOW_SECTIONS, explicit_value=overrides)


_settings_stamp: tuple[tuple[str, int, int], ...] | None = None


def reload_changed_settings() -> None:
    """Make dlt read `.dlt/config.toml` and `secrets.toml` again when either changed on disk.

    dlt reads its TOML files once per process, and the code server that evaluates sensors lives
    for days: without this a changed secret or sensor setting would wait for "Reload definitions".
    Called where settings are read (each sensor tick, each client, each storage lookup); a stat per
    file when nothing changed.
    """
    global _settings_stamp
    run_context = Container()[PluggableRunContext]
    locations = sorted({location for provider in run_context.providers.providers for location in getattr(provider, "locations", ())})
    # the project folder too: a process that moves `DLT_PROJECT_DIR` (tests, tools) reads the new `.dlt/`
    stamp = ((str(project_dir()), 0, 0), *((location, *_file_stamp(location)) for location in locations))
    if stamp != _settings_stamp:  # the first call too: the files may have changed since dlt read them
        run_context.reload_providers()
    _settings_stamp = stamp


def _file_stamp(location: str) -> tuple[int, int]:
    try:
        status = os.stat(location)
    except FileNotFoundError:
        return (0, -1)
    return (status.st_mtime_ns, status.st_size)


OPENLINEAGE_SECTION = "sources.sqlflow.openlineage"
OPENLINEAGE_JOB_NAMESPACE = "sqlflow"
OPENLINEAGE_TRANSPORTS = frozenset({"http", "file", "console"})


@dataclass(frozen=True)
class OpenLineageSettings:
    """Where OpenLineage events go and how their jobs and datasets are named.

    `transport`: openlineage-python's transport config (`type` http, file or console, and that
    transport's own keys: `url`, `endpoint`, `timeout`, `compression` / `log_file_path`, `append`);
    None means OpenLineage is off. `namespace`: the jobs' namespace. `dataset_namespace`: the
    datasets' namespace (the warehouse the analysed SQL runs on, e.g. `postgres://warehouse:5432`),
    per source in `dataset_namespaces`, else `sqlflow://<dbvendor>`. `api_key` (a secret) becomes
    the HTTP transport's bearer token; it is never part of `repr`, `describe()` or anything logged.
    """

    transport: dict | None = None
    namespace: str = OPENLINEAGE_JOB_NAMESPACE
    dataset_namespace: str | None = None
    dataset_namespaces: dict = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)

    @property
    def enabled(self) -> bool:
        return self.transport is not None

    def __repr__(self) -> str:
        """No secret: `api_key` left out, credentials and secret query values of the transport URL masked."""
        return (
            f"OpenLineageSettings(transport={self._public_transport()!r}, namespace={self.namespace!r}, "
            f"dataset_namespace={self.dataset_namespace!r}, dataset_namespaces={self.dataset_namespaces!r})"
        )

    def _public_transport(self) -> dict | None:
        if self.transport is None:
            return None
        return {
            key: MASK if key in ("auth", "custom_headers") else mask_url(value) if isinstance(value, str) else value
            for key, value in self.transport.items()
        }

    def transport_config(self) -> dict:
        """The transport config openlineage-python's factory takes, with the secrets added.

        `user:password@` in an HTTP transport's URL becomes the HTTP basic auth of the transport's
        session, and the URL goes without it: openlineage-python logs the URL and its config at
        DEBUG, and an HTTP error quotes the URL. A session's repr shows no credentials.
        """
        if self.transport is None:
            raise OpenLineageConfigError(message=f"OpenLineage is off: {OPENLINEAGE_SECTION}.transport is not set")
        transport = dict(self.transport)
        if transport.get("type") == "http":
            if self.api_key:
                transport["auth"] = {"type": "api_key", "apiKey": self.api_key}
            url, credentials = url_credentials(str(transport.get("url", "")))
            if credentials is not None:
                session = requests.Session()
                session.auth = credentials
                transport["url"], transport["session"] = url, session
        return transport

    def describe(self) -> str:
        """Where events go, for logs and metadata: no secret, no credentials in a URL, no query string."""
        transport = self.transport or {}
        kind = transport.get("type")
        if kind == "http":
            url = urlsplit(str(transport.get("url", "")))
            netloc = (url.hostname or "") + (f":{url.port}" if url.port else "")
            base = urlunsplit((url.scheme, netloc, url.path if url.path.endswith("/") else url.path + "/", "", ""))
            return urljoin(base, str(transport.get("endpoint", "api/v1/lineage")))
        if kind == "file":
            return f"file:{transport.get('log_file_path')}"
        return str(kind or "off")


def openlineage_settings() -> OpenLineageSettings:
    """`[sources.sqlflow.openlineage]` (env `SOURCES__SQLFLOW__OPENLINEAGE__*`), read now.

    Off (`enabled` false) unless `transport` is set: a TOML table, or JSON text in the environment
    variable `SOURCES__SQLFLOW__OPENLINEAGE__TRANSPORT`. The bearer token is `api_key` in
    `.dlt/secrets.toml` (`SOURCES__SQLFLOW__OPENLINEAGE__API_KEY`), so it never sits in the
    committed config. The names apply also when off, to events printed rather than sent.
    """
    transport = dlt.config.get(f"{OPENLINEAGE_SECTION}.transport", dict)
    if transport:
        transport = dict(transport)
        kind = transport.get("type")
        if kind not in OPENLINEAGE_TRANSPORTS:
            raise OpenLineageConfigError(
                message=f"{OPENLINEAGE_SECTION}.transport type must be one of {sorted(OPENLINEAGE_TRANSPORTS)}, not {kind!r}"
            )
        required = {"http": "url", "file": "log_file_path"}.get(kind)
        if required and not transport.get(required):
            raise OpenLineageConfigError(message=f"{OPENLINEAGE_SECTION}.transport of type {kind!r} needs {required!r}")
    return OpenLineageSettings(
        transport=transport or None,
        namespace=dlt.config.get(f"{OPENLINEAGE_SECTION}.namespace") or OPENLINEAGE_JOB_NAMESPACE,
        dataset_namespace=dlt.config.get(f"{OPENLINEAGE_SECTION}.dataset_namespace") or None,
        dataset_namespaces=dict(dlt.config.get(f"{OPENLINEAGE_SECTION}.dataset_namespaces", dict) or {}),
        api_key=dlt.secrets.get(f"{OPENLINEAGE_SECTION}.api_key") or None,
    )
