"""Renderings of a `sqlflow` lineage object (docs/sqlflow-format.md §3): CSV exports and a table-level SVG (Graphviz).

Endpoints are resolved by `parentId` against the nested `dbobjs`, never by name, because
names differ in case and quoting between objects and relationships (docs/sqlflow-format.md §5).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlflow_assets.domain import dict_objects, end_to_end, is_real, kind_of
from sqlflow_assets.errors import DotMissing
from sqlflow_assets.render import pictures

CSV_HEADER = (
    "source_db", "source_schema", "source_table", "source_column",
    "target_db", "target_schema", "target_table", "target_column",
    "relation_type", "effect_type",
)  # fmt: skip
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
    """Every dbobj by id, walking servers > [databases >] [schemas >] object buckets (`domain.dict_objects`)."""
    return {
        str(item["id"]): ObjectRef(place.database or "", place.schema or "", item.get("name", ""), kind_of(item, place.bucket) or "")
        for item, place in dict_objects(sqlflow)
        if "id" in item
    }


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
    """The CSV export body (docs/sqlflow-format.md §7 header)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(lineage_rows(sqlflow, table_to_table))
    return buffer.getvalue()


def table_edges(sqlflow: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """Real objects (`domain.REAL_KINDS`) and the edges between them, intermediates collapsed by the
    chain rule (`domain.end_to_end`, the rule the engine and the flattening SQL apply to columns)."""
    index = index_objects(sqlflow)
    hops = [(str(source.get("parentId")), str(target.get("parentId")), rel.get("type", "")) for rel, source, target in _pairs(sqlflow)]
    real = {oid for oid, ref in index.items() if is_real(ref.type)}
    reached = end_to_end(hops, real.__contains__)
    edges = dict.fromkeys((index[start].label, index[end].label) for start, end in sorted(reached))
    tables = sorted({index[oid].label for oid in real})
    return tables, list(edges)


def lineage_svg(sqlflow: dict[str, Any]) -> str:
    """A table-level lineage picture: one box per table or view, arrows from sources to targets.

    Drawn by the same Graphviz renderer as the Dagster metadata pictures (`sqlflow_assets.render.pictures`);
    without `dot` it is a small SVG that says how to install it, so the endpoint still answers.
    """
    tables, edges = table_edges(sqlflow)
    pairs = [pictures.TableEdge(src, tgt) for src, tgt in edges if src != tgt]
    try:
        return pictures.table_svg(pairs, "Table-level lineage", tables)
    except DotMissing as exc:
        return pictures.notice_svg(str(exc))
