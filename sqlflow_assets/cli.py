"""`sqlflow-assets`: `start` the product; `submit`, `jobs`, `status`, `export`, `impact`, `diff` and `reload` for work outside the UI.

`start` needs no account and no internet.

Exit codes: 0 done, 1 SQLFlow refused or could not be reached, a job failed, a source could not be
read, a setting is missing or unreadable (`.dlt/*.toml`), or the destination could not be read; 2 a
usage error (unknown source, bad option, a negative `--depth`, an existing `export -o` path without
`--force`). Such failures print one line naming the cause, never a traceback (a traceback is a bug).
Every command reads the same `.dlt/` settings as the Dagster assets.

`start` creates a local SQLFlow user in the gitignored `.dlt/secrets.toml` when none is configured, starts
`sqlflow-local serve` when `base_url` points at this machine, submits the bundled sample SQL through
the `sqlflow/sql_submission` asset, and runs `dagster dev`; the sensor then loads the job's lineage.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import requests
import tomlkit
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.exceptions import DltException

from sqlflow_assets import config, config_traps
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.domain import counted
from sqlflow_assets.errors import SourceError, SQLFlowAssetsError, UsageError
from sqlflow_assets.submit import submission
from sqlflow_assets.warehouse import graph, openlineage_export, reload_jobs

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# --format of `export` -> the bytes it writes, for one job id
EXPORTERS: dict[str, Callable[[SQLFlowClient, str], bytes]] = {
    "json": lambda client, job_id: client.export_lineage_json(job_id),
    "csv": lambda client, job_id: client.export_full_lineage_csv(job_id).encode(),
    # the job's run events from the current graph (not the server): what the OpenLineage asset sends
    "openlineage": lambda client, job_id: json.dumps(openlineage_export.to_dicts(openlineage_export.job_events(job_id)), indent=2).encode(),
}
JOB_COLUMNS = ("jobId", "jobName", "status", "dbVendor", "createTime", "files")


def ensure_credentials(project: Path) -> tuple[str, str | None]:
    """The configured user id and secret; a new random local user is written if there is none."""
    connection = config.sqlflow_connection()
    user_id, secret_key = connection["user_id"], connection["secret_key"]
    if user_id and (secret_key or connection["token"]):
        return user_id, secret_key
    user_id, secret_key = f"local|{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    path = project / ".dlt" / "secrets.toml"
    document = tomlkit.parse(path.read_text()) if path.exists() else tomlkit.document()
    section = document.setdefault("sources", tomlkit.table()).setdefault("sqlflow", tomlkit.table())
    section["user_id"], section["secret_key"] = user_id, secret_key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(document))
    path.chmod(0o600)
    print(f"created local SQLFlow user {user_id} in {path}", flush=True)
    return user_id, secret_key


@contextmanager
def local_server(base_url: str, user_id: str, secret_key: str | None, data_dir: Path):
    """Run `sqlflow-local serve` for the duration of the block when base_url is on this machine."""
    if urlparse(base_url).hostname not in LOCAL_HOSTS:
        yield None
        return
    server = start_local_server(base_url, f"{user_id}:{secret_key or ''}", data_dir)
    try:
        print(f"local SQLFlow server on {base_url}", flush=True)
        yield server
    finally:
        stop_local_server(server)


def start_local_server(base_url: str, users: str, data_dir: Path, stdout: int | None = None) -> subprocess.Popen:
    """Spawn `sqlflow-local serve` on `base_url`'s port for `users` (`userId:secretKey[,...]`) and wait until it answers.

    The one start-and-wait of the local server: `start` uses it, and so do the tests' fixtures.
    """
    url = urlparse(base_url)
    env = {**os.environ, "SQLFLOW_LOCAL_USERS": users}
    command = [sys.executable, "-m", "sqlflow_assets.local.serve_cli", "serve", "--port", str(url.port or 80), "--data-dir", str(data_dir)]
    server = subprocess.Popen(command, env=env, stdout=stdout)
    try:
        wait_until_up(f"{url.scheme}://{url.netloc}/healthz", server)
    except BaseException:
        stop_local_server(server)
        raise
    return server


def stop_local_server(server: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a server `start_local_server` started: SIGTERM, then SIGKILL if it is still there after `timeout`."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the local SQLFlow server exited with code {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit(f"the local SQLFlow server did not answer on {url} within {timeout:.0f} s")


def start(args: argparse.Namespace) -> int:
    project = config.project_dir()
    env = os.environ
    env.setdefault("DLT_PROJECT_DIR", str(project))
    env.setdefault("DAGSTER_HOME", str(project / ".dagster_home"))
    env.setdefault("SQLFLOW_DUCKDB_PATH", config.duckdb_database())
    for message in config_traps.misplaced_destination_keys(project=project):
        print(f"warning: {message}", file=sys.stderr, flush=True)
    config.log.disabled = True  # its warnings about misplaced keys were just printed
    try:
        configured = config.storage().destination_type
    finally:
        config.log.disabled = False
    changed = config_traps.destination_change(configured, config.PIPELINE_NAME, config.submissions_dir())
    if changed:
        print(f"warning: {changed}", file=sys.stderr, flush=True)
    user_id, secret_key = ensure_credentials(project)
    base_url = config.sqlflow_connection()["base_url"]
    dagster = [sys.executable, "-m", "dagster"]
    # Dagster runs in its home, not in the project: there it would read the project's `.env`,
    # whose DAGSTER_HOME would override one chosen in the environment.
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    data_dir = Path(env.get("SQLFLOW_LOCAL_DATA_DIR") or project / "data" / "sqlflow-local")  # tests run their own
    with local_server(base_url, user_id, secret_key, data_dir):
        if not args.no_sample:
            subprocess.run(
                [*dagster, "asset", "materialize", "--select", "sqlflow/sql_submission", "-m", "sqlflow_assets.definitions"],
                check=True, cwd=home,
            )
        print(f"DuckDB file: {config.mask_url(env['SQLFLOW_DUCKDB_PATH'])}; Dagster UI on http://{args.host}:{args.port}", flush=True)
        workspace = project / "workspace.yaml"
        return run_until_interrupted([*dagster, "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)], cwd=home)


def run_until_interrupted(command: list[str], cwd: Path | None = None) -> int:
    """Run `command` in its own process group; on Ctrl-C or SIGTERM stop that whole group.

    dagster dev ignores SIGTERM and only shuts its webserver, daemon and code servers down on
    SIGINT, so that is what the group gets first (with SIGINT handling restored, in case this
    process was started with it ignored); whatever is left after 30 s is killed. This process
    handles SIGINT itself too: started as a shell's background job it would inherit SIGINT ignored.
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    process = subprocess.Popen(command, cwd=cwd, start_new_session=True, preexec_fn=restore_sigint)
    try:
        return process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGINT)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait()


