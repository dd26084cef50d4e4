"""One place that resolves the project's paths and environment variables.

Everything here is read at call time, never at import, so tests and `dagster dev` can point the
project somewhere else with environment variables alone.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_SQL_DIR = PACKAGE_DIR / "sql"
RAW_SCHEMA = "sqlflow_raw"
LINEAGE_SCHEMA = "lineage"
PIPELINE_NAME = "sqlflow"


def project_dir() -> Path:
    """The folder holding `.dlt/`: dlt's own `DLT_PROJECT_DIR`, else the current directory."""
    return Path(os.environ.get("DLT_PROJECT_DIR") or os.getcwd()).resolve()


def duckdb_path() -> Path:
    """The single DuckDB file shared by dlt and DuckDBResource (`SQLFLOW_DUCKDB_PATH`).

    The default stem is `sqlflow`, never `lineage`: a file named after a schema it holds makes
    every reference to that schema ambiguous in DuckDB.
    """
    configured = os.environ.get("SQLFLOW_DUCKDB_PATH")
    return Path(configured).resolve() if configured else project_dir() / "data" / "sqlflow.duckdb"


def pipelines_dir() -> Path:
    """dlt's working folder for the pipeline (`SQLFLOW_PIPELINES_DIR`), kept beside the data."""
    configured = os.environ.get("SQLFLOW_PIPELINES_DIR")
    return Path(configured).resolve() if configured else duckdb_path().parent / "dlt_pipelines"


def sql_dir() -> Path:
    """The folder the `sqlflow/sql_submission` asset submits (`SQLFLOW_SQL_DIR`), else the bundled sample."""
    configured = os.environ.get("SQLFLOW_SQL_DIR")
    return Path(configured).resolve() if configured else SAMPLE_SQL_DIR
