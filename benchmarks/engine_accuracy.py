"""Accuracy of the local lineage engine against the TPC-H / TPC-DS truth (committed corpora).

For each corpus query (the INPUT of each fixture pair, with schema.json as table metadata) the
engine output is collapsed to end-to-end edges (ignoreRecordSet keeps the top-level result set):
  * fdd: (output column, base table, base column) compared to truth `columns[i].sources`;
  * fdr: base columns with an fdr edge into the result set compared to truth `filter_columns`.
The scoring is `sqlflow_assets_tests/engine_scoring.py`, shared with the CI gate
`sqlflow_assets_tests/local/test_engine_accuracy.py`.

    python benchmarks/engine_accuracy.py [--corpora PATH] [--subset]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, whatever is installed

from sqlflow_assets_tests.engine_scoring import DEFAULT_CORPORA, SUBSET, score_corpora  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--subset", action="store_true", help=f"first {SUBSET} queries per corpus")
    parser.add_argument("--verbose", action="store_true", help="print per-query differences")
    args = parser.parse_args(argv)
    for line in score_corpora(args.corpora, SUBSET if args.subset else None, args.verbose):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
