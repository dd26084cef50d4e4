"""The user's warehouse tables and views as a catalog: a compact snapshot of the current graph, and their names.

Why a snapshot: the code location turns every table and view of the current graph into an asset
when it loads, and a load must be fast and must never wait for the destination (DuckDB lets one
process hold a file for writing, and a read-only open fails meanwhile). So the graph step, right
after it rebuilt `lineage.*` (`write_snapshot`), writes exactly what the assets need (each table's
columns, upstream tables, column lineage and jobs, each job's source and SQL files) as one JSON
file next to dlt's state, atomically (temp file + rename), and only when it changed, so an
unchanged graph asks for no reload. Loading reads that one file (`read_snapshot`, `plan`).

Names: a table's asset key is `warehouse/<the parts of its normalised name>` (no pipeline asset
starts with `warehouse`), its group `warehouse_<database>_<schema>`, its kinds the dialects of the
jobs that name it. `[sources.sqlflow] warehouse_assets` (globs of schemas or `database.schema`s)
chooses which tables become assets.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from sqlflow_assets.config import MOTHERDUCK_PREFIX, Storage
from sqlflow_assets.domain import PSEUDO_COLUMNS
from sqlflow_assets.errors import CatalogSnapshotError
from sqlflow_assets.warehouse import graph

SNAPSHOT_FORMAT = 1
KEY_PREFIX = "warehouse"  # first part of every warehouse table's asset key; no pipeline asset uses it
GROUP_PREFIX = "warehouse"
ALL = ("*",)
# SQLFlow dbvendor -> Dagster kind (an icon in the UI); others drop the `dbv` prefix
VENDOR_KINDS: Mapping[str, str] = {
    "dbvpostgresql": "postgres",
    "dbvmssql": "sqlserver",
    "dbvazuresql": "azure",
    "dbvsparksql": "spark",
    "dbvhana": "sap",
}
_GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


# --- names ---------------------------------------------------------------------------------------


def key_parts(name: str) -> tuple[str, ...]:
    """`warehouse/<db>/<schema>/<table>` of a normalised name; a `/` inside a part becomes `_` (keys are paths)."""
    return (KEY_PREFIX, *(part.replace("/", "_") for part in name.split(".")))


def namespace(name: str) -> str:
    """The `database.schema` (or `schema`) part of a normalised name; empty for a bare table name."""
    return name.rpartition(".")[0]


def group_name(name: str) -> str:
    """`warehouse_<database>_<schema>`: one Dagster group per schema (group names allow only `[A-Za-z0-9_]`)."""
    space = namespace(name)
    return f"{GROUP_PREFIX}_{_GROUP_UNSAFE.sub('_', space)}" if space else GROUP_PREFIX


def vendor_kind(db_vendor: str | None) -> str | None:
    """The Dagster kind of a SQLFlow dbvendor (`dbvpostgresql` -> `postgres`); None when unknown."""
    if not db_vendor:
        return None
    vendor = db_vendor.strip().lower()
    return VENDOR_KINDS.get(vendor, vendor.removeprefix("dbv"))


def selected(name: str, patterns: Sequence[str]) -> bool:
    """Whether a table becomes an asset: its `database.schema` (or `schema`) matches one of the globs."""
    space = namespace(name)
    return any(fnmatchcase(space, pattern) for pattern in patterns)


def is_pseudo(column: str | None) -> bool:
    """SQLFlow's row-set columns (`PseudoRows`): what decides a table's rows, not a column of it."""
    return (column or "").lower() in PSEUDO_COLUMNS


def destination_label(storage: Storage) -> str:
    """Which destination a snapshot describes: the type, and a local DuckDB file's path (never a URL: it may hold a token)."""
    database = storage.duckdb_database
    if database is not None and not database.startswith(MOTHERDUCK_PREFIX):
        return f"{storage.destination_type}:{database}"
    return storage.destination_type


# --- building and writing the snapshot (the graph step) ------------------------------------------


SNAPSHOT_EDGE_COLUMNS = ("source_object", "source_column", "target_object", "target_column", "transformation_type", "transformation_subtype", "job_id")


