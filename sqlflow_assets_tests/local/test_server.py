"""End-to-end tests of `sqlflow-local serve` over HTTP (the real subprocess from conftest's `local_server`).

The helpers at the top (`Api`, `threaded_server`) are shared with the other server tests.
"""

from __future__ import annotations

import re

import jwt
import pytest
import requests

from sqlflow_assets.domain import JOB_NAME_MAX_CHARS
from sqlflow_assets.local.exports import CSV_HEADER
from sqlflow_assets_tests.support import (
    BAD_SQL,
    GEN_PATH,
    GOOD_SQL,
    JOB_PATH,
    NEXT_SQL,
    Api,
    csv_rows,
    drawn_edges,
    drawn_tables,
    require_dot,
    zipped,
)
from sqlflow_assets_tests.support import sqlflow_edges as edges


@pytest.fixture(scope="module")
def api(local_server) -> Api:
    return Api(local_server.base_url, local_server.user_id, local_server.secret_key)


def test_healthz(local_server) -> None:
    assert requests.get(f"{local_server.base_url}/healthz", timeout=5).status_code == 200


def test_token_is_a_gudusoft_jwt_for_the_user(api: Api) -> None:
    claims = jwt.decode(api.token, options={"verify_signature": False}, audience="gudusoft")
    assert claims["sub"] == api.user_id
    assert claims["exp"] - claims["iat"] == 86400


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"token": "not-a-jwt"}, "invalid token"),
        ({"token": ""}, "required"),
        (
            {
                "token": jwt.encode(
                    {"sub": "tester|1", "aud": "gudusoft", "exp": 2**40}, "another-signing-key-of-32-bytes!!"
                )
            },
            "invalid token",
        ),
    ],
)
def test_bad_tokens_are_refused(api: Api, fields: dict[str, str], message: str) -> None:
    body = api.post(GEN_PATH, {"sqltext": GOOD_SQL, **fields}, auth=False).json()
    assert body["code"] == 401 and message in body["error"]


def test_wrong_secret_gets_no_token(api: Api) -> None:
    body = api.post("/gspLive_backend/user/generateToken", {"secretKey": "wrong"}, auth=False).json()
    assert body["code"] != "200" and "token" not in body and "secretKey" in body["error"]


def test_token_of_another_user_id_is_refused(api: Api) -> None:
    body = requests.post(
        api.base_url + GEN_PATH, data={"userId": "intruder|2", "token": api.token, "sqltext": GOOD_SQL}, timeout=10
    ).json()
    assert body["code"] == 401


def test_generation_returns_column_lineage(api: Api) -> None:
    body = api.call(GEN_PATH, {"dbvendor": "dbvpostgresql", "sqltext": GOOD_SQL, "simpleOutput": "True"})
    assert body["code"] == 200 and "error" not in body
    assert re.fullmatch(r"[0-9a-f]{64}_\d{13}", body["sessionId"])
    data = body["data"]
    assert data["mode"] == "global" and data["graph"] == {} and data["summary"]
    assert {("orders", "id", "stg_orders", "order_id"), ("orders", "amount", "stg_orders", "total")} <= edges(
        data["sqlflow"]
    )


def test_graph_endpoint_under_api_prefix_with_query_params_and_sqlfile(api: Api) -> None:
    token = api.token
    response = requests.post(
        f"{api.base_url}/api{GEN_PATH}/graph",
        params={
            "userId": api.user_id,
            "token": token,
            "dbvendor": "DBVPOSTGRESQL",
            "showRelationType": "FDD,fdr",
            "simpleOutput": "true",
        },
        files={"sqlfile": ("q.sql", GOOD_SQL.encode())},
        timeout=30,
    )
    body = response.json()
    assert body["code"] == 200
    assert ("orders", "amount", "stg_orders", "total") in edges(body["data"]["sqlflow"])


def test_bad_sql_answers_203_with_errors(api: Api) -> None:
    body = api.call(GEN_PATH, {"dbvendor": "dbvpostgresql", "sqltext": BAD_SQL})
    assert body["code"] == 203
    assert body["data"]["sqlflow"]["errors"]
    assert body["error"] == "\r\n".join(e["errorMessage"] for e in body["data"]["sqlflow"]["errors"])


