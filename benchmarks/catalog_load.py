"""Cost of the warehouse tables as assets when the code location loads. Target: 5,000 tables at most 2x none.

    python benchmarks/catalog_load.py [--tables N] [--columns C] [--repeat R] [--limit RATIO]

A synthetic current graph of N tables in 50 schemas (each table C columns, each column fed by a
column of one to three upstream tables, so 2-3 upstream tables per table) goes through the graph
step's own code (`table_catalog.build_snapshot`, `table_catalog.save_snapshot`) into a temp dlt data folder.
Then the code location is loaded R times in fresh processes, alternately without a snapshot (the
pipeline assets alone) and with it, each as a code server loads it: import `sqlflow_assets.definitions`
(`load_from_defs_folder`) and resolve every definition (`load_all_definitions`). The medians of the
time inside the process (imports included) and of the whole process (interpreter start included)
are printed with their ratios. `--serve` also times, once each, what a code server then builds and
serialises for the webserver and the daemon (`RepositorySnap`), outside the ratio.

Exits 1 when the in-process ratio exceeds --limit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's code, whatever is installed
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import pyarrow as pa  # noqa: E402

from sqlflow_assets.config import Storage  # noqa: E402
from sqlflow_assets.warehouse import table_catalog  # noqa: E402

CHILD = """
import json, sys, time
started = time.perf_counter()
from sqlflow_assets.definitions import defs
repository = defs.get_repository_def()
repository.load_all_definitions()
loaded = time.perf_counter() - started
report = {"seconds": loaded}
if "--serve" in sys.argv:
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster_shared.serdes import serialize_value
    started = time.perf_counter()
    report["served_bytes"] = len(serialize_value(RepositorySnap.from_def(repository)))
    report["serve_seconds"] = time.perf_counter() - started
keys = repository.asset_graph.get_all_asset_keys()
print(json.dumps(report | {"assets": len(keys), "warehouse": sum(k.path[0] == "warehouse" for k in keys)}))
"""


def synthetic_graph(tables: int, columns: int) -> dict[str, pa.Table]:
    """`graph.refresh`'s three tables for a warehouse of `tables` tables (table i reads from up to 3 earlier ones)."""
    names = [f"wh.schema_{n % 50}.table_{n}" for n in range(tables)]
    edges: dict[str, list] = {name: [] for name in (
        "source_object", "source_column", "target_object", "target_column", "transformation_type", "transformation_subtype", "job_id",
    )}  # fmt: skip
    pairs = set()
    for n, target in enumerate(names):
        upstream = [names[n - step] for step in (1, 7, 31) if n - step >= 0]
        for c in range(columns):
            if not upstream:
                break
            source = upstream[c % len(upstream)]
            for name, value in (("source_object", source), ("source_column", f"col_{c}"), ("target_object", target),
                                ("target_column", f"col_{c}"), ("transformation_type", "DIRECT"),
                                ("transformation_subtype", "IDENTITY"), ("job_id", f"job_{n % 100}")):  # fmt: skip
                edges[name].append(value)
            pairs.add((source, target))
    current = pa.table({
        "source": [f"source_{j}" for j in range(100)], "job_id": [f"job_{j}" for j in range(100)],
        "job_name": [f"source_{j}" for j in range(100)], "db_vendor": ["dbvsnowflake"] * 100,
    })  # fmt: skip
    ordered = sorted(pairs)
    table_lineage = pa.table({"source_object": [s for s, _ in ordered], "target_object": [t for _, t in ordered]})
    return {"current_jobs": current, "column_lineage": pa.table(edges), "table_lineage": table_lineage}


def load_once(env: dict[str, str], serve: bool = False) -> tuple[float, float, dict]:
    started = time.perf_counter()
    command = [sys.executable, "-c", CHILD, *(["--serve"] if serve else [])]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"loading the code location failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.splitlines()[-1])
    return report["seconds"], wall, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=5000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=2.0)
    parser.add_argument("--serve", action="store_true", help="also time the repository snapshot a code server serves (once each)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="catalog_load_") as folder:
        root = Path(folder)
        database = str(root / "sqlflow.duckdb")
        base = {**os.environ, "PYTHONPATH": str(REPO), "DLT_PROJECT_DIR": str(root), "SQLFLOW_DUCKDB_PATH": database,
                "DAGSTER_HOME": str(root)}  # fmt: skip
        without = {**base, "DLT_DATA_DIR": str(root / "without")}
        with_tables = {**base, "DLT_DATA_DIR": str(root / "with")}
        os.environ["DLT_DATA_DIR"] = with_tables["DLT_DATA_DIR"]
        (root / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        from sqlflow_assets import config

        snapshot = table_catalog.build_snapshot(synthetic_graph(args.tables, args.columns), {}, table_catalog.destination_label(Storage("duckdb", database)))
        path = config.catalog_snapshot_path()
        table_catalog.save_snapshot(snapshot, path)
        edges = sum(len(deps) for table in snapshot["tables"].values() for deps in table["lineage"].values())
        print(f"snapshot: {len(snapshot['tables'])} tables, {edges} column edges, {path.stat().st_size / 1e6:.1f} MB")

        inside: dict[str, list[float]] = {"none": [], "with": []}
        whole: dict[str, list[float]] = {"none": [], "with": []}
        for _ in range(args.repeat):
            for label, env in (("none", without), ("with", with_tables)):
                seconds, wall, report = load_once(env)
                inside[label].append(seconds)
                whole[label].append(wall)
                print(f"  {label:>4}: {seconds:6.2f} s in process, {wall:6.2f} s whole process, {report['assets']} assets "
                      f"({report['warehouse']} warehouse)", flush=True)  # fmt: skip
        served = {}
        if args.serve:
            for label, env in (("none", without), ("with", with_tables)):
                served[label] = load_once(env, serve=True)[2]
    none_in, with_in = statistics.median(inside["none"]), statistics.median(inside["with"])
    none_whole, with_whole = statistics.median(whole["none"]), statistics.median(whole["with"])
    ratio = with_in / none_in
    print(f"no warehouse tables:   {none_in:.2f} s in process, {none_whole:.2f} s whole process (median of {args.repeat})")
    print(f"{args.tables} warehouse tables: {with_in:.2f} s in process, {with_whole:.2f} s whole process")
    print(f"ratio: {ratio:.2f}x in process, {with_whole / none_whole:.2f}x whole process (limit {args.limit}x)")
    for label, report in served.items():
        print(f"serving ({label}): the repository snapshot a code server sends the webserver and the daemon on each fetch: "
              f"{report['served_bytes'] / 1e6:.1f} MB built and serialised in {report['serve_seconds']:.2f} s (not in the ratio)")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