def build_snapshot(tables: Mapping[str, pa.Table], job_files: Mapping[str, Sequence[str]], destination: str) -> dict[str, Any]:
    """The snapshot of `graph.refresh`'s tables: jobs by id, and per table its columns, upstream
    tables (`table_lineage`), column lineage and row lineage (`column_lineage`) and jobs.

    Plain JSON values only, sorted, so equal graphs give equal bytes.
    """
    current = tables.get("current_jobs")
    jobs = {
        row["job_id"]: {
            "source": row["source"],
            "job_name": row["job_name"],
            "db_vendor": row["db_vendor"],
            "files": sorted(job_files.get(row["job_id"], [])),
        }
        for row in (current.select(["job_id", "source", "job_name", "db_vendor"]).to_pylist() if current is not None else [])
    }
    columns: dict[str, set[str]] = defaultdict(set)
    upstream: dict[str, set[str]] = defaultdict(set)
    inputs: dict[str, dict[str, set[tuple[str, str, str, str]]]] = defaultdict(lambda: defaultdict(set))
    rows_from: dict[str, set[tuple[str, str, str, str]]] = defaultdict(set)
    written_by: dict[str, set[str]] = defaultdict(set)
    read_by: dict[str, set[str]] = defaultdict(set)
    edges = tables.get("column_lineage")
    names = list(SNAPSHOT_EDGE_COLUMNS)
    values = [edges.column(name).to_pylist() for name in names] if edges is not None else [[] for _ in names]
    for source, source_column, target, target_column, kind, subtype, job_id in zip(*values, strict=True):
        written_by[target].add(job_id)
        read_by[source].add(job_id)
        if not is_pseudo(source_column):
            columns[source].add(source_column)
        if is_pseudo(target_column):
            rows_from[target].add((source, source_column, kind, subtype))
        else:
            columns[target].add(target_column)
            inputs[target][target_column].add((source, source_column, kind, subtype))
    table_lineage = tables.get("table_lineage")
    if table_lineage is not None:
        for source, target in zip(table_lineage.column("source_object").to_pylist(), table_lineage.column("target_object").to_pylist(), strict=True):
            if source != target:
                upstream[target].add(source)
    names_seen = set(written_by) | set(read_by) | set(upstream) | {source for sources in upstream.values() for source in sources}
    keys = _unique_keys(names_seen)
    tables_out = {}
    for name in sorted(names_seen):
        writers, readers = sorted(written_by[name]), sorted(read_by[name] - written_by[name])
        job_rows = [(role, job_id, jobs.get(job_id, {})) for role, ids in (("writes", writers), ("reads", readers)) for job_id in ids]
        defining = writers or readers
        tables_out[name] = {
            "key": list(keys[name]),
            "group": group_name(name),
            "kinds": sorted({kind for job_id in defining if (kind := vendor_kind(jobs.get(job_id, {}).get("db_vendor")))}) or ["sql"],
            "description": _description(name, job_rows),
            "columns": [[column, _column_description(sorted(inputs[name].get(column, ())))] for column in sorted(columns[name])],
            "upstream": sorted(upstream[name]),
            "lineage": {
                column: sorted({(source, source_column) for source, source_column, _, _ in found})
                for column, found in sorted(inputs[name].items())
            },
            "rows_from": [f"{source}.{column} ({kind} {subtype})" for source, column, kind, subtype in sorted(rows_from[name])],
            "jobs": "; ".join(f"{job.get('source')} ({role}, job {job_id})" for role, job_id, job in job_rows),
            "files": sorted({file for job_id in defining for file in jobs.get(job_id, {}).get("files", [])}),
            "written_by": writers,
            "read_by": readers,
        }
    return {"format": SNAPSHOT_FORMAT, "destination": destination, "jobs": dict(sorted(jobs.items())), "tables": tables_out}


