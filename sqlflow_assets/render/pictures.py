"""Lineage pictures drawn by Graphviz `dot`: the table graph, the column graph of the busiest targets,
and the bounded warehouse graph, as SVG text.

Why Graphviz: a person reads lineage faster from a picture than from rows, and a hand-made layout
draws edges through boxes past a handful of tables. `dot` is a kept layout engine (Debian's
`graphviz`) that routes edges around nodes and ranks sources before targets; it is called as a
subprocess (`dot -Tsvg`, DOT on stdin), so there is no Python binding to keep in step.

Every picture is bounded: at most `MAX_TABLES` tables (the most connected ones; the rest are
counted in a note on the picture), at most `MAX_EDGES` arrows (parallel column edges are merged into
one arrow per table pair; past the bound the heaviest pairs are kept and the rest counted, since
`dot`'s time grows with the arrows, not the boxes: 323 arrows among the 50 densest tables of a
2,000-relationship job did not finish in 60 s), at most `MAX_COLUMNS` columns per table in the
column graph and `MAX_SVG_BYTES` of SVG (fewer tables are drawn until it fits). Each `dot` run has
`DOT_TIMEOUT` seconds; past it the picture is a plain list of the heaviest pairs (`list_svg`), still
readable, never a failure. At 50 tables a picture stays readable at its natural size: long names
wrap onto lines of `WRAP` characters (whole, never clipped), ranks run left to right.

Every picture carries its legend (what a solid and a dashed arrow mean, what `PseudoRows` is), in
the graph's own label, so it costs the layout nothing. Arrows carry no text: a pair's fdd/fdr counts
are its pen width, its tooltip and the busiest-pairs table shown beside the picture. Why: counts
written on the arrows collided with the lines crossing them (dot lays a label out as a node in the
middle of its arrow, yet other arrows still pass through it, and top to bottom it touches its own),
a hundred numbers on a 50-table picture are read by nobody, and labels triple dot's time (they double
the ranks: 0.19 s against 0.06 s of CPU for 100 arrows among the densest 50 tables of a
2,000-relationship job).

When `dot` is missing nothing fails: `DotMissing` says how to install it, and callers show that
line instead of the picture.
"""

from __future__ import annotations

import base64
import math
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape

from sqlflow_assets.errors import DotMissing

MAX_TABLES = 50
MAX_TARGETS = 3
MAX_COLUMNS = 25
WRAP = 28  # characters per line of a name in a box: a long name wraps, whole
CAPTION_WRAP = 100  # characters per line of the title, the note and each legend line
FRAME = (1400.0, 1000.0)  # points: what a person sees at once, natural size
MAX_SVG_BYTES = 200_000  # per picture; its base64 data URI in Dagster metadata stays under 270 kB
MAX_EDGES = 100  # arrows per picture: dot draws 100 in about a second, 150 dense ones took 4 s, 323 over 60 s
BOTH_ORIENTATIONS_UP_TO = 40  # arrows: a small picture is laid out both ways and the better kept; a larger one left to right only
DOT_TIMEOUT = 10.0
LIST_LINES = 25  # pairs listed by the fallback picture
INSTALL_HINT = (
    "Graphviz `dot` is not installed, so no picture is drawn: install it "
    "(`apt-get install graphviz`, `brew install graphviz`) and rerun."
)
FONT = "Helvetica,Arial,sans-serif"
FDD_COLOR = "#2b5c8a"
FDR_COLOR = "#9a9a9a"
LEGEND_FDD = "fdd: data flows from the source columns into the target columns"
LEGEND_FDR = "fdr only: the source columns decide which rows the target gets (filter, join, group by), not values"
LEGEND_WIDTH = "line width: column edges of the pair (their counts: the busiest-pairs table, an arrow's tooltip)"
LEGEND_COLUMN_FDD = "fdd: the column's data flows into the target column"
LEGEND_COLUMN_FDR = "fdr: the column decides which rows the target gets (filter, join, group by), not values"
LEGEND_PSEUDO_ROWS = "PseudoRows: not a column but the row count of its table (what an fdr into the table decides)"


@dataclass(frozen=True)
class TableEdge:
    """One source → target table pair with its column edges counted per type."""

    source: str
    target: str
    fdd: int = 0
    fdr: int = 0

    @property
    def total(self) -> int:
        return self.fdd + self.fdr


@dataclass(frozen=True)
class ColumnEdge:
    source: str
    source_column: str
    target: str
    target_column: str
    relationship_type: str


