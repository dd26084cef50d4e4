"""Faults of the SQLFlow client (issue #11), against stdlib HTTP peers that misbehave on purpose."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import quote, quote_plus, unquote_plus

import pytest

from sqlflow_assets.errors import SQLFlowError
from sqlflow_assets_tests.support import http_peer, json_body, peer_client, poll

pytestmark = pytest.mark.faults

SUBMIT = "/gspLive_backend/sqlflow/job/submitUserJob"
TOKEN_PATH = "/gspLive_backend/user/generateToken"
SUMMARY = "/gspLive_backend/sqlflow/job/displayUserJobsSummary"
FRESH = json_body({"code": "200", "token": "fresh-token"})


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch) -> None:
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")


# --- 3. duplicate job submissions ------------------------------------------------------------------


def answering(submit_reply: tuple[int, bytes]) -> Callable[[str], tuple[int, bytes]]:
    return lambda path: (200, FRESH) if path == TOKEN_PATH else submit_reply


@pytest.mark.parametrize(
    "reply",
    [
        (500, b"<html><body>Internal Server Error: token cache unavailable</body></html>"),
        (200, json_body({"code": 500, "error": "could not refresh the token cache"})),
    ],
    ids=["HTTP 500 page", "code-500 envelope"],
)
def test_server_error_mentioning_a_token_sends_the_submission_once(reply: tuple[int, bytes]) -> None:
    with http_peer(answering(reply)) as peer, pytest.raises(SQLFlowError, match="token cache") as caught:
        peer_client(peer, secret_key="s3cret").submit_user_job("j", [("a.sql", b"select 1")])
    assert str(caught.value.code) == "500"
    assert peer.counts[SUBMIT] == 1 and peer.counts[TOKEN_PATH] == 0


def test_auth_failure_on_a_submission_refreshes_the_token_and_sends_it_again_once() -> None:
    sent: list[str] = []

    def answer(path: str, body: bytes) -> tuple[int, bytes]:
        if path == TOKEN_PATH:
            return 200, FRESH
        sent.append(body.decode("latin-1"))
        if "fresh-token" in sent[-1]:
            return 200, json_body({"code": 200, "data": {"jobId": "a" * 32, "status": "create"}})
        return 200, json_body({"code": 401, "error": "invalid token"})

    with http_peer(answer, pass_body=True) as peer:
        job = peer_client(peer, secret_key="s3cret").submit_user_job("j", [("a.sql", b"select 1")])
    assert job["jobId"] == "a" * 32
    assert peer.counts[TOKEN_PATH] == 1 and peer.counts[SUBMIT] == 2


# --- 4. secrets echoed by a server, in any encoding ----------------------------------------------

SECRET = "adv+secret/K=9&x%2F y"
TOKEN = "tok+en/Z==&q%3D"


def encodings(secret: str) -> dict[str, str]:
    return {
        "plain": secret,
        "quote": quote(secret),
        "quote safe=''": quote(secret, safe=""),
        "quote_plus": quote_plus(secret),
        "lower-case percent": quote_plus(secret).lower(),
        "json": json.dumps(secret)[1:-1],
        "html": html.escape(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "urlsafe base64": base64.urlsafe_b64encode(secret.encode()).decode(),
    }


ECHOES: dict[str, Callable[[bytes], str]] = {
    "raw form": lambda body: body.decode("latin-1"),
    "decoded form": lambda body: unquote_plus(body.decode("latin-1")),
    "json of form": lambda body: json.dumps({"form": body.decode("latin-1")}),
    "base64 of form": lambda body: base64.b64encode(body).decode(),
    "base64 after a prefix": lambda body: base64.b64encode(b"ab" + body).decode(),
}


def leaks(text: str, secret: str) -> list[str]:
    """Which encodings of `secret` can be read back from `text` (base64 runs are decoded at each alignment)."""
    found = [name for name, form in encodings(secret).items() if form in text]
    plain_forms = {form.encode() for form in encodings(secret).values()}
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                decoded = base64.b64decode(chunk.replace("-", "+").replace("_", "/"))
            except ValueError:
                continue
            found += [f"base64 of {form!r}" for form in plain_forms if form in decoded]
    return found


@pytest.mark.parametrize("echo", ECHOES, ids=list(ECHOES))
@pytest.mark.parametrize("as_envelope", [False, True], ids=["HTTP 500 page", "code-500 envelope"])
def test_echoed_secret_and_token_are_masked_in_every_encoding(echo: str, as_envelope: bool) -> None:
    def answer(path: str, body: bytes) -> tuple[int, bytes]:
        page = f"bad request: {ECHOES[echo](body)}"
        return (200, json_body({"code": 500, "error": page})) if as_envelope else (500, page.encode())

    with http_peer(answer, pass_body=True) as peer:
        client = peer_client(peer, secret_key=SECRET, token=TOKEN)
        for call in (client.generate_token, client.jobs_summary):
            with pytest.raises(SQLFlowError) as caught:
                call()
            text = f"{caught.value} {caught.value!r} {caught.value.message}"
            assert "***" in text
            assert leaks(text, SECRET) == [] and leaks(text, TOKEN) == []


# --- 8. a whole-call deadline ----------------------------------------------------------------------


def dripping(seconds: int) -> Iterator[bytes]:
    """An answer that sends one byte a second: each read is quick, the whole answer is not."""
    yield b'{"code": 200, "data": {"total": 0}}'[:1]
    for _ in range(seconds):
        time.sleep(1)
        yield b" "


def test_dripping_answer_ends_at_the_call_deadline() -> None:
    with http_peer(lambda path: (200, dripping(12))) as peer:
        client = peer_client(peer, timeout=2)
        with pytest.raises(SQLFlowError, match="no complete answer within 2 s") as caught:
            client.jobs_summary()
        assert caught.value.endpoint == "/sqlflow/job/displayUserJobsSummary"
        # the client hung up while the peer was still dripping: it gave up at its deadline, not at the end
        poll(lambda: SUMMARY in peer.hangups, timeout=5, what="peer notices the client left")
    assert peer.counts[SUMMARY] == 1  # an expired call is not tried again


def slow_answer(document: bytes, seconds: float) -> Iterator[bytes]:
    """A whole answer that takes `seconds` to arrive, in two halves."""
    yield document[: len(document) // 2]
    time.sleep(seconds)
    yield document[len(document) // 2 :]


def test_each_call_has_its_own_deadline_and_leaves_no_watchdog_behind() -> None:
    summary = json_body({"code": 200, "data": {"total": 0}})
    with http_peer(lambda path: (200, slow_answer(summary, 0.4))) as peer:
        client = peer_client(peer, timeout=1)
        assert [client.jobs_summary()["total"] for _ in range(3)] == [0, 0, 0]  # 1.2 s in all, 0.4 s a call
    assert not [thread for thread in threading.enumerate() if isinstance(thread, threading.Timer)]


# --- 9. malformed job lists ------------------------------------------------------------------------


@pytest.mark.parametrize("details", [{"jobId": "j1"}, "j1,j2", 3], ids=["object", "string", "number"])
def test_job_details_that_is_not_a_list_is_one_clear_error(details: object) -> None:
    summary = json_body({"code": 200, "data": {"total": 1, "jobDetails": details}})
    with http_peer(lambda path: (200, summary)) as peer, pytest.raises(SQLFlowError, match="jobDetails.*not a list") as caught:
        peer_client(peer).jobs_summary()
    assert caught.value.endpoint == "/sqlflow/job/displayUserJobsSummary"


def test_bad_job_entries_are_skipped_with_a_warning(caplog) -> None:
    good = {"jobId": "j2", "status": "success"}
    details = [None, {"status": "success"}, {"jobId": 7}, {"jobId": ""}, "j1", good]
    summary = json_body({"code": 200, "data": {"total": 6, "jobDetails": details}})
    with http_peer(lambda path: (200, summary)) as peer, caplog.at_level(logging.WARNING, "sqlflow_assets.api.client"):
        client = peer_client(peer)
        assert client.jobs_summary()["jobDetails"] == [good]
        assert client.job_summary("j2") == good
    skipped = [r.getMessage() for r in caplog.records if "skipped jobDetails" in r.getMessage()]
    assert len(skipped) == 2 * 5 and all("displayUserJob" in message for message in skipped)