def read_job_files(storage: Storage, job_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each job's SQL files (`sqlflow_raw.jobs.file_names`); call it holding `storage.writing()`."""
    if not job_ids:
        return {}
    jobs = graph.read_table(storage.pipeline().dataset(), "jobs", columns=("job_id", "file_names"), job_ids=list(job_ids))
    if jobs is None:
        return {}
    files: dict[str, list[str]] = {}
    for job_id, names in zip(jobs.column("job_id").to_pylist(), jobs.column("file_names").to_pylist(), strict=True):
        try:
            listed = orjson.loads(names) if names else []
        except orjson.JSONDecodeError:
            listed = []
        files[job_id] = [str(name) for name in listed] if isinstance(listed, list) else []
    return files


def write_snapshot(storage: Storage, current_jobs: pa.Table, path: Path) -> bool:
    """Write the snapshot of the graph just refreshed (its current jobs; its column and table edges read
    back, only the columns the snapshot needs) to `path`; False when unchanged."""
    job_ids = current_jobs.column("job_id").to_pylist()
    with storage.writing():
        files = read_job_files(storage, job_ids)
        dataset = storage.lineage_pipeline().dataset()
        read = {
            "column_lineage": graph.read_table(dataset, "column_lineage", columns=SNAPSHOT_EDGE_COLUMNS),
            "table_lineage": graph.read_table(dataset, "table_lineage", columns=("source_object", "target_object")),
        }
    tables = {"current_jobs": current_jobs} | {name: table for name, table in read.items() if table is not None}
    return save_snapshot(build_snapshot(tables, files, destination_label(storage)), path)


def save_snapshot(snapshot: Mapping[str, Any], path: Path) -> bool:
    """Write `snapshot` to `path` atomically (temp file in the same folder, then rename); False when the bytes are the same."""
    data = orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


# --- reading the snapshot (the code location's load) ---------------------------------------------


def stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells one written snapshot from the next without reading it: inode, mtime, size (a rename makes a new inode)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """The snapshot at `path`; None when none was written yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        snapshot = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise CatalogSnapshotError(path=str(path), message=f"not JSON ({error})") from None
    if not isinstance(snapshot, dict) or snapshot.get("format") != SNAPSHOT_FORMAT or not isinstance(snapshot.get("tables"), dict):
        raise CatalogSnapshotError(path=str(path), message=f"not a format-{SNAPSHOT_FORMAT} warehouse catalog snapshot")
    return snapshot


@dataclass(frozen=True)
class TablePlan:
    """What one warehouse table's asset holds, in plain values (the defs module makes the `AssetSpec`)."""

    name: str
    key: tuple[str, ...]
    group: str
    kinds: Sequence[str]
    description: str
    upstream: Sequence[str]  # names of chosen upstream tables
    columns: Sequence[Sequence[str]]  # [name, description]
    column_lineage: Mapping[str, Sequence[Sequence[str]]]  # column -> [[upstream table name, column]], chosen tables only
    jobs: str = ""
    files: Sequence[str] = ()
    rows_from: Sequence[str] = ()


def plan(snapshot: Mapping[str, Any], patterns: Sequence[str] = ALL) -> list[TablePlan]:
    """The assets of the snapshot's tables whose schema matches `patterns`, with lineage among them only.

    Everything but the choice was settled when the snapshot was written, so this is one pass.
    """
    tables: Mapping[str, Any] = snapshot["tables"]
    everything = tuple(patterns) == ALL
    chosen = set(tables) if everything else {name for name in tables if selected(name, patterns)}
    plans = []
    for name in sorted(chosen):
        table = tables[name]
        lineage = table["lineage"]
        if not everything:
            lineage = {column: kept for column, found in lineage.items() if (kept := [pair for pair in found if pair[0] in chosen])}
        plans.append(
            TablePlan(
                name=name,
                key=tuple(table["key"]),
                group=table["group"],
                kinds=table["kinds"],
                description=table["description"],
                upstream=table["upstream"] if everything else [source for source in table["upstream"] if source in chosen],
                columns=table["columns"],
                column_lineage=lineage,
                jobs=table["jobs"],
                files=table["files"],
                rows_from=table["rows_from"],
            )
        )
    return plans


def _unique_keys(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each name's key; two names with one key (a `/` replaced) get a short hash of the name on the second."""
    keys: dict[str, tuple[str, ...]] = {}
    taken: set[tuple[str, ...]] = set()
    for name in sorted(names):
        key = key_parts(name)
        if key in taken:
            digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
            key = (*key[:-1], f"{key[-1]}~{digest}")
        taken.add(key)
        keys[name] = key
    return keys


def _description(name: str, job_rows: Sequence[tuple[str, str, Mapping[str, Any]]]) -> str:
    writers = sorted({str(job.get("source")) for role, _, job in job_rows if role == "writes"})
    readers = sorted({str(job.get("source")) for role, _, job in job_rows if role == "reads"})
    said = [f"Warehouse table or view `{name}`, from the current SQL lineage (an external asset: Dagster does not run it)."]
    if writers:
        said.append(f"Written by {', '.join(f'`{source}`' for source in writers)}.")
    if readers:
        said.append(f"Read by {', '.join(f'`{source}`' for source in readers)}.")
    return " ".join(said)


def _column_description(found: Sequence[Sequence[str]]) -> str:
    """How a column's values come from its upstream columns, as OpenLineage types them (`DIRECT AGGREGATION`, ...).

    The upstream columns themselves are the column lineage; this adds what it cannot say.
    """
    return ", ".join(sorted({f"{kind} {subtype}" for _, _, kind, subtype in found}))
