"""Dialect-specific statements and identifier normalisation across dbvendors."""

from __future__ import annotations

import pytest

from sqlflow_assets_tests.support import edges, objects, run

TSQL_UPDATE = "update t set t.a = s.a from t inner join s on t.id = s.id"
MYSQL_UPDATE = "update t1 join t2 on t1.id = t2.id set t1.a = t2.b"
MYSQL_DELETE = "delete t from t join u on t.id = u.id where u.x = 1"


@pytest.mark.parametrize(
    ("vendor", "sql", "expected"),
    [
        (
            "dbvmssql",
            TSQL_UPDATE,
            {("s.a", "t.a", "fdd"), ("s.id", "t.PseudoRows", "fdr"), ("t.id", "t.PseudoRows", "fdr")},
        ),
        (
            "dbvmysql",
            MYSQL_UPDATE,
            {("t2.b", "t1.a", "fdd"), ("t1.id", "t1.PseudoRows", "fdr"), ("t2.id", "t1.PseudoRows", "fdr")},
        ),
        (
            "dbvmysql",
            MYSQL_DELETE,
            {
                ("t.id", "t.PseudoRows", "fdr"),
                ("u.id", "t.PseudoRows", "fdr"),
                ("u.x", "t.PseudoRows", "fdr"),
            },
        ),
        (
            "dbvhive",
            "insert overwrite table t partition (dt='2020') select s.a from s",
            {("s.a", "t.a", "fdd")},
        ),
        (
            "dbvbigquery",
            "create or replace table ds.t as select s.a from `proj.ds.s` s",
            {("proj.ds.s.a", "ds.t.a", "fdd")},
        ),
        (
            "dbvsnowflake",
            "insert into t select s.a from s qualify row_number() over (partition by s.k order by s.ts) = 1",
            {("S.A", "T.A", "fdd"), ("S.K", "T.PseudoRows", "fdr"), ("S.TS", "T.PseudoRows", "fdr")},
        ),
        ("dbvmysql", "create table t2 like t1", {("t1.PseudoRows", "t2.PseudoRows", "fdd")}),
        ("dbvpostgresql", "alter table t1 rename to t2", {("t1.PseudoRows", "t2.PseudoRows", "fdd")}),
    ],
)
def test_dialect_statements(vendor: str, sql: str, expected: set) -> None:
    result = run(sql, vendor=vendor, simple_output=True)
    assert edges(result) == expected
    assert result["errors"] == []


def test_rename_and_like_carry_effect_types() -> None:
    result = run(
        "create table t1 (a int); alter table t1 rename to t2; create table t3 like t2", simple_output=True
    )
    assert {r["effectType"] for r in result["relationships"]} == {"rename_table", "like_table"}
    follow = run(
        "create table t1 (a int, b int); alter table t1 rename to t2; insert into t select * from t2",
        simple_output=True,
    )
    assert {("t2.a", "t.a", "fdd"), ("t2.b", "t.b", "fdd")} <= edges(follow)


@pytest.mark.parametrize(
    ("vendor", "sql", "expected"),
    [
        (
            "dbvmssql",
            "insert into [dbo].[T] ([A]) select [s].[B] from dbo.S as s",
            {("dbo.s.b", "dbo.t.a", "fdd")},
        ),
        ("dbvmysql", "insert into `db`.`t` (a) select s.b from db.s as s", {("db.s.b", "db.t.a", "fdd")}),
        ("dbvoracle", 'insert into "T" (a) select S.b from s', {("S.B", "T.A", "fdd")}),
        ("dbvpostgresql", 'insert into "T" (a) select S.b from s', {("s.b", "T.a", "fdd")}),
    ],
)
def test_quoting_and_case_normalised_per_dialect(vendor: str, sql: str, expected: set) -> None:
    assert edges(run(sql, vendor=vendor, simple_output=True)) == expected


