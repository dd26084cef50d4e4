"""Impact analysis speed: `graph.impact` (the walked edges, then the documented SQL in DuckDB) on a 1M-edge graph.

Usage: python benchmarks/impact_speed.py [--edges N] [--depth D] [--repeat R]

The graph is layered like a warehouse: tables in 20 layers, each column feeding two random
columns of the next layer (so a column's downstream grows by hops, as lineage does), about N
column edges in all. The baseline, in the same run, is a breadth-first walk in plain Python over
an adjacency dict built beforehand (its build time excluded); the budget is 1 s per query.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sqlflow_assets.warehouse import graph  # noqa: E402

LAYERS = 20
COLUMNS_PER_TABLE = 10


def layered_graph(edges: int, seed: int = 7) -> pa.Table:
    rng = random.Random(seed)
    per_layer = edges // (2 * (LAYERS - 1))
    sources, source_columns, targets, target_columns = [], [], [], []
    for layer in range(LAYERS - 1):
        for node in range(per_layer):
            for _ in range(2):
                target = rng.randrange(per_layer)
                sources.append(f"db.l{layer}.t{node // COLUMNS_PER_TABLE}")
                source_columns.append(f"c{node % COLUMNS_PER_TABLE}")
                targets.append(f"db.l{layer + 1}.t{target // COLUMNS_PER_TABLE}")
                target_columns.append(f"c{target % COLUMNS_PER_TABLE}")
    kinds = [rng.choice(("fdd", "fdd", "fdd", "fdr")) for _ in sources]
    return pa.table({
        "source_object": sources, "source_column": source_columns, "target_object": targets,
        "target_column": target_columns, "relationship_type": kinds, "job_id": ["bench"] * len(sources),
    })


def python_bfs(adjacency: dict, start: tuple[str, str], depth: int) -> int:
    seen = {start: 0}
    frontier = [start]
    for hop in range(1, depth + 1):
        frontier = [n for node in frontier for n in adjacency[node] if n not in seen]
        for node in frontier:
            seen.setdefault(node, hop)
    return len(seen) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = layered_graph(args.edges)
    began = time.perf_counter()
    adjacency = defaultdict(list)
    for s, sc, t, tc in zip(*(table.column(c).to_pylist() for c in ("source_object", "source_column", "target_object", "target_column")), strict=True):
        adjacency[(s, sc)].append((t, tc))
    build = time.perf_counter() - began
    starts = [("db.l0.t0", "c0"), ("db.l0.t1", "c3"), ("db.l5.t7", "c1")]
    ours, baseline, reached = [], [], []
    for _ in range(args.repeat):
        for start in starts:
            began = time.perf_counter()
            result = graph.impact(table, start[0], start[1], graph.Direction.DOWNSTREAM, args.depth)
            ours.append(time.perf_counter() - began)
            began = time.perf_counter()
            count = python_bfs(adjacency, start, args.depth)
            baseline.append(time.perf_counter() - began)
            assert result.num_rows == count, (result.num_rows, count)
            reached.append(count)
    ours_median, base_median = statistics.median(ours), statistics.median(baseline)
    print(f"graph: {table.num_rows} edges, depth {args.depth}, columns reached per query: {min(reached)}-{max(reached)}")
    print(f"graph.impact (walked edges + documented SQL): median {ours_median:.3f} s, max {max(ours):.3f} s  -> {ours_median / 1.0:.2f} of the 1 s budget")
    print(f"baseline (Python BFS, adjacency prebuilt in {build:.2f} s): median {base_median:.4f} s per query; "
          f"ours/baseline {ours_median / base_median:.0f}x per query, {ours_median / (base_median + build):.2f}x with its build")


if __name__ == "__main__":
    main()
