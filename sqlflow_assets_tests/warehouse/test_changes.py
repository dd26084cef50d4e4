"""Lineage changes between versions of a source, and their downstream impact, on a real git repository
analysed by the real local server (`review_repo`: a column renamed, a join added, a table dropped)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.submit.submission import SqlSource
from sqlflow_assets.tables import CHANGES
from sqlflow_assets.warehouse import changes, source_diff
from sqlflow_assets_tests.fixtures.review_repo import STEPS, make_review_repo


@pytest.fixture
def versions(project_env, tmp_path) -> dict[str, pa.Table]:
    """column_lineage rows of `stg` at each step, and of `marts` (the consumer) under "marts"."""
    review = make_review_repo(tmp_path)
    client = SQLFlowClient.from_config()
    found = {step: source_diff.analyse_source(client, SqlSource(**review.source(step if step != "base" else "main")), timeout=60)
             for step in ("base", *STEPS)}  # fmt: skip
    found["marts"] = source_diff.analyse_source(client, SqlSource(**review.marts_source()), timeout=60)
    return found


def edges(table: pa.Table) -> list[tuple]:
    return [
        (r["change"], f"{r['source_object']}.{r['source_column']}", f"{r['target_object']}.{r['target_column']}")
        for r in table.to_pylist()
    ]


def impacted(table: pa.Table) -> set[tuple]:
    return {(r["change"], f"{r['impacted_object']}.{r['impacted_column']}", r["depth"]) for r in table.to_pylist()}


def test_each_step_s_change_rows_and_downstream_impact(versions) -> None:
    graph_rows = pa.concat_tables([versions["base"], versions["marts"]])  # what the destination holds before the steps
    rename = changes.compare(versions["base"], versions["rename"], graph_rows)
    assert edges(rename.changes) == [
        ("removed", "raw.customers.name", "stg.customers.customer_name"),
        ("added", "raw.customers.name", "stg.customers.full_name"),
    ]
    assert impacted(rename.impact) == {
        ("removed", "stg.customers.customer_name", 1),
        ("removed", "mart.customer_names.customer_name", 2),
    }
    row = rename.changes.to_pylist()[0]
    assert (row["source"], row["previous_job_id"], row["new_job_id"]) == (
        "stg",
        versions["base"]["job_id"][0].as_py(),
        versions["rename"]["job_id"][0].as_py(),
    )
    assert (row["previous_relationship_type"], row["relationship_type"], row["previous_transformation_type"]) == (
        "fdd",
        None,
        "DIRECT",
    )

    join = changes.compare(versions["rename"], versions["join"], graph_rows)  # graph from before: the walk uses the new edges
    assert edges(join.changes) == [
        ("retyped", "raw.orders.amount", "stg.orders.amount"),
        ("added", "raw.customers.id", "stg.orders.PseudoRows"),
        ("added", "raw.customers.name", "stg.orders.customer_name"),
        ("added", "raw.orders.customer_id", "stg.orders.PseudoRows"),
    ]
    retyped = join.changes.to_pylist()[0]
    assert (retyped["previous_transformation_subtype"], retyped["transformation_subtype"]) == ("IDENTITY", "TRANSFORMATION")
    assert {r["transformation_subtype"] for r in join.changes.to_pylist() if r["target_column"] == "PseudoRows"} == {"JOIN"}
    assert impacted(join.impact) == {("retyped", "stg.orders.amount", 1), ("retyped", "mart.revenue.revenue", 2)}

    drop = changes.compare(versions["join"], versions["drop"], graph_rows)
    assert edges(drop.changes) == [
        ("removed", "raw.legacy.id", "stg.legacy.id"),
        ("removed", "raw.legacy.note", "stg.legacy.note"),
    ]
    assert impacted(drop.impact) == {
        ("removed", "stg.legacy.id", 1), ("removed", "stg.legacy.note", 1),
        ("removed", "mart.legacy_notes.id", 2), ("removed", "mart.legacy_notes.note", 2),
    }  # fmt: skip
    for found in (rename, join, drop):  # the contract's shapes, so the graph step can load them as they are
        assert found.changes.schema == CHANGES["lineage_changes"].arrow_schema()
        assert found.impact.schema == CHANGES["change_impact"].arrow_schema()

    same = changes.compare(versions["drop"], versions["drop"], graph_rows)
    assert same.changes.num_rows == same.impact.num_rows == 0 and changes.summary_markdown(same.changes, same.impact) == ""
    assert (
        changes.compare(versions["base"], versions["rename"], graph_rows, depth=1).impact.num_rows == 1
    )  # the impact query's bound
    assert changes.has_consumers(rename.impact, {"removed"}) and not changes.has_consumers(rename.impact, {"retyped"})


def test_summary_counts_edges_and_affected_columns(versions) -> None:
    graph_rows = pa.concat_tables([versions["base"], versions["marts"]])
    found = changes.compare(versions["base"], versions["drop"], graph_rows)
    text = changes.summary_markdown(found.changes, found.impact)
    assert text.startswith("### `stg`\n\n+4 edges, -3 edges, 1 edge retyped, 8 downstream columns affected in 6 tables\n"), text
    for column in ("mart.customer_names.customer_name", "mart.revenue.revenue", "mart.legacy_notes.note", "stg.legacy.id"):
        assert f"| `{column}` |" in text


def _rows(table: pa.Table) -> list[tuple]:
    return sorted(tuple(row.values()) for row in table.to_pylist())


def test_the_graph_step_s_walk_equals_the_impact_query_per_changed_edge(versions) -> None:
    """`impact_over` (all seeds in one query, as the graph step runs it) gives `compare`'s rows (the
    documented impact query per target) at every step and depth."""
    graph_rows = pa.concat_tables([versions["base"], versions["marts"]])
    for before, after in (("base", "rename"), ("rename", "join"), ("join", "drop"), ("base", "drop")):
        for depth in (1, 2, 10):
            found = changes.compare(versions[before], versions[after], graph_rows, depth=depth)
            walked = changes.graph_after(graph_rows, versions[after], "stg")
            assert _rows(changes.impact_over(found.changes, walked, depth)) == _rows(found.impact), (before, after, depth)


def test_the_walk_of_many_seeds_handles_cycles_and_mixed_paths() -> None:
    """A cycle, an fdr edge on one of two shortest paths, a long chain: per seed as the impact query says."""
    def edge(source: str, target: str, kind: str = "fdd") -> dict:
        return {"source_object": source.split(".")[0], "source_column": source.split(".")[1],
                "target_object": target.split(".")[0], "target_column": target.split(".")[1],
                "relationship_type": kind, "transformation_type": "DIRECT", "transformation_subtype": "IDENTITY",
                "job_id": "new", "source": "s"}  # fmt: skip

    previous = pa.Table.from_pylist([edge("a.x", "b.x"), edge("a.y", "b.y"), edge("a.z", "c.z", "fdr")])
    new = pa.Table.from_pylist([edge("a.y", "b.y", "fdr")])
    others = [edge("b.x", "c.x"), edge("c.x", "b.x"), edge("b.x", "d.x", "fdr"), edge("c.x", "d.x"), edge("b.y", "e.y"),
              edge("e.y", "f.y"), edge("f.y", "g.y"), edge("c.z", "b.x", "fdr")]  # fmt: skip
    current = pa.Table.from_pylist([{**row, "source": "other", "job_id": "o"} for row in others] + previous.to_pylist())
    for depth in (1, 2, 3, 10):
        found = changes.compare(previous, new, current, source="s", previous_job_id="old", new_job_id="new", depth=depth)
        assert {row["change"] for row in found.changes.to_pylist()} == {"removed", "retyped"}
        after = changes.graph_after(current, new, "s")
        assert _rows(changes.impact_over(found.changes, after, depth)) == _rows(found.impact), depth
    assert {(r["impacted_object"], r["depth"], r["relationship_type"]) for r in found.impact.to_pylist() if r["target_object"] == "b"
            and r["target_column"] == "x"} >= {("b", 1, "fdd"), ("c", 2, "fdd"), ("d", 2, "fdr")}  # fmt: skip


def test_three_commits_through_the_pipeline_record_each_change(project_env, tmp_path, monkeypatch) -> None:
    """The git source and its consumer submitted by the real submission asset, each job loaded by the
    job step, the graph step after each commit: `lineage_changes` and `change_impact` hold each
    commit's rows, once, against the job it replaced."""
    import json

    import dagster as dg
    import duckdb

    from sqlflow_assets.defs import sql_submission as submission_defs
    from sqlflow_assets.defs.resources import default_resources
    from sqlflow_assets.defs.sql_submission import SqlSubmissionConfig
    from sqlflow_assets_tests.support import materialize_job_lineage, poll, refresh

    review = make_review_repo(tmp_path)
    monkeypatch.setenv("SOURCES__SQLFLOW__SQL_SOURCES", json.dumps([review.source(), review.marts_source()]))
    instance, client = dg.DagsterInstance.ephemeral(), SQLFlowClient.from_config()

    def submit_and_load() -> dict[str, str]:
        result = dg.materialize([submission_defs.sql_submission], instance=instance, resources=default_resources(),
                                run_config=dg.RunConfig({"sqlflow__sql_submission": SqlSubmissionConfig()}))  # fmt: skip
        [event] = result.get_asset_materialization_events()
        jobs = {name: event.materialization.metadata[f"job_id/{name}"].value for name in event.materialization.metadata["submitted"].value}
        for job_id in jobs.values():
            poll(lambda job_id=job_id: client.job_summary(job_id)["status"] in ("success", "partial_success"), 60, "the job")
            assert materialize_job_lineage(instance, job_id).success
        refresh(project_env, instance)
        return jobs

    def recorded() -> dict[str, list[tuple]]:
        with duckdb.connect(str(project_env.duckdb_path), read_only=True) as conn:
            return {
                "changes": conn.execute("SELECT previous_job_id, new_job_id, change, source_object || '.' || source_column, "
                                        "target_object || '.' || target_column FROM lineage.lineage_changes").fetchall(),
                "impact": conn.execute("SELECT new_job_id, change, impacted_object || '.' || impacted_column, depth "
                                       "FROM lineage.change_impact").fetchall(),
            }  # fmt: skip

    base = submit_and_load()
    assert set(base) == {"stg", "marts"} and recorded() == {"changes": [], "impact": []}  # the first graph: nothing to compare
    expected_changes: list[tuple] = []
    expected_impact: set[tuple] = set()
    previous = base["stg"]
    steps = {
        "rename": ([("removed", "raw.customers.name", "stg.customers.customer_name"), ("added", "raw.customers.name", "stg.customers.full_name")],
                   {("removed", "stg.customers.customer_name", 1), ("removed", "mart.customer_names.customer_name", 2)}),
        "join": ([("retyped", "raw.orders.amount", "stg.orders.amount"), ("added", "raw.customers.id", "stg.orders.PseudoRows"),
                  ("added", "raw.customers.name", "stg.orders.customer_name"), ("added", "raw.orders.customer_id", "stg.orders.PseudoRows")],
                 {("retyped", "stg.orders.amount", 1), ("retyped", "mart.revenue.revenue", 2)}),
        "drop": ([("removed", "raw.legacy.id", "stg.legacy.id"), ("removed", "raw.legacy.note", "stg.legacy.note")],
                 {("removed", "stg.legacy.id", 1), ("removed", "stg.legacy.note", 1),
                  ("removed", "mart.legacy_notes.id", 2), ("removed", "mart.legacy_notes.note", 2)}),
    }  # fmt: skip
    for step in STEPS:
        review.move_main(step)
        new = submit_and_load()
        assert list(new) == ["stg"], step  # only the git source moved
        expected_changes += [(previous, new["stg"], *row) for row in steps[step][0]]
        expected_impact |= {(new["stg"], *row) for row in steps[step][1]}
        found = recorded()
        assert sorted(found["changes"]) == sorted(expected_changes), step
        assert len(found["impact"]) == len(set(found["impact"])) and set(found["impact"]) == expected_impact, step
        previous = new["stg"]
    refresh(project_env, instance)  # nothing new: nothing recorded again
    assert sorted(recorded()["changes"]) == sorted(expected_changes)
