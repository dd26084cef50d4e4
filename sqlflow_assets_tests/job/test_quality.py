"""Every check of `quality.CHECKS` seen passing on a good job and failing on the same job's real
flattened tables with bad rows injected (checks that can only ever pass would prove nothing)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import duckdb
import pyarrow as pa
import pytest

from sqlflow_assets.job import flatten, quality
from sqlflow_assets.job.lineage_json import SCHEMAS, LineageTables, read_lineage
from sqlflow_assets_tests.fixtures import fixture_bytes

JOB = "j1"
Conn = duckdb.DuckDBPyConnection


def _errors(*rows: tuple[str, str], coordinates: str | None = None) -> pa.Table:
    """A raw `errors` table of the job: (error_type, error_message) per statement."""
    columns = {"job_id": [JOB] * len(rows), "ord": list(range(len(rows))), "error_message": [m for _, m in rows],
               "error_type": [t for t, _ in rows], "file_name": ["a.sql"] * len(rows), "coordinates": [coordinates] * len(rows)}  # fmt: skip
    return pa.table(columns, schema=SCHEMAS["errors"])


def good_raw() -> LineageTables:
    return read_lineage(fixture_bytes("nested_format_example"), JOB)


def _drop_column_edges(conn: Conn) -> None:
    conn.execute("DELETE FROM lineage.column_edges")


def _orphan_an_edge(conn: Conn) -> None:
    conn.execute("UPDATE lineage.column_edges SET source_object_id = 'nowhere' WHERE relationship_id = (SELECT min(relationship_id) FROM lineage.column_edges)")


def _duplicate_an_edge(conn: Conn) -> None:
    conn.execute("INSERT INTO lineage.column_edges SELECT * FROM lineage.column_edges LIMIT 1")


# check name -> (how to spoil the job's raw tables, how to spoil its flattened tables), and the offending rows
BAD_DATA: dict[str, tuple[Callable[[LineageTables], LineageTables] | None, Callable[[Conn], None] | None, int]] = {
    "column_edges_present": (None, _drop_column_edges, 3),  # the fixture's 3 raw relationships
    "edge_endpoints_resolve": (None, _orphan_an_edge, 1),
    "edges_not_duplicated": (None, _duplicate_an_edge, 1),
    "sql_errors": (lambda raw: dataclasses.replace(raw, errors=_errors(("syntaxError", "bad token"), ("warning", "odd"))), None, 1),
}


def outcomes(raw: LineageTables, spoil: Callable[[Conn], None] | None = None) -> dict[str, quality.CheckOutcome]:
    with flatten.flattened(raw, JOB) as conn:
        if spoil is not None:
            spoil(conn)
        return {outcome.name: outcome for outcome in quality.run_checks(conn, JOB)}


def test_every_check_has_bad_data_here() -> None:
    assert set(BAD_DATA) == {check.name for check in quality.CHECKS}


def test_every_check_passes_on_a_good_job() -> None:
    good = outcomes(good_raw())
    assert {name: (outcome.passed, outcome.count) for name, outcome in good.items()} == {name: (True, 0) for name in BAD_DATA}


@pytest.mark.parametrize("name", list(BAD_DATA))
def test_each_check_fails_on_bad_rows(name: str) -> None:
    spoil_raw, spoil_flat, offending = BAD_DATA[name]
    raw = spoil_raw(good_raw()) if spoil_raw else good_raw()
    found = outcomes(raw, spoil_flat)
    assert (found[name].passed, found[name].count) == (False, offending)
    assert found[name].sample and str(offending) in found[name].description
    others = {other: outcome.passed for other, outcome in found.items() if other != name}
    if name != "column_edges_present":  # with no edges, nothing can be unresolved or duplicated either
        assert all(others.values()), others  # each spoil trips its own check only


def test_blocking_and_severity_follow_the_check() -> None:
    """column_edges_present blocks the load (ERROR); sql_errors warns, or is an ERROR when nothing was analysed."""
    empty = outcomes(good_raw(), _drop_column_edges)["column_edges_present"]
    assert empty.blocking and empty.severity is quality.Severity.ERROR
    some_failed = outcomes(BAD_DATA["sql_errors"][0](good_raw()))["sql_errors"]
    assert not some_failed.blocking and some_failed.severity is quality.Severity.WARN  # the fixture has processes
    no_processes = dataclasses.replace(BAD_DATA["sql_errors"][0](good_raw()), processes=good_raw().processes.slice(0, 0))
    assert outcomes(no_processes)["sql_errors"].severity is quality.Severity.WARN  # its relationships and objects still load
    raw = good_raw()
    none_analysed = dataclasses.replace(
        BAD_DATA["sql_errors"][0](raw), processes=raw.processes.slice(0, 0), objects=raw.objects.slice(0, 0),
        columns=raw.columns.slice(0, 0), relationships=raw.relationships.slice(0, 0),
        relationship_sources=raw.relationship_sources.slice(0, 0),
    )
    assert outcomes(none_analysed)["sql_errors"].severity is quality.Severity.ERROR


def test_syntax_hints_of_an_export_without_processes_are_information() -> None:
    """A real-shaped older export (flat `dbobjs`, `relations`, no `processes` anywhere) whose only
    messages are SyntaxHints ("find orphan column"): its lineage loads, so the check passes and lists them."""
    raw = read_lineage(fixture_bytes("flat_syntax_hints_no_processes"), JOB)
    assert raw.processes.num_rows == 0 and raw.relationships.num_rows == 2 and raw.errors.num_rows == 2
    found = outcomes(raw)
    errors = found["sql_errors"]
    assert (errors.passed, errors.count, errors.notes) == (True, 0, 2)
    assert {row[3] for row in errors.notes_sample} == {"SyntaxHint"}
    assert all("orphan column" in row[4] for row in errors.notes_sample)
    assert all(outcome.passed for outcome in found.values()), found


def test_hints_and_warnings_beside_a_real_error_are_notes_not_offenders() -> None:
    raw = dataclasses.replace(good_raw(), errors=_errors(("SyntaxHint", "find orphan column"), ("Warning", "odd"), ("SyntaxError", "bad")))
    errors = outcomes(raw)["sql_errors"]
    assert (errors.passed, errors.count, errors.notes, errors.severity) == (False, 1, 2, quality.Severity.WARN)
    assert [row[3] for row in errors.sample] == ["SyntaxError"]


def test_passing_checks_say_what_passed() -> None:
    """A pass reads as a pass, with the job's counts ("0 raw relationships while the job has no column edge" did not)."""
    good = outcomes(good_raw())
    assert {name: outcome.description for name, outcome in good.items()} == {
        "column_edges_present": "column edges present: 3 column edges for 3 raw relationships",
        "edge_endpoints_resolve": "every endpoint resolves: 3 column edges, all between known objects",
        "edges_not_duplicated": "no duplicates: 3 column edges, each once per relationship",
        "sql_errors": "every statement analysed: no SQL error",
    }


