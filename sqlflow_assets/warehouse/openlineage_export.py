"""OpenLineage out: the current graph's jobs as OpenLineage run events, sent through openlineage-python.

Why: Marquez, DataHub and OpenMetadata (and anything else speaking OpenLineage) should see the
lineage SQLFlow found without reading our tables. Each current job of `lineage.current_jobs` (one
per source) becomes one OpenLineage *run* of the job `<namespace>/<source>`: a START and a COMPLETE
event (the spec asks for both, and Marquez marks a run finished only on COMPLETE) with the tables
the job reads as inputs, the tables it writes as outputs, and on each output the `columnLineage`
facet (1-2-0): each target column with its input columns and their transformation type and subtype,
exactly as `lineage.column_lineage` has them; edges into a table's row count (`PseudoRows`, fdr)
are the facet's dataset-wide `dataset` entries.

Events are deterministic: the run id is a UUIDv7 derived from the SQLFlow job id and its analysis
version, and the event time is the job's `createTime`, so sending a job again sends the same run
and a consumer updates it instead of adding one.

Plain Python (no Dagster): the asset in `defs/openlineage.py` and the CLI call `job_events` and `emit`.
"""

from __future__ import annotations

import copy
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset as cl
from openlineage.client.serde import Serde
from openlineage.client.transport import get_default_factory
from openlineage.client.uuid import generate_static_uuid

from sqlflow_assets import config
from sqlflow_assets.config import OpenLineageSettings, Storage
from sqlflow_assets.domain import PSEUDO_COLUMNS
from sqlflow_assets.errors import JobNotCurrent
from sqlflow_assets.job.job_versions import analysis_version
from sqlflow_assets.warehouse import graph

EDGE_COLUMNS = (
    "job_id", "source_object", "source_column", "target_object", "target_column", "transformation_type", "transformation_subtype",
)
JOB_COLUMNS = ("job_id", "session_id", "create_time", "status")


def producer() -> str:
    """The `producer` URI of every event and facet: this package and its version."""
    try:
        return f"urn:sqlflow_assets:{package_version('sqlflow_assets')}"
    except PackageNotFoundError:
        return "urn:sqlflow_assets"


@dataclass(frozen=True)
class Naming:
    """How jobs and datasets are named in events (from `[sources.sqlflow.openlineage]`).

    The dataset namespace names the warehouse the analysed SQL runs on; a source without one of its
    own in `dataset_namespaces` gets `dataset_namespace`, else `sqlflow://<dbvendor>`.
    """

    namespace: str = config.OPENLINEAGE_JOB_NAMESPACE
    dataset_namespace: str | None = None
    dataset_namespaces: Mapping[str, str] = field(default_factory=dict)
    producer: str = field(default_factory=producer)

    @classmethod
    def from_settings(cls, settings: OpenLineageSettings) -> Naming:
        return cls(settings.namespace, settings.dataset_namespace, dict(settings.dataset_namespaces))

    def datasets_of(self, source: str, db_vendor: str | None) -> str:
        return self.dataset_namespaces.get(source) or self.dataset_namespace or f"sqlflow://{db_vendor or 'unknown'}"


# --- events --------------------------------------------------------------------------------------


def build_events(
    current_jobs: pa.Table, column_lineage: pa.Table, versions: Mapping[str, str], naming: Naming
) -> list[RunEvent]:
    """START and COMPLETE events for every row of `current_jobs`, from its edges in `column_lineage`.

    `versions` maps a job id to its analysis version (`job_versions.analysis_version`); a job
    without one is keyed by its id alone.
    """
    edges_by_job: dict[str, list[dict]] = defaultdict(list)
    for edge in column_lineage.select(list(EDGE_COLUMNS)).to_pylist():
        edges_by_job[edge["job_id"]].append(edge)
    events: list[RunEvent] = []
    for job in current_jobs.to_pylist():
        events.extend(_job_run(job, edges_by_job.get(job["job_id"], []), versions.get(job["job_id"], ""), naming))
    return events


def _job_run(job: Mapping[str, Any], edges: list[dict], version: str, naming: Naming) -> list[RunEvent]:
    namespace = naming.datasets_of(job["source"], job.get("db_vendor"))
    event_time = _event_time(job.get("create_time"))
    run = Run(runId=str(generate_static_uuid(event_time, f"{job['job_id']}:{version}".encode())))
    ol_job = Job(namespace=naming.namespace, name=job["source"])
    inputs = [InputDataset(namespace=namespace, name=name) for name in sorted({e["source_object"] for e in edges})]
    outputs = sorted({e["target_object"] for e in edges})
    time_text = event_time.isoformat()

    def event(state: RunState, datasets: list[OutputDataset]) -> RunEvent:
        return RunEvent(eventType=state, eventTime=time_text, run=run, job=ol_job, producer=naming.producer, inputs=inputs, outputs=datasets)

    plain = [OutputDataset(namespace=namespace, name=name) for name in outputs]
    with_lineage = [
        OutputDataset(namespace=namespace, name=name, facets={"columnLineage": _column_lineage(namespace, edges_into, naming.producer)})
        for name, edges_into in _by_target(edges, outputs)
    ]
    return [event(RunState.START, plain), event(RunState.COMPLETE, with_lineage)]


