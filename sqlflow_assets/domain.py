"""The facts of SQLFlow lineage that every layer shares, written once: job statuses, answer codes,
object kinds (and which are real), relationship types, the chain rule, and the walk of the nested
`dbobjs` JSON (docs/sqlflow-format.md §3).

The client, the local server and its engine, the flattening SQL, the graph and the renderings
import them from here, so they cannot drift apart (they did: three sets of "real" types differed).
A plain module: it imports nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

# --- answers and jobs (docs/sqlflow-api.md §0, §7) ------------------------------------------------------------

OK_CODES = frozenset({"200", "203"})  # an envelope's `code` that means success; 203 = success with warnings
API_PATH_PREFIX = "/gspLive_backend"  # the cloud's and the local server's; on-premise adds `/api` in front
LOCAL_PORT = 8165  # the local SQLFlow-compatible server's default port
TOKEN_TTL_SECONDS = 86400  # a token's lifetime (docs/sqlflow-api.md §1: 24 h)
# The longest `jobName` the local server accepts (characters). Names from other servers may be longer:
# the tables keep them whole, and every tag, picture and metadata entry shows them through `shown_name`.
JOB_NAME_MAX_CHARS = 256


def shown_name(name: object, limit: int = JOB_NAME_MAX_CHARS) -> str:
    """`name` as text of at most `limit` characters, for tags, pictures, metadata and logs; a cut one ends in `…`."""
    text = "" if name is None else str(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`count` with its noun in the right number: "1 statement", "2 statements", "0 copies" (`plural` when not +s)."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


class JobStatus(StrEnum):
    """A job's `status` as the API spells it."""

    CREATE = "create"
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL_SUCCESS = "partial_success"
    FAIL = "fail"


PENDING_STATUSES = frozenset({JobStatus.CREATE, JobStatus.RUNNING})  # the job may still change
DONE_STATUSES = frozenset({JobStatus.SUCCESS, JobStatus.PARTIAL_SUCCESS})  # its lineage can be exported
FAILED_STATUS = JobStatus.FAIL


# --- object kinds (docs/sqlflow-format.md §4) -----------------------------------------------------------------


class ObjectKind(StrEnum):
    """The `type` of a dbobj that the code names; payloads carry others too (parsed as intermediate)."""

    TABLE = "table"
    VIEW = "view"
    FILE = "file"
    DIRECTORY = "directory"
    STAGE = "stage"
    STREAM = "stream"
    PATH = "path"
    PROCESS = "process"
    PROCEDURE = "procedure"
    PACKAGE = "package"
    FUNCTION = "function"
    TRIGGER = "trigger"
    CONSTANT_TABLE = "constantTable"


# Real objects: tables, views and the external storage kinds SQLFlow documents. Everything else (the
# `others` bucket: select_list, insert-select, function, with_cte, constantTable...; processes;
# unknown or missing types) is an intermediate, collapsed by the chain rule. This is the public
# contract (`is_intermediate` in lineage.objects), and the engine and the renderings use it too.
REAL_KINDS = frozenset(
    {ObjectKind.TABLE, ObjectKind.VIEW, ObjectKind.FILE, ObjectKind.DIRECTORY, ObjectKind.STAGE, ObjectKind.STREAM, ObjectKind.PATH}
)


def is_real(kind: object) -> bool:
    """Whether an object of this `type` is a real one (unknown and missing types are intermediate)."""
    return kind in REAL_KINDS


# Nested buckets whose items may lack `type` (docs/sqlflow-format.md §3: packages, schema.processes).
BUCKET_KINDS: Mapping[str, ObjectKind] = {
    "tables": ObjectKind.TABLE, "views": ObjectKind.VIEW, "processes": ObjectKind.PROCESS,
    "procedures": ObjectKind.PROCEDURE, "packages": ObjectKind.PACKAGE, "functions": ObjectKind.FUNCTION,
    "triggers": ObjectKind.TRIGGER,
}  # fmt: skip


# SQLFlow's pseudo columns (lower case): a table's row count (fdr targets), not real fields.
PSEUDO_COLUMNS = frozenset({"pseudorows", "relationrows"})


# --- relationships and the chain rule (docs/sqlflow-format.md §8) ---------------------------------------------


class RelationType(StrEnum):
    """Relationship types the code acts on; fdd and fdr carry data flow, the others do not."""

    FDD = "fdd"  # direct: the value flows
    FDR = "fdr"  # indirect: the value decides (WHERE, JOIN ON, GROUP BY...)
    JOIN = "join"


DATA_FLOW_TYPES = frozenset({RelationType.FDD, RelationType.FDR})


