"""CI gate of issue #20 on the real-world-style corpus (`corpora/realworld/<dialect>.sql`): every
lineage-bearing statement keeps its expected outcome, and the error-only, silent and crash
targets hold overall; scored by `engine_scoring` as `benchmarks/engine_fidelity.py --gate` does."""

from __future__ import annotations

import pytest

import sqlflow_assets_tests.engine_scoring as scoring

STATEMENTS = scoring.load_realworld()
TALLIES = scoring.evaluate_realworld(STATEMENTS)
DIALECTS = scoring.REALWORLD_VENDORS


def test_corpus_has_at_least_200_statements_over_the_eleven_dialects() -> None:
    assert len(STATEMENTS) >= 200
    assert set(TALLIES) == set(DIALECTS)
    assert all(tally.statements >= 15 for tally in TALLIES.values())
    assert len({(s.vendor, s.name) for s in STATEMENTS}) == len(STATEMENTS)


def test_targets_hold_overall() -> None:
    total = scoring.realworld_total(TALLIES)
    assert total.error_share <= scoring.ERROR_ONLY_TARGET
    assert total.parsed_error_share <= scoring.PARSED_ERROR_ONLY_TARGET
    assert (total.counts["silent"], total.counts["crash"]) == (0, 0)
    assert scoring.missed_targets(TALLIES) == []


@pytest.mark.parametrize("vendor", DIALECTS)
def test_every_statement_keeps_its_expected_outcome(vendor: str) -> None:
    assert TALLIES[vendor].off == []


def test_the_report_names_a_missed_target() -> None:
    """A silent statement shows in the report and misses the target (so the gate can fail)."""
    silent = scoring.Outcomes()
    silent.add(STATEMENTS[0], "silent", parsed=True)
    silent.add(STATEMENTS[1], "error", parsed=True)
    lines = scoring.realworld_report({"dbvmysql": silent})
    assert lines[-1] == "targets missed: error-only 50.0% > 10%, error-only of parsed 50.0% > 3%, silent 1 > 0"
    assert f"{STATEMENTS[0].name}: expected lineage, got silent" in silent.off