def test_unknown_vendor_is_named(api: Api) -> None:
    body = api.call(GEN_PATH, {"dbvendor": "dbvnosuchdb", "sqltext": GOOD_SQL})
    assert body["code"] == 400 and "dbvnosuchdb" in body["error"]


def test_missing_sql_is_an_error(api: Api) -> None:
    body = api.call(GEN_PATH, {"dbvendor": "dbvpostgresql"})
    assert body["code"] == 400 and "sqltext" in body["error"]


def test_generation_csv_exports_full_and_end_to_end(api: Api) -> None:
    def pairs(path: str) -> set[tuple[str, str, str, str]]:
        text = api.post(f"{GEN_PATH}/{path}", {"dbvendor": "dbvpostgresql", "sqltext": GOOD_SQL}).text
        assert text.splitlines()[0] == ",".join(CSV_HEADER)
        return {
            (
                r["source_table"].lower(),
                r["source_column"].lower(),
                r["target_table"].lower(),
                r["target_column"].lower(),
            )
            for r in csv_rows(text)
        }

    full, simple = pairs("exportFullLineageAsCsv"), pairs("exportLineageAsCsv")
    assert {
        ("orders", "amount", "insert-select-1", "amount"),
        ("insert-select-1", "amount", "stg_orders", "total"),
    } <= full
    assert ("orders", "amount", "stg_orders", "total") in simple
    assert not any("insert-select" in row[0] + row[2] for row in simple)


def test_generation_csv_delimiter_and_table_to_table(api: Api) -> None:
    fields = {"dbvendor": "dbvpostgresql", "sqltext": GOOD_SQL, "delimiter": ";", "tableToTable": "TRUE"}
    text = api.post(f"{GEN_PATH}/exportLineageAsCsv", fields).text
    assert text.splitlines()[0] == ";".join(CSV_HEADER)
    rows = csv_rows(text, ";")
    assert {(r["source_table"].lower(), r["target_table"].lower()) for r in rows} >= {("orders", "stg_orders")}
    assert all(r["source_column"] == "" and r["target_column"] == "" for r in rows)
    assert len(rows) == len({tuple(r.values()) for r in rows})


def test_graph_image_is_svg_naming_the_tables(api: Api) -> None:
    response = api.post(f"{GEN_PATH}/graph/image", {"dbvendor": "dbvpostgresql", "sqltext": GOOD_SQL + "\n" + NEXT_SQL})
    assert response.headers["content-type"].startswith("image/svg+xml")
    require_dot()
    assert {"orders", "stg_orders", "mart_orders"} <= {name.lower() for name in drawn_tables(response.text)}
    assert drawn_edges(response.text) >= 2


