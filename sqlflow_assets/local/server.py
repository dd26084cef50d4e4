"""FastAPI app of the local SQLFlow-compatible server (docs/sqlflow-api.md).

Errors: like the real API, app-level errors come back as HTTP 200 with a JSON envelope
`{"code": <int>, "error": "<message>"}`, because every official client checks `code`, not the
HTTP status. Codes: 400 bad request (missing field, unknown dbvendor, unknown or unfinished
job, bad upload, a `jobName` longer than `domain.JOB_NAME_MAX_CHARS`), 401 missing/invalid/expired
token, a token of an older secret or a wrong secret, 413 upload too large, 500 an analysis worker died twice under one query.
The CSV and image endpoints answer with the same JSON envelope when they fail. generateToken
answers `"code": "200"` as a string on success (the sample clients compare strings).
Every path is served under both `/gspLive_backend` and `/api/gspLive_backend`.

docs/sqlflow-api.md is silent on how `exportLineageAsCsv` differs from `exportFullLineageAsCsv`: here the
"Full" exports keep intermediate result sets and the other defaults to simpleOutput=true
(end-to-end lineage between tables and views). Query-mode analyses and jobs (jobs.py) both run
in worker processes, so a big analysis never blocks the API and the engine's time limit is hard
everywhere. They run in two lanes: jobs in one pool, query-mode calls in a pool of their own, so a
small query never waits behind big jobs. A pool whose worker dies (killed, out of memory) replaces
itself (jobs.WorkerPool); only the job or query that was running in the dead worker fails.

Credentials are checked before the body is parsed when the protocol allows: userId/token in the
query string or `Authorization` header, or in the first form fields of the body (clients send
them before the files), so an unauthenticated upload costs no parsing.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from sqlflow_assets.api.options import DEFAULT_DBVENDOR, OPTION_NAMES
from sqlflow_assets.domain import API_PATH_PREFIX, JOB_NAME_MAX_CHARS, TOKEN_TTL_SECONDS, JobStatus
from sqlflow_assets.errors import ApiError, LocalServerError, UnknownVendorError
from sqlflow_assets.local.auth import TokenAuthority, load_users, signing_key
from sqlflow_assets.local.engine import (
    AnalysisOptions,
    SqlFile,
    analyze,
    dialect_for,
    summarize,
)
from sqlflow_assets.local.exports import lineage_csv, lineage_svg
from sqlflow_assets.local.job_store import (
    JobStore,
    Upload,
    WorkerPool,
    expand_uploads,
    options_from_json,
    options_to_json,
    session_id,
)

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ZIP_EXPANSION_FACTOR = 10  # a zip may expand to this many times the upload limit
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
# API field -> AnalysisOptions field, for the options the engine reads (field names from api/options.py).
FLAG_OPTIONS = {OPTION_NAMES[name]: name for name in ("simple_output", "ignore_record_set", "ignore_function", "show_constant_table", "table_to_table")}
TEXT_OPTIONS = {OPTION_NAMES[name]: name for name in ("default_database", "default_schema")}
PREFIXES = (API_PATH_PREFIX, "/api" + API_PATH_PREFIX)
CREDENTIALS = ("userId", "token")
PEEK_BYTES = 64 * 1024  # how much of a body is read to find its credentials before parsing it
_MULTIPART_FIELD = re.compile(
    rb'content-disposition:[^\r\n]*?\bname="(userId|token)"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n(.*?)\r\n--',
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class Params:
    """Request fields from the query string and the form body (urlencoded or multipart)."""

    values: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[Upload]] = field(default_factory=dict)

    def text(self, name: str, default: str = "") -> str:
        return self.values.get(name, "").strip() or default

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise ApiError(code=400, message=f"{name} is required")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """Booleans, case-insensitive (`true`, `True`, `1` ...); empty means the default."""
        word = self.text(name).lower()
        if not word:
            return default
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ApiError(code=400, message=f"{name} must be true or false, got {word!r}")
        return word in TRUE_WORDS

    def uploads(self, name: str) -> list[Upload]:
        return self.files.get(name, [])


@dataclass(frozen=True)
class Call:
    """An authenticated request."""

    user_id: str
    params: Params


async def read_params(request: Request) -> Params:
    """Query string + form body, for the one endpoint without a token (generateToken)."""
    return await parse_params(request, None)


async def parse_params(request: Request, authority: TokenAuthority | None) -> Params:
    """Query string + form body, refusing bodies over the upload limit before and after parsing.

    With an `authority`, the credentials found in the first PEEK_BYTES of the body are checked
    before the rest is read and parsed.
    """
    limit: int = request.app.state.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(code=413, message=f"request body of {declared} bytes exceeds the upload limit of {limit} bytes")
    params = Params(values=dict(request.query_params))
    content_type = request.headers.get("content-type", "")
    multipart = content_type.startswith("multipart/form-data")
    if multipart or content_type.startswith("application/x-www-form-urlencoded"):
        stream = request.stream()
        head, credentials = await _peek(stream, multipart, _outside_credentials(request))
        if authority is not None and all(credentials.get(name) for name in CREDENTIALS):
            authority.verify(credentials["userId"], credentials["token"])
        parser_type = MultiPartParser if multipart else FormParser
        options = {"max_files": 100_000} if multipart else {}
        parser = parser_type(request.headers, _replay(head, stream), max_fields=100_000, max_part_size=limit, **options)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise ApiError(code=400, message=f"unreadable form body: {exc.message}") from None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if value.filename or data:
                    params.files.setdefault(key, []).append(Upload(value.filename or key, data))
            else:
                params.values[key] = value
    size = sum(len(u.data) for files in params.files.values() for u in files) + len(params.text("sqltext"))
    if size > limit:
        raise ApiError(code=413, message=f"upload of {size} bytes exceeds the limit of {limit} bytes")
    return params


async def _peek(
    stream: AsyncIterator[bytes], multipart: bool, outside: dict[str, str]
) -> tuple[list[bytes], dict[str, str]]:
    """(first chunks, credentials): read until userId and token are known, PEEK_BYTES were read, or the body ended."""
    head: list[bytes] = []
    credentials = dict(outside)
    async for chunk in stream:
        head.append(chunk)
        prefix = b"".join(head)
        credentials = {**_body_credentials(prefix, multipart, ended=not chunk), **outside}
        if all(credentials.get(name) for name in CREDENTIALS) or len(prefix) >= PEEK_BYTES:
            break
    return head, credentials


async def _replay(head: list[bytes], rest: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """The whole body again: the peeked chunks, then the rest of the stream."""
    for chunk in head:
        yield chunk
    async for chunk in rest:
        yield chunk


def _body_credentials(head: bytes, multipart: bool, ended: bool) -> dict[str, str]:
    """userId/token among the complete fields at the start of a body (multipart or urlencoded)."""
    if multipart:
        return {name.decode(): value.decode("utf-8", "replace") for name, value in _MULTIPART_FIELD.findall(head)}
    complete = head if ended else head.rpartition(b"&")[0]
    pairs = parse_qsl(complete.decode("latin-1"), keep_blank_values=True)
    return {name: value for name, value in pairs if name in CREDENTIALS}


def _outside_credentials(request: Request) -> dict[str, str]:
    """userId/token from the query string and the `Authorization: Token ...` header."""
    found = {name: request.query_params[name] for name in CREDENTIALS if request.query_params.get(name)}
    header = request.headers.get("authorization", "")
    if header.startswith("Token ") and "token" not in found:
        found["token"] = header.removeprefix("Token ").strip()
    return found


FormParams = Annotated[Params, Depends(read_params)]


async def authenticated(request: Request) -> Call:
    """The caller, once its userId and token (form field, or `Authorization: Token ...`) check out."""
    authority: TokenAuthority = request.app.state.auth
    outside = _outside_credentials(request)
    if all(outside.get(name) for name in CREDENTIALS):
        authority.verify(outside["userId"], outside["token"])  # before a single body byte is read
    params = await parse_params(request, authority)
    user_id = params.text("userId")
    header = request.headers.get("authorization", "")
    token = params.text("token") or header.removeprefix("Token ").strip()
    authority.verify(user_id, token)
    return Call(user_id, params)


Caller = Annotated[Call, Depends(authenticated)]


def vendor_of(params: Params) -> str:
    """The request's dbvendor (default dbvoracle), checked by the engine's own vendor table."""
    vendor = params.text("dbvendor", DEFAULT_DBVENDOR).lower()
    try:
        dialect_for(vendor)
    except UnknownVendorError as exc:
        raise ApiError(code=400, message=str(exc)) from None
    return vendor


def explicit_options(params: Params) -> dict[str, Any]:
    """The analysis options the request sets, as JSON-ready AnalysisOptions fields."""
    options: dict[str, Any] = {}
    if params.text("showRelationType"):
        kinds = params.text("showRelationType").lower().split(",")
        options["show_relation_type"] = [kind.strip() for kind in kinds if kind.strip()]
    options.update({attr: params.flag(name) for name, attr in FLAG_OPTIONS.items() if params.text(name)})
    options.update({attr: params.text(name) for name, attr in TEXT_OPTIONS.items() if params.text(name)})
    return options


def analysis_options(params: Params, **defaults: Any) -> AnalysisOptions:
    """Engine defaults, then endpoint defaults, then what the request sets."""
    return options_from_json({**options_to_json(AnalysisOptions()), **defaults, **explicit_options(params)})


def ok(data: Any) -> dict[str, Any]:
    return {"code": 200, "data": data}


def lineage_envelope(sqlflow: dict[str, Any], session: str | None, **extra: Any) -> dict[str, Any]:
    """`{code, data:{mode, summary, sqlflow, graph}, sessionId}`; 203 + CRLF-joined `error` when the engine reported errors."""
    body: dict[str, Any] = {
        **extra,
        "code": 200,
        "data": {"mode": "global", "summary": summarize(sqlflow), "sqlflow": sqlflow, "graph": {}},
        "sessionId": session,
    }
    messages = [str(e.get("errorMessage", "")) for e in sqlflow.get("errors") or []]
    if messages:
        body.update(code=203, error="\r\n".join(messages))
    return body


def csv_response(sqlflow: dict[str, Any], params: Params) -> Response:
    """Raw CSV body with the request's `delimiter` and `tableToTable`."""
    delimiter = params.values.get("delimiter") or ","
    if len(delimiter) != 1:
        raise ApiError(code=400, message="delimiter must be a single character")
    body = lineage_csv(sqlflow, delimiter=delimiter, table_to_table=params.flag("tableToTable"))
    return Response(body, media_type="text/csv; charset=utf-8")


