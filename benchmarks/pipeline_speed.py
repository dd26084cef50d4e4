"""Load speed: our dlt source (Arrow → parquet) + flattening vs the docs' baseline, in one run.

Usage: python benchmarks/pipeline_speed.py [N_RELATIONSHIPS ...] [--shared ../shared]

Both sides fetch the same synthetic exportLineageAsJson payload (../shared/bench/make_payload.py)
from the same loopback server (../shared/bench/serve.py). The baseline is
../shared/bench/seed_pipeline.py run as the docs write it (rest_api, insert_values); ours is the
`sqlflow` source with a fresh pipeline into a temp DuckDB file, then `flatten.build_all`.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import dlt  # noqa: E402
import duckdb  # noqa: E402

from sqlflow_assets import flatten  # noqa: E402
from sqlflow_assets.client import SQLFlowClient  # noqa: E402
from sqlflow_assets.lineage_json import TABLE_NAMES  # noqa: E402
from sqlflow_assets.source import sqlflow_source  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(shared: Path, payload: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, str(shared / "bench" / "serve.py"), str(port), str(payload)], stdout=subprocess.PIPE)
    server.stdout.readline()  # "serving ..." once listening
    return server, port


def baseline_seconds(shared: Path, port: int) -> float:
    """Total extract+normalize+load seconds that the baseline script prints for itself."""
    out = subprocess.run(
        [sys.executable, str(shared / "bench" / "seed_pipeline.py"), str(port)], capture_output=True, text=True, check=True
    ).stdout
    return float(re.search(r"total_s=([\d.]+)", out).group(1))


def ours_seconds(port: int, workdir: Path) -> tuple[float, float, int]:
    """(load seconds, flatten seconds, column edges) for one job through our source and flattening."""
    db = workdir / "bench.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="sqlflow_bench",
        pipelines_dir=str(workdir / "pipelines"),
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="sqlflow_raw",
    )
    client = SQLFlowClient(base_url=f"http://127.0.0.1:{port}", user_id="bench", token="bench")
    started = time.perf_counter()
    pipeline.run(sqlflow_source(job_id="bench", client=client).with_resources(*TABLE_NAMES), loader_file_format="parquet").raise_on_failed_jobs()
    loaded = time.perf_counter()
    with duckdb.connect(str(db)) as conn:
        edges = flatten.build_all(conn, "bench")["column_edges"]
    return loaded - started, time.perf_counter() - loaded, edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    print(f"{'relationships':>13} {'baseline_s':>10} {'ours_load_s':>11} {'flatten_s':>9} {'speedup_load':>12} {'speedup_total':>13} {'edges':>8}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="sqlflow_pipeline_bench_") as tmp:
            workdir = Path(tmp)
            payload = workdir / f"payload_{size}.json"
            subprocess.run([sys.executable, str(args.shared / "bench" / "make_payload.py"), str(size), str(payload)], check=True, capture_output=True)
            server, port = serve(args.shared, payload)
            try:
                baseline = baseline_seconds(args.shared, port)
                load, flat, edges = ours_seconds(port, workdir)
            finally:
                server.terminate()
        print(f"{size:>13} {baseline:>10.2f} {load:>11.2f} {flat:>9.2f} {baseline / load:>11.1f}x {baseline / (load + flat):>12.1f}x {edges:>8}")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
