"""Fidelity of the local lineage engine on the SQL people actually write (GitHub issue #10).

Runs the hand-written corpus `sqlflow_assets_tests/local/corpora/fidelity/cases.sql`: each case
names its shape, statement kind and dbvendor and lists the exact end-to-end edges expected
(ignoreRecordSet, fdd and fdr). Prints recall and precision per shape and per statement kind;
exits 1 when a shape falls below its floor in FLOORS. The scoring and FLOORS are
`sqlflow_assets_tests/engine_scoring.py`, shared with the CI gate
`sqlflow_assets_tests/local/test_engine_fidelity.py`.

    python benchmarks/engine_fidelity.py [--cases PATH] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, whatever is installed

from sqlflow_assets_tests.engine_scoring import (  # noqa: E402
    DEFAULT_CASES,
    below_floor,
    evaluate_cases,
    load_cases,
    report,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--verbose", action="store_true", help="print every missing / extra edge")
    args = parser.parse_args(argv)
    shapes, kinds = evaluate_cases(load_cases(args.cases))
    print(*report(shapes, kinds, args.verbose), sep="\n")
    return 1 if below_floor(shapes) else 0


if __name__ == "__main__":
    sys.exit(main())