def chain(path_type: str, hop_type: str) -> RelationType:
    """The chain rule for one more hop: a path is fdd only while every hop is fdd, else fdr."""
    return RelationType.FDD if path_type == RelationType.FDD and hop_type == RelationType.FDD else RelationType.FDR


def wins(candidate: str, current: str | None) -> bool:
    """Between paths joining the same two ends, an all-fdd path wins; otherwise the first one stays."""
    return current is None or (current != RelationType.FDD and candidate == RelationType.FDD)


N = TypeVar("N", bound=Hashable)


def end_to_end(
    edges: Iterable[tuple[N, N, str]], real: Callable[[N], bool], max_hops: int | None = None
) -> dict[tuple[N, N], RelationType]:
    """The chain rule over a graph: every pair of real nodes joined by a path whose inner nodes are all
    intermediate, typed by `chain` and, between the same pair, by `wins`.

    `edges` are (source, target, type). Paths longer than `max_hops` are not followed (as in the
    flattening SQL, which bounds cycles that way); a node is never revisited with a type no better
    than before, which bounds cycles here. `flatten_sql/end_to_end_edges.sql` is this rule in SQL;
    a test asserts the two agree on a job.
    """
    successors: dict[N, list[tuple[N, str]]] = {}
    for source, target, kind in edges:
        successors.setdefault(source, []).append((target, kind))
    found: dict[tuple[N, N], RelationType] = {}
    for start in [node for node in successors if real(node)]:
        best: dict[N, RelationType] = {}
        stack: list[tuple[N, RelationType | None, int]] = [(start, None, 0)]
        while stack:
            node, path_type, hops = stack.pop()
            if max_hops is not None and hops >= max_hops:
                continue
            for target, kind in successors.get(node, ()):
                typed = chain(RelationType.FDD if path_type is None else path_type, kind)
                if not wins(typed, best.get(target)):
                    continue
                best[target] = typed
                if real(target):
                    if wins(typed, found.get((start, target))):
                        found[(start, target)] = typed
                else:
                    stack.append((target, typed, hops + 1))
    return found


# --- the nested `dbobjs` walk (docs/sqlflow-format.md §3) -----------------------------------------------------

STRUCTURAL_KEYS = frozenset({"databases", "schemas"})


class Place(NamedTuple):
    """Where an object sits: its server, database, schema, the server's vendor, and its bucket."""

    server: Any
    database: Any
    schema: Any
    db_vendor: Any
    bucket: str


def containers(
    dbobjs: Any, children: Callable[[Any, str], Iterable[Any]], scalar: Callable[[Any, str], Any]
) -> Iterator[tuple[Any, Place, str]]:
    """Every container that holds object buckets, with its place and level ("database" or "schema"), in document order: servers > databases (each
    database, then its schemas), then schemas held by a server directly (a vendor without catalogs).

    `children(container, key)` lists the sub-containers under `key`; `scalar(container, key)` reads a
    name. They let one walk serve plain dicts (`dict_children`, `dict_scalar`) and lineage_json's
    lazily decoded msgspec containers (decoding is where its speed lives, not in this order).
    """
    for server in children(dbobjs, "servers"):
        base = Place(scalar(server, "name"), None, None, scalar(server, "dbVendor"), "")
        for database in children(server, "databases"):
            in_database = base._replace(database=scalar(database, "name"))
            yield database, in_database, "database"
            for schema in children(database, "schemas"):
                yield schema, in_database._replace(schema=scalar(schema, "name")), "schema"
        for schema in children(server, "schemas"):
            yield schema, base._replace(schema=scalar(schema, "name")), "schema"


def dict_children(container: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = container.get(key)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def dict_scalar(container: Mapping[str, Any], key: str) -> Any:
    return container.get(key)


def dict_objects(sqlflow: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Place]]:
    """Every object (a dict) of a parsed nested `sqlflow` document, with its place; every list in a
    container that is not `databases`/`schemas` is a bucket of objects."""
    dbobjs = sqlflow.get("dbobjs")
    if not isinstance(dbobjs, Mapping):
        return
    for container, place, _ in containers(dbobjs, dict_children, dict_scalar):
        for bucket, items in container.items():
            if bucket in STRUCTURAL_KEYS or not isinstance(items, list):
                continue
            in_bucket = place._replace(bucket=bucket)
            for item in items:
                if isinstance(item, Mapping):
                    yield item, in_bucket


def kind_of(item: Mapping[str, Any], bucket: str) -> Any:
    """An object's `type`, else the type its bucket implies (None when neither says)."""
    return item.get("type") or BUCKET_KINDS.get(bucket)


# `sqlflow-assets diff` submits a version of a source as a throwaway job under this name prefix and
# deletes it once read; the sensor never loads such a job, whatever its filters
DIFF_JOB_PREFIX = "sqlflow-assets diff: "
