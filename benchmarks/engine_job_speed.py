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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the engine of this checkout, whatever is installed

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze  # noqa: E402

TABLES = 50  # distinct base tables the statements read and write


def create(i: int) -> str:
    table = i // len(KINDS) % TABLES  # every table once in the first 8 * TABLES statements
    return f"CREATE TABLE stg.t{table} (id INT, k INT, amount DECIMAL(10, 2), label VARCHAR(20))"


def insert(i: int) -> str:
    a, b = i % TABLES, (i + 1) % TABLES
    return (
        f"INSERT INTO mart.f{a} (id, total, n) SELECT x.id, SUM(x.amount * y.k), COUNT(*) "
        f"FROM stg.t{a} x JOIN stg.t{b} y ON x.id = y.id WHERE x.label <> 'void' GROUP BY x.id"
    )


def ctas(i: int) -> str:
    a = i % TABLES
    return (
        f"CREATE TABLE mart.c{i} AS WITH ranked AS (SELECT *, ROW_NUMBER() OVER "
        f"(PARTITION BY k ORDER BY amount DESC) AS rn FROM stg.t{a}) "
        f"SELECT id, k, CAST(amount AS INT) FROM ranked WHERE rn = 1"
    )


def view(i: int) -> str:
    a, b = i % TABLES, (i + 7) % TABLES
    return (
        f"CREATE VIEW mart.v{i} AS SELECT id, label FROM stg.t{a} "
        f"UNION ALL SELECT id, label FROM stg.t{b} WHERE amount > (SELECT AVG(amount) FROM stg.t{b})"
    )


def update(i: int) -> str:
    a, b = i % TABLES, (i + 3) % TABLES
    return f"UPDATE stg.t{a} SET amount = s.amount + 1 FROM stg.t{b} s WHERE stg.t{a}.id = s.id"


def merge(i: int) -> str:
    a, b = i % TABLES, (i + 5) % TABLES
    return (
        f"MERGE INTO stg.t{a} t USING stg.t{b} s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET amount = s.amount "
        "WHEN NOT MATCHED THEN INSERT (id, k, amount, label) VALUES (s.id, s.k, s.amount, s.label)"
    )


def delete(i: int) -> str:
    a = i % TABLES
    return f"DELETE FROM stg.t{a} WHERE id IN (SELECT id FROM stg.t{(a + 9) % TABLES} WHERE k < 0)"


def select(i: int) -> str:
    a = i % TABLES
    return (
        f"SELECT d.k, MAX(d.amount) AS top FROM (SELECT k, amount FROM stg.t{a} WHERE label LIKE 'a%') d "
        "GROUP BY d.k HAVING COUNT(*) > 1"
    )


# The mix, in order: CREATE TABLE first so later statements resolve their stars and columns.
KINDS: tuple[Callable[[int], str], ...] = (create, insert, ctas, view, update, merge, delete, select)


def statements(count: int) -> list[str]:
    return [KINDS[i % len(KINDS)](i) + ";" for i in range(count)]


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
