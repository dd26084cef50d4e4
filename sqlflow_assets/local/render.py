"""Renderings of a `sqlflow` lineage object (FORMAT.md §3): CSV exports and a table-level SVG (Graphviz).

Endpoints are resolved by `parentId` against the nested `dbobjs`, never by name, because
names differ in case and quoting between objects and relationships (FORMAT.md §5).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlflow_assets import pictures

CSV_HEADER = (
    "source_db", "source_schema", "source_table", "source_column",
    "target_db", "target_schema", "target_table", "target_column",
    "relation_type", "effect_type",
)  # fmt: skip
NESTING_KEYS = ("databases", "schemas")
REAL_TYPES = frozenset({"table", "view"})
PLACEHOLDERS = frozenset({"", "DEFAULT"})


@dataclass(frozen=True)
class ObjectRef:
    """Where one dbobj lives and what it is."""

    database: str
    schema: str
    name: str
    type: str

    @property
    def label(self) -> str:
        """Qualified name without the DEFAULT placeholders."""
        return ".".join(part for part in (self.database, self.schema, self.name) if part not in PLACEHOLDERS)


def index_objects(sqlflow: dict[str, Any]) -> dict[str, ObjectRef]:
    """Every dbobj by id, walking servers > [databases >] [schemas >] object buckets."""
    index: dict[str, ObjectRef] = {}
    for server in (sqlflow.get("dbobjs") or {}).get("servers", []):
        _walk(server, "", "", index)
    return index


def _walk(container: dict[str, Any], database: str, schema: str, index: dict[str, ObjectRef]) -> None:
    for key, value in container.items():
        if not isinstance(value, list):
            continue
        for item in value:
            if not isinstance(item, dict):
                continue
            if key == "databases":
                _walk(item, item.get("name", ""), schema, index)
            elif key == "schemas":
                _walk(item, database, item.get("name", ""), index)
            elif "id" in item:
                index[str(item["id"])] = ObjectRef(database, schema, item.get("name", ""), item.get("type", key))


def _endpoint_ref(endpoint: dict[str, Any], index: dict[str, ObjectRef]) -> ObjectRef:
    found = index.get(str(endpoint.get("parentId")))
    return found or ObjectRef("", "", endpoint.get("parentName", ""), "")


def _pairs(sqlflow: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(relationship, source endpoint, target endpoint) for every source of every relationship."""
    for rel in sqlflow.get("relationships") or sqlflow.get("relations") or []:
        for source in rel.get("sources", []):
            yield rel, source, rel.get("target", {})


def lineage_rows(sqlflow: dict[str, Any], table_to_table: bool = False) -> list[tuple[str, ...]]:
    """CSV rows, one per source->target pair; table-level rows leave the columns empty and are distinct."""
    index = index_objects(sqlflow)
    rows: dict[tuple[str, ...], None] = {}
    for rel, source, target in _pairs(sqlflow):
        src, tgt = _endpoint_ref(source, index), _endpoint_ref(target, index)
        src_col, tgt_col = ("", "") if table_to_table else (source.get("column", ""), target.get("column", ""))
        row = (src.database, src.schema, src.name, src_col, tgt.database, tgt.schema, tgt.name, tgt_col)
        rows[(*row, rel.get("type", ""), rel.get("effectType", ""))] = None
    return list(rows)


def lineage_csv(sqlflow: dict[str, Any], delimiter: str = ",", table_to_table: bool = False) -> str:
    """The CSV export body (FORMAT.md §7 header)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(lineage_rows(sqlflow, table_to_table))
    return buffer.getvalue()


def table_edges(sqlflow: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """Tables/views and the table-to-table edges between them, collapsing paths through intermediates."""
    index = index_objects(sqlflow)
    successors: dict[str, set[str]] = {}
    for _, source, target in _pairs(sqlflow):
        successors.setdefault(str(source.get("parentId")), set()).add(str(target.get("parentId")))
    real = {oid for oid, ref in index.items() if ref.type in REAL_TYPES}
    edges: dict[tuple[str, str], None] = {}
    for start in sorted(real):
        for end in _reachable_real(start, successors, real):
            edges[(index[start].label, index[end].label)] = None
    tables = sorted({index[oid].label for oid in real})
    return tables, list(edges)


def _reachable_real(start: str, successors: dict[str, set[str]], real: set[str]) -> set[str]:
    """The real objects reached from `start` through intermediate ones only."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = list(successors.get(start, ()))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in real:
            found.add(node)
        else:
            stack.extend(successors.get(node, ()))
    return found


def lineage_svg(sqlflow: dict[str, Any]) -> str:
    """A table-level lineage picture: one box per table or view, arrows from sources to targets.

    Drawn by the same Graphviz renderer as the Dagster metadata pictures (`sqlflow_assets.pictures`);
    without `dot` it is a small SVG that says how to install it, so the endpoint still answers.
    """
    tables, edges = table_edges(sqlflow)
    pairs = [pictures.TableEdge(src, tgt) for src, tgt in edges if src != tgt]
    try:
        return pictures.table_svg(pairs, "Table-level lineage", tables)
    except pictures.DotMissing as exc:
        return pictures.notice_svg(str(exc))
