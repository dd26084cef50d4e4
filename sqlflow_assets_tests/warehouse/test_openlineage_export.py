"""OpenLineage out: events built from a real current graph, sent over real HTTP, checked against the spec.

The graph comes from jobs analysed by the local server and loaded by real materialisations
(`test_graph`'s warehouse: source `ingest`, and source `marts` analysed twice); events go through
openlineage-python's own transports to a stdlib HTTP receiver on 127.0.0.1 and to a file, and every
received event is validated against the OpenLineage JSON schemas in `fixtures/openlineage/`.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import dagster as dg
import duckdb
import jsonschema
import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from referencing import Registry, Resource

from sqlflow_assets import cli, config, errors
from sqlflow_assets.defs import openlineage_assets as openlineage_defs
from sqlflow_assets.defs.resources import default_resources
from sqlflow_assets.warehouse import openlineage_export
from sqlflow_assets_tests.support import QuietHandler, http_peer, refresh, serving

SCHEMAS = Path(__file__).parents[1] / "fixtures" / "openlineage"
API_KEY = "ol-api-key-do-not-log"


# --- the schemas ---------------------------------------------------------------------------------


def _registry() -> Registry:
    """Every committed schema under its `$id`, so `$ref`s and `schemaURL`s resolve offline."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def validate(event: dict) -> None:
    """The event against the schema its `schemaURL` names, and each facet against its `_schemaURL`."""
    _validator(event["schemaURL"]).validate(event)
    for facet in _facets(event):
        _validator(facet["_schemaURL"]).validate(facet)


