"""CSV and SVG (Graphviz) renderings of real engine output, and the dbobjs walker on all three nestings."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze
from sqlflow_assets.local.exports import CSV_HEADER, ObjectRef, index_objects, lineage_csv, lineage_svg, table_edges
from sqlflow_assets_tests.support import GOOD_SQL, NEXT_SQL, drawn_edges, drawn_tables, require_dot

SUBQUERY_SQL = "INSERT INTO big_orders (id) SELECT o.id FROM (SELECT id, amount FROM orders) o WHERE o.amount > 10;"


def lineage(*texts: str, simple: bool = False) -> dict:
    files = [SqlFile(f"{n}.sql", text) for n, text in enumerate(texts)]
    return analyze(files, "dbvpostgresql", AnalysisOptions(show_relation_type=("fdd", "fdr"), simple_output=simple))


def lower(labels: list[str]) -> list[str]:
    return [label.lower() for label in labels]


def test_index_objects_walks_every_nesting() -> None:
    table = {"id": "1", "name": "t", "type": "table"}
    sqlflow = {
        "dbobjs": {
            "servers": [
                {"databases": [{"name": "db", "schemas": [{"name": "s", "tables": [table]}]}]},
                {"databases": [{"name": "hive", "tables": [{**table, "id": "2"}]}]},  # supportsSchemas=false
                {
                    "schemas": [{"name": "scott", "views": [{"id": "3", "name": "v", "type": "view"}]}]
                },  # supportsCatalogs=false
            ]
        }
    }
    assert index_objects(sqlflow) == {
        "1": ObjectRef("db", "s", "t", "table"),
        "2": ObjectRef("hive", "", "t", "table"),
        "3": ObjectRef("", "scott", "v", "view"),
    }


def test_csv_rows_follow_the_relationships() -> None:
    text = lineage_csv(lineage(GOOD_SQL, NEXT_SQL, simple=True), delimiter="\t")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert tuple(rows[0]) == CSV_HEADER
    fdd = {
        (r["source_table"].lower(), r["source_column"].lower(), r["target_table"].lower(), r["target_column"].lower())
        for r in rows
        if r["relation_type"] == "fdd"
    }
    assert {("orders", "amount", "stg_orders", "total"), ("stg_orders", "total", "mart_orders", "total")} <= fdd


def test_table_edges_collapse_intermediate_result_sets() -> None:
    tables, edges = table_edges(lineage(SUBQUERY_SQL))
    assert lower(tables) == ["big_orders", "orders"]
    assert [(s.lower(), t.lower()) for s, t in edges] == [("orders", "big_orders")]


def test_svg_is_valid_xml_with_a_box_per_table_and_escaped_names() -> None:
    require_dot()
    svg = lineage_svg(lineage(GOOD_SQL, NEXT_SQL, 'INSERT INTO "a&b<c" (x) SELECT total FROM mart_orders;'))
    tables = drawn_tables(svg)
    assert {"orders", "stg_orders", "mart_orders"} <= set(lower(list(tables)))
    assert any("a&b<c" in table for table in tables)
    assert drawn_edges(svg) == 3


def test_svg_of_no_lineage_is_still_a_picture() -> None:
    require_dot()
    assert (
        ET.fromstring(lineage_svg({"dbobjs": {"servers": []}, "relationships": []})).tag
        == "{http://www.w3.org/2000/svg}svg"
    )


def test_svg_without_dot_says_how_to_install_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH without dot
    root = ET.fromstring(lineage_svg(lineage(GOOD_SQL)))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "apt-get install graphviz" in "".join(root.itertext())
