"""The API's options and default dialect are written once: the client sends and the local server reads the same names."""

from __future__ import annotations

import inspect

from sqlflow_assets.api import options
from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.local import server
from sqlflow_assets.local.engine import AnalysisOptions


def test_the_server_reads_each_option_under_the_name_the_client_sends() -> None:
    read = {**server.FLAG_OPTIONS, **server.TEXT_OPTIONS}
    assert read and all(options.OPTION_NAMES[field] == api_name for api_name, field in read.items())
    assert set(read.values()) <= set(AnalysisOptions.__dataclass_fields__)


def test_client_and_server_default_to_the_same_dialect() -> None:
    for method in ("generate_lineage", "generate_lineage_csv", "generate_graph_image", "submit_user_job", "submit_persist_job"):
        assert inspect.signature(getattr(SQLFlowClient, method)).parameters["dbvendor"].default == options.DEFAULT_DBVENDOR
    assert server.vendor_of(server.Params()) == options.DEFAULT_DBVENDOR