async def analyze_request(request: Request, call: Call, **defaults: Any) -> tuple[dict[str, Any], str]:
    """Analyse the request's `sqltext` or `sqlfile`; returns (sqlflow, sessionId)."""
    params = call.params
    vendor = vendor_of(params)
    sql = request_sql(params)
    options = analysis_options(params, **defaults)
    return await analyze_in_query_lane(request.app.state.query_pool, sql, vendor, options), session_id(
        f"{vendor}\0{options}\0{sql.text}"
    )


async def analyze_in_query_lane(pool: WorkerPool, sql: SqlFile, vendor: str, options: AnalysisOptions) -> dict[str, Any]:
    """The analysis, tried once more on the replaced pool when a worker died under it.

    A query queued on a pool whose worker was killed fails through no fault of its own; a query
    that kills its worker twice (out of memory) gets an error instead of a third try.
    """

    def attempt() -> asyncio.Future:
        return asyncio.wrap_future(pool.submit(analyze, [sql], vendor, options))

    try:
        return await attempt()
    except BrokenProcessPool:
        pass
    try:
        return await attempt()
    except BrokenProcessPool:
        raise ApiError(code=500, message="the analysis worker died (killed or out of memory) twice on this request") from None


def request_sql(params: Params) -> SqlFile:
    """The `sqltext` field, else the first `sqlfile` upload (curl samples send an empty `sqlfile=` beside sqltext)."""
    if params.values.get("sqltext", "").strip():
        return SqlFile("sqltext", params.values["sqltext"])
    for upload in params.uploads("sqlfile"):
        text = upload.data.decode("utf-8-sig", errors="replace")
        if text.strip():
            return SqlFile(upload.name, text)
    raise ApiError(code=400, message="sqltext or sqlfile is required")


