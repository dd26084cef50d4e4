"""CI gate: the hand-written fidelity corpus of issue #10, scored by `engine_scoring` as the fidelity benchmark script scores it."""

from __future__ import annotations

import pytest

import sqlflow_assets_tests.engine_scoring as scoring

CASES = scoring.load_cases(scoring.DEFAULT_CASES)
SHAPES, KINDS = scoring.evaluate_cases(CASES)


@pytest.mark.parametrize("shape", sorted(scoring.FLOORS))
def test_shape_meets_its_floor(shape: str) -> None:
    recall, precision = scoring.FLOORS[shape]
    tally = SHAPES[shape]
    assert tally.cases >= 3, f"{shape}: too few cases to measure"
    assert tally.recall >= recall and tally.precision >= precision, tally.misses


def test_corpus_covers_every_statement_kind() -> None:
    assert set(KINDS) >= {
        "select",
        "insert",
        "create_table",
        "create_view",
        "select_into",
        "update",
        "delete",
        "merge",
        "alter_table",
        "procedure",
    }
    assert len({case.name for case in CASES}) == len(CASES)


def test_a_wrong_expectation_lowers_the_score() -> None:
    """The scoring sees both a missing and an extra edge (so the floors can fail)."""
    case = next(c for c in CASES if c.name == "update_self_increment")
    wrong = scoring.Case(
        case.name, case.shape, case.kind, case.vendor, frozenset({("t.x", "t.c", "fdd")}), case.sql
    )
    shapes, kinds = scoring.evaluate_cases([wrong])
    assert (shapes["update"].recall, shapes["update"].precision) == (0.0, 0.0)
    assert "update" in scoring.below_floor(shapes)
    lines = scoring.report(shapes, kinds, verbose=True)
    assert "    update_self_increment: missing ('t.x', 't.c', 'fdd')" in lines
    assert lines[-1].startswith("below floor: ") and "update" in lines[-1]


def test_report_lists_every_shape_and_no_floor_breach() -> None:
    """What the script prints: a line per shape, none of them below its floor."""
    lines = scoring.report(SHAPES, KINDS)
    assert all(any(line.startswith(f"  {shape}: cases=") for line in lines) for shape in scoring.FLOORS)
    assert not any(line.startswith("below floor") for line in lines)