def restore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def impact(args: argparse.Namespace) -> int:
    """Print every column downstream (or upstream) of a table or column of the current graph."""
    column_lineage = graph.read_table(config.storage().lineage_pipeline().dataset(), "column_lineage")
    if column_lineage is None:
        print("no lineage graph yet: materialise lineage/column_lineage first", file=sys.stderr)
        return 1
    unknown = graph.unknown_target(args.target, column_lineage)
    if unknown is not None:
        print(f"sqlflow-assets impact: {unknown}", file=sys.stderr)
        return 1
    objects = set(column_lineage.column("source_object").to_pylist()) | set(column_lineage.column("target_object").to_pylist())
    object_name, column = graph.split_target(args.target, objects)
    assert object_name is not None  # unknown_target said so
    direction = graph.Direction.UPSTREAM if args.upstream else graph.Direction.DOWNSTREAM
    rows = graph.impact(column_lineage, object_name, column, direction, args.depth).to_pylist()
    write_rows(rows, args.format)
    return 0


def diff(args: argparse.Namespace) -> int:
    """Print what a version of a source changes in the current lineage, with its downstream impact (nothing loaded)."""
    from sqlflow_assets.warehouse import changes, source_diff  # only this command needs them

    lineage = config.storage().lineage_pipeline().dataset()
    column_lineage = graph.read_table(lineage, "column_lineage")
    if args.from_job or args.to_job:
        if not (args.from_job and args.to_job) or args.path or args.git_ref:
            raise UsageError(message="--from and --to go together, without --path or --git-ref")
        jobs = graph.read_table(config.storage().pipeline().dataset(), "jobs")
        edges = graph.read_table(lineage, "end_to_end_edges", job_ids=[args.from_job, args.to_job])
        previous = source_diff.job_lineage(jobs, edges, args.from_job)
        new = source_diff.job_lineage(jobs, edges, args.to_job)
        name = args.source
    else:
        if args.path and args.git_ref:
            raise UsageError(message="--path and --git-ref exclude each other")
        try:
            source = submission.find_source(args.source, submission.configured_sources())
        except (SourceError, ValueError) as error:
            raise UsageError(message=str(error)) from None
        name = source.name
        version = source_diff.source_at(source, path=args.path, git_ref=args.git_ref)
        new = source_diff.analyse_source(SQLFlowClient.from_config(), version, timeout=args.timeout)
        previous = source_diff.current_lineage(column_lineage, name)
    found = source_diff.compare(previous, new, column_lineage, name, args.depth)
    if args.format == "json":
        print(json.dumps({"changes": found.changes.to_pylist(), "impact": found.impact.to_pylist()}, indent=2))
    else:
        print(changes.summary_markdown(found.changes, found.impact) or f"### `{name}`\n\nNo lineage change.\n", end="")
    gate = set(args.fail_on or ())
    if gate and changes.has_consumers(found.impact, gate):
        print(f"sqlflow-assets diff: {' or '.join(sorted(gate))} edges have downstream consumers", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def submit(args: argparse.Namespace) -> int:
    """Submit one source (a configured name or a folder path) when it changed, remembering what was sent."""
    try:
        source = submission.find_source(args.source, submission.configured_sources(), args.name)
    except (SourceError, ValueError) as error:
        raise UsageError(message=str(error)) from None
    if args.dbvendor:
        source = source.model_copy(update={"dbvendor": args.dbvendor})
    client = SQLFlowClient.from_config()
    # the record the asset reads and writes too, under its lock: one change is submitted once
    configured = any(source.name == known.name for known in submission.configured_sources())
    outcomes, failures, _ = submission.submit_recorded(
        client, [source], config.submission_state_path(), force=args.force, configured=configured
    )
    if failures:
        raise failures[source.name]
    [outcome] = outcomes
    if not outcome.submitted:
        print(f"{source.name}: {counted(outcome.file_count, 'file')} unchanged since job {outcome.job_id}; nothing submitted (--force sends it)")
        return EXIT_OK
    print(f"{source.name}: submitted {counted(outcome.file_count, 'file')} ({outcome.action}) as job {outcome.job_id}", flush=True)
    if args.wait and outcome.job_id:
        job = client.wait_for_job(outcome.job_id, poll_seconds=args.poll, timeout=args.timeout)
        print(f"job {outcome.job_id}: {job.get('status')}")
    return EXIT_OK


def reload(args: argparse.Namespace) -> int:
    """Load every job the sensor would load into the configured destination again, then rebuild the graph."""
    storage = config.storage()
    done = reload_jobs.reload_all(
        SQLFlowClient.from_config(), storage, report=lambda line: print(line, flush=True), retired=submission.retired_now()
    )
    print(f"{len(done.loaded)} jobs loaded into {storage.destination_type}, {len(done.failed)} not; "
          f"the current graph has {done.table_edges} table edges", flush=True)
    if done.failed:
        return EXIT_FAILED
    config_traps.destination_reloaded(config.submissions_dir())
    return EXIT_OK


def jobs(args: argparse.Namespace) -> int:
    """Every job of the user, oldest first, as the server lists them."""
    details = SQLFlowClient.from_config().jobs_summary()["jobDetails"]
    if args.format == "json":
        print(json.dumps(details, indent=2))
        return EXIT_OK
    rows = [{**{c: job.get(c, "") for c in JOB_COLUMNS}, "files": len(job.get("fileNames") or [])} for job in details]
    write_rows(rows, args.format, JOB_COLUMNS)
    return EXIT_OK


def status(args: argparse.Namespace) -> int:
    """One job's object (status, vendor, files, error message), as JSON or `key: value` lines."""
    job = SQLFlowClient.from_config().job_summary(args.job_id)
    if args.format == "json":
        print(json.dumps(job, indent=2))
    else:
        for key, value in job.items():
            print(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    """A finished job's lineage: SQLFlow's JSON, or its full column lineage as CSV; to stdout or `-o FILE`."""
    if args.output and not args.force and os.path.lexists(args.output):
        raise UsageError(message=f"{args.output} exists; --force replaces it")
    content = EXPORTERS[args.format](SQLFlowClient.from_config(), args.job_id)
    if args.output:
        write_file(Path(args.output), content, replace=args.force)
        print(f"job {args.job_id}: {len(content)} bytes of {args.format} written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    return EXIT_OK


def write_file(path: Path, content: bytes, *, replace: bool) -> None:
    """Write `content` as a new file at `path`, never through a symlink there.

    The bytes go to a new temporary file in the same folder, which then takes the name: linked
    (fails when anything, a symlink too, appeared at `path` meanwhile) or, with `replace`,
    renamed over what is there (a symlink is replaced, its target untouched).
    """
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as temporary:
        try:
            temporary.write(content)
            temporary.flush()
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(temporary.fileno(), 0o666 & ~umask)  # as a plain open() would have created it
            if replace:
                os.replace(temporary.name, path)
            else:
                try:
                    os.link(temporary.name, path, follow_symlinks=False)
                except FileExistsError:
                    raise UsageError(message=f"{path} exists; --force replaces it") from None
        finally:
            if os.path.lexists(temporary.name):
                os.unlink(temporary.name)


def write_rows(rows: list[dict], form: str, columns: Sequence[str] | None = None) -> None:
    """Rows as JSON (a list of objects), CSV, or an aligned text table."""
    columns = list(columns or (rows[0] if rows else ["object", "column", "depth", "relationship_type", "edge_types", "via", "jobs"]))
    if form == "json":
        print(json.dumps(rows, indent=2))
    elif form == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}
        print("  ".join(c.ljust(widths[c]) for c in columns))
        for row in rows:
            print("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sqlflow-assets", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start_parser = commands.add_parser("start", help="local SQLFlow server + Dagster UI, with a sample job")
    start_parser.add_argument(
        "--host", default="127.0.0.1",
        help="address the Dagster UI (dagster dev's webserver) listens on (default %(default)s; the local SQLFlow "
             "server's address is sources.sqlflow.base_url)",
    )  # fmt: skip
    start_parser.add_argument(
        "--port", type=int, default=3000,
        help="port of the Dagster UI (dagster dev's webserver; default %(default)s), not of the local SQLFlow server",
    )  # fmt: skip
    start_parser.add_argument("--no-sample", action="store_true", help="do not submit the bundled sample SQL")
    start_parser.set_defaults(run=start)
    impact_parser = commands.add_parser(
        "impact", help="columns downstream (what breaks) or upstream (where it comes from) of a table or column"
    )
    impact_parser.add_argument("target", help="db.schema.table or db.schema.table.column, as in lineage.column_lineage")
    way = impact_parser.add_mutually_exclusive_group()
    way.add_argument("--downstream", action="store_true", help="what the target feeds (default)")
    way.add_argument("--upstream", action="store_true", help="what feeds the target")
    impact_parser.add_argument("--depth", type=positive_int, default=graph.DEFAULT_DEPTH, help="hops to follow (default %(default)s)")
    impact_parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    impact_parser.set_defaults(run=impact)
    add_work_commands(commands)
    add_diff_command(commands)
    args = parser.parse_args(argv)
    config.use_project_data_dir()
    try:
        return args.run(args)
    except UsageError as error:
        print(f"sqlflow-assets {args.command}: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:
        cause = failure(error)
        if cause is None:
            raise  # a bug: the traceback is what a report needs
        print(f"sqlflow-assets {args.command}: {cause}", file=sys.stderr)
        return EXIT_FAILED


# DB-API exception names (PEP 249): a destination's driver refusing or not answering
DATABASE_ERRORS = frozenset({"OperationalError", "InterfaceError", "DatabaseError"})


def failure(error: Exception) -> str | None:
    """One line naming the cause of a failure that is not a bug, else None.

    Not bugs: what the package raises on purpose, OS and network errors, dlt's configuration errors
    (a missing or malformed `.dlt/secrets.toml`), and a destination that refuses or does not answer
    (dlt's destination errors, DuckDB's, a DB-API driver's).
    """
    if isinstance(error, (SQLFlowAssetsError, OSError)):
        return one_line(error)
    if isinstance(error, ConfigurationException):
        return f"settings: {one_line(error)}"
    if isinstance(error, (DltException, duckdb.Error)) or any(kind.__name__ in DATABASE_ERRORS for kind in type(error).__mro__):
        return f"destination {destination_name()}: {type(error).__name__}: {one_line(error)}"
    return None


def destination_name() -> str:
    """The configured destination type, for a message; `?` when even that cannot be read."""
    try:
        return config.storage().destination_type
    except Exception:  # noqa: BLE001 (only a word for the message)
        return "?"


def one_line(error: BaseException) -> str:
    """The error's text on one line, with credentials in any URL masked."""
    return config.mask_url(" ".join(str(error).split()))


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a usage error otherwise, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_work_commands(commands: argparse._SubParsersAction) -> None:
    """`submit`, `jobs`, `status`, `export`: the SQLFlow side of the product, without Dagster."""
    submit_parser = commands.add_parser(
        "submit",
        help="submit a SQL source as a SQLFlow job when its files or options changed",
        description="Submit a SQL source configured in [[sources.sqlflow.sql_sources]] (by name) or a folder (by path), "
        "only when its files, dbvendor or options changed since it was last submitted (by this command or the "
        f"sqlflow/sql_submission asset: both keep one record, {config.SUBMISSION_STATE_FILE} under dlt's data folder).",
    )
    submit_parser.add_argument("source", help="a configured source name, or a folder of .sql files")
    submit_parser.add_argument("--dbvendor", help="SQL dialect for this submission (dbvoracle, dbvsnowflake, ...)")
    submit_parser.add_argument("--name", help="job name for a folder given by path (default: its absolute path)")
    submit_parser.add_argument("--force", action="store_true", help="submit even when nothing changed")
    submit_parser.add_argument("--wait", action="store_true", help="wait until the job finished; exit 1 when it failed")
    submit_parser.add_argument("--poll", type=float, default=2.0, help=argparse.SUPPRESS)
    submit_parser.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits (default %(default)g)")
    submit_parser.set_defaults(run=submit)
    reload_parser = commands.add_parser(
        "reload", help="load every job's lineage again into the configured destination (after changing it)"
    )
    reload_parser.add_argument("--all", action="store_true", required=True, help="every finished job the sensor would load")
    reload_parser.set_defaults(run=reload)
    jobs_parser = commands.add_parser("jobs", help="list the SQLFlow jobs of the configured user")
    jobs_parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    jobs_parser.set_defaults(run=jobs)
    status_parser = commands.add_parser("status", help="one SQLFlow job: status, dbvendor, files, error message")
    status_parser.add_argument("job_id")
    status_parser.add_argument("--format", choices=("text", "json"), default="text")
    status_parser.set_defaults(run=status)
    export_parser = commands.add_parser("export", help="a finished job's lineage as SQLFlow JSON or CSV")
    export_parser.add_argument("job_id")
    export_parser.add_argument("--format", choices=list(EXPORTERS), default="json", help="default %(default)s")
    export_parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (a new file)")
    export_parser.add_argument("--force", action="store_true", help="replace FILE when it exists")
    export_parser.set_defaults(run=export)


def add_diff_command(commands: argparse._SubParsersAction) -> None:
    """`diff`: a source's lineage change and its downstream impact, for review before a merge."""
    diff_parser = commands.add_parser(
        "diff",
        help="what a version of a source changes in the lineage, with its downstream impact (loads nothing)",
        description="Analyse a source (its working copy with --path, a branch with --git-ref, else as configured) "
        "through the configured SQLFlow without loading it, and compare its column edges with the source's current "
        "lineage; or compare two loaded jobs with --from/--to. Exit 1 with --fail-on when such edges have consumers.",
    )
    diff_parser.add_argument("source", help="a configured source name, or a folder of .sql files")
    where = diff_parser.add_mutually_exclusive_group()
    where.add_argument("--path", metavar="DIR", help="the source's working copy (a checkout of its repository)")
    where.add_argument("--git-ref", metavar="REF", help="a branch of the git source's repository")
    diff_parser.add_argument("--from", dest="from_job", metavar="JOB", help="compare two loaded jobs: the older one")
    diff_parser.add_argument("--to", dest="to_job", metavar="JOB", help="and the newer one")
    diff_parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    diff_parser.add_argument(
        "--fail-on", choices=("removed", "retyped"), action="append", help="exit 1 when such edges have downstream consumers (repeatable)"
    )
    diff_parser.add_argument("--depth", type=positive_int, default=graph.DEFAULT_DEPTH, help="hops to follow (default %(default)s)")
    diff_parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the analysis (default %(default)g)")
    diff_parser.set_defaults(run=diff)


if __name__ == "__main__":
    sys.exit(main())
