"""Speed of one large job: N generated statements of every kind the engine handles, analysed
in one analyze() call (fdd+fdr, as the local server runs a job). Target: 10,000 in <= 20 s.

    python benchmarks/engine_job_speed.py [--statements N] [--files K] [--limit SECONDS]

Prints wall-clock and CPU seconds; exits 1 when the CPU time exceeds --limit. The analysis is
single-threaded, so its CPU time is its wall time on an idle core, while the wall time on this
shared 2-core machine also counts the time other processes hold the cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, whatever is installed

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze  # noqa: E402

TABLES = 50  # distinct base tables the statements read and write
# The mix, in order; `{a}`, `{b}` are base tables, `{i}` the statement number, `{c}` the table the
# CREATE TABLE defines (every table once in the first 8 * TABLES statements, so later statements
# resolve their stars and columns against it).
TEMPLATES = (
    "CREATE TABLE stg.t{c} (id INT, k INT, amount DECIMAL(10, 2), label VARCHAR(20))",
    "INSERT INTO mart.f{a} (id, total, n) SELECT x.id, SUM(x.amount * y.k), COUNT(*) "
    "FROM stg.t{a} x JOIN stg.t{b} y ON x.id = y.id WHERE x.label <> 'void' GROUP BY x.id",
    "CREATE TABLE mart.c{i} AS WITH ranked AS (SELECT *, ROW_NUMBER() OVER "
    "(PARTITION BY k ORDER BY amount DESC) AS rn FROM stg.t{a}) "
    "SELECT id, k, CAST(amount AS INT) FROM ranked WHERE rn = 1",
    "CREATE VIEW mart.v{i} AS SELECT id, label FROM stg.t{a} UNION ALL SELECT id, label "
    "FROM stg.t{b} WHERE amount > (SELECT AVG(amount) FROM stg.t{b})",
    "UPDATE stg.t{a} SET amount = s.amount + 1 FROM stg.t{b} s WHERE stg.t{a}.id = s.id",
    "MERGE INTO stg.t{a} t USING stg.t{b} s ON t.id = s.id "
    "WHEN MATCHED THEN UPDATE SET amount = s.amount "
    "WHEN NOT MATCHED THEN INSERT (id, k, amount, label) VALUES (s.id, s.k, s.amount, s.label)",
    "DELETE FROM stg.t{a} WHERE id IN (SELECT id FROM stg.t{b} WHERE k < 0)",
    "SELECT d.k, MAX(d.amount) AS top FROM (SELECT k, amount FROM stg.t{a} WHERE label LIKE 'a%') d "
    "GROUP BY d.k HAVING COUNT(*) > 1",
)


def statements(count: int) -> list[str]:
    return [
        TEMPLATES[i % len(TEMPLATES)].format(
            i=i, a=i % TABLES, b=(i * 7 + 3) % TABLES, c=i // len(TEMPLATES) % TABLES
        )
        + ";"
        for i in range(count)
    ]


def files(count: int, parts: int) -> list[SqlFile]:
    """`count` statements spread over `parts` files of one job."""
    sql = statements(count)
    size = -(-count // parts)
    return [SqlFile(f"part{n}.sql", "\n".join(sql[n * size : (n + 1) * size])) for n in range(parts)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--limit", type=float, default=20.0, help="seconds allowed")
    args = parser.parse_args(argv)
    job = files(args.statements, args.files)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = analyze(job, "dbvpostgresql", AnalysisOptions(show_relation_type=("fdd", "fdr")))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(
        f"statements={args.statements} files={args.files} wall={seconds:.2f}s cpu={cpu:.2f}s "
        f"processes={len(result['processes'])} relationships={len(result['relationships'])} "
        f"errors={len(result['errors'])} limit={args.limit:g}s"
    )
    return 0 if cpu <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
