"""Hand-checked end-to-end lineage per statement kind (docs/sqlflow-format.md §5, §8 semantics)."""

from __future__ import annotations

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze
from sqlflow_assets_tests.support import edges, objects, run


def test_update_set_from() -> None:
    result = run("update t set a = u.b from u where t.id = u.id", simple_output=True)
    assert edges(result) == {
        ("u.b", "t.a", "fdd"),
        ("t.id", "t.PseudoRows", "fdr"),
        ("u.id", "t.PseudoRows", "fdr"),
    }
    assert {r["effectType"] for r in result["relationships"]} == {"update"}
    assert [p["type"] for p in result["processes"]] == ["sstupdate"]


def test_update_keeps_update_set_intermediate() -> None:
    result = run("update t set a = t.a + 1 where t.b > 0")
    assert objects(result)["UPDATE-SET-1"]["type"] == "update-set"
    assert edges(result) == {
        ("t.a", "UPDATE-SET-1.a", "fdd"),
        ("t.b", "UPDATE-SET-1.PseudoRows", "fdr"),
        ("UPDATE-SET-1.a", "t.a", "fdd"),
        ("UPDATE-SET-1.PseudoRows", "t.PseudoRows", "fdr"),
    }


def test_merge_matched_and_not_matched_branches() -> None:
    sql = (
        "merge into t using s on t.id = s.id "
        "when matched and s.del = 0 then update set a = s.a "
        "when not matched then insert (id, b) values (s.id, s.b)"
    )
    result = run(sql, simple_output=True)
    assert edges(result) == {
        ("s.a", "t.a", "fdd"),
        ("s.id", "t.id", "fdd"),
        ("s.b", "t.b", "fdd"),
        ("s.del", "t.PseudoRows", "fdr"),
        ("s.id", "t.PseudoRows", "fdr"),
        ("t.id", "t.PseudoRows", "fdr"),
    }
    effects = {
        (r["target"]["column"], r["effectType"]) for r in result["relationships"] if r["type"] == "fdd"
    }
    assert effects == {("a", "merge_update"), ("id", "merge_insert"), ("b", "merge_insert")}
    both = run(
        "merge into t using s on t.id = s.id when matched then update set a = s.a "
        "when not matched then insert (a) values (s.a)",
        simple_output=True,
        show_relation_type=("fdd",),
    )
    assert sorted(r["effectType"] for r in both["relationships"]) == ["merge_insert", "merge_update"]
    full = objects(run(sql))
    assert full["MERGE-UPDATE-1"]["type"] == "merge-update"
    assert full["MERGE-INSERT-1"]["type"] == "merge-insert"


def test_delete_where_is_fdr_into_target_rows() -> None:
    result = run("delete from t where t.a in (select u.a from u where u.ok = 1)")
    assert edges(result) == {
        ("t.a", "t.PseudoRows", "fdr"),
        ("RS-1.a", "t.PseudoRows", "fdr"),
        ("RS-1.PseudoRows", "t.PseudoRows", "fdr"),
        ("u.a", "RS-1.a", "fdd"),
        ("u.ok", "RS-1.PseudoRows", "fdr"),
    }
    assert {r.get("effectType") for r in result["relationships"] if r["target"]["parentName"] == "t"} == {
        "delete",
        None,
    }


def test_union_intersect_except_by_position() -> None:
    sql = "select s.a from s union select u.b from u intersect select w.c from w except select v.d from v"
    assert edges(run(sql, ignore_record_set=True)) == {
        ("s.a", "RS-1.a", "fdd"),
        ("u.b", "RS-1.a", "fdd"),
        ("w.c", "RS-1.a", "fdd"),
        ("v.d", "RS-1.a", "fdd"),
    }
    full = objects(run("select s.a from s union all (select u.b from u union select w.c from w)"))
    assert full["RESULT_OF_UNION-1"]["type"] == "select_union"


def test_recursive_cte() -> None:
    sql = (
        "with recursive r as (select s.n from s where s.root union all "
        "select r.n + 1 from r where r.n < 5) insert into t select r.n from r"
    )
    result = run(sql, simple_output=True)
    assert edges(result) == {
        ("s.n", "t.n", "fdd"),
        ("s.root", "t.PseudoRows", "fdr"),
        ("s.n", "t.PseudoRows", "fdr"),
    }
    assert "cte-r-1" in objects(run(sql))


def test_correlated_scalar_and_exists_subqueries() -> None:
    sql = (
        "select s.a, (select max(u.b) from u where u.id = s.id) m "
        "from s where exists (select 1 from w where w.k = s.k)"
    )
    assert edges(run(sql, ignore_record_set=True)) == {
        ("s.a", "RS-1.a", "fdd"),
        ("u.b", "RS-1.m", "fdd"),
        ("u.id", "RS-1.m", "fdr"),
        ("s.id", "RS-1.m", "fdr"),
        ("w.k", "RS-1.PseudoRows", "fdr"),
        ("s.k", "RS-1.PseudoRows", "fdr"),
    }


