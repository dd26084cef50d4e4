"""The SQLFlow connection is one dlt configspec: the dlt source's spec, the client's and the Dagster resource's."""

from __future__ import annotations

from sqlflow_assets import config
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.defs.resources import SQLFlowResource
from sqlflow_assets.job.dlt_source import sqlflow_source


def test_one_connection_spec_serves_the_source_the_client_and_the_resource(monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__SQLFLOW__USER_ID", "auth0|cfg")
    monkeypatch.setenv("SOURCES__SQLFLOW__SECRET_KEY", "cfg-secret-value")
    monkeypatch.setenv("SOURCES__SQLFLOW__BASE_URL", "http://sqlflow.example:8081")
    assert sqlflow_source.spec is config.SQLFlowConnection
    for client in (SQLFlowClient.from_config(), SQLFlowResource().client()):
        assert isinstance(client.connection, config.SQLFlowConnection)
        assert (client.base_url, client.user_id, client.secret_key) == ("http://sqlflow.example:8081", "auth0|cfg", "cfg-secret-value")
    connection = config.sqlflow_connection()
    assert dict(connection)["path_prefix"] == "/gspLive_backend"  # the one default
    assert "cfg-secret-value" not in repr(connection) and "secret_key=***" in repr(connection)