def test_table_functions_feed_the_columns_read_from_them() -> None:
    presto = run("select u.x from t, unnest(t.arr) as u(x)", vendor="dbvpresto", ignore_record_set=True)
    assert edges(presto) == {("t.arr", "RS-1.x", "fdd")}
    snowflake = run(
        "select f.value:a::string as a from t, lateral flatten(input => t.j) f",
        vendor="dbvsnowflake",
        ignore_record_set=True,
    )
    assert edges(snowflake) == {("T.J", "RS-1.A", "fdd")}


def test_bind_variables_and_hints_do_not_disturb_lineage() -> None:
    oracle = run("select s.a from s where s.b = :x and s.c = ?", vendor="dbvoracle", ignore_record_set=True)
    assert edges(oracle) == {
        ("S.A", "RS-1.A", "fdd"),
        ("S.B", "RS-1.PseudoRows", "fdr"),
        ("S.C", "RS-1.PseudoRows", "fdr"),
    }
    tsql = run(
        "select top 10 s.a from s with (nolock) where s.b like 'x%'",
        vendor="dbvmssql",
        ignore_record_set=True,
    )
    assert edges(tsql) == {("s.a", "RS-1.a", "fdd"), ("s.b", "RS-1.PseudoRows", "fdr")}


def test_star_from_metadata_and_from_earlier_create_table() -> None:
    metadata = {"s": {"a": "int", "b": "int"}}
    assert edges(run("insert into t select * from s", metadata=metadata, simple_output=True)) == {
        ("s.a", "t.a", "fdd"),
        ("s.b", "t.b", "fdd"),
    }
    sql = "create table s (a int, b int); insert into t select x.* from s x join u on x.a = u.a"
    assert edges(run(sql, simple_output=True)) == {
        ("s.a", "t.a", "fdd"),
        ("s.b", "t.b", "fdd"),
        ("s.a", "t.PseudoRows", "fdr"),
        ("u.a", "t.PseudoRows", "fdr"),
    }


def test_pseudo_columns_read_no_table_and_connect_by_is_fdr() -> None:
    sql = "select t.a, rownum r, level from t start with t.pid is null connect by prior t.id = t.pid"
    result = run(sql, vendor="dbvoracle", ignore_record_set=True)
    assert edges(result) == {
        ("T.A", "RS-1.A", "fdd"),
        ("T.ID", "RS-1.PseudoRows", "fdr"),
        ("T.PID", "RS-1.PseudoRows", "fdr"),
    }
    assert result["errors"] == []
    bigquery = run(
        "select t.a from t where _PARTITIONTIME > '2020'", vendor="dbvbigquery", ignore_record_set=True
    )
    assert edges(bigquery) == {("t.a", "RS-1.a", "fdd")}


def test_insert_into_a_directory_is_the_lineage_of_its_query() -> None:
    """Files written by `INSERT OVERWRITE DIRECTORY` are no table: the query's result set (issue #20)."""
    result = run("insert overwrite directory '/tmp/x' select s.a from s", vendor="dbvhive", ignore_record_set=True)
    assert edges(result) == {("s.a", "RS-1.a", "fdd")}
    assert result["errors"] == []


def test_tsql_go_batches_and_temp_tables() -> None:
    sql = (
        "DECLARE @d DATE = GETDATE();\n"
        "SELECT o.id, o.amount INTO #big FROM sales.orders o WHERE o.amount > 100;\n"
        "GO\n"
        "INSERT INTO dbo.report (id, amt)\n"
        "SELECT b.id, SUM(b.amount) FROM #big b GROUP BY b.id\n"
        "  go  \n"
        "IF OBJECT_ID('tempdb..#big') IS NOT NULL DROP TABLE #big;\n"
    )
    result = run(sql, vendor="dbvmssql", simple_output=True)
    assert edges(result) == {
        ("sales.orders.id", "#big.id", "fdd"),
        ("sales.orders.amount", "#big.amount", "fdd"),
        ("sales.orders.amount", "#big.PseudoRows", "fdr"),
        ("#big.id", "dbo.report.id", "fdd"),
        ("#big.amount", "dbo.report.amt", "fdd"),
        ("#big.id", "dbo.report.amt", "fdr"),
    }
    assert result["errors"] == []
    insert = next(p for p in result["processes"] if p["type"] == "sstinsert")
    assert [(c["x"], c["y"]) for c in insert["coordinates"]] == [(4, 1), (5, 53)]