def test_window_partition_and_order_are_fdr() -> None:
    sql = "select rank() over (partition by s.g order by s.o) r, sum(s.v) over (partition by s.g) sv from s"
    result = run(sql, ignore_record_set=True)
    assert edges(result) == {
        ("s.g", "RS-1.r", "fdr"),
        ("s.o", "RS-1.r", "fdr"),
        ("s.g", "RS-1.sv", "fdr"),
        ("s.v", "RS-1.sv", "fdd"),
    }
    assert {
        s.get("clauseType") for r in result["relationships"] if r["type"] == "fdr" for s in r["sources"]
    } == {"windowFunction"}


def test_case_and_function_nodes() -> None:
    result = run("select case when s.x > 0 then s.a else s.b end as c, current_date as d from s")
    assert edges(result) == {
        ("s.x", "RS-1.c", "fdd"),
        ("s.a", "RS-1.c", "fdd"),
        ("s.b", "RS-1.c", "fdd"),
        ("current_date.current_date", "RS-1.d", "fdd"),
    }
    assert {(r["target"]["column"], r.get("function")) for r in result["relationships"]} == {
        ("c", "case-when"),
        ("d", "current_date"),
    }
    assert objects(result)["current_date"]["type"] == "function"


def test_group_by_and_having_into_aggregate_column() -> None:
    sql = "insert into t select s.k, count(*) c from s group by s.k having sum(s.v) > 10"
    result = run(sql, simple_output=True)
    assert edges(result) == {
        ("s.k", "t.k", "fdd"),
        ("s.k", "t.c", "fdr"),
        ("s.v", "t.c", "fdr"),
        ("s.PseudoRows", "t.c", "fdr"),
        ("s.v", "t.PseudoRows", "fdr"),
    }
    clauses = {(s["column"], s.get("clauseType")) for r in result["relationships"] for s in r["sources"]}
    assert {("k", "groupBy"), ("v", "having")} <= clauses


def test_oracle_insert_first_branches() -> None:
    sql = (
        "insert first when x > 1 then into t1 (a) values (x) "
        "else into t2 (b) values (y) select s.x, s.y from s"
    )
    assert edges(run(sql, vendor="dbvoracle", simple_output=True)) == {
        ("S.X", "T1.A", "fdd"),
        ("S.X", "T1.PseudoRows", "fdr"),
        ("S.Y", "T2.B", "fdd"),
    }


def test_select_into_temp_table_read_by_later_file() -> None:
    files = [
        SqlFile("a.sql", "select s.a, s.b into #tmp from s"),
        SqlFile("b.sql", "insert into t select * from #tmp"),
    ]
    result = analyze(files, "dbvmssql", AnalysisOptions(simple_output=True))
    assert edges(result) == {
        ("s.a", "#tmp.a", "fdd"),
        ("s.b", "#tmp.b", "fdd"),
        ("#tmp.a", "t.a", "fdd"),
        ("#tmp.b", "t.b", "fdd"),
    }
    assert result["errors"] == []


def test_procedure_body_statements_are_analysed_and_commands_reported() -> None:
    sql = (
        "create procedure load_t as begin\n"
        "  if exists (select 1 from x) begin insert into t select s.a from s; end\n"
        "  update t set a = 1;\n"
        "end;\n"
        "insert into t2 select s2.b from s2"
    )
    result = run(sql, vendor="dbvmssql", simple_output=True)
    assert {("s.a", "t.a", "fdd"), ("s2.b", "t2.b", "fdd")} <= edges(result)
    procedures = {p["name"]: p["procedureName"] for p in result["processes"]}
    assert procedures["Query Insert-1"] == "load_t"
    assert procedures["Query Insert-2"] == "batchQueries"
    # what sqlglot cannot parse is a warning at its own position (issue #20): the routine header
    # and the IF condition around the inner block
    assert [(e["errorType"], e["coordinates"][0]["x"], e["coordinates"][0]["y"]) for e in result["errors"]] == [
        ("SyntaxWarning", 1, 1),
        ("SyntaxWarning", 2, 3),
    ]


def test_function_names_as_written() -> None:
    result = run("select Nvl(t.a, 0) a2, sum(t.b) s, CAST(t.e AS int) e from t group by t.a, t.e")
    assert {
        (r["target"]["column"], r.get("function")) for r in result["relationships"] if r["type"] == "fdd"
    } == {
        ("a2", "Nvl"),
        ("s", "sum"),
        ("e", "cast"),
    }
