"""A small client for the Gudu SQLFlow REST API (docs/sqlflow-api.md), on dlt's retrying `requests` helper.

Every endpoint is a POST with `userId` and `token` as form fields; uploads are multipart.
Idempotent calls (token, summaries, exports, generation) go through dlt's retrying session.
Job submissions use a session that never retries, so a job is never created twice; a new token is
fetched (and a submission sent again) only when the server answered with the API's auth failure,
code 401, which proves it refused the request. Every request has a total deadline (`timeout`):
requests' own timeout is per socket read, so a server that drips bytes could hold a call forever.
"""

from __future__ import annotations

import base64
import contextlib
import html
import logging
import re
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import orjson
from dlt.sources.helpers.requests import Client, RequestException, Response
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from sqlflow_assets import config
from sqlflow_assets.api.options import DEFAULT_DBVENDOR, OPTION_NAMES
from sqlflow_assets.config import SQLFlowConnection
from sqlflow_assets.domain import DONE_STATUSES, FAILED_STATUS, OK_CODES
from sqlflow_assets.errors import ConfigError, DeadlineExceeded, JobNotFinished, SQLFlowError

log = logging.getLogger(__name__)


# Only small bodies are parsed to look for an error envelope; big ones are lineage documents,
# whose `code` is read from the head (the full parse belongs to lineage_json).
_SMALL_BODY = 64 * 1024
_HEAD_CODE = re.compile(rb'"code"\s*:\s*"?(\d+)"?')
AUTH_FAILURE = "401"  # the API's (and the local server's) code for a missing, invalid or expired token
_MESSAGE_CHARS = 300  # error texts quote at most this much of an answer, cut after secrets are masked
_MIN_MASKED_CHARS = 6  # shorter encoded fragments of a secret would mask unrelated text