# --- OpenAPI: the form fields and answer types, which FastAPI cannot see behind `parse_params` -------

_TEXT = {"type": "string"}
_FILE = {"type": "string", "format": "binary"}
_AUTH = ("userId", "token")
_ANALYSIS = ("dbvendor", "showRelationType", "simpleOutput", "ignoreRecordSet", "ignoreFunction", "showConstantTable")
_EXPORT = ("tableToTable", "delimiter", "simpleOutput", "showRelationType")
_JSON_ANSWER = {"application/json": {"schema": {"type": "object"}}}


def form_fields(*names: str, files: Mapping[str, bool] | None = None, answer: str | None = None) -> dict[str, Any]:
    """Route kwargs declaring the form fields (`files`: name -> repeatable) and a non-JSON answer type.

    Fields are optional in the schema, as on the wire: a missing one is an API error, not a 422.
    """
    fields = {name: _TEXT for name in names}
    uploads = {name: {"type": "array", "items": _FILE} if many else _FILE for name, many in (files or {}).items()}
    content = {"multipart/form-data": {"schema": {"type": "object", "properties": {**fields, **uploads}}}}
    if not files:
        content["application/x-www-form-urlencoded"] = {"schema": {"type": "object", "properties": fields}}
    route: dict[str, Any] = {"openapi_extra": {"requestBody": {"content": content}}}
    if answer is not None:
        description = f"{answer} on success; the JSON error envelope otherwise"
        route["responses"] = {200: {"description": description, "content": {answer: {"schema": _TEXT}, **_JSON_ANSWER}}}
        route["response_class"] = Response
    return route


