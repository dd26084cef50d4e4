"""SQLFlow dbvendor names (docs/sqlflow-api.md §0) and the sqlglot dialect used to parse each."""

from __future__ import annotations

from sqlflow_assets.errors import UnknownVendorError

# None means sqlglot's generic (ANSI-ish) dialect: used where sqlglot has no dedicated one.
_DIALECTS: dict[str, str | None] = {
    "dbvansi": None,
    "dbvathena": "athena",
    "dbvazuresql": "tsql",
    "dbvbigquery": "bigquery",
    "dbvcouchbase": None,
    "dbvdatabricks": "databricks",
    "dbvdb2": None,
    "dbvgaussdb": "postgres",
    "dbvgreenplum": "postgres",
    "dbvhana": None,
    "dbvhive": "hive",
    "dbvimpala": "hive",
    "dbvinformix": None,
    "dbvmdx": None,
    "dbvmssql": "tsql",
    "dbvmysql": "mysql",
    "dbvnetezza": "postgres",
    "dbvopenedge": None,
    "dbvoracle": "oracle",
    "dbvpostgresql": "postgres",
    "dbvpresto": "presto",
    "dbvredshift": "redshift",
    "dbvsnowflake": "snowflake",
    "dbvsparksql": "spark",
    "dbvsybase": "tsql",
    "dbvteradata": "teradata",
    "dbvvertica": "postgres",
}

SUPPORTED_VENDORS: tuple[str, ...] = tuple(sorted(_DIALECTS))


def dialect_for(dbvendor: str) -> str | None:
    """sqlglot dialect name for a dbvendor (case-insensitive); None is sqlglot's default."""
    key = dbvendor.strip().lower()
    if key not in _DIALECTS:
        raise UnknownVendorError(dbvendor=dbvendor, supported=SUPPORTED_VENDORS)
    return _DIALECTS[key]
