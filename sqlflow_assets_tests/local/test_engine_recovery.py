"""Partial recovery (issue #20): of a statement sqlglot cannot parse whole, the lineage-bearing
core is analysed and the rest is a warning; coordinates stay 1-based line/column of the file."""

from __future__ import annotations

from sqlflow_assets_tests.support import edges, run


def starts(items: list[dict]) -> list[tuple[int, int, int, int]]:
    return [
        (i["coordinates"][0]["x"], i["coordinates"][0]["y"], i["coordinates"][1]["x"], i["coordinates"][1]["y"])
        for i in items
    ]


def test_event_body_is_analysed_and_its_header_is_a_positioned_warning() -> None:
    sql = (
        "SELECT 1;\n"
        "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY\n"
        "DO BEGIN\n"
        "    INSERT INTO t (a) SELECT a FROM s;\n"
        "END;\n"
    )
    result = run(sql, vendor="dbvmysql", simple_output=True)
    assert edges(result) == {("s.a", "t.a", "fdd")}
    process = next(p for p in result["processes"] if p["type"] == "sstinsert")
    assert starts([process]) == [(4, 5, 4, 38)]
    assert process["procedureName"] == "ev"
    assert [e["errorType"] for e in result["errors"]] == ["SyntaxWarning"]
    assert starts(result["errors"]) == [(2, 1, 3, 3)]
    assert "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DO" in result["errors"][0]["errorMessage"]


def test_core_of_an_unknown_wrapper_keeps_its_own_position() -> None:
    sql = "-- load\nCREATE TRIGGER trg AFTER INSERT ON s FOR EACH ROW\n  INSERT INTO t (a) SELECT a FROM u WHERE u.id = NEW.id;"
    result = run(sql, vendor="dbvmysql", simple_output=True)
    assert edges(result) == {("u.a", "t.a", "fdd"), ("u.id", "t.PseudoRows", "fdr")}
    assert starts([p for p in result["processes"]]) == [(3, 3, 3, 56)]
    assert starts(result["errors"]) == [(2, 1, 2, 50)]
    assert [e["errorType"] for e in result["errors"]] == ["SyntaxWarning"]
    # with nothing lineage-bearing inside, the wrapper stays an error
    result = run("CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DO CALL purge()", vendor="dbvmysql")
    assert [e["errorType"] for e in result["errors"]] == ["UnsupportedStatement"]


def test_plsql_routine_with_declarations_is_split_into_its_statements() -> None:
    sql = (
        "CREATE OR REPLACE PROCEDURE load_p IS\n"
        "  r t%ROWTYPE;\n"
        "BEGIN\n"
        "  FOR c IN (SELECT id FROM s) LOOP\n"
        "    INSERT INTO t (id) SELECT id FROM u;\n"
        "  END LOOP;\n"
        "  UPDATE t SET v = (SELECT MAX(v) FROM u);\n"
        "END;\n"
        "/\n"
        "INSERT INTO z SELECT a FROM y;\n"
    )
    result = run(sql, vendor="dbvoracle", simple_output=True)
    assert {("U.ID", "T.ID", "fdd"), ("U.V", "T.V", "fdd"), ("Y.A", "Z.A", "fdd")} <= edges(result)
    processes = [(p["procedureName"], p["coordinates"][0]["x"], p["coordinates"][0]["y"]) for p in result["processes"]]
    assert processes == [("load_p", 4, 13), ("load_p", 5, 5), ("load_p", 7, 3), ("batchQueries", 10, 1)]
    assert all(e["errorType"] == "SyntaxWarning" for e in result["errors"])
    assert starts(result["errors"])[0][:2] == (1, 1)


def test_tsql_try_catch_blocks_are_split() -> None:
    sql = (
        "CREATE PROCEDURE dbo.p AS\nBEGIN\n  BEGIN TRY\n"
        "    INSERT INTO dbo.t (a) SELECT a FROM dbo.s;\n  END TRY\n"
        "  BEGIN CATCH\n    INSERT INTO dbo.err (m) SELECT ERROR_MESSAGE();\n  END CATCH\nEND;"
    )
    result = run(sql, vendor="dbvmssql", simple_output=True)
    assert ("dbo.s.a", "dbo.t.a", "fdd") in edges(result)
    assert next((p["procedureName"], p["coordinates"][0]["x"]) for p in result["processes"]) == ("p", 4)