def column_edges(rows: Iterable[Mapping[str, object]]) -> list[ColumnEdge]:
    """`lineage.end_to_end_edges` / `lineage.column_lineage` rows as column edges."""
    return [
        ColumnEdge(str(r["source_object"]), str(r["source_column"]), str(r["target_object"]), str(r["target_column"]), str(r["relationship_type"]))
        for r in rows
    ]


@dataclass(frozen=True)
class Selection:
    """The tables and edges a picture draws, and how many it leaves out."""

    tables: list[str]
    edges: list[TableEdge]
    hidden_tables: int
    hidden_edges: int

    @property
    def note(self) -> str:
        if not self.hidden_tables and not self.hidden_edges:
            return ""
        return f"+ {self.hidden_tables} more tables / {self.hidden_edges} edges not shown"


def most_connected(edges: list[TableEdge], limit: int, tables: Iterable[str] = ()) -> Selection:
    """The `limit` tables with the most distinct neighbours (then most column edges, then name), and
    the edges between them. `tables` adds tables without edges (drawn alone)."""
    neighbours: dict[str, set[str]] = {name: set() for name in tables}
    weight: Counter[str] = Counter()
    for edge in edges:
        neighbours.setdefault(edge.source, set()).add(edge.target)
        neighbours.setdefault(edge.target, set()).add(edge.source)
        weight[edge.source] += edge.total
        weight[edge.target] += edge.total
    ranked = sorted(neighbours, key=lambda name: (-len(neighbours[name] - {name}), -weight[name], name))
    kept = set(ranked[:limit])
    shown = [edge for edge in edges if edge.source in kept and edge.target in kept]
    return Selection(sorted(kept), shown, len(ranked) - len(kept), len(edges) - len(shown))


