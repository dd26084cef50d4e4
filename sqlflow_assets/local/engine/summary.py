"""`data.summary` counts (docs/sqlflow-format.md §1) computed from an emitted `sqlflow` object."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sqlflow_assets.domain import containers, dict_children, dict_scalar


def schemas_of(sqlflow: dict) -> Iterator[tuple[str, dict]]:
    """(database name, schema) for every schema container, by the one walk of `domain.containers`."""
    for container, place, level in containers(sqlflow["dbobjs"], dict_children, dict_scalar):
        if level == "schema":
            yield place.database, container


def summarize(sqlflow: dict) -> dict:
    """Counts of schemas, databases, processes, tables, views, their columns and relationships."""
    schemas = list(schemas_of(sqlflow))
    persistent = [(s["name"], o) for _, s in schemas for o in s["tables"] + s["views"]]
    owner = {o["id"]: (schema, o["name"]) for schema, o in persistent}
    touches: Counter[tuple[str, str]] = Counter()
    for rel in sqlflow["relationships"]:
        for endpoint in [rel["target"], *rel["sources"]]:
            if endpoint["parentId"] in owner:
                touches[owner[endpoint["parentId"]]] += 1
    top = max(touches.values(), default=0)
    return {
        "schema": len(schemas),
        "process": len(sqlflow["processes"]),
        "database": len({db for db, _ in schemas}),
        "view": sum(len(s["views"]) for _, s in schemas),
        "table": sum(len(s["tables"]) for _, s in schemas),
        "column": sum(1 for _, o in persistent for c in o["columns"] if c.get("source") != "system"),
        "relationship": len(sqlflow["relationships"]),
        "mostRelationTables": [
            {"schema": schema, "table": table} for (schema, table), n in touches.items() if n == top and top
        ],
    }
