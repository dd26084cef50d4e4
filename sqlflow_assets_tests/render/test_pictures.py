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
from sqlflow_assets_tests.support import NS, XLINK_TITLE, drawn_edges, drawn_labels, drawn_tables, require_dot, svg_of


def table_edges(rows: Iterable[Mapping[str, object]]) -> list[TableEdge]:
    """`table_lineage` rows as one edge per pair, busiest first: the plain-Python reading that
    `glance.table_graph` must agree with."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        counts[(str(row["source_object"]), str(row["target_object"]))][str(row["relationship_type"])] += int(row["edge_count"] or 0)
    edges = [TableEdge(src, tgt, kinds["fdd"], kinds["fdr"]) for (src, tgt), kinds in counts.items()]
    return sorted(edges, key=lambda e: (-e.total, e.source, e.target))


def edge_tooltips(svg: str) -> set[str]:
    """The tooltips of a picture's arrows: "source -> target: n fdd · m fdr"."""
    root = ET.fromstring(svg)
    return {a.get(XLINK_TITLE) for g in root.iterfind(".//svg:g[@class='edge']", NS) for a in g.iterfind(".//svg:a", NS)}


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
    assert edge_tooltips(svg) == {"raw.orders -> staging.orders: 4 fdd · 1 fdr", "staging.orders -> marts.revenue: 2 fdd"}
    assert not list(ET.fromstring(svg).iterfind(".//svg:g[@class='edge']//svg:text", NS))  # no text on the arrows


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
def test_the_arrow_cut_draws_what_the_python_selection_draws(tables, limit) -> None:
    """`glance.table_graph` ranks, keeps and counts in Arrow exactly as `pictures.most_connected` does in Python."""
    odd = [{"source_object": "raw.table_00", "target_object": "raw.table_00", "relationship_type": "fdd", "edge_count": 50},  # itself
           {"source_object": "raw.table_01", "target_object": "aa.alone", "relationship_type": "fdd+fdr", "edge_count": 3},
           {"source_object": "raw.table_01", "target_object": "raw.table_02", "relationship_type": "fdr", "edge_count": None}]
    table = pa.Table.from_pylist(layered_warehouse(tables) + odd)
    lone = ["zz.lonely", "aa.alone"]
    edges = table_edges(table.to_pylist())
    expected = pictures.most_connected(edges, limit, lone)
    graph = glance.table_graph(table, lone, limit)
    assert (graph.tables, graph.edges) == (expected.tables, expected.edges)
    assert (graph.table_count - len(graph.tables), graph.edge_count - len(graph.edges)) == (expected.hidden_tables, expected.hidden_edges)
    assert graph.top == edges[: glance.TOP_EDGES]
    kinds = table.column("relationship_type").to_pylist()
    assert glance.count_by(table, "relationship_type") == {"fdd": kinds.count("fdd"), "fdr": kinds.count("fdr"), "fdd+fdr": 1}
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
    counts = [tooltip.split(": ")[1] for tooltip in edge_tooltips(svg)]
    assert min(sum(int(part.split()[0]) for part in count.split(" · ")) for count in counts) >= heaviest
    assert "| source | target | fdd | fdr |" in picture.markdown  # the counts, under the picture


def test_a_layout_past_its_time_becomes_a_readable_list(monkeypatch) -> None:
    require_dot()
    monkeypatch.setattr(pictures, "DOT_TIMEOUT", 0.0001)
    svg = pictures.table_svg(table_edges(dense_warehouse()), "warehouse")
    texts = [text.text for text in ET.fromstring(svg).iterfind(".//svg:text", NS)]
    assert texts[:2] == ["warehouse", "(layout took too long: the heaviest table pairs)"]
    assert len(texts) == 2 + pictures.LIST_LINES + 1 and texts[-1].startswith("+ 150 more tables")
    assert " -> " in texts[2] and "fdd" in texts[2]


# Helvetica's advance widths (AFM, 1/1000 em) for ASCII 32..126; anything else counted as 0.6 em. dot
# sizes its boxes by the same metrics (its Helvetica is Liberation Sans, metric-compatible).
HELVETICA = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
    556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
]
SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[str, float, float, float, float]  # text, left, top, right, bottom (SVG points, y down)


