"""Speed of the local lineage engine (fdd+fdr) vs sqlglot.lineage all-columns mode on TPC-DS 99.

Both run on the same input queries with schema.json as schema, in the same process.

    python benchmarks/engine_speed.py [--corpora PATH] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlglot.lineage import lineage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sqlflow_assets_tests.engine_scoring import DEFAULT_CORPORA, Query, load_corpus, run_engine  # noqa: E402


def timed(queries: list[Query], run: Callable[[Query], object], repeat: int) -> list[float]:
    """Best-of-`repeat` seconds per query."""
    best = []
    for query in queries:
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            run(query)
            samples.append(time.perf_counter() - started)
        best.append(min(samples))
    return best


def describe(name: str, seconds: list[float]) -> str:
    return (
        f"{name}: total={sum(seconds):.3f}s median={statistics.median(seconds) * 1000:.2f}ms "
        f"max={max(seconds) * 1000:.2f}ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    queries, schema = load_corpus(args.corpora, "tpcds", "tpc-ds.sql")
    engine = timed(queries, lambda q: run_engine(q, schema), args.repeat)
    reference = timed(queries, lambda q: lineage(None, q.sql, schema=schema), args.repeat)
    print(describe("engine (fdd+fdr)", engine))
    print(describe("sqlglot.lineage(None, ...)", reference))
    print(f"ratio engine/sqlglot = {sum(engine) / sum(reference):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