def _by_target(edges: list[dict], targets: list[str]) -> Iterable[tuple[str, list[dict]]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for edge in edges:
        grouped[edge["target_object"]].append(edge)
    return ((target, grouped[target]) for target in targets)


def _column_lineage(namespace: str, edges: list[dict], producer_uri: str) -> cl.ColumnLineageDatasetFacet:
    """The facet of one output table: real target columns in `fields`, row-count edges in `dataset`.

    An input column reached by several edges (a DIRECT and an INDIRECT one) is one input field with
    every transformation. Edges from a row-count pseudo column (`count(*)`) name no input field.
    """
    fields: dict[str, dict[tuple[str, str], set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    dataset: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for edge in edges:
        if _is_pseudo(edge["source_column"]):
            continue
        source = (edge["source_object"], edge["source_column"])
        transformation = (edge["transformation_type"], edge["transformation_subtype"])
        (dataset if _is_pseudo(edge["target_column"]) else fields[edge["target_column"]])[source].add(transformation)

    def input_fields(sources: Mapping[tuple[str, str], set[tuple[str, str]]]) -> list[cl.InputField]:
        return [
            cl.InputField(
                namespace=namespace, name=name, field=column,
                transformations=[cl.Transformation(type=kind, subtype=subtype) for kind, subtype in sorted(sources[(name, column)])],
            )
            for name, column in sorted(sources)
        ]

    return cl.ColumnLineageDatasetFacet(
        fields={column: cl.Fields(inputFields=input_fields(fields[column])) for column in sorted(fields)},
        dataset=input_fields(dataset),
        producer=producer_uri,
    )


def _is_pseudo(column: str | None) -> bool:
    return (column or "").lower() in PSEUDO_COLUMNS


def _event_time(created: Any) -> datetime:
    """The job's creation time in UTC (a naive time is UTC, as the servers report it); now when unknown."""
    if isinstance(created, datetime):
        moment = created
    else:
        try:
            moment = datetime.fromisoformat(str(created))
        except ValueError:
            return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- reading the graph ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphSnapshot:
    """What events are built from: current jobs, their column lineage and their analysis versions."""

    current_jobs: pa.Table
    column_lineage: pa.Table
    versions: Mapping[str, str]


def read_graph(storage: Storage, job_ids: list[str] | None = None) -> GraphSnapshot | None:
    """The current graph (only `job_ids`' rows when given) from the destination; None before it exists."""
    lineage = storage.lineage_pipeline().dataset()
    current = graph.read_table(lineage, "current_jobs", job_ids=job_ids)
    edges = graph.read_table(lineage, "column_lineage", columns=EDGE_COLUMNS, job_ids=job_ids)
    if current is None or edges is None:
        return None
    return GraphSnapshot(current, edges, read_versions(storage, current.column("job_id").to_pylist()))


def read_versions(storage: Storage, job_ids: list[str]) -> dict[str, str]:
    """Each job's analysis version from `sqlflow_raw.jobs` (`session_id`, else created time and status)."""
    raw = storage.pipeline().dataset()
    if not job_ids or "jobs" not in raw.schema.tables:
        return {}
    present = tuple(name for name in JOB_COLUMNS if name in raw.schema.tables["jobs"]["columns"])
    rows = graph.read_table(raw, "jobs", columns=present, job_ids=job_ids)
    return {
        row["job_id"]: analysis_version(
            {"sessionId": row.get("session_id"), "createTime": row.get("create_time"), "status": row.get("status")}
        )
        for row in (rows.to_pylist() if rows is not None else [])
    }


def job_events(
    job_id: str | None = None,
    *,
    storage: Storage | None = None,
    snapshot: GraphSnapshot | None = None,
    naming: Naming | None = None,
) -> list[RunEvent]:
    """The events of one current job (`job_id`), or of every current job (None).

    Reads the graph from `storage` (default: the configured one) unless `snapshot` is given; names
    come from `naming`, default `[sources.sqlflow.openlineage]` (they apply also when no transport is
    set, so the CLI can print events without sending them). Raises `JobNotCurrent` when `job_id` is not
    the current job of a source, or the graph does not exist yet.
    """
    if snapshot is None:
        snapshot = read_graph(storage or config.storage(), [job_id] if job_id is not None else None)
    if snapshot is None:
        raise JobNotCurrent(message="no lineage graph yet: materialise lineage/current_jobs first")
    current = snapshot.current_jobs
    if job_id is not None:
        current = current.filter(pc.equal(current.column("job_id"), job_id))
        if current.num_rows == 0:
            raise JobNotCurrent(message=f"job {job_id!r} is not the current job of any source in lineage.current_jobs")
    naming = naming or Naming.from_settings(config.openlineage_settings())
    return build_events(current, snapshot.column_lineage, snapshot.versions, naming)


def to_dicts(events: Iterable[RunEvent]) -> list[dict]:
    """Events as the JSON documents a transport sends."""
    return [Serde.to_dict(event) for event in events]


def fingerprint(events: Iterable[RunEvent], destination: str = "") -> str:
    """A short digest of events' content and where they go: tells events that changed (or go to a
    new place) from those already sent."""
    text = "\n".join([destination, *(Serde.to_json(event) for event in events)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- sending -------------------------------------------------------------------------------------


def emit(events: Iterable[RunEvent], transport_config: Mapping[str, Any]) -> int:
    """Send `events` in order through openlineage-python's transport for `transport_config`.

    `transport_config` is what its transport factory takes (`{"type": "http", "url": ...,
    "auth": {...}}`, `{"type": "file", "log_file_path": ...}`, `{"type": "console"}`);
    `OpenLineageSettings.transport_config()` builds it with the secret. The client gets the
    transport explicitly, so no `openlineage.yml` or `OPENLINEAGE_URL` redirects the events
    (`OPENLINEAGE_DISABLED=true` still turns sending off, as everywhere in OpenLineage). The first
    failure raises (an HTTP error carries the status and URL, never the token). The client adds its
    own run facet (`tags`: its version) to a copy; `events` stay as built. Returns the count sent.
    """
    client = OpenLineageClient(transport=get_default_factory().create(dict(transport_config)))
    sent = 0
    try:
        for event in events:
            client.emit(copy.deepcopy(event))
            sent += 1
    finally:
        client.close()
    return sent
