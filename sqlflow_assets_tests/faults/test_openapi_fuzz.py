"""A bounded schemathesis run against the real local server's OpenAPI: no input may cause a server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlflow_assets_tests.support import Api

pytestmark = pytest.mark.faults

EXAMPLES = 400  # over every operation of one path prefix; bounded, and seeded so a run is repeatable


def test_fuzzed_requests_never_get_a_server_error(local_server) -> None:
    assert local_server.base_url.startswith("http://127.0.0.1:")
    token = Api(local_server.base_url, local_server.user_id, local_server.secret_key).token
    schema = schemathesis.openapi.from_url(f"{local_server.base_url}/openapi.json").include(
        path_regex="^/gspLive_backend/"
    )
    operations = list(schema.get_all_operations())
    assert len(operations) >= 15  # every endpoint is declared, with its form fields

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=schema.as_strategy(), signed_in=st.booleans())
    def request_is_never_a_server_error(case: schemathesis.Case, signed_in: bool) -> None:
        if signed_in and isinstance(case.body, dict):  # half the cases get past authentication
            case.body.update(userId=local_server.user_id, token=token)
        response = case.call(timeout=60)
        assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"

    request_is_never_a_server_error()