GENERATION = form_fields(*_AUTH, *_ANALYSIS, "sqltext", "tableToTable", "delimiter", files={"sqlfile": False})
GENERATION_CSV = form_fields(*_AUTH, *_ANALYSIS, "sqltext", "tableToTable", "delimiter", files={"sqlfile": False}, answer="text/csv")
GENERATION_SVG = form_fields(*_AUTH, *_ANALYSIS, "sqltext", files={"sqlfile": False}, answer="image/svg+xml")
SUBMISSION = form_fields(
    *_AUTH, *_ANALYSIS, "jobName", "jobId", "incremental", "defaultDatabase", "defaultSchema", files={"sqlfiles": True}
)
JOB = form_fields(*_AUTH, "jobId", *_EXPORT)
JOB_CSV = form_fields(*_AUTH, "jobId", *_EXPORT, answer="text/csv")


def build_router() -> APIRouter:
    """Every API endpoint, relative to the gspLive_backend prefix."""
    router = APIRouter()

    @router.post("/user/generateToken", **form_fields("userId", "secretKey"))
    async def generate_token(request: Request, params: FormParams) -> dict[str, Any]:
        token = request.app.state.auth.issue(params.text("userId"), params.values.get("secretKey", ""))
        return {"code": "200", "token": token}

    @router.post("/sqlflow/generation/sqlflow", **GENERATION)
    @router.post("/sqlflow/generation/sqlflow/graph", **GENERATION)
    async def generation(request: Request, call: Caller) -> dict[str, Any]:
        return lineage_envelope(*await analyze_request(request, call))

    @router.post("/sqlflow/generation/sqlflow/exportFullLineageAsCsv", **GENERATION_CSV)
    async def generation_full_csv(request: Request, call: Caller) -> Response:
        sqlflow, _ = await analyze_request(request, call)
        return csv_response(sqlflow, call.params)

    @router.post("/sqlflow/generation/sqlflow/exportLineageAsCsv", **GENERATION_CSV)
    async def generation_csv(request: Request, call: Caller) -> Response:
        sqlflow, _ = await analyze_request(request, call, simple_output=True)
        return csv_response(sqlflow, call.params)

    @router.post("/sqlflow/generation/sqlflow/graph/image", **GENERATION_SVG)
    async def generation_image(request: Request, call: Caller) -> Response:
        sqlflow, _ = await analyze_request(request, call)
        # `dot` runs as a subprocess: off the event loop, so other requests are served meanwhile.
        return Response(await asyncio.to_thread(lineage_svg, sqlflow), media_type="image/svg+xml")

    @router.post("/sqlflow/job/submitUserJob", **SUBMISSION)
    async def submit_user_job(request: Request, call: Caller) -> dict[str, Any]:
        return ok(submit_job(request, call))

    @router.post("/sqlflow/job/submitPersistJob", **SUBMISSION)
    async def submit_persist_job(request: Request, call: Caller) -> dict[str, Any]:
        job_id = call.params.text("jobId")
        if not job_id:
            return ok(submit_job(request, call))
        uploads = job_uploads(request, call.params)
        return ok(jobs_of(request).add_files(call.user_id, job_id, uploads, call.params.flag("incremental", True)))

    @router.post("/sqlflow/job/displayUserJobSummary", **JOB)
    async def job_summary(request: Request, call: Caller) -> dict[str, Any]:
        return ok(jobs_of(request).get(call.user_id, call.params.required("jobId")))

    @router.post("/sqlflow/job/displayUserJobsSummary", **JOB)
    async def jobs_summary(request: Request, call: Caller) -> dict[str, Any]:
        jobs = jobs_of(request).list_jobs(call.user_id)
        counts = Counter(job["status"] for job in jobs)
        return ok(
            {
                "total": len(jobs),
                "success": counts[JobStatus.SUCCESS],
                "partialSuccess": counts[JobStatus.PARTIAL_SUCCESS],
                "fail": counts[JobStatus.FAIL],
                "jobIds": [job["jobId"] for job in jobs],
                "jobDetails": jobs,
            }
        )

    @router.post("/sqlflow/job/exportLineageAsJson", **JOB)
    @router.post("/sqlflow/job/exportFullLineageAsJson", **JOB)
    async def job_json(request: Request, call: Caller) -> dict[str, Any]:
        job, sqlflow = await job_result(request, call)
        return lineage_envelope(sqlflow, job.get("sessionId"), jobId=job["jobId"])

    @router.post("/sqlflow/job/exportFullLineageAsCsv", **JOB_CSV)
    async def job_full_csv(request: Request, call: Caller) -> Response:
        _, sqlflow = await job_result(request, call)
        return csv_response(sqlflow, call.params)

    @router.post("/sqlflow/job/exportLineageAsCsv", **JOB_CSV)
    async def job_csv(request: Request, call: Caller) -> Response:
        _, sqlflow = await job_result(request, call, simple_output=True)
        return csv_response(sqlflow, call.params)

    @router.post("/sqlflow/job/deleteUserJob", **JOB)
    async def delete_job(request: Request, call: Caller) -> dict[str, Any]:
        return ok(jobs_of(request).delete(call.user_id, call.params.required("jobId")))

    return router


