"""The current graph at warehouse scale: a new version of one source among many costs what that source costs.

Usage: python benchmarks/graph_scale.py [--sources 50] [--relationships 20000] [--depth 10]

Builds a DuckDB warehouse of `--sources` sources, each one job of `--relationships` relationships
(the synthetic export of make_payload.py, each source's tables in a schema of its own), refreshes
the graph whole, then loads a new version (another seed) of one source and times the refresh that
follows, in a fresh process (its wall time and peak RSS). The same is done for a one-source warehouse
of that source's size: the incremental refresh should cost about the same (Must hold: within 2x).
Then the impact query walks `--depth` hops from a busy column over the whole graph, both as the
documented SQL in the warehouse and as `graph.impact` in process (W is the slower).
The last line reads
`graph-scale: incremental X s / one-source Y s = R, peak P MiB, impact depth 10 W s`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def _use(workdir: Path) -> None:
    os.environ.update(SQLFLOW_DUCKDB_PATH=str(workdir / "warehouse.duckdb"), DLT_DATA_DIR=str(workdir / "dlt"), DLT_PROJECT_DIR=str(workdir))


def _details(source: int, version: int) -> dict:
    return {"jobId": f"{source:04d}{version:028x}", "jobName": f"source_{source:02d}", "status": "success", "dbVendor": "dbvoracle",
            "createTime": f"2024-01-{version:02d} 00:00:00"}


def load_sources(workdir: Path, sources: range, relationships: int, version: int) -> None:
    """Analyse each source's export (one in memory at a time) and load the graph's inputs in one run per dataset."""
    from sqlflow_assets import config
    from sqlflow_assets.job import lineage_step
    from sqlflow_assets.job.dlt_source import jobs_resource, per_job_resource
    from sqlflow_assets_tests.fixtures.make_payload import build

    text = json.dumps(build(relationships, seed=41 + version), separators=(",", ":"))

    def jobs():
        for source in sources:
            export = workdir / "export.json"
            export.write_text(text.replace("SCOTT.", f"S{source:02d}."))
            job = lineage_step.analyse(_details(source, version)["jobId"], export)
            yield job.job_id, {name: job.lineage[name] for name in ("objects", "end_to_end_edges")}

    storage = config.storage()
    with contextlib.redirect_stdout(io.StringIO()):  # dlt's progress log
        storage.pipeline().run(jobs_resource(lambda: [_details(s, version) for s in sources]), loader_file_format="parquet").raise_on_failed_jobs()
        storage.lineage_pipeline().run(per_job_resource("lineage_tables", jobs), loader_file_format="parquet").raise_on_failed_jobs()


def refresh_child(workdir: Path) -> None:
    """Child mode: one graph refresh in a fresh process; prints its seconds, peak RSS and what it replaced."""
    _use(workdir)
    from sqlflow_assets import config
    from sqlflow_assets.warehouse import graph

    started = time.perf_counter()
    result = graph.refresh(config.storage())
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"REFRESH {seconds:.3f} {peak} {int(result.rebuilt)} {','.join(result.changed_sources)} {result.row_counts['column_lineage']}")


def refresh(workdir: Path) -> tuple[float, int, bool, str, int]:
    out = subprocess.run([sys.executable, __file__, "--refresh-child", str(workdir)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"refresh failed:\n{out.stderr[-3000:]}")
    line = next(line for line in out.stdout.splitlines() if line.startswith("REFRESH "))
    seconds, peak, rebuilt, changed, rows = line.split()[1:]
    return float(seconds), int(peak), rebuilt == "1", changed, int(rows)


def warehouse(workdir: Path, sources: int, relationships: int, changed: int) -> tuple[float, int]:
    """Build, refresh whole, add a new version of source `changed`; the incremental refresh's (seconds, peak MiB)."""
    _use(workdir)
    started = time.perf_counter()
    load_sources(workdir, range(sources), relationships, version=1)
    print(f"  {sources} source(s) loaded in {time.perf_counter() - started:.1f} s", flush=True)
    seconds, peak, rebuilt, _, rows = refresh(workdir)
    print(f"  full rebuild: {seconds:.2f} s, peak {peak} MiB, {rows} column_lineage rows (rebuilt={rebuilt})", flush=True)
    load_sources(workdir, range(changed, changed + 1), relationships, version=2)
    seconds, peak, rebuilt, replaced, rows = refresh(workdir)
    print(f"  new version of one source: {seconds:.2f} s, peak {peak} MiB, replaced {replaced} (rebuilt={rebuilt}), {rows} rows", flush=True)
    assert not rebuilt and replaced == f"source_{changed:02d}", (rebuilt, replaced)
    return seconds, peak


def impact_seconds(workdir: Path, depth: int) -> float:
    """Seconds of the impact query to `depth` hops from the busiest column, the slower of the documented
    SQL run where the graph is stored (the warehouse's DuckDB file) and `graph.impact` (the CLI's path,
    over the edges read into the process; reading them is not counted)."""
    import duckdb

    from sqlflow_assets.warehouse import graph

    with duckdb.connect(str(workdir / "warehouse.duckdb"), read_only=True) as conn:
        start = conn.execute(
            "SELECT source_object, source_column FROM lineage.column_lineage GROUP BY ALL ORDER BY count(*) DESC, 1, 2 LIMIT 1"
        ).fetchone()
        parameters = {"object": start[0], "column": start[1], "depth": depth}
        started = time.perf_counter()
        stored = len(conn.execute(graph.impact_sql(marker="$"), parameters).fetchall())
        seconds = time.perf_counter() - started
        edges = conn.execute(f"SELECT {', '.join(graph.IMPACT_COLUMNS)} FROM lineage.column_lineage").to_arrow_table()
    started = time.perf_counter()
    reached = graph.impact(edges, start[0], start[1], graph.Direction.DOWNSTREAM, depth).num_rows
    in_process = time.perf_counter() - started
    assert reached == stored, (reached, stored)
    print(f"  impact of {start[0]}.{start[1]} over {edges.num_rows} edges: {reached} columns; documented SQL in the "
          f"warehouse {seconds:.3f} s, graph.impact (the CLI's: walked edges, then the SQL) {in_process:.3f} s", flush=True)
    return max(seconds, in_process)  # the budget holds for both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--relationships", type=int, default=20000)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--refresh-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refresh_child:
        return refresh_child(args.refresh_child)
    with tempfile.TemporaryDirectory(prefix="sqlflow_graph_scale_") as tmp:
        print(f"one-source warehouse of {args.relationships} relationships:", flush=True)
        one, _ = warehouse(Path(tmp) / "one", 1, args.relationships, changed=0)
        print(f"{args.sources} sources x {args.relationships} relationships:", flush=True)
        many, peak = warehouse(Path(tmp) / "many", args.sources, args.relationships, changed=args.sources // 2)
        walk = impact_seconds(Path(tmp) / "many", args.depth)
    print(f"graph-scale: incremental {many:.2f} s / one-source {one:.2f} s = {many / one:.2f}, peak {peak} MiB, "
          f"impact depth {args.depth} {walk:.3f} s")


if __name__ == "__main__":
    main()
