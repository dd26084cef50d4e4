"""CI gate: the hand-written fidelity corpus of issue #10 (benchmarks/engine_fidelity.py)."""

from __future__ import annotations

import pytest

from sqlflow_assets_tests.support import load_benchmark

bench = load_benchmark("engine_fidelity")
CASES = bench.load_cases(bench.DEFAULT_CASES)
SHAPES, KINDS = bench.evaluate(CASES)


@pytest.mark.parametrize("shape", sorted(bench.FLOORS))
def test_shape_meets_its_floor(shape: str) -> None:
    recall, precision = bench.FLOORS[shape]
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
    wrong = bench.Case(
        case.name, case.shape, case.kind, case.vendor, frozenset({("t.x", "t.c", "fdd")}), case.sql
    )
    shapes, _ = bench.evaluate([wrong])
    assert (shapes["update"].recall, shapes["update"].precision) == (0.0, 0.0)
    assert "update" in bench.below_floor(shapes)


def test_main_prints_every_shape_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    assert all(f"  {shape}: cases=" in out for shape in bench.FLOORS)