def table_svg(
    edges: list[TableEdge], title: str, tables: Iterable[str] = (), limit: int = MAX_TABLES, totals: tuple[int, int] | None = None
) -> str:
    """Boxes per table, one arrow per pair (pen width grows with its column edges, its fdd/fdr counts
    in its tooltip; fdr-only pairs dashed grey), under a legend, at most `limit` tables, `MAX_EDGES`
    arrows and `MAX_SVG_BYTES`. `totals`
    (tables, pairs) sizes the whole graph when `edges` and `tables` were already cut down to it."""
    tables = list(tables)
    while True:
        selection = _heaviest(most_connected(edges, limit, tables))
        if totals is not None:
            selection = replace(selection, hidden_tables=totals[0] - len(selection.tables), hidden_edges=totals[1] - len(selection.edges))
        orientations = ("LR", "TB") if len(selection.edges) <= BOTH_ORIENTATIONS_UP_TO else ("LR",)
        try:
            svg = min((render(_table_dot(selection, title, rankdir)) for rankdir in orientations), key=_overflow)
        except subprocess.TimeoutExpired:
            return list_svg(title, selection)
        if len(svg.encode()) <= MAX_SVG_BYTES or limit <= 1:
            return svg
        limit = max(1, limit * 2 // 3)


def _heaviest(selection: Selection, limit: int = MAX_EDGES) -> Selection:
    """`selection` with at most `limit` edges, the heaviest (most column edges) kept, the rest counted."""
    if len(selection.edges) <= limit:
        return selection
    kept = sorted(selection.edges, key=lambda e: (-e.total, e.source, e.target))[:limit]
    return replace(selection, edges=kept, hidden_edges=selection.hidden_edges + len(selection.edges) - limit)


def list_svg(title: str, selection: Selection) -> str:
    """The fallback picture when a layout takes too long: the heaviest pairs as lines of text."""
    pairs = sorted(selection.edges, key=lambda e: (-e.total, e.source, e.target))[:LIST_LINES]
    lines = [title, "(layout took too long: the heaviest table pairs)"]
    lines += [f"{e.source} -> {e.target}: " + " · ".join(f"{n} {k}" for k, n in (("fdd", e.fdd), ("fdr", e.fdr)) if n) for e in pairs]
    hidden = len(selection.edges) - len(pairs) + selection.hidden_edges
    if hidden or selection.hidden_tables:
        lines.append(f"+ {selection.hidden_tables} more tables / {hidden} edges not shown")
    width = 12 + 7 * max(len(line) for line in lines)
    texts = "".join(f'<text x="6" y="{20 + 18 * i}" font-family="sans-serif" font-size="12">{escape(_one_line(line))}</text>'
                    for i, line in enumerate(lines))
    height = 30 + 18 * len(lines)
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">{texts}</svg>\n'


def _overflow(svg: str) -> float:
    """How far a picture overflows a landscape frame of `FRAME` points: shallow graphs read best
    left to right, deep chains top to bottom; the smaller overflow wins."""
    size = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert size is not None, "dot wrote an SVG without its size"
    width, height = (float(value) for value in size.groups())
    return max(width / FRAME[0], height / FRAME[1])


def _table_dot(selection: Selection, title: str, rankdir: str = "LR") -> str:
    ids = {name: f"t{index}" for index, name in enumerate(selection.tables)}
    counted = any(edge.total for edge in selection.edges)  # the local server's picture has pairs without counts
    legend = ((FDD_COLOR, "solid", LEGEND_FDD), (FDR_COLOR, "dashed", LEGEND_FDR), *((("", "", LEGEND_WIDTH),) if counted else ()))
    lines = [*_graph_header(title, selection.note, rankdir, legend=legend)]
    lines.append(f'node [shape=box style="rounded,filled" fillcolor="#eef4fb" color="#3b6ea5" fontname="{FONT}" fontsize=11]')
    lines.extend(f"{ids[name]} [label={_table_label(name)} tooltip={_tooltip(name)}]" for name in selection.tables)
    busiest = max((edge.total for edge in selection.edges), default=1) or 1
    for edge in selection.edges:
        fdr_only = edge.fdr > 0 and edge.fdd == 0
        width = 1 + 3 * math.log1p(edge.total) / math.log1p(busiest)
        counts = " · ".join(f"{count} {kind}" for kind, count in (("fdd", edge.fdd), ("fdr", edge.fdr)) if count)
        lines.append(
            f"{ids[edge.source]} -> {ids[edge.target]} [penwidth={width:.1f} "
            f'color="{FDR_COLOR if fdr_only else FDD_COLOR}" style={"dashed" if fdr_only else "solid"} '
            f'tooltip={_tooltip(f"{edge.source} -> {edge.target}" + (f": {counts}" if counts else ""))}]'
        )
    lines.append("}")
    return "\n".join(lines)


def column_svg(edges: Iterable[ColumnEdge], title: str, targets: int = MAX_TARGETS, all_targets: int | None = None) -> str:
    """The column lineage into the `targets` target tables with the most incoming column edges: one
    box per table with a row (port) per column, fdd arrows solid, fdr dashed. `all_targets` counts
    the targets when `edges` was already cut down to the chosen ones (for the note)."""
    edges = [edge for edge in edges if edge.source != edge.target or edge.source_column != edge.target_column]
    incoming = Counter(edge.target for edge in edges)
    chosen = sorted(incoming, key=lambda name: (-incoming[name], name))[:targets]
    shown = [edge for edge in edges if edge.target in chosen]
    total = max(all_targets or 0, len(incoming))
    note = f"{len(chosen)} of {total} target tables (most incoming column edges)" if total > len(chosen) else ""
    columns: dict[str, list[str]] = defaultdict(list)
    for edge in shown:
        for table, column in ((edge.source, edge.source_column), (edge.target, edge.target_column)):
            if column not in columns[table]:
                columns[table].append(column)
    kept = {table: cols[:MAX_COLUMNS] for table, cols in columns.items()}
    shown = [e for e in shown if e.source_column in kept[e.source] and e.target_column in kept[e.target]]
    arrows = sorted(set(shown), key=lambda e: (e.source, e.source_column, e.target, e.target_column, e.relationship_type))
    if len(arrows) > MAX_EDGES:
        note = " · ".join(filter(None, (note, f"{MAX_EDGES} of {len(arrows)} column edges")))
        arrows = arrows[:MAX_EDGES]
    ids = {name: f"t{index}" for index, name in enumerate(sorted(kept))}
    legend = ((FDD_COLOR, "solid", LEGEND_COLUMN_FDD), (FDR_COLOR, "dashed", LEGEND_COLUMN_FDR), ("", "", LEGEND_PSEUDO_ROWS))
    lines = [*_graph_header(title, note, legend=legend), f'node [shape=plaintext fontname="{FONT}" fontsize=10]']
    for table in sorted(kept):
        lines.append(f"{ids[table]} [label={_record(table, kept[table], len(columns[table]) - len(kept[table]))} tooltip={_tooltip(table)}]")
    for edge in arrows:
        src = f"{ids[edge.source]}:c{kept[edge.source].index(edge.source_column)}:e"
        tgt = f"{ids[edge.target]}:c{kept[edge.target].index(edge.target_column)}:w"
        fdr = edge.relationship_type != "fdd"
        lines.append(f'{src} -> {tgt} [color="{FDR_COLOR if fdr else FDD_COLOR}" style={"dashed" if fdr else "solid"}]')
    lines.append("}")
    return render("\n".join(lines))


def _record(table: str, columns: list[str], hidden: int) -> str:
    rows = [f'<TR><TD BGCOLOR="#d5e3f3">{_html(table)}</TD></TR>']  # not bold: browsers draw bold wider than dot measured it
    rows += [f'<TR><TD PORT="c{index}" ALIGN="LEFT" BALIGN="LEFT">{_html(column)}</TD></TR>' for index, column in enumerate(columns)]
    if hidden:
        rows.append(f'<TR><TD ALIGN="LEFT"><I>+ {hidden} more columns</I></TD></TR>')
    return f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="#3b6ea5">{"".join(rows)}</TABLE>>'


def _table_label(name: str) -> str:
    """The table name in bold under its smaller, grey database.schema prefix: boxes half as wide."""
    prefix, dot, table = name.rpartition(".")
    first = f'<FONT POINT-SIZE="9" COLOR="#555555">{_html(prefix + dot)}</FONT><BR/>' if prefix else ""
    return f"<{first}<B>{_html(table)}</B>>"


def _graph_header(title: str, note: str, rankdir: str = "LR", legend: Iterable[tuple[str, str, str]] = ()) -> list[str]:
    """The graph's opening lines: its caption (title, note) at the top left and, under it, the
    `legend` lines (colour, line style, text: a short line of that colour and style drawn before the
    text when the colour is given), all in the graph's own label, which costs the layout nothing."""
    legend = list(legend)
    caption = (title, note) if note else (title,)
    if legend:
        rows = [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" COLSPAN="2">{_html(line, CAPTION_WRAP)}</TD></TR>' for line in caption]
        rows += [f"<TR>{_swatch(color, style)}"
                 f'<TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#555555">{_html(text, CAPTION_WRAP)}</FONT></TD></TR>'
                 for color, style, text in legend]
        label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1">{"".join(rows)}</TABLE>>'
    else:
        label = _label(*caption)
    return [
        "digraph lineage {",
        f'graph [rankdir={rankdir} nodesep=0.25 ranksep=0.7 fontname="{FONT}" fontsize=12 labelloc=t labeljust=l '
        f'label={label} bgcolor="white"]',
        f'edge [fontname="{FONT}" fontsize=9 arrowsize=0.7 fontcolor="#555555"]',
    ]


def _swatch(color: str, style: str) -> str:
    """A legend cell showing a short line of `color` and `style` (solid, dashed), or an empty cell."""
    if not color:
        return "<TD></TD>"
    return f'<TD WIDTH="28" HEIGHT="7" FIXEDSIZE="TRUE" SIDES="B" BORDER="2" STYLE="{style}" COLOR="{color}"></TD>'


def notice_svg(text: str) -> str:
    """A small SVG that says `text`, for callers that must answer with a picture when `dot` is missing."""
    width = 12 + 7 * len(text)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40" viewBox="0 0 {width} 40">'
        f'<text x="6" y="24" font-family="sans-serif" font-size="12">{escape(text)}</text></svg>\n'
    )


def render(dot_source: str) -> str:
    """SVG text of a DOT graph, comments and the XML prolog dropped (they only cost bytes)."""
    executable = shutil.which("dot")
    if executable is None:
        raise DotMissing(message=INSTALL_HINT)
    done = subprocess.run(
        [executable, "-Tsvg"], input=dot_source.encode(), capture_output=True, timeout=DOT_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"dot failed ({done.returncode}): {done.stderr.decode(errors='replace')[:500]}")
    svg = done.stdout.decode()
    svg = re.sub(r"<!--.*?-->", "", svg[svg.index("<svg"):], flags=re.S)
    return re.sub(r">\s+<", "><", svg).strip() + "\n"


def markdown_image(svg: str, alt: str) -> str:
    """Markdown showing `svg` as an image: a `data:` URI, which Dagster's UI Markdown allows in `img src`."""
    return f"![{alt}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"


def _wrapped(text: str, width: int = WRAP) -> list[str]:
    """`text` as lines of at most `width` characters, each broken after a dot, underscore, hyphen,
    slash or space when one falls in its second half, else at `width`: every character kept, none added."""
    lines = []
    while len(text) > width:
        cut = max(text.rfind(separator, 0, width) for separator in "._-/ ") + 1
        cut = cut if cut > width // 2 else width
        lines.append(text[:cut])
        text = text[cut:]
    return [*lines, text]


def _html(text: str, width: int = WRAP) -> str:
    """Text for an HTML-like label: wrapped at `width` characters (`<BR/>` between lines; a cell's
    BALIGN aligns them), escaped as XML; a backslash doubled, since Graphviz expands its escapes
    (\\N is the node's id, \\G the graph's...) in these labels too."""
    return "<BR/>".join(escape(line.replace("\\", "\\\\")) for line in _wrapped(_one_line(text), width))


def _label(*lines: str) -> str:
    """A quoted DOT label showing `lines` as written, one per line: Graphviz unescapes labels once
    (a backslash goes in doubled) and passes `&...;` entities through to the SVG (`&` goes in as `&amp;`)."""
    return _quoted(lines, backslash="\\" * 2)


def _tooltip(text: str) -> str:
    """A quoted DOT tooltip showing `text` as written: tooltips are unescaped twice (a backslash goes in as four)."""
    return _quoted((text,), backslash="\\" * 4)


def _quoted(lines: tuple[str, ...], backslash: str) -> str:
    def one(text: str) -> str:
        return _one_line(text).replace("\\", backslash).replace("&", "&amp;").replace('"', '\\"')

    return '"' + "\\n".join(one(line) for line in lines) + '"'


def _one_line(text: str) -> str:
    """Line breaks in names become spaces: a box shows one name per line."""
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


CHANGE_STYLES = {"added": ("#2e8b57", "solid"), "removed": ("#c0392b", "dashed"), "retyped": ("#e67e22", "solid")}


def change_svg(edges: Iterable[tuple[str, ColumnEdge]], title: str) -> str:
    """What a new version of a source changes in its column lineage: (change, edge) pairs drawn as
    column boxes with added edges green, removed ones red and dashed, retyped ones orange (each
    arrow's tooltip says which, with the relationship type). At most `MAX_EDGES` arrows, removed
    and retyped first (they break what reads them), and `MAX_COLUMNS` columns per table; the rest
    are counted in the note."""
    order = {"removed": 0, "retyped": 1, "added": 2}
    arrows = sorted(set(edges), key=lambda item: (order.get(item[0], 3), item[1].source, item[1].source_column, item[1].target, item[1].target_column))
    counts = Counter(change for change, _ in arrows)
    legend = " · ".join(f"{word} {counts[change]} {change}" for change, word in (("added", "green:"), ("removed", "red dashed:"), ("retyped", "orange:")) if counts[change])
    notes = [legend]
    if len(arrows) > MAX_EDGES:
        notes.append(f"{MAX_EDGES} of {len(arrows)} changed edges")
        arrows = arrows[:MAX_EDGES]
    columns: dict[str, list[str]] = defaultdict(list)
    for _, edge in arrows:
        for table, column in ((edge.source, edge.source_column), (edge.target, edge.target_column)):
            if column not in columns[table]:
                columns[table].append(column)
    kept = {table: cols[:MAX_COLUMNS] for table, cols in columns.items()}
    shown = [(c, e) for c, e in arrows if e.source_column in kept[e.source] and e.target_column in kept[e.target]]
    if len(shown) < len(arrows):
        notes.append(f"{len(arrows) - len(shown)} edges past {MAX_COLUMNS} columns per table not shown")
    ids = {name: f"t{index}" for index, name in enumerate(sorted(kept))}
    lines = [*_graph_header(title, " · ".join(notes)), f'node [shape=plaintext fontname="{FONT}" fontsize=10]']
    for table in sorted(kept):
        lines.append(f"{ids[table]} [label={_record(table, kept[table], len(columns[table]) - len(kept[table]))} tooltip={_tooltip(table)}]")
    for change, edge in shown:
        color, style = CHANGE_STYLES.get(change, (FDR_COLOR, "dotted"))
        src = f"{ids[edge.source]}:c{kept[edge.source].index(edge.source_column)}:e"
        tgt = f"{ids[edge.target]}:c{kept[edge.target].index(edge.target_column)}:w"
        text = f"{change}: {edge.source}.{edge.source_column} -> {edge.target}.{edge.target_column} ({edge.relationship_type})"
        lines.append(f'{src} -> {tgt} [color="{color}" style={style} penwidth=1.6 tooltip={_tooltip(text)}]')
    lines.append("}")
    return render("\n".join(lines))
