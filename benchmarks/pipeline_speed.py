"""Speed and memory of the whole path: one job's lineage and the current graph, ours vs the docs' baseline, in one run.

Usage: python benchmarks/pipeline_speed.py [N_RELATIONSHIPS ...] [--shared ../shared] [--ours-only N ...]
       python benchmarks/pipeline_speed.py --guard [N]   (CI: ours only, fails when the graph refresh costs more than the job's step)

Both sides fetch the same synthetic exportLineageAsJson (the project's copy of the shared
make_payload.py) from a loopback server. The baseline is ../shared/bench/seed_pipeline.py as the
dlt docs write it (rest_api, insert_values, relationships only). Ours is measured two ways, each in
its own process (peak RSS is that process's own):
  * in-process, stage by stage (seconds and the stage's peak RSS, sampled every 5 ms): fetch, parse,
    flatten, checks, load (`lineage_step.analyse` is parse + flatten + checks, `lineage_step.load`
    the load), the graph refresh that follows (`graph.refresh`), and the pictures and metadata of the
    job and of the warehouse (`glance`); "step" is fetch to load, the per-job step;
  * whole process: a cold interpreter that loads the code location, evaluates the sensor against the
    jobs list, materialises the run it requests (in-process executor) and then the graph, as the
    automation sensor would, timed from outside (wall, peak RSS); the baseline's whole process is
    timed the same way.
`--guard` measures ours in-process only and exits 1 when the graph refresh takes longer than the
per-job step of the same run: a ratio of two figures from one process, so machine noise cannot flip
it, while a graph plan that multiplies rows (the old one: 20 GiB at 100k) fails it at any size.
"""

from __future__ import annotations

import argparse
import contextlib
import io
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
result = dg.materialize([assets.lineage_graph], instance=instance, resources=default_resources())
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


class Stages:
    """Seconds and peak RSS (MiB) per named stage of this process; RSS sampled every 5 ms by a thread."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, int]] = []
        self._peak = 0
        self._page = os.sysconf("SC_PAGE_SIZE")
        threading.Thread(target=self._sample, daemon=True).start()

    def _rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self._page // 2**20

    def _sample(self) -> None:
        while True:
            self._peak = max(self._peak, self._rss())
            time.sleep(0.005)

    @contextmanager
    def stage(self, name: str):
        self._peak = self._rss()
        started = time.perf_counter()
        yield
        self.rows.append((name, time.perf_counter() - started, max(self._peak, self._rss())))


def ours_in_process(port: int, workdir: Path) -> None:
    """Child mode: one job then the graph, in-process, printing each stage's seconds and peak RSS."""
    os.environ.update(SQLFLOW_DUCKDB_PATH=str(workdir / "ours.duckdb"), DLT_DATA_DIR=str(workdir / "dlt"))
    from sqlflow_assets import config
    from sqlflow_assets.api.client import SQLFlowClient
    from sqlflow_assets.config import SQLFlowConnection
    from sqlflow_assets.job import flatten, lineage_step, quality
    from sqlflow_assets.job.lineage_json import read_lineage_file
    from sqlflow_assets.render import glance
    from sqlflow_assets.warehouse import graph

    stages = Stages()
    storage = config.storage()
    details = {"jobId": JOB_ID, "jobName": "bench", "status": "success", "dbVendor": "dbvoracle", "createTime": "2024-01-01 00:00:00"}
    with stages.stage("fetch"):
        client = SQLFlowClient(SQLFlowConnection(base_url=f"http://127.0.0.1:{port}", user_id="bench", token="bench"))
        export = client.export_lineage_json_file(JOB_ID, workdir / "export.json")
    # lineage_step.analyse, stage by stage
    with stages.stage("parse"):
        raw = read_lineage_file(export, JOB_ID)
    with contextlib.ExitStack() as stack:
        with stages.stage("flatten"):
            conn = stack.enter_context(flatten.flattened(raw, JOB_ID))
            lineage = flatten.lineage_tables(conn)
        with stages.stage("checks"):
            checks = quality.run_checks(conn, JOB_ID)
    job = lineage_step.JobLineage(JOB_ID, raw.as_dict(), lineage, checks, details)
    with stages.stage("load"), contextlib.redirect_stdout(io.StringIO()):
        lineage_step.load(job, storage)
    with stages.stage("graph refresh"), contextlib.redirect_stdout(io.StringIO()):
        refreshed = graph.refresh(storage)
    with stages.stage("pictures and metadata"):
        glance.job_glance("bench", job.lineage)
        glance.warehouse_picture(graph.read_table(storage.lineage_pipeline().dataset(), "table_lineage", columns=glance.TABLE_GRAPH_COLUMNS))
    for name, seconds, peak in stages.rows:
        print(f"STAGE {name.replace(' ', '_')} {seconds:.3f} {peak}")
    print(f"EDGES {job.lineage['column_edges'].num_rows} {refreshed.row_counts['column_lineage']}")