def test_job_life_cycle_and_exports(api: Api) -> None:
    submitted = api.submit([("a.sql", GOOD_SQL), ("b.sql", NEXT_SQL)], defaultSchema="public", simpleOutput="true")
    job = submitted["data"]
    assert submitted["code"] == 200 and job["status"] == "create"
    assert re.fullmatch(r"[0-9a-f]{32}", job["jobId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", job["createTime"])
    assert (job["dbVendor"], job["dataSource"], job["defaultSchema"], job["fileNames"]) == (
        "dbvpostgresql", {}, "public", ["a.sql", "b.sql"],
    )  # fmt: skip
    done = api.wait(job["jobId"])
    assert done["status"] == "success" and done["sessionId"]

    export = api.call(f"{JOB_PATH}/exportLineageAsJson", {"jobId": job["jobId"], "tableToTable": "false"})
    assert (export["jobId"], export["code"], export["sessionId"]) == (job["jobId"], 200, done["sessionId"])
    assert {"mode", "summary", "sqlflow", "graph"} <= export["data"].keys()
    assert ("stg_orders", "total", "mart_orders", "total") in edges(export["data"]["sqlflow"])

    full = api.call(f"{JOB_PATH}/exportFullLineageAsJson")  # no jobId: the caller's latest job
    assert full["jobId"] == job["jobId"]
    tables = api.call(f"{JOB_PATH}/exportLineageAsJson", {"jobId": job["jobId"], "tableToTable": "true"})
    table_pairs = {(source, target) for source, _, target, _ in edges(tables["data"]["sqlflow"])}
    assert table_pairs == {("orders", "stg_orders"), ("stg_orders", "mart_orders")}

    for path in ("exportFullLineageAsCsv", "exportLineageAsCsv"):
        rows = csv_rows(api.post(f"{JOB_PATH}/{path}", {"jobId": job["jobId"], "delimiter": "|"}).text, "|")
        assert {(r["source_table"].lower(), r["target_table"].lower()) for r in rows} >= {
            ("orders", "stg_orders"),
            ("stg_orders", "mart_orders"),
        }

    deleted = api.call(f"{JOB_PATH}/deleteUserJob", {"jobId": job["jobId"]})
    assert deleted["data"]["status"] == "delete"
    gone = api.call(f"{JOB_PATH}/displayUserJobSummary", {"jobId": job["jobId"]})
    assert gone["code"] == 400 and job["jobId"] in gone["error"]


def test_job_with_some_bad_sql_is_a_partial_success(api: Api) -> None:
    job = api.run_job([("good.sql", GOOD_SQL), ("bad.sql", BAD_SQL)])
    assert job["status"] == "partial_success"
    export = api.call(f"{JOB_PATH}/exportLineageAsJson", {"jobId": job["jobId"]})
    assert export["code"] == 203 and export["data"]["sqlflow"]["errors"]


def test_job_with_only_bad_sql_fails_with_message(api: Api) -> None:
    job = api.run_job([("bad.sql", BAD_SQL)])
    assert job["status"] == "fail" and job["errorMessage"]
    refused = api.call(f"{JOB_PATH}/exportLineageAsJson", {"jobId": job["jobId"]})
    assert refused["code"] == 400 and "failed" in refused["error"]


def test_zip_upload_is_expanded(api: Api) -> None:
    archive = zipped({"etl/a.sql": GOOD_SQL, "etl/b.sql": NEXT_SQL, "__MACOSX/._a.sql": "junk"})
    job = api.run_job([("etl.zip", archive)])
    assert job["status"] == "success" and job["fileNames"] == ["etl/a.sql", "etl/b.sql"]


def test_persist_job_adds_files(api: Api) -> None:
    first = api.submit([("a.sql", GOOD_SQL)], kind="submitPersistJob")["data"]
    api.wait(first["jobId"])
    again = api.submit([("b.sql", NEXT_SQL)], kind="submitPersistJob", jobId=first["jobId"], incremental="true")["data"]
    assert again["jobId"] == first["jobId"] and again["fileNames"] == ["a.sql", "b.sql"]
    assert api.wait(first["jobId"])["status"] == "success"
    export = api.call(f"{JOB_PATH}/exportLineageAsJson", {"jobId": first["jobId"], "simpleOutput": "true"})
    assert ("stg_orders", "total", "mart_orders", "total") in edges(export["data"]["sqlflow"])


def test_job_errors(api: Api) -> None:
    unknown = api.call(f"{JOB_PATH}/displayUserJobSummary", {"jobId": "0" * 32})
    assert unknown["code"] == 400 and "unknown jobId" in unknown["error"]
    bad_vendor = api.submit([("a.sql", GOOD_SQL)], dbvendor="dbvfoo")
    assert bad_vendor["code"] == 400 and "dbvfoo" in bad_vendor["error"]
    no_files = api.call(f"{JOB_PATH}/submitUserJob", {"jobName": "x", "dbvendor": "dbvpostgresql"})
    assert no_files["code"] == 400 and "sqlfiles" in no_files["error"]


def test_a_job_name_over_the_limit_is_refused_and_creates_no_job(api: Api) -> None:
    """Issue #16 point 4: a 10 MB jobName was stored and copied into every tag; now it is refused."""
    before = len(api.call(f"{JOB_PATH}/displayUserJobsSummary")["data"]["jobDetails"])
    for name in ("n" * (JOB_NAME_MAX_CHARS + 1), "x" * 10_000_000):
        refused = api.submit([("a.sql", GOOD_SQL)], jobName=name)
        assert refused["code"] == 400 and "jobName" in refused["error"] and str(JOB_NAME_MAX_CHARS) in refused["error"]
        assert len(refused["error"]) < 200  # the name is not echoed back
    assert len(api.call(f"{JOB_PATH}/displayUserJobsSummary")["data"]["jobDetails"]) == before
    accepted = api.submit([("a.sql", GOOD_SQL)], jobName="é" * JOB_NAME_MAX_CHARS)  # the limit counts characters
    assert accepted["code"] == 200 and accepted["data"]["jobName"] == "é" * JOB_NAME_MAX_CHARS