def test_failing_checks_count_in_the_right_number() -> None:
    one = outcomes(BAD_DATA["sql_errors"][0](good_raw()))["sql_errors"]
    assert one.description == "1 statement SQLFlow could not analyse; 1 hint or warning listed as information"
    two = outcomes(dataclasses.replace(good_raw(), errors=_errors(("SyntaxError", "a"), ("SyntaxError", "b"))))["sql_errors"]
    assert two.description == "2 statements SQLFlow could not analyse"
    orphan = outcomes(good_raw(), _orphan_an_edge)["edge_endpoints_resolve"]
    assert orphan.description == "1 column edge of 3 with an endpoint missing from lineage.objects"
    empty = outcomes(good_raw(), _drop_column_edges)["column_edges_present"]
    assert empty.description == "no column edge although the job has 3 raw relationships"


def test_sql_error_samples_are_a_markdown_table_with_line_and_column() -> None:
    coordinates = '[{"x":4,"y":12,"hashCode":"0"},{"x":4,"y":20,"hashCode":"0"}]'
    raw = dataclasses.replace(good_raw(), errors=_errors(("SyntaxError", "bad | token\nhere"), coordinates=coordinates))
    errors = outcomes(raw)["sql_errors"]
    assert errors.sample_markdown().splitlines() == [
        "| file | line | column | type | message |",
        "|---|---|---|---|---|",
        "| a.sql | 4 | 12 | SyntaxError | bad \\| token here |",
    ]