def text_box(text: ET.Element) -> Box:
    """The approximate box of one `<text>`: its width from Helvetica's widths (bold 10 % wider), placed by
    its `text-anchor`; from the ascender (0.75 em over the baseline) to the descender (0.2 em under)."""
    words = "".join(text.itertext())
    size = float(text.get("font-size", "14"))
    width = sum(HELVETICA[ord(c) - 32] if 32 <= ord(c) < 127 else 600 for c in words) * size / 1000
    width *= 1.1 if text.get("font-weight") == "bold" else 1
    x, y = float(text.get("x", "0")), float(text.get("y", "0"))
    left = x - {"start": 0, "middle": width / 2, "end": width}[text.get("text-anchor", "start")]
    return words, left, y - 0.75 * size, left + width, y + 0.2 * size


def overlapping_texts(svg: str) -> list[tuple[str, str]]:
    """Every pair of texts of a picture whose boxes overlap (by more than a quarter point each way)."""
    boxes = [text_box(text) for text in ET.fromstring(svg).iter(f"{SVG}text") if "".join(text.itertext()).strip()]
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if min(a[3], b[3]) - max(a[1], b[1]) > 0.25 and min(a[4], b[4]) - max(a[2], b[2]) > 0.25]


def curve_points(path: str) -> list[tuple[float, float]]:
    """Points along a dot edge path ("M x,y C x1,y1 x2,y2 x3,y3 ..."), 20 per cubic Bézier segment."""
    numbers = [float(value) for value in re.findall(r"-?\d+(?:\.\d+)?", path)]
    points = list(zip(numbers[0::2], numbers[1::2], strict=True))
    sampled = points[:1]
    for i in range(0, len(points) - 3, 3):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[i:i + 4]
        for step in range(1, 21):
            t = step / 20
            u = 1 - t
            sampled.append((u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3,
                            u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3))
    return sampled


def crossed_edge_labels(svg: str) -> list[str]:
    """The arrows' texts that an arrow's line runs through (a point of it more than a point inside the box)."""
    edges = [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "edge"]
    labels = [text_box(text) for g in edges for text in g.iter(f"{SVG}text")]
    lines = [curve_points(path.get("d", "")) for g in edges for path in g.iter(f"{SVG}path")]
    return [label for label, left, top, right, bottom in labels
            if any(left + 1 < x < right - 1 and top + 1 < y < bottom - 1 for line in lines for x, y in line)]


def assert_readable(svg: str) -> None:
    assert overlapping_texts(svg) == []
    assert crossed_edge_labels(svg) == []