@dataclass
class SQLFlowClient:
    """One SQLFlow user on one server (`connection`). Fetches and caches a token from its `secret_key`
    unless it gives a `token`."""

    connection: SQLFlowConnection
    timeout: float = 60
    token: str | None = field(init=False, repr=False)  # the connection's, then each one fetched
    _retrying: Client = field(init=False, repr=False, compare=False)
    _single_shot: Client = field(init=False, repr=False, compare=False)
    _adapter: HTTPAdapter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = self.connection.missing()
        if missing:
            raise ConfigError(message=f"missing config {', '.join(missing)}")
        self.token = self.connection.token
        if not self.secret_key and not self.token:
            raise ConfigError(message=f"SQLFlow user {self.user_id!r} needs a secret_key or a token")
        self._retrying = Client(request_timeout=self.timeout, raise_for_status=False)
        self._single_shot = Client(
            request_timeout=self.timeout, raise_for_status=False, request_max_attempts=1, status_codes=(), exceptions=()
        )
        self._adapter = _DeadlineAdapter(pool_maxsize=50)

    def __repr__(self) -> str:
        hidden = ", ".join(f"{name}=***" for name in ("secret_key", "token") if getattr(self, name))
        return f"SQLFlowClient(base_url={self.base_url!r}, user_id={self.user_id!r}, path_prefix={self.path_prefix!r}, {hidden})"

    @classmethod
    def from_config(cls, **overrides: Any) -> SQLFlowClient:
        """A client from dlt config/secrets `[sources.sqlflow]` (or `SOURCES__SQLFLOW__*`), read now, not at import."""
        return cls(config.sqlflow_connection(**overrides))

    @property
    def base_url(self) -> str:
        return self.connection.base_url

    @property
    def user_id(self) -> str:
        return str(self.connection.user_id)

    @property
    def secret_key(self) -> str | None:
        return self.connection.secret_key

    @property
    def path_prefix(self) -> str:
        return self.connection.path_prefix

    # --- endpoints -------------------------------------------------------------------------------

    def generate_token(self) -> str:
        """A fresh token from userId + secretKey; cached for later calls."""
        endpoint = "/user/generateToken"
        if not self.secret_key:
            raise SQLFlowError(endpoint=endpoint, message="no secret_key to generate a token with")
        response = self._send(endpoint, {"userId": self.user_id, "secretKey": self.secret_key}, (), retry=True)
        problem = _problem(response)
        if problem is not None:
            raise self._error(endpoint=endpoint, code=problem[0], message=problem[1], answer=problem[2])
        body = self._json(endpoint, response)
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise SQLFlowError(endpoint=endpoint, code=body.get("code"), message="the answer holds no token")
        self.token = token
        return token

    def generate_lineage(self, sql: str, dbvendor: str = DEFAULT_DBVENDOR, **options: Any) -> dict[str, Any]:
        """Synchronous lineage of one SQL text: the whole envelope (`data.sqlflow` or older shapes)."""
        endpoint = "/sqlflow/generation/sqlflow"
        return self._json(endpoint, self._call(endpoint, _generation_fields(sql, dbvendor, options)))

    def generate_lineage_csv(self, sql: str, dbvendor: str = DEFAULT_DBVENDOR, **options: Any) -> str:
        """Full column-level lineage of one SQL text as CSV text (`delimiter`, `table_to_table` options)."""
        endpoint = "/sqlflow/generation/sqlflow/exportFullLineageAsCsv"
        return _text(self._call(endpoint, _generation_fields(sql, dbvendor, options)))

    def generate_graph_image(self, sql: str, dbvendor: str = DEFAULT_DBVENDOR, **options: Any) -> bytes:
        """The lineage diagram of one SQL text, as the image bytes the server sends."""
        endpoint = "/sqlflow/generation/sqlflow/graph/image"
        return self._call(endpoint, _generation_fields(sql, dbvendor, options)).content

    def submit_user_job(
        self, job_name: str, files: Sequence[tuple[str, bytes]], dbvendor: str = DEFAULT_DBVENDOR, **options: Any
    ) -> dict[str, Any]:
        """Submit SQL files (or zips) as a simple job; returns the job object (`jobId`, `status`...). Sent once."""
        return self._submit("/sqlflow/job/submitUserJob", job_name, files, dbvendor, options)

    def submit_persist_job(
        self, job_name: str, files: Sequence[tuple[str, bytes]], dbvendor: str = DEFAULT_DBVENDOR, **options: Any
    ) -> dict[str, Any]:
        """Submit a persistent job, or add files to one with `job_id=`; returns the job object. Sent once."""
        return self._submit("/sqlflow/job/submitPersistJob", job_name, files, dbvendor, options)

    def job_summary(self, job_id: str) -> dict[str, Any]:
        """One job object; reads `data.status`, else the matching `data.jobDetails[]` entry (docs/sqlflow-api.md §7)."""
        endpoint = "/sqlflow/job/displayUserJobSummary"
        data = self._data(endpoint, self._call(endpoint, {"jobId": job_id}))
        if "status" in data:
            return data
        for job in self._job_details(endpoint, data):
            if job["jobId"] == job_id:
                return job
        raise SQLFlowError(endpoint=endpoint, message=f"job {job_id} has no status in the answer")

    def jobs_summary(self) -> dict[str, Any]:
        """All jobs of the user: `total`, `success`, `partialSuccess`, `fail`, `jobIds`, `jobDetails`.

        `jobDetails` is always a list of job objects with a string `jobId` (see `_job_details`).
        """
        endpoint = "/sqlflow/job/displayUserJobsSummary"
        data = self._data(endpoint, self._call(endpoint, {}))
        return {**data, "jobDetails": self._job_details(endpoint, data)}

    def export_lineage_json(self, job_id: str, table_to_table: bool = False) -> bytes:
        """A finished job's lineage JSON as raw bytes (parse with `lineage_json.read_lineage`)."""
        endpoint = "/sqlflow/job/exportLineageAsJson"
        return self._call(endpoint, {"jobId": job_id, **_api_options({"table_to_table": table_to_table})}).content

    def export_lineage_json_file(self, job_id: str, path: Path, table_to_table: bool = False) -> Path:
        """The export written to `path`: parsed memory-mapped from there, no copy of it stays on the heap."""
        path.write_bytes(self.export_lineage_json(job_id, table_to_table))
        return path

    def export_full_lineage_csv(self, job_id: str, table_to_table: bool = False, delimiter: str = ",") -> str:
        """A finished job's full lineage as CSV text."""
        endpoint = "/sqlflow/job/exportFullLineageAsCsv"
        options = _api_options({"table_to_table": table_to_table, "delimiter": delimiter})
        return _text(self._call(endpoint, {"jobId": job_id, **options}))

    def delete_job(self, job_id: str) -> dict[str, Any]:
        """Delete a job (`deleteUserJob`); returns the job object the server sends back."""
        endpoint = "/sqlflow/job/deleteUserJob"
        return self._data(endpoint, self._call(endpoint, {"jobId": job_id}))

    def wait_for_job(self, job_id: str, poll_seconds: float = 2, timeout: float = 3600) -> dict[str, Any]:
        """Poll until `success`/`partial_success` (returns the job) or `fail` (raises), per docs/sqlflow-api.md §7."""
        endpoint = "/sqlflow/job/displayUserJobSummary"
        deadline = time.monotonic() + timeout
        while True:
            job = self.job_summary(job_id)
            status = job.get("status")
            if status in DONE_STATUSES:
                return job
            if status == FAILED_STATUS:
                raise SQLFlowError(endpoint=endpoint, message=f"job {job_id} failed: {job.get('errorMessage')}")
            if time.monotonic() + poll_seconds > deadline:
                raise JobNotFinished(endpoint=endpoint, job_id=job_id, status=status, timeout=timeout)
            time.sleep(poll_seconds)

    # --- plumbing --------------------------------------------------------------------------------

    def _submit(
        self, endpoint: str, job_name: str, files: Sequence[tuple[str, bytes]], dbvendor: str, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        uploads = [("sqlfiles", (name, content, "application/octet-stream")) for name, content in files]
        fields = {"jobName": job_name, "dbvendor": dbvendor, **_api_options(options)}
        job = self._data(endpoint, self._call(endpoint, fields, uploads, retry=False))
        if not job.get("jobId"):
            raise SQLFlowError(endpoint=endpoint, message="the answer holds no jobId")
        return job

    def _call(
        self, endpoint: str, fields: Mapping[str, str], files: Sequence[Any] = (), *, retry: bool = True
    ) -> Response:
        """POST with userId/token; on the API's auth failure (code 401), fetch a new token once and send once more.

        Resending a submission then is safe: a 401 proves the server refused it before creating a job.
        Any other failure (an HTTP 500 page, an envelope that merely mentions a token) is raised as is.
        """
        if not self.token:
            self.generate_token()
        response = self._send(endpoint, {"userId": self.user_id, "token": self.token, **fields}, files, retry=retry)
        problem = _problem(response)
        if problem is not None and str(problem[0]) == AUTH_FAILURE and self.secret_key:
            self.generate_token()
            response = self._send(endpoint, {"userId": self.user_id, "token": self.token, **fields}, files, retry=retry)
            problem = _problem(response)
        if problem is not None:
            raise self._error(endpoint=endpoint, code=problem[0], message=problem[1], answer=problem[2])
        return response

    def _send(self, endpoint: str, fields: Mapping[str, Any], files: Sequence[Any], *, retry: bool) -> Response:
        """One POST (urlencoded, or multipart when there are files), retries included, within `timeout` in total.

        Transport errors and a missed deadline become SQLFlowError.
        """
        session = (self._retrying if retry else self._single_shot).session
        if session.get_adapter(self.base_url) is not self._adapter:
            for scheme in ("http://", "https://"):
                session.mount(scheme, self._adapter)
        prefix = self.path_prefix.strip("/")
        url = f"{self.base_url.rstrip('/')}{'/' + prefix if prefix else ''}{endpoint}"
        with _Deadline(self.timeout) as deadline:
            try:
                response = session.post(url, data=dict(fields), files=list(files) or None, timeout=self.timeout)
            except (RequestException, DeadlineExceeded) as exc:
                failure: Exception | None = exc
            else:
                failure = None
        if deadline.expired:  # an answer without a length just ends where the deadline cut it
            raise self._error(endpoint=endpoint, message=f"no complete answer within {self.timeout:g} s")
        if failure is not None:
            raise self._error(endpoint=endpoint, message=f"request failed: {type(failure).__name__}", answer=str(failure))
        return response

    def _json(self, endpoint: str, response: Response) -> dict[str, Any]:
        """The body as a JSON object whose `code` is 200/203."""
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise self._error(endpoint=endpoint, message="the answer is not JSON", answer=response.text) from None
        if not isinstance(body, dict):
            raise self._error(endpoint=endpoint, message="the answer is not a JSON object", answer=response.text)
        if str(body.get("code")) not in OK_CODES:
            raise self._error(endpoint=endpoint, code=body.get("code"), message=str(body.get("error") or "no error message"))
        return body

    def _data(self, endpoint: str, response: Response) -> dict[str, Any]:
        data = self._json(endpoint, response).get("data")
        if not isinstance(data, dict):
            raise self._error(endpoint=endpoint, message="the answer holds no `data` object")
        return data

    def _job_details(self, endpoint: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        """`data.jobDetails` with every entry a job object that has a string `jobId`.

        A server answering something else must not surface as a TypeError in the sensor: a
        non-list is an error naming the endpoint, a bad entry is skipped with a warning.
        """
        details = data.get("jobDetails")
        if details is None:
            return []
        if not isinstance(details, list):
            raise self._error(endpoint=endpoint, message=f"`jobDetails` is a {type(details).__name__}, not a list")
        jobs = []
        for index, job in enumerate(details):
            if isinstance(job, dict) and isinstance(job.get("jobId"), str) and job["jobId"]:
                jobs.append(job)
            else:
                log.warning("SQLFlow %s: skipped jobDetails[%d], not a job object with a jobId: %.200r", endpoint, index, job)
        return jobs

    def _error(
        self, *, endpoint: str, message: str, code: int | str | None = None, answer: str | None = None
    ) -> SQLFlowError:
        """A SQLFlowError whose text never carries the secret key or the token, in any encoding.

        `answer` (a server's body or an exception text) is quoted after masking and only then cut,
        so a cut can never leave half a secret behind.
        """
        secrets = [secret for secret in (self.secret_key, self.token) if secret]
        message = _mask(message, secrets)
        if answer is not None:
            message = f"{message}: {_mask(answer, secrets)[:_MESSAGE_CHARS]!r}"
        return SQLFlowError(endpoint=endpoint, code=code, message=message)


def _generation_fields(sql: str, dbvendor: str, options: Mapping[str, Any]) -> dict[str, str]:
    return {"sqltext": sql, "dbvendor": dbvendor, **_api_options(options)}


def _api_options(options: Mapping[str, Any]) -> dict[str, str]:
    """snake_case options -> API form fields; booleans as `true`/`false`, lists comma-joined; None dropped."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise TypeError(f"unknown SQLFlow option(s): {', '.join(unknown)}")
    return {OPTION_NAMES[name]: _form_value(value) for name, value in options.items() if value is not None}


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return str(value)


def _problem(response: Response) -> tuple[Any, str, str | None] | None:
    """(code, message, quoted answer) for an HTTP error status or a JSON envelope whose `code` is not 200/203.

    Non-JSON bodies (CSV, images) pass: only a JSON envelope can say that those calls failed.
    An HTTP error page is quoted whole here; `_error` masks secrets in it before cutting it short.
    """
    if response.status_code >= 400:
        return response.status_code, f"HTTP {response.status_code}", response.text
    body = response.content
    if body.lstrip()[:1] != b"{":
        return None
    if len(body) > _SMALL_BODY:
        match = _HEAD_CODE.search(body[:4096])
        code = match.group(1).decode() if match else "200"
        return None if code in OK_CODES else (code, "error envelope", None)
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(envelope, dict) or "code" not in envelope or str(envelope["code"]) in OK_CODES:
        return None
    return envelope["code"], str(envelope.get("error") or envelope.get("message") or "no error message"), None


def _text(response: Response) -> str:
    """The body as text: the declared charset, else UTF-8 (requests would guess Latin-1 for text/csv)."""
    declared = "charset" in response.headers.get("content-type", "").lower()
    return response.content.decode(response.encoding if declared and response.encoding else "utf-8", errors="replace")


def _mask(text: str, secrets: Sequence[str]) -> str:
    """`text` with every encoding of each secret replaced by `***`, longest forms first."""
    forms = {form for secret in secrets for form in _encodings(secret) if form}
    for form in sorted(forms, key=len, reverse=True):
        text = re.sub(re.escape(form), "***", text, flags=re.IGNORECASE if "%" in form else 0)
    return text


def _encodings(secret: str) -> set[str]:
    """The forms a secret takes when a server echoes a request: plain, URL-, HTML-, JSON-escaped, and base64 of each.

    Base64 of a longer text (a whole echoed form) aligns the secret at any of three byte offsets,
    so for each alignment the characters that depend on the secret alone are masked (when long
    enough not to match unrelated text).
    """
    json_escaped = orjson.dumps(secret).decode()[1:-1]
    texts = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret), html.escape(secret)}
    texts |= {json_escaped, json_escaped.replace("/", "\\/"), secret.encode("unicode_escape").decode()}
    forms = set(texts)
    for raw in (text.encode() for text in texts):
        for shift in range(3):
            encoded = base64.b64encode(b"\0" * shift + raw).decode().rstrip("=")
            core = encoded[(shift * 4 + 2) // 3 : len(encoded) - (1 if (shift + len(raw)) % 3 else 0)]
            if len(core) >= _MIN_MASKED_CHARS:
                forms |= {core, core.translate(_URLSAFE)}
    return forms


_URLSAFE = str.maketrans("+/", "-_")


class _Deadline:
    """A total time limit for one call: when it passes, the call's open sockets are shut down.

    requests' timeout bounds each socket read, not the call; a watchdog timer that shuts the
    sockets makes the blocked read return at once, and requests started later raise.
    """

    _current = threading.local()

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._connections: list[HTTPConnection] = []
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self.expired = False

    def __enter__(self) -> _Deadline:
        _Deadline._current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        self._timer.join()  # at once after cancel: no watchdog thread outlives its call
        _Deadline._current.deadline = None

    @classmethod
    def watch(cls, connection: HTTPConnection) -> None:
        """Put a connection under the current call's deadline, and its socket once it has one.

        http.client hands the socket to the response and forgets it when the server will close
        the connection, so the socket is kept too, from the moment the answer is awaited.
        """
        deadline: _Deadline | None = getattr(cls._current, "deadline", None)
        if deadline is None:
            return
        with deadline._lock:
            if deadline.expired:
                raise DeadlineExceeded()
            deadline._connections.append(connection)
            if connection.sock is not None:
                deadline._sockets.append(connection.sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = self._sockets + [c.sock for c in self._connections if c.sock is not None]
            for sock in sockets:
                with contextlib.suppress(OSError):  # already closed by its owner
                    sock.shutdown(socket.SHUT_RDWR)


class _Watched(HTTPConnection):
    """Mixin for urllib3 connections: each request, and then its answer, is under the call's deadline."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        _Deadline.watch(self)
        super().request(*args, **kwargs)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _Deadline.watch(self)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections obey the current call's `_Deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