def test_plsql_procedure_with_is_and_sqlplus_slash() -> None:
    sql = (
        "CREATE OR REPLACE PROCEDURE load_emp IS\n"
        "BEGIN\n"
        "  INSERT INTO emp_hist (empno, sal) SELECT e.empno, e.sal FROM emp e WHERE e.deptno = 10;\n"
        "  COMMIT;\n"
        "END;\n"
        "/\n"
        "INSERT INTO t2 SELECT x.a FROM x\n"
        "/\n"
    )
    result = run(sql, vendor="dbvoracle", simple_output=True)
    assert edges(result) == {
        ("EMP.EMPNO", "EMP_HIST.EMPNO", "fdd"),
        ("EMP.SAL", "EMP_HIST.SAL", "fdd"),
        ("EMP.DEPTNO", "EMP_HIST.PseudoRows", "fdr"),
        ("X.A", "T2.A", "fdd"),
    }
    assert result["errors"] == []
    assert [p["procedureName"] for p in result["processes"]] == ["load_emp", "batchQueries"]


def test_unparsed_procedure_is_reported_and_its_block_analysed_statement_by_statement() -> None:
    sql = "CREATE PROCEDURE p IS\n  v NUMBER;\nBEGIN\n  INSERT INTO t SELECT s.a FROM s;\nEND;"
    result = run(sql, vendor="dbvoracle", simple_output=True)
    assert edges(result) == {("S.A", "T.A", "fdd")}
    # the header and its declarations run on to the body (issue #20): the body's statements are
    # analysed under the routine's name, the unparsed header is a warning at its own position
    assert [(e["errorType"], e["coordinates"][0]["x"]) for e in result["errors"]] == [
        ("SyntaxWarning", 1),
    ]
    assert [p["procedureName"] for p in result["processes"]] == ["p"]


@pytest.mark.parametrize("vendor", ["dbvpostgresql", "dbvmysql", "dbvoracle"])
def test_division_on_its_own_line_stays_a_division(vendor: str) -> None:
    sql = "select t.a\n  /\n  t.b as r from t"
    result = run(sql, vendor=vendor, ignore_record_set=True)
    assert {(s.split(".")[-1].lower(), d.split(".")[-1].lower()) for s, d, _ in edges(result)} == {
        ("a", "r"),
        ("b", "r"),
    }
    assert result["errors"] == []


def test_go_is_a_column_outside_tsql() -> None:
    result = run("select\n  go\nfrom t", vendor="dbvpostgresql", ignore_record_set=True)
    assert edges(result) == {("t.go", "RS-1.go", "fdd")}


def test_table_valued_functions_are_function_objects_fed_by_their_arguments() -> None:
    sql = "insert into z select g.x, t.k from t, generate_series(1, t.n) as g(x)"
    result = run(sql)
    assert objects(result)["generate_series"]["type"] == "function"
    assert ("t.n", "generate_series.x", "fdd") in edges(result)
    assert edges(run(sql, simple_output=True)) == {("t.k", "z.k", "fdd"), ("t.n", "z.x", "fdd")}
    oracle = run("select x.column_value from t, table(f(t.b)) x", vendor="dbvoracle", ignore_record_set=True)
    assert edges(oracle) == {("T.B", "RS-1.COLUMN_VALUE", "fdd")}
    assert run("select * from rows from (generate_series(1, 3)) as t(a)")["errors"] == []
