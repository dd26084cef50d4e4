"""Renders the graph as the SQLFlow `sqlflow` object in the new nested shape (docs/sqlflow-format.md §3)."""

from __future__ import annotations

from collections.abc import Iterable

from .graph_builder import Graph
from .model import AnalysisOptions, Column, DbObject, Edge, Endpoint, Process

CREATED_BY = "sqlflow_assets local engine"
BUCKETS = {"table": "tables", "view": "views"}


def column_json(column: Column) -> dict:
    out: dict = {"id": column.id, "name": column.name}
    if column.data_type:
        out["dataType"] = column.data_type
    if column.system:
        out["source"] = "system"
    out["coordinates"] = column.coordinates
    return out


def object_json(obj: DbObject) -> dict:
    return {
        "id": obj.id,
        "name": obj.name,
        "displayName": obj.display_name,
        "type": obj.type,
        "columns": [column_json(c) for c in obj.columns.values()],
        "coordinates": obj.coordinates,
    }


def process_json(process: Process, with_type: bool) -> dict:
    """Schema-level copies have no `type`; the top-level `processes[]` copy does (docs/sqlflow-format.md §3)."""
    out: dict = {
        "id": process.id,
        "name": process.name,
        "procedureName": process.procedure,
        "queryHashId": process.query_hash,
    }
    if with_type:
        out["type"] = process.type
    out["uiVisible"] = False
    out["coordinates"] = process.coordinates
    return out


ColumnIndex = dict[str, tuple[DbObject, Column]]


def column_index(graph: Graph) -> ColumnIndex:
    return {c.id: (obj, c) for obj in graph.objects.values() for c in obj.columns.values()}


def endpoint_json(index: ColumnIndex, endpoint: Endpoint) -> dict:
    """A relationship end; it carries the column's first occurrence only, so payload size does
    not grow with (references x relationships) -- the column object lists every occurrence."""
    obj, column = index[endpoint.col_id]
    out = {
        "id": column.id,
        "column": column.name,
        "parentId": obj.id,
        "parentName": obj.display_name,
        "coordinates": column.coordinates[:2],
    }
    if endpoint.clause:
        out["clauseType"] = endpoint.clause
    return out


def relationships_json(graph: Graph, edges: Iterable[Edge], options: AnalysisOptions) -> list[dict]:
    """One relationship per (target, type, effect, process, function), sources in first-seen order.

    showRelationType filters the types; ignoreFunction drops the `function` attribute.
    """
    wanted = set(options.show_relation_type)
    grouped: dict[tuple, list[Endpoint]] = {}
    for edge in edges:
        if edge.type in wanted:
            function = None if options.ignore_function else edge.function
            key = (edge.target, edge.type, edge.effect, edge.process_id, function)
            grouped.setdefault(key, []).append(edge.source)
    processes = {p.id: p for p in graph.processes}
    index = column_index(graph)
    out = []
    for (target, rel_type, effect, process_id, function), sources in grouped.items():
        rel: dict = {"id": graph.new_id(), "type": rel_type}
        if effect:
            rel["effectType"] = effect
        if process_id:
            rel["processId"] = process_id
            rel["processType"] = processes[process_id].type
        if function:
            rel["function"] = function
        rel["target"] = endpoint_json(index, target)
        rel["sources"] = [endpoint_json(index, s) for s in dict.fromkeys(sources)]
        out.append(rel)
    return out


def dbobjs_json(graph: Graph, objects: Iterable[DbObject], dbvendor: str) -> dict:
    """Objects and processes nested as servers > databases > schemas > buckets."""
    databases: dict[str, dict[str, dict[str, list]]] = {}

    def bucket(database: str, schema: str, name: str) -> list:
        schemas = databases.setdefault(database, {})
        buckets = schemas.setdefault(schema, {"tables": [], "views": [], "others": [], "processes": []})
        return buckets[name]

    for obj in objects:
        bucket(obj.database, obj.schema, BUCKETS.get(obj.type, "others")).append(object_json(obj))
    for process in graph.processes:
        bucket(process.database, process.schema, "processes").append(process_json(process, False))
    server = {
        "name": "DEFAULT_SERVER",
        "dbVendor": dbvendor,
        "supportsCatalogs": True,
        "supportsSchemas": True,
        "databases": [
            {"name": db, "schemas": [{"name": name, **buckets} for name, buckets in schemas.items()]}
            for db, schemas in databases.items()
        ],
    }
    return {"createdBy": CREATED_BY, "servers": [server]}


def sqlflow_json(
    graph: Graph, objects: Iterable[DbObject], edges: Iterable[Edge], dbvendor: str, options: AnalysisOptions
) -> dict:
    return {
        "dbobjs": dbobjs_json(graph, objects, dbvendor),
        "relationships": relationships_json(graph, edges, options),
        "processes": [process_json(p, True) for p in graph.processes],
        "errors": [e.to_json() for e in graph.errors],
    }
