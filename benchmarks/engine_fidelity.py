"""Fidelity of the local lineage engine on the SQL people actually write (issues #10 and #20).

Two corpora, scored by `sqlflow_assets_tests/engine_scoring.py` (shared with the CI gates
`sqlflow_assets_tests/local/test_engine_fidelity.py` and `test_engine_realworld.py`):

* the per-shape corpus `sqlflow_assets_tests/local/corpora/fidelity/cases.sql`: each case names
  its shape, statement kind and dbvendor and lists the exact end-to-end edges expected
  (ignoreRecordSet, fdd and fdr); recall and precision per shape and per statement kind, each shape
  held to its floor in FLOORS;
* the real-world-style corpus `sqlflow_assets_tests/local/corpora/realworld/<dialect>.sql`: 200+
  lineage-bearing statements over eleven dialects, each analysed alone; per dialect the share of
  statements that come back with an error and no lineage (error-only; target <= 10 % overall), the
  same among the statements sqlglot parses whole (target <= 3 %), silent ones (no lineage, no
  error, no warning; target 0) and crashes (target 0), and statements off their expected outcome.

Exits 1 when a shape is below its floor or a target is missed. `--gate` (for CI, a few seconds)
prints only the summary lines and the misses.

    python benchmarks/engine_fidelity.py [--gate] [--verbose] [--cases PATH] [--realworld DIR]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, whatever is installed

from sqlflow_assets_tests.engine_scoring import (  # noqa: E402
    DEFAULT_CASES,
    REALWORLD_DIR,
    below_floor,
    evaluate_cases,
    evaluate_realworld,
    load_cases,
    load_realworld,
    missed_targets,
    realworld_report,
    report,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--realworld", type=Path, default=REALWORLD_DIR)
    parser.add_argument("--verbose", action="store_true", help="print every missing / extra edge and outcome")
    parser.add_argument("--gate", action="store_true", help="CI mode: summary lines and misses only")
    args = parser.parse_args(argv)
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # sqlglot's per-statement fallback notices
    started = time.perf_counter()
    shapes, kinds = evaluate_cases(load_cases(args.cases))
    tallies = evaluate_realworld(load_realworld(args.realworld))
    shape_lines = report(shapes, kinds, args.verbose)
    world_lines = realworld_report(tallies, args.verbose)
    if args.gate:
        shape_lines = [line for line in shape_lines if line.startswith("below floor")] or [
            f"per-shape corpus: {len(shapes)} shapes at their floor"
        ]
        world_lines = [line for line in world_lines if "overall" in line or line.startswith(("targets", "    "))]
    print(*shape_lines, *world_lines, sep="\n")
    failed = bool(below_floor(shapes) or missed_targets(tallies))
    print(f"{'FAILED' if failed else 'ok'} in {time.perf_counter() - started:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