STEP = ("fetch", "parse", "flatten", "checks", "load")


def ours_stages(port: int, workdir: Path, env: dict[str, str]) -> tuple[dict[str, tuple[float, int]], int, str]:
    """{stage: (seconds, peak MiB)} of the in-process child, its whole peak RSS, and its edge counts."""
    _, rss, out = measured([sys.executable, __file__, "--child", str(port), str(workdir)], env)
    stages = {name.replace("_", " "): (float(seconds), int(peak))
              for name, seconds, peak in re.findall(r"STAGE (\S+) ([\d.]+) (\d+)", out)}
    return stages, rss, re.search(r"EDGES (\d+ \d+)", out).group(1)


def generate_payload(size: int, payload: Path) -> None:
    """The synthetic export, made in a child process that streams it to `payload`: building the 1M
    export in memory takes about 5 GB, which must be gone before anything is measured."""
    script = REPO / "sqlflow_assets_tests" / "fixtures" / "make_payload.py"
    out = subprocess.run([sys.executable, str(script), str(size), str(payload)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"make_payload.py {size} failed:\n{out.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="sizes run by both sides (default: 10000 100000)")
    parser.add_argument("--ours-only", nargs="*", type=int, default=[], help="sizes the baseline cannot run (1M)")
    parser.add_argument("--guard", action="store_true", help="ours in-process only (default size 20000); exit 1 when graph refresh > step")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return ours_in_process(int(args.child[0]), Path(args.child[1]))
    if args.guard:
        args.ours_only, args.sizes = [*args.sizes, *args.ours_only] or [20000], []
    elif not args.sizes and not args.ours_only:
        args.sizes = [10000, 100000]

    failed = []
    print(f"{'relationships':>13} {'side':>28} {'wall_s':>8} {'peak_MiB':>9} {'speed-up':>9} {'RSS':>6}")
    for size in [*args.sizes, *args.ours_only]:
        with tempfile.TemporaryDirectory(prefix="sqlflow_pipeline_bench_") as tmp:
            workdir = Path(tmp)
            payload = workdir / f"payload_{size}.json"
            generate_payload(size, payload)
            env = {**os.environ, "DLT_DATA_DIR": str(workdir / "dlt"), "SQLFLOW_DUCKDB_PATH": str(workdir / "whole.duckdb"),
                   "DLT_PROJECT_DIR": str(workdir), "SOURCES__SQLFLOW__USER_ID": "bench", "SOURCES__SQLFLOW__TOKEN": "bench"}
            with sqlflow_peer(payload) as port:
                env["SOURCES__SQLFLOW__BASE_URL"] = f"http://127.0.0.1:{port}"
                rows: list[tuple[str, float, int, str]] = []  # (side, seconds, peak MiB, baseline side to compare with)
                if size not in args.ours_only:
                    wall, rss, out = measured([sys.executable, str(args.shared / "bench" / "seed_pipeline.py"), str(port)], env)
                    inside = float(re.search(r"total_s=([\d.]+)", out).group(1))
                    rows += [("baseline in-process", inside, rss, ""), ("baseline whole process", wall, rss, "")]
                stages, rss, edges = ours_stages(port, workdir, env)
                rows += [(f"ours: {name}", seconds, peak, "") for name, (seconds, peak) in stages.items()]
                step = sum(stages[name][0] for name in STEP)
                graph_seconds = stages["graph refresh"][0]
                rows.append(("ours step (fetch..load)", step, max(stages[name][1] for name in STEP), "baseline in-process"))
                rows.append(("ours in-process, all stages", sum(seconds for seconds, _ in stages.values()), rss, "baseline in-process"))
                if not args.guard:
                    wall, rss, _ = measured([sys.executable, "-c", WHOLE_PROCESS], env)
                    rows.append(("ours whole process + graph", wall, rss, "baseline whole process"))
            base = {side: (seconds, rss) for side, seconds, rss, _ in rows if side.startswith("baseline")}
            for side, seconds, rss, against in rows:
                ratio = f"{base[against][0] / seconds:.1f}x" if against in base else ""
                memory = f"{rss / base[against][1]:.2f}" if against in base else ""
                print(f"{size:>13} {side:>28} {seconds:>8.2f} {rss:>9} {ratio:>9} {memory:>6}", flush=True)
            print(f"{size:>13} {'graph refresh / step':>28} {graph_seconds / step:>8.2f} {'':>9} {'':>9}   edges (job, graph): {edges}", flush=True)
            print(f"{size:>13} {'pictures and metadata / step':>28} {stages['pictures and metadata'][0] / step:>8.2f}", flush=True)
            if graph_seconds > step:
                failed.append(f"{size}: graph refresh {graph_seconds:.2f} s > per-job step {step:.2f} s")
    if args.guard and failed:
        raise SystemExit("pipeline guard failed: " + "; ".join(failed))
    print("pipeline guard: graph refresh within the per-job step" if args.guard else "", flush=True)


if __name__ == "__main__":
    main()