def test_the_label_check_finds_overlapping_texts_and_labels_crossed_by_arrows() -> None:
    """The check the pictures below pass, shown to catch what it is for on a hand-made picture."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><g class="graph">'
        '<text text-anchor="middle" x="100" y="50" font-size="9">12 fdd · 3 fdr</text>'
        '<text text-anchor="start" x="110" y="52" font-size="9">7 fdd · 5 fdr</text>'
        '<text text-anchor="start" x="10" y="200" font-size="11" font-weight="bold">alone</text>'
        '<g class="edge"><path d="M300,0C300,40 300,80 300,120"/><text text-anchor="middle" x="300" y="60" font-size="9">4 fdr</text></g>'
        "</g></svg>"
    )
    assert overlapping_texts(svg) == [("12 fdd · 3 fdr", "7 fdd · 5 fdr")]
    assert crossed_edge_labels(svg) == ["4 fdr"]
    assert overlapping_texts(svg.replace('x="110"', 'x="140"')) == []


def legend_of(svg: str) -> str:
    """The texts of the picture outside its boxes and arrows: title, note and legend."""
    root = ET.fromstring(svg)
    inside = {id(text) for g in root.iter(f"{SVG}g") if g.get("class") in ("node", "edge") for text in g.iter(f"{SVG}text")}
    return " ".join("".join(text.itertext()) for text in root.iter(f"{SVG}text") if id(text) not in inside)


def test_the_samples_pictures_carry_a_legend_and_no_label_collides(project_env, sample_job, tmp_path) -> None:
    """The bundled sample's lineage, from the local server, drawn as the job's materialisation draws it."""
    require_dot()
    from sqlflow_assets.api.client import SQLFlowClient
    from sqlflow_assets.job import lineage_step

    export = SQLFlowClient.from_config().export_lineage_json_file(sample_job, tmp_path / "export.json")
    job = glance.job_glance("sample", lineage_step.analyse(sample_job, export).lineage)
    table_svg, column_svg = svg_of(job["table_picture"].markdown), svg_of(job["column_picture"].markdown)
    for svg in (table_svg, column_svg):
        assert_readable(svg)
    assert pictures.LEGEND_FDD in legend_of(table_svg) and pictures.LEGEND_FDR in legend_of(table_svg)
    assert pictures.LEGEND_WIDTH in legend_of(table_svg)
    column_legend = legend_of(column_svg)
    assert all(text in column_legend for text in (pictures.LEGEND_COLUMN_FDD, pictures.LEGEND_COLUMN_FDR, pictures.LEGEND_PSEUDO_ROWS))
    assert "PseudoRows" in [text.text for text in ET.fromstring(column_svg).iterfind(".//svg:g[@class='node']//svg:text", NS)]
    legend = ET.fromstring(table_svg).findall(".//svg:g[@class='graph']/svg:polyline", NS)  # the drawn line samples
    assert {(line.get("stroke"), line.get("stroke-dasharray") is not None) for line in legend} == {
        (pictures.FDD_COLOR, False), (pictures.FDR_COLOR, True)}


WORDS = ("customer", "orders", "revenue", "daily", "snapshot", "enriched", "payments", "ledger", "accounts", "attribution")


def long_named(tables: int = 50, seed: int = 19) -> list[dict]:
    """table_lineage rows of `tables` tables in four layers with long names, each reading one to four earlier tables."""
    rng = random.Random(seed)
    layer = [min(3, i * 4 // tables) for i in range(tables)]
    names = [f"{('raw', 'staging', 'intermediate', 'marts')[layer[i]]}.{'_'.join(rng.sample(WORDS, rng.randint(1, 4)))}_{i}"
             for i in range(tables)]
    rows = []
    for i in range(tables):
        earlier = [j for j in range(tables) if layer[j] < layer[i]]
        for j in rng.sample(earlier, min(len(earlier), rng.randint(1, 4))):
            for kind in rng.choice((("fdd",), ("fdr",), ("fdd", "fdr"))):
                rows.append({"source_object": names[j], "target_object": names[i], "relationship_type": kind, "edge_count": rng.randint(1, 12)})
    return rows


@pytest.mark.parametrize("rows", [long_named(), layered_warehouse(50), dense_warehouse()], ids=["fifty-long-names", "layered", "dense"])
def test_warehouse_pictures_of_fifty_tables_carry_a_legend_and_no_label_collides(rows) -> None:
    require_dot()
    picture = glance.warehouse_picture(pa.Table.from_pylist(rows))
    svg = svg_of(picture.markdown)
    assert len(drawn_tables(svg)) == pictures.MAX_TABLES
    assert_readable(svg)
    assert pictures.LEGEND_FDD in legend_of(svg) and pictures.LEGEND_WIDTH in legend_of(svg)


def test_a_long_name_is_wrapped_whole_in_both_pictures() -> None:
    require_dot()
    long = "analytics_production_eu.customer_lifetime_value_by_acquisition_channel_and_cohort_month_v2"
    column = "lifetime_value_net_of_refunds_and_chargebacks_in_eur"
    table_svg = pictures.table_svg([TableEdge("raw.orders", long, 3, 1)], "job")
    assert long in drawn_labels(table_svg)
    [node] = [a for a in ET.fromstring(table_svg).iterfind(".//svg:g[@class='node']//svg:a", NS) if a.get(XLINK_TITLE) == long]
    lines = [text.text for text in node.iterfind(".//svg:text", NS)]
    assert len(lines) >= 4 and max(map(len, lines)) <= pictures.WRAP
    assert_readable(table_svg)

    column_svg = pictures.column_svg([ColumnEdge("raw.orders", "amount", long, column, "fdd")], "job")
    texts = [text.text for text in ET.fromstring(column_svg).iterfind(".//svg:g[@class='node']//svg:text", NS)]
    assert long in "".join(texts) and column in "".join(texts) and max(map(len, texts)) <= pictures.WRAP
    assert_readable(column_svg)
