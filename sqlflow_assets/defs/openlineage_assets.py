"""The asset that sends the current graph's jobs as OpenLineage events (off unless configured).

Why an asset: it runs after every rebuild of the graph (the graph's eager automation), shows in the
lineage graph group next to the tables it reads, and its materialisations record what was sent.
Sending and naming live in `sqlflow_assets.warehouse.openlineage_export`; this is the glue.

It sends only the jobs whose events changed since the last materialisation: a new analysis of a
source (new job id or version, hence a new run), or new names or another endpoint in the config.
Events are idempotent, so sending all every time would be harmless to a consumer, but the graph is
rebuilt after *any* job lands and re-sending a thousand unchanged sources for one changed job is
traffic and consumer work for nothing; run config `emit_all: true` re-sends everything on demand
(a consumer that lost its data). The settings are read when the run starts, so turning it on or
pointing it elsewhere needs no reload; when it is off the asset logs so and materialises nothing.
"""

from collections import defaultdict
from collections.abc import Iterator

import dagster as dg

from sqlflow_assets import config
from sqlflow_assets.config import LINEAGE_SCHEMA
from sqlflow_assets.defs.resources import StorageResource
from sqlflow_assets.defs.shared import GRAPH_AUTOMATION, OWNERS, last_json_metadata
from sqlflow_assets.domain import counted
from sqlflow_assets.errors import OpenLineageConfigError
from sqlflow_assets.warehouse import openlineage_export

EVENTS_KEY = dg.AssetKey([LINEAGE_SCHEMA, "openlineage_events"])
SENT_METADATA = "sqlflow/sent_fingerprints"  # source -> fingerprint of the events last sent for it


class OpenLineageEventsConfig(dg.Config):
    """`emit_all`: send every current job's events, also those sent before unchanged."""

    emit_all: bool = False


@dg.asset(
    key=EVENTS_KEY,
    deps=[dg.AssetKey([LINEAGE_SCHEMA, "column_lineage"]), dg.AssetKey([LINEAGE_SCHEMA, "current_jobs"])],
    group_name="lineage_graph",
    kinds={"openlineage"},
    owners=OWNERS,
    automation_condition=GRAPH_AUTOMATION,
    output_required=False,
    description=(
        "OpenLineage START/COMPLETE events, with column lineage, for each current job that changed, sent after "
        "every graph rebuild. Off until `[sources.sqlflow.openlineage] transport` is set: until then a run logs "
        "so and materialises nothing (hence \"Never materialized\")."
    ),
)
def openlineage_events(
    context: dg.AssetExecutionContext, config: OpenLineageEventsConfig, storage: StorageResource
) -> Iterator[dg.MaterializeResult]:
    """OpenLineage START/COMPLETE events, with column lineage, for each current job that changed."""
    settings = _settings()
    if not settings.enabled:
        context.log.info("OpenLineage is off ([sources.sqlflow.openlineage] transport is not set): no events sent")
        return
    snapshot = openlineage_export.read_graph(storage.storage())
    if snapshot is None:
        context.log.info("no lineage graph yet (lineage/current_jobs is not loaded): no events sent")
        return
    events = openlineage_export.build_events(
        snapshot.current_jobs, snapshot.column_lineage, snapshot.versions, openlineage_export.Naming.from_settings(settings)
    )
    by_source: dict[str, list] = defaultdict(list)
    for event in events:
        by_source[event.job.name].append(event)
    endpoint = settings.describe()
    fingerprints = {source: openlineage_export.fingerprint(runs, endpoint) for source, runs in by_source.items()}
    previous = {} if config.emit_all else last_json_metadata(context, EVENTS_KEY, SENT_METADATA)
    changed = sorted(source for source, print_ in fingerprints.items() if previous.get(source) != print_)
    sent = openlineage_export.emit((event for source in changed for event in by_source[source]), settings.transport_config())
    context.log.info(
        f"sent {counted(sent, 'OpenLineage event')} for {len(changed)} of {counted(len(by_source), 'current job')} to {endpoint}"
    )
    yield dg.MaterializeResult(
        metadata={
            "endpoint": endpoint,
            "events_sent": sent,
            "jobs_sent": len(changed),
            "jobs_current": len(by_source),
            "sources_sent": dg.MetadataValue.json(changed),
            SENT_METADATA: dg.MetadataValue.json(fingerprints),
        }
    )


def _settings() -> config.OpenLineageSettings:
    try:
        return config.openlineage_settings()
    except OpenLineageConfigError as error:
        raise dg.Failure(str(error)) from None