def jobs_of(request: Request) -> JobStore:
    return request.app.state.jobs


def job_uploads(request: Request, params: Params) -> list[Upload]:
    """The `sqlfiles` uploads with zips expanded; at least one is required."""
    uploads = expand_uploads(params.uploads("sqlfiles"), request.app.state.max_upload_bytes * ZIP_EXPANSION_FACTOR)
    if not uploads:
        raise ApiError(code=400, message="at least one SQL file is required in the multipart field sqlfiles")
    return uploads


def submit_job(request: Request, call: Call) -> dict[str, Any]:
    """A new job; jobs show both value flows and row-count impact by default (fdd,fdr)."""
    params = call.params
    name, vendor = params.required("jobName"), vendor_of(params)
    if len(name) > JOB_NAME_MAX_CHARS:
        raise ApiError(code=400, message=f"jobName is {len(name)} characters long; the limit is {JOB_NAME_MAX_CHARS}")
    options = analysis_options(params, show_relation_type=["fdd", "fdr"])
    return jobs_of(request).submit(call.user_id, name, vendor, job_uploads(request, params), options)


async def job_result(request: Request, call: Call, **defaults: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A finished job's lineage; without jobId, the caller's latest job. Request options override the job's."""
    store = jobs_of(request)
    job_id = call.params.text("jobId")
    if not job_id:
        jobs = store.list_jobs(call.user_id)
        if not jobs:
            raise ApiError(code=400, message="jobId is required (you have no jobs)")
        job_id = jobs[-1]["jobId"]
    return await store.result(call.user_id, job_id, {**defaults, **explicit_options(call.params)})


def create_app(
    data_dir: Path,
    users: Mapping[str, str] | None = None,
    token_ttl_seconds: int = TOKEN_TTL_SECONDS,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    workers: int | None = None,
) -> FastAPI:
    """The app over one data dir; `users=None` reads SQLFLOW_LOCAL_USERS and `<data-dir>/config.json`.

    `workers` sizes the job lane; query-mode calls have one worker of their own.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        job_pool = WorkerPool(workers or min(4, os.cpu_count() or 1))
        app.state.query_pool = WorkerPool(1)
        app.state.jobs = JobStore(data_dir / "jobs", job_pool)
        app.state.jobs.recover()
        try:
            yield
        finally:
            for pool in (app.state.query_pool, job_pool):
                pool.shutdown(wait=True, cancel_futures=True)

    app = FastAPI(title="sqlflow-local", lifespan=lifespan)
    app.state.auth = TokenAuthority(
        load_users(data_dir) if users is None else users, signing_key(data_dir), token_ttl_seconds
    )
    app.state.max_upload_bytes = max_upload_bytes

    @app.exception_handler(LocalServerError)
    async def error_envelope(request: Request, exc: LocalServerError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "error": exc.message})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    router = build_router()
    for prefix in PREFIXES:
        app.include_router(router, prefix=prefix)
    return app
