"""Load speed and memory: one job's lineage through our product vs the docs' baseline, in one run.

Usage: python benchmarks/pipeline_speed.py [N_RELATIONSHIPS ...] [--shared ../shared] [--ours-only N ...]

Both sides fetch the same synthetic exportLineageAsJson (the project's copy of the shared
make_payload.py) from a loopback server. The baseline is ../shared/bench/seed_pipeline.py as the
dlt docs write it (rest_api, insert_values, relationships only). Ours is measured two ways, each in
its own process (peak RSS is that process's own):
  * in-process: fetch, parse, flatten, check and load raw + lineage into a temp DuckDB file
    (`lineage_step.analyse` + `lineage_step.load`), timed inside the process;
  * whole process: a cold interpreter that loads the code location, evaluates the sensor against the
    jobs list, and materialises the run it requests (in-process executor), timed from outside;
    the baseline's whole process is timed the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

JOB_ID = "0123456789abcdef0123456789abcdef"

WHOLE_PROCESS = """
import dagster as dg
from sqlflow_assets.definitions import defs
from sqlflow_assets.defs import assets
from sqlflow_assets.defs import sensors
from sqlflow_assets.defs.resources import default_resources
instance = dg.DagsterInstance.ephemeral()
context = dg.build_sensor_context(instance=instance, resources=default_resources())
tick = sensors.sqlflow_job_sensor(context)
for request in tick.dynamic_partitions_requests:
    instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
[run] = [request for request in tick.run_requests if request.partition_key]
result = dg.materialize([assets.sqlflow_job_lineage], partition_key=run.partition_key, instance=instance, resources=default_resources())
assert result.success
"""


@contextmanager
def sqlflow_peer(payload: Path):
    """A loopback SQLFlow: a token, a jobs list with one completed job, and its export (the file's bytes)."""
    export = payload.read_bytes()
    token = json.dumps({"code": 200, "token": "bench-token"}).encode()
    jobs = json.dumps({"code": 200, "data": {"jobDetails": [{"jobId": JOB_ID, "jobName": "bench", "status": "success"}]}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            body = token if self.path.endswith("generateToken") else jobs if self.path.endswith(("JobsSummary", "JobSummary")) else export
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def measured(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS MiB, stdout) of `command` run as a child of a fresh measuring process."""
    probe = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "out = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stderr.write(out.stderr); out.check_returncode(); print(out.stdout); "
        "print('MEASURED', time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"{command[:3]} failed:\n{out.stderr[-3000:]}")
    wall, rss = re.search(r"MEASURED ([\d.]+) (\d+)", out.stdout).groups()
    return float(wall), int(rss), out.stdout


def ours_in_process(port: int, workdir: Path) -> None:
    """Child mode: one job, in-process, printing its own seconds."""
    os.environ.update(SQLFLOW_DUCKDB_PATH=str(workdir / "ours.duckdb"), DLT_DATA_DIR=str(workdir / "dlt"))
    from sqlflow_assets import config
    from sqlflow_assets.job import lineage_step
    from sqlflow_assets.api.client import SQLFlowClient
    from sqlflow_assets.config import SQLFlowConnection

    started = time.perf_counter()
    client = SQLFlowClient(SQLFlowConnection(base_url=f"http://127.0.0.1:{port}", user_id="bench", token="bench"))
    job = lineage_step.analyse(JOB_ID, client.export_lineage_json_file(JOB_ID, workdir / "export.json"))
    analysed = time.perf_counter()
    lineage_step.load(job, config.storage())
    print(f"OURS {time.perf_counter() - started} {analysed - started} {job.lineage['column_edges'].num_rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="sizes run by both sides (default: 10000 100000)")
    parser.add_argument("--ours-only", nargs="*", type=int, default=[], help="sizes the baseline cannot run (1M)")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return ours_in_process(int(args.child[0]), Path(args.child[1]))
    from sqlflow_assets_tests.fixtures import generated_payload

    if not args.sizes and not args.ours_only:
        args.sizes = [10000, 100000]

    print(f"{'relationships':>13} {'side':>22} {'wall_s':>8} {'peak_MiB':>9} {'speed-up':>9}")
    for size in [*args.sizes, *args.ours_only]:
        with tempfile.TemporaryDirectory(prefix="sqlflow_pipeline_bench_") as tmp:
            workdir = Path(tmp)
            payload = workdir / f"payload_{size}.json"
            generated_payload(size, workdir)
            env = {**os.environ, "DLT_DATA_DIR": str(workdir / "dlt"), "SQLFLOW_DUCKDB_PATH": str(workdir / "whole.duckdb"),
                   "DLT_PROJECT_DIR": str(workdir), "SOURCES__SQLFLOW__USER_ID": "bench", "SOURCES__SQLFLOW__TOKEN": "bench"}
            with sqlflow_peer(payload) as port:
                env["SOURCES__SQLFLOW__BASE_URL"] = f"http://127.0.0.1:{port}"
                rows = []
                if size not in args.ours_only:
                    wall, rss, out = measured([sys.executable, str(args.shared / "bench" / "seed_pipeline.py"), str(port)], env)
                    inside = float(re.search(r"total_s=([\d.]+)", out).group(1))
                    rows += [("baseline in-process", inside, rss), ("baseline whole process", wall, rss)]
                _, rss, out = measured([sys.executable, __file__, "--child", str(port), str(workdir)], env)
                total, analysed, edges = out.split("OURS ")[1].split()[:3]
                rows.append(("ours in-process", float(total), rss))
                wall, rss, _ = measured([sys.executable, "-c", WHOLE_PROCESS], env)
                rows.append(("ours whole process", wall, rss))
            base = {kind: seconds for kind, seconds, _ in rows if kind.startswith("baseline")}
            for side, seconds, rss in rows:
                against = base.get(side.replace("ours", "baseline"))
                ratio = f"{against / seconds:.1f}x" if against and side.startswith("ours") else ""
                print(f"{size:>13} {side:>22} {seconds:>8.2f} {rss:>9} {ratio:>9}", flush=True)
            print(f"{size:>13} {'(ours: analyse / edges)':>22} {float(analysed):>8.2f} {edges:>9}", flush=True)


if __name__ == "__main__":
    main()
