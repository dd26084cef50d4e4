"""Graphviz pictures of lineage: every table drawn, bounds kept, hostile names escaped, and a clear line
instead of a picture when `dot` is missing."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

import pyarrow as pa
import pytest

from sqlflow_assets.errors import DotMissing
from sqlflow_assets.render import glance, pictures
from sqlflow_assets.render.pictures import ColumnEdge, TableEdge
from sqlflow_assets_tests.support import NS, drawn_edges, drawn_labels, drawn_tables, require_dot, svg_of


def table_edges(rows: Iterable[Mapping[str, object]]) -> list[TableEdge]:
    """`table_lineage` rows as one edge per pair, busiest first: the plain-Python reading that
    `glance.table_graph` must agree with."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        counts[(str(row["source_object"]), str(row["target_object"]))][str(row["relationship_type"])] += int(row["edge_count"] or 0)
    edges = [TableEdge(src, tgt, kinds["fdd"], kinds["fdr"]) for (src, tgt), kinds in counts.items()]
    return sorted(edges, key=lambda e: (-e.total, e.source, e.target))


def layered_warehouse(tables: int, layers: int = 4) -> list[dict]:
    """table_lineage rows of a layered warehouse (raw → staging → intermediate → marts): every table
    past the first layer reads two tables of the layer before it, one fdd and one fdr; every table is read
    or written."""
    layer_of = [i * layers // tables for i in range(tables)]
    names = [f"{('raw', 'staging', 'intermediate', 'marts')[min(layer, 3)]}.table_{i:02d}" for i, layer in enumerate(layer_of)]
    rows = []
    for i in range(tables):
        previous = [j for j in range(tables) if layer_of[j] == layer_of[i] - 1]
        for offset, kind in ((0, "fdd"), (1, "fdr")):
            if previous:
                source = previous[(layer_of[:i].count(layer_of[i]) + offset) % len(previous)]
                rows.append({"source_object": names[source], "target_object": names[i], "relationship_type": kind, "edge_count": 1 + i % 7})
    return rows


def test_table_picture_draws_every_table_and_counts_edges_per_type() -> None:
    require_dot()
    rows = [
        {"source_object": "raw.orders", "target_object": "staging.orders", "relationship_type": "fdd", "edge_count": 4},
        {"source_object": "raw.orders", "target_object": "staging.orders", "relationship_type": "fdr", "edge_count": 1},
        {"source_object": "staging.orders", "target_object": "marts.revenue", "relationship_type": "fdd", "edge_count": 2},
    ]
    edges = table_edges(rows)
    assert edges[0] == TableEdge("raw.orders", "staging.orders", fdd=4, fdr=1)

    svg = pictures.table_svg(edges, "job", tables=["raw.orders", "staging.orders", "marts.revenue", "raw.lonely"])

    assert drawn_tables(svg) == {"raw.orders", "staging.orders", "marts.revenue", "raw.lonely"}
    assert drawn_edges(svg) == 2
    labels = {text.text for text in ET.fromstring(svg).iterfind(".//svg:g[@class='edge']//svg:text", NS)}
    assert labels == {"4 fdd · 1 fdr", "2 fdd"}


def test_sixty_tables_are_cut_to_the_most_connected_fifty_and_the_rest_counted() -> None:
    require_dot()
    rows = layered_warehouse(60)
    edges = table_edges(rows)
    selection = pictures.most_connected(edges, pictures.MAX_TABLES)

    svg = pictures.table_svg(edges, "warehouse")

    assert len(drawn_tables(svg)) == pictures.MAX_TABLES == len(selection.tables)
    assert drawn_tables(svg) == set(selection.tables)
    hidden_edges = len(edges) - drawn_edges(svg)
    assert selection.hidden_tables == 10 and hidden_edges == selection.hidden_edges > 0
    assert f"+ 10 more tables / {hidden_edges} edges not shown" in svg
    assert len(svg.encode()) <= pictures.MAX_SVG_BYTES
    degree = {name: 0 for name in {r["source_object"] for r in rows} | {r["target_object"] for r in rows}}
    for edge in edges:
        degree[edge.source] += 1
        degree[edge.target] += 1
    assert max(degree, key=lambda name: (degree[name], name)) in drawn_tables(svg)


def test_readable_size_at_fifty_tables() -> None:
    """Natural size stays within a few screens: names are not shrunk to fit a frame."""
    require_dot()
    svg = pictures.table_svg(table_edges(layered_warehouse(50)), "warehouse")
    width, height = (float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    assert width * height <= 4 * pictures.FRAME[0] * pictures.FRAME[1], (width, height)
    font_sizes = {float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)}
    assert min(font_sizes) >= 9


def test_column_picture_shows_the_busiest_targets_with_a_port_per_column_and_escapes_names() -> None:
    require_dot()
    edges = [ColumnEdge("raw.orders", c, "staging.orders", c, "fdd") for c in ("id", "amount", "status")]
    edges += [ColumnEdge('raw."a&b<c>"', "x", "marts.revenue", "revenue", "fdd"), ColumnEdge("staging.orders", "status", "marts.revenue", "revenue", "fdr")]
    edges += [ColumnEdge("raw.orders", "id", "quiet.target", "id", "fdd")]

    svg = pictures.column_svg(edges, "job", targets=2)

    texts = [text.text for text in ET.fromstring(svg).iterfind(".//svg:text", NS)]
    assert {"staging.orders", "marts.revenue", 'raw."a&b<c>"', "amount", "revenue"} <= set(texts)
    assert "quiet.target" not in texts
    assert "2 of 3 target tables (most incoming column edges)" in texts
    assert drawn_edges(svg) == 5


def test_markdown_picture_is_a_data_uri_image_within_the_bound() -> None:
    require_dot()
    table = pa.Table.from_pylist(layered_warehouse(60))
    picture = glance.warehouse_picture(table)
    assert picture.drawn
    svg = svg_of(picture.markdown)
    assert len(drawn_tables(svg)) == pictures.MAX_TABLES
    assert len(picture.markdown.encode()) < 4 * pictures.MAX_SVG_BYTES // 3 + 200


def test_without_dot_the_metadata_says_how_to_install_it_and_nothing_fails(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH without dot
    picture = glance.warehouse_picture(pa.Table.from_pylist(layered_warehouse(5)))
    assert not picture.drawn
    assert "apt-get install graphviz" in picture.markdown and "](data:" not in picture.markdown
    assert picture.markdown.count("\n") == 0
    with pytest.raises(DotMissing):
        pictures.render("digraph { a -> b }")


def test_counts_and_top_edges_match_the_rows() -> None:
    table = pa.Table.from_pylist(layered_warehouse(12))
    edges = table_edges(table.to_pylist())
    assert sum(e.total for e in edges) == sum(table.column("edge_count").to_pylist())
    markdown = glance.top_edges_markdown(edges, limit=3)
    lines = markdown.splitlines()
    assert lines[2].startswith(f"| `{edges[0].source}` | `{edges[0].target}` | {edges[0].fdd} | {edges[0].fdr} |")
    assert len([line for line in lines if line.startswith("| `")]) == 3
    assert f"{len(edges) - 3} more table pairs." in markdown


@pytest.mark.parametrize(("tables", "limit"), [(12, 5), (60, pictures.MAX_TABLES), (8, 50)])
def test_the_duckdb_cut_draws_what_the_python_selection_draws(tables, limit) -> None:
    """`glance.table_graph` ranks, keeps and counts in DuckDB exactly as `pictures.most_connected` does in Python."""
    table = pa.Table.from_pylist(layered_warehouse(tables))
    lone = ["zz.lonely", "aa.alone"]
    edges = table_edges(table.to_pylist())
    expected = pictures.most_connected(edges, limit, lone)
    graph = glance.table_graph(table, lone, limit)
    assert (graph.tables, graph.edges) == (expected.tables, expected.edges)
    assert (graph.table_count - len(graph.tables), graph.edge_count - len(graph.edges)) == (expected.hidden_tables, expected.hidden_edges)
    assert graph.top == edges[: glance.TOP_EDGES]
    kinds = table.column("relationship_type").to_pylist()
    assert glance.count_by(table, "relationship_type") == {"fdd": kinds.count("fdd"), "fdr": kinds.count("fdr")}
    assert glance.top_edges_markdown([TableEdge("a|b", "c`d", 1, 0)]).splitlines()[2] == "| `a\\|b` | `c'd` | 1 | 0 |"


def test_hostile_names_are_drawn_verbatim() -> None:
    """Quotes, backslashes (Graphviz's \\N, \\G escapes), markup, braces and non-ASCII reach the picture as written."""
    require_dot()
    names = ['s."we""ird"', "s.back\\N\\slash", "s.<b>&amp;</b>", "s.{braces}[x]", "схема.таблица", "s.-> edge; }"]
    rows = [{"source_object": names[i], "target_object": names[i + 1], "relationship_type": "fdd", "edge_count": 1} for i in range(len(names) - 1)]
    rows.append({"source_object": names[0], "target_object": "s.line\nbreak", "relationship_type": "fdr", "edge_count": 2})
    svg = pictures.table_svg(table_edges(rows), 'title "with" \\N')
    assert drawn_tables(svg) == drawn_labels(svg) == {*names, "s.line break"}
    assert drawn_edges(svg) == len(names)
    assert 'title "with" \\N' in "".join(ET.fromstring(svg).itertext())


def dense_warehouse(tables: int = 200, pairs: int = 3846, seed: int = 18) -> list[dict]:
    """The shape of a 2,000-relationship job's graph: 200 tables, 3,846 pairs, both types."""
    rng = random.Random(seed)
    names = [f"SCOTT.T_{i:03d}" for i in range(tables)]
    seen, rows = set(), []
    while len(seen) < pairs:
        source, target = rng.sample(names, 2)
        if (source, target) not in seen:
            seen.add((source, target))
            rows += [{"source_object": source, "target_object": target, "relationship_type": kind, "edge_count": rng.randint(1, 9)}
                     for kind in ("fdd", "fdr")[: rng.randint(1, 2)]]
    return rows


def test_a_dense_warehouse_is_drawn_with_the_heaviest_pairs_and_the_rest_counted() -> None:
    """dot's time grows with the arrows: the densest 50 tables keep their MAX_EDGES heaviest pairs."""
    require_dot()
    edges = table_edges(dense_warehouse())
    picture = glance.warehouse_picture(pa.Table.from_pylist(dense_warehouse()))
    assert picture.drawn
    svg = svg_of(picture.markdown)
    assert len(drawn_tables(svg)) == pictures.MAX_TABLES and drawn_edges(svg) == pictures.MAX_EDGES
    assert f"+ 150 more tables / {len(edges) - pictures.MAX_EDGES} edges not shown" in svg
    selection = pictures.most_connected(edges, pictures.MAX_TABLES)
    heaviest = sorted(selection.edges, key=lambda e: -e.total)[pictures.MAX_EDGES - 1].total
    labels = [text.text for text in ET.fromstring(svg).iterfind(".//svg:g[@class='edge']//svg:text", NS)]
    assert min(sum(int(part.split()[0]) for part in label.split(" · ")) for label in labels) >= heaviest


def test_a_layout_past_its_time_becomes_a_readable_list(monkeypatch) -> None:
    require_dot()
    monkeypatch.setattr(pictures, "DOT_TIMEOUT", 0.0001)
    svg = pictures.table_svg(table_edges(dense_warehouse()), "warehouse")
    texts = [text.text for text in ET.fromstring(svg).iterfind(".//svg:text", NS)]
    assert texts[:2] == ["warehouse", "(layout took too long: the heaviest table pairs)"]
    assert len(texts) == 2 + pictures.LIST_LINES + 1 and texts[-1].startswith("+ 150 more tables")
    assert " -> " in texts[2] and "fdd" in texts[2]