def _validator(url: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": url}, registry=REGISTRY, format_checker=FORMATS)


def _facets(event: dict) -> list[dict]:
    holders = [event.get("run", {}), event.get("job", {}), *event.get("inputs", []), *event.get("outputs", [])]
    return [facet for holder in holders for facet in (holder.get("facets") or {}).values()]


# --- a loopback OpenLineage receiver -------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)  # path, headers, body

    def events(self) -> list[dict]:
        return [json.loads(body) for _, _, body in self.requests]


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A stdlib HTTP server on a free loopback port recording every POST (path, headers, body).

    `http_peer` answers by path and body only; this records headers too, for the bearer token.
    """
    state: dict[str, Receiver] = {}
    lock = threading.Lock()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                state["receiver"].requests.append((self.path, dict(self.headers), body))
            self.send_response(201)
            self.send_header("content-length", "0")
            self.end_headers()

    with serving(Handler) as base_url:
        state["receiver"] = Receiver(base_url)
        yield state["receiver"]


# --- helpers -------------------------------------------------------------------------------------


def graph_edges(project_env) -> set[tuple]:
    """`lineage.column_lineage` as (job, target table, column, source table, column, type, subtype), real columns only."""
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT job_id, target_object, target_column, source_object, source_column, transformation_type, transformation_subtype "
            "FROM lineage.column_lineage"
        ).fetchall()
    return {row for row in rows if not openlineage_export._is_pseudo(row[2]) and not openlineage_export._is_pseudo(row[4])}


def facet_edges(events: list[dict], run_jobs: dict[str, str]) -> set[tuple]:
    """The same tuples read back from the `columnLineage.fields` of COMPLETE events (run id → job id)."""
    found = set()
    for event in events:
        if event["eventType"] != "COMPLETE":
            continue
        for output in event["outputs"]:
            for column, lineage in output["facets"]["columnLineage"]["fields"].items():
                for source in lineage["inputFields"]:
                    for step in source["transformations"]:
                        found.add((run_jobs[event["run"]["runId"]], output["name"], column, source["name"], source["field"], step["type"], step["subtype"]))
    return found


def transformations(event: dict, output: str, column: str) -> dict[tuple[str, str], list[dict]]:
    [dataset] = [o for o in event["outputs"] if o["name"] == output]
    fields = dataset["facets"]["columnLineage"]["fields"][column]["inputFields"]
    return {(f["name"], f["field"]): f["transformations"] for f in fields}


def as_built(sent: list[dict]) -> list[dict]:
    """Sent events without the run facet openlineage-python adds (`tags`: its own version), after checking it."""
    events = json.loads(json.dumps(sent))
    for event in events:
        tags = event["run"]["facets"].pop("tags")
        assert [tag["key"] for tag in tags["tags"]] == ["openlineage_client_version"]
    return events


def http_transport(url: str) -> dict:
    return {"type": "http", "url": url, "endpoint": "api/v1/lineage", "auth": {"type": "api_key", "apiKey": API_KEY}}


# --- tests ---------------------------------------------------------------------------------------


def test_events_over_http_are_valid_and_carry_the_graphs_column_lineage(project_env, warehouse):  # noqa: F811
    instance, (ingest, marts_v1, marts_v2) = warehouse
    refresh(project_env, instance)
    events = openlineage_export.job_events()

    with receiver() as peer:
        assert openlineage_export.emit(events, http_transport(peer.url)) == 4
    received = peer.events()
    assert {path for path, _, _ in peer.requests} == {"/api/v1/lineage"}
    assert all(headers["Authorization"] == f"Bearer {API_KEY}" for _, headers, _ in peer.requests)
    for event in received:
        validate(event)
    assert as_built(received) == openlineage_export.to_dicts(events)

    # one run per current job: START then COMPLETE, same run id; the superseded marts job sends nothing
    runs = {}
    for event in received:
        runs.setdefault((event["job"]["namespace"], event["job"]["name"]), []).append((event["eventType"], event["run"]["runId"]))
    assert sorted(runs) == [("sqlflow", "ingest"), ("sqlflow", "marts")]
    assert all([kind for kind, _ in states] == ["START", "COMPLETE"] and len({r for _, r in states}) == 1 for states in runs.values())

    marts = next(e for e in received if e["job"]["name"] == "marts" and e["eventType"] == "COMPLETE")
    assert [d["name"] for d in marts["inputs"]] == ["staging.orders"]
    assert [d["name"] for d in marts["outputs"]] == ["marts.revenue"]
    assert {d["namespace"] for d in marts["inputs"] + marts["outputs"]} == {"sqlflow://dbvpostgresql"}
    assert transformations(marts, "marts.revenue", "total") == {
        ("staging.orders", "amount"): [{"type": "DIRECT", "subtype": "AGGREGATION"}]
    }
    # WHERE amount > 0 limits the rows of the whole table: a dataset-wide INDIRECT FILTER entry
    dataset_wide = marts["outputs"][0]["facets"]["columnLineage"]["dataset"]
    assert {"namespace": "sqlflow://dbvpostgresql", "name": "staging.orders", "field": "amount",
            "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}]} in dataset_wide
    assert "revenue" not in json.dumps(marts["outputs"][0]["facets"]["columnLineage"]["fields"])  # v1's column
    ingest_complete = next(e for e in received if e["job"]["name"] == "ingest" and e["eventType"] == "COMPLETE")
    assert transformations(ingest_complete, "staging.orders", "amount") == {
        ("raw.orders", "amount"): [{"type": "DIRECT", "subtype": "IDENTITY"}]
    }

    # the facets hold exactly the graph's edges between real columns, each under its own job's run
    run_jobs = {e["run"]["runId"]: job for e in received for job in [ingest if e["job"]["name"] == "ingest" else marts_v2]}
    assert facet_edges(received, run_jobs) == graph_edges(project_env)
    assert marts_v1 not in run_jobs.values()
    assert API_KEY not in json.dumps(received)


def test_file_transport_writes_the_same_events_and_reemitting_is_idempotent(project_env, warehouse, tmp_path):  # noqa: F811
    instance, (ingest, marts_v1, marts_v2) = warehouse
    refresh(project_env, instance)
    events = openlineage_export.job_events()
    log = tmp_path / "events.jsonl"

    assert openlineage_export.emit(events, {"type": "file", "log_file_path": str(log), "append": True}) == 4
    written = [json.loads(line) for line in log.read_text().splitlines()]
    for event in written:
        validate(event)
    assert as_built(written) == openlineage_export.to_dicts(events)

    again = openlineage_export.to_dicts(openlineage_export.job_events())
    assert again == as_built(written)  # same run ids, times and content: a consumer updates, never duplicates
    only_marts = openlineage_export.to_dicts(openlineage_export.job_events(marts_v2))
    assert only_marts == [e for e in as_built(written) if e["job"]["name"] == "marts"]
    for gone in (marts_v1, "no-such-job"):
        with pytest.raises(errors.JobNotCurrent):
            openlineage_export.job_events(gone)


def test_cli_exports_a_current_jobs_events_and_refuses_a_superseded_one(project_env, warehouse, capsys):  # noqa: F811
    instance, (_, marts_v1, marts_v2) = warehouse
    refresh(project_env, instance)
    capsys.readouterr()
    assert cli.main(["export", marts_v2, "--format", "openlineage"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == openlineage_export.to_dicts(openlineage_export.job_events(marts_v2)) and printed
    for event in printed:
        validate(event)
    assert cli.main(["export", marts_v1, "--format", "openlineage"]) == 1
    assert marts_v1 in capsys.readouterr().err


def test_names_come_from_config(project_env, warehouse, monkeypatch):  # noqa: F811
    instance, _ = warehouse
    refresh(project_env, instance)
    monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__NAMESPACE", "warehouse-sql")
    monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__DATASET_NAMESPACE", "postgres://warehouse:5432")
    monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__DATASET_NAMESPACES", json.dumps({"ingest": "postgres://landing:5432"}))
    events = openlineage_export.to_dicts(openlineage_export.job_events())
    for event in events:
        validate(event)
    assert {e["job"]["namespace"] for e in events} == {"warehouse-sql"}
    namespaces = {e["job"]["name"]: {d["namespace"] for d in e["inputs"] + e["outputs"]} for e in events}
    assert namespaces == {"ingest": {"postgres://landing:5432"}, "marts": {"postgres://warehouse:5432"}}


def test_a_malformed_event_fails_validation(project_env, warehouse):  # noqa: F811
    instance, _ = warehouse
    refresh(project_env, instance)
    good = next(e for e in openlineage_export.to_dicts(openlineage_export.job_events()) if e["eventType"] == "COMPLETE")
    validate(good)

    no_run_id = json.loads(json.dumps(good))
    del no_run_id["run"]["runId"]
    not_a_uuid = json.loads(json.dumps(good))
    not_a_uuid["run"]["runId"] = "ingest-1"
    no_time_zone = json.loads(json.dumps(good))
    no_time_zone["eventTime"] = "2026-11-01T06:00:00"
    untyped_step = json.loads(json.dumps(good))
    facet = untyped_step["outputs"][0]["facets"]["columnLineage"]
    next(iter(facet["fields"].values()))["inputFields"][0]["transformations"][0].pop("type")
    no_producer = json.loads(json.dumps(good))
    del no_producer["outputs"][0]["facets"]["columnLineage"]["_producer"]
    for broken in (no_run_id, not_a_uuid, no_time_zone, untyped_step, no_producer):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_the_asset_sends_changed_jobs_over_http_when_configured(project_env, warehouse, monkeypatch):  # noqa: F811
    instance, _ = warehouse
    refresh(project_env, instance)
    resources = default_resources()

    def materialize(run_config: dict | None = None) -> list[dg.AssetMaterialization]:
        result = dg.materialize([openlineage_defs.openlineage_events], instance=instance, resources=resources, run_config=run_config)
        assert result.success
        return [e.materialization for e in result.get_asset_materialization_events() if e.asset_key == openlineage_defs.EVENTS_KEY]

    assert materialize() == []  # no transport configured: nothing sent, nothing materialised

    with receiver() as peer:
        monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "http", "url": peer.url + "/"}))
        monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__API_KEY", API_KEY)
        [first] = materialize()
        assert len(peer.requests) == 4
        for event in peer.events():
            validate(event)
        assert all(headers["Authorization"] == f"Bearer {API_KEY}" for _, headers, _ in peer.requests)
        assert first.metadata["endpoint"].value == f"{peer.url}/api/v1/lineage"
        assert first.metadata["events_sent"].value == 4 and first.metadata["jobs_sent"].value == 2
        assert first.metadata["sources_sent"].value == ["ingest", "marts"]

        [unchanged] = materialize()
        assert unchanged.metadata["events_sent"].value == 0 and len(peer.requests) == 4

        [forced] = materialize({"ops": {"lineage__openlineage_events": {"config": {"emit_all": True}}}})
        assert forced.metadata["events_sent"].value == 4 and len(peer.requests) == 8
        assert peer.events()[4:] == peer.events()[:4]  # the same runs again

    entries = [entry for run in instance.get_runs() for entry in instance.all_logs(run.run_id)]  # every event, materialisations too
    assert entries and API_KEY not in json.dumps([str(entry) for entry in entries])


def test_events_follow_the_graph_automatically(project_env, warehouse):  # noqa: F811
    from sqlflow_assets.definitions import defs

    instance, _ = warehouse
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    refresh(project_env, instance)
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {result.key.to_user_string() for result in after.results if result.true_subset.size}
    assert "lineage/openlineage_events" in requested


def test_settings_describe_where_events_go_without_secrets(monkeypatch):
    monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "http", "url": "https://bob:pw@marquez.example:5000?x=1"}))
    monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__API_KEY", API_KEY)
    settings = config.openlineage_settings()
    assert settings.enabled and settings.describe() == "https://marquez.example:5000/api/v1/lineage"
    assert API_KEY not in repr(settings) and settings.transport_config()["auth"] == {"type": "api_key", "apiKey": API_KEY}
    monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "kafka"}))
    with pytest.raises(errors.OpenLineageConfigError, match="must be one of"):
        config.openlineage_settings()
    monkeypatch.delenv("SOURCES__SQLFLOW__OPENLINEAGE__TRANSPORT")
    assert not config.openlineage_settings().enabled


OL_USER, OL_PASSWORD = "ol-user", "p@ss/w:rd+ol-7c1e"  # characters that a URL must encode


def secret_forms(user: str, password: str) -> set[str]:
    """The encodings a credential of a URL takes in text: plain, URL-encoded, and in a basic auth header."""
    return {password, quote(password, safe=""), quote_plus(password), base64.b64encode(f"{user}:{password}".encode()).decode()}


def one_event() -> RunEvent:
    return RunEvent(eventType=RunState.COMPLETE, eventTime=datetime.now().astimezone().isoformat(), run=Run(runId=str(uuid.uuid4())),
                    job=Job(namespace="sqlflow", name="probe"), producer=openlineage_export.producer())  # fmt: skip


def test_credentials_of_a_transport_url_reach_the_receiver_and_no_log_repr_or_error(monkeypatch, caplog):
    """Issue #16 point 7: `user:password@` in the transport URL was in openlineage-python's DEBUG line
    and in `repr(OpenLineageSettings)`; now it is sent as basic auth and masked everywhere else."""
    with receiver() as peer:
        url = peer.url.replace("://", f"://{OL_USER}:{quote(OL_PASSWORD, safe='')}@")
        monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "http", "url": url}))
        settings = config.openlineage_settings()
        with caplog.at_level(logging.DEBUG):
            assert openlineage_export.emit([one_event()], settings.transport_config()) == 1
    [(_, headers, _)] = peer.requests
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{OL_USER}:{OL_PASSWORD}".encode()).decode()
    assert "Constructing OpenLineage transport" in caplog.text  # the DEBUG line that quoted the URL
    shown = "\n".join([caplog.text, repr(settings), str(settings), settings.describe()])
    assert not [form for form in secret_forms(OL_USER, OL_PASSWORD) if form in shown]
    assert "***@" in repr(settings)

    with http_peer(lambda path: (401, b"no")) as refusing:
        url = refusing.base_url.replace("://", f"://{OL_USER}:{quote(OL_PASSWORD, safe='')}@")
        monkeypatch.setenv("SOURCES__SQLFLOW__OPENLINEAGE__TRANSPORT", json.dumps({"type": "http", "url": url}))
        with pytest.raises(Exception) as refused:
            openlineage_export.emit([one_event()], config.openlineage_settings().transport_config())
    assert "401" in str(refused.value)
    assert not [form for form in secret_forms(OL_USER, OL_PASSWORD) if form in str(refused.value)]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://loader:pw%40x@db:5432/wh", "postgresql://***@db:5432/wh"),
        ("postgresql://loader:p@ss@db/wh?sslmode=require", "postgresql://***@db/wh?sslmode=require"),
        ("connect to https://tok@git.example/r.git failed", "connect to https://***@git.example/r.git failed"),
        ("http://h/x?api_key=k1&a=1&password=p2", "http://h/x?api_key=***&a=1&password=***"),
        ("md:warehouse?motherduck_token=eyJ.abc&x=1", "md:warehouse?motherduck_token=***&x=1"),
        ("https://marquez.example:5000/api?design=1", "https://marquez.example:5000/api?design=1"),
    ],
)
def test_mask_url_hides_user_info_and_secret_query_values(text, masked):
    assert config.mask_url(text) == masked


def test_a_motherduck_token_is_not_in_the_storages_repr():
    assert "eyJ.abc" not in repr(config.Storage("motherduck", "md:warehouse?motherduck_token=eyJ.abc"))
