"""The graph asset shows what a replaced job changed: per source the change summary and a picture
(added edges green, removed red and dashed, retyped orange), on `lineage/lineage_changes`."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import dagster as dg
import duckdb

from sqlflow_assets import tables
from sqlflow_assets.defs import assets
from sqlflow_assets.render import pictures
from sqlflow_assets_tests.support import INGEST, MARTS_V1, MARTS_V2, NS, XLINK_TITLE, load_jobs, refresh, require_dot, svg_of

REPORT = b"CREATE TABLE bi.report AS SELECT customer_id, revenue FROM marts.revenue;"  # reads what MARTS_V2 drops


def drawn_changes(svg: str) -> dict[str, tuple[str, str | None]]:
    """Each arrow's tooltip ("removed: a.x -> b.y (fdd)") -> its stroke colour and dash pattern."""
    found = {}
    for edge in ET.fromstring(svg).iterfind(".//svg:g[@class='edge']", NS):
        link = edge.find(".//svg:a", NS)
        path = edge.find(".//svg:path", NS)
        assert link is not None and path is not None
        found[link.get(XLINK_TITLE)] = (path.get("stroke"), path.get("stroke-dasharray"))
    return found


def test_the_change_picture_colours_each_edge_by_its_change() -> None:
    require_dot()
    edge = pictures.ColumnEdge
    svg = pictures.change_svg(
        [("added", edge("stg.orders", "amount", "mart.revenue", "total", "fdd")),
         ("removed", edge("stg.orders", "amount", "mart.revenue", "revenue", "fdd")),
         ("retyped", edge("stg.orders", "customer_id", "mart.revenue", "customer_id", "fdr"))],  # fmt: skip
        "Lineage change of marts",
    )
    assert drawn_changes(svg) == {
        "added: stg.orders.amount -> mart.revenue.total (fdd)": ("#2e8b57", None),
        "removed: stg.orders.amount -> mart.revenue.revenue (fdd)": ("#c0392b", "5,2"),
        "retyped: stg.orders.customer_id -> mart.revenue.customer_id (fdr)": ("#e67e22", None),
    }
    assert "green: 1 added" in svg and "red dashed: 1 removed" in svg  # the legend


def test_the_graph_materialisation_shows_each_changed_source_s_summary_and_picture(project_env) -> None:
    require_dot()
    instance = dg.DagsterInstance.ephemeral()
    load_jobs(project_env, instance, ("ingest", INGEST), ("marts", MARTS_V1), ("report", REPORT))
    refresh(project_env, instance)
    first = instance.get_latest_materialization_event(dg.AssetKey(["lineage", "lineage_changes"])).asset_materialization.metadata
    assert first["lineage/changed_sources"].value == 0 and "lineage/changes" not in first  # a rebuild records nothing

    load_jobs(project_env, instance, ("marts", MARTS_V2))
    refresh(project_env, instance)
    metadata = instance.get_latest_materialization_event(dg.AssetKey(["lineage", "lineage_changes"])).asset_materialization.metadata
    with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
        stored = {table: conn.execute(f"SELECT count(*) FROM lineage.{table}").fetchone()[0] for table in ("lineage_changes", "change_impact")}
        removed = conn.execute("SELECT count(*) FROM lineage.lineage_changes WHERE change = 'removed'").fetchone()[0]
        added = conn.execute("SELECT count(*) FROM lineage.lineage_changes WHERE change = 'added'").fetchone()[0]
        impacted = conn.execute("SELECT count(DISTINCT (impacted_object, impacted_column)), count(DISTINCT impacted_object) "
                                "FROM lineage.change_impact").fetchone()  # fmt: skip
    assert metadata["dagster/row_count"].value == stored["lineage_changes"] > 0
    impact = instance.get_latest_materialization_event(dg.AssetKey(["lineage", "change_impact"])).asset_materialization.metadata
    assert impact["dagster/row_count"].value == stored["change_impact"] > 0
    assert [c.name for c in metadata["dagster/column_schema"].schema.columns] == list(tables.table("lineage", "lineage_changes").column_names)

    text = metadata["lineage/changes"].value
    assert metadata["lineage/changed_sources"].value == 1
    assert text.startswith(f"### `marts`\n\n+{added} edge") and f", -{removed} edges" in text, text[:300]
    assert f"{impacted[0]} downstream columns affected in {impacted[1]} tables" in text
    assert "| `bi.report.revenue` |" in text  # the consumer that loses its input, listed
    drawn = drawn_changes(svg_of(text))
    assert drawn["removed: staging.orders.amount -> marts.revenue.revenue (fdd)"] == ("#c0392b", "5,2")
    assert drawn["added: staging.orders.amount -> marts.revenue.total (fdd)"] == ("#2e8b57", None)
    assert len(drawn) == added + removed + metadata_retyped(text)

    refresh(project_env, instance)  # nothing new: the page still shows the last change, and which run recorded it
    later = instance.get_latest_materialization_event(dg.AssetKey(["lineage", "lineage_changes"])).asset_materialization.metadata
    assert later["lineage/changed_sources"].value == 0 and later["lineage/changes"].value == text
    assert later["lineage/changes_from"] == metadata["lineage/changes_from"]


def metadata_retyped(text: str) -> int:
    first = text.split("\n")[2]
    return int(first.split(" edge retyped")[0].rsplit(", ", 1)[1]) if " retyped" in first else 0


def test_the_change_tables_are_assets_of_the_graph_step() -> None:
    specs = {spec.key: spec for spec in assets.lineage_graph.specs}
    for table in ("lineage_changes", "change_impact"):
        spec = specs[dg.AssetKey(["lineage", table])]
        assert spec.description == tables.table("lineage", table).asset_description
        assert "Appended by the graph refresh" in spec.description
