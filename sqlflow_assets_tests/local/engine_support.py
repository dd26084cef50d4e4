"""Helpers turning an engine result into comparable edge sets."""

from __future__ import annotations

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze

BOTH = ("fdd", "fdr")


def run(sql: str, vendor: str = "dbvpostgresql", **options) -> dict:
    options.setdefault("show_relation_type", BOTH)
    return analyze([SqlFile("job.sql", sql)], vendor, AnalysisOptions(**options))


def edges(result: dict) -> set[tuple[str, str, str]]:
    """{(source parent.column, target parent.column, type)} over every relationship source."""
    return {
        (
            f"{s['parentName']}.{s['column']}",
            f"{r['target']['parentName']}.{r['target']['column']}",
            r["type"],
        )
        for r in result["relationships"]
        for s in r["sources"]
    }


def objects(result: dict) -> dict[str, dict]:
    """Every emitted object by name, across databases/schemas/buckets."""
    out = {}
    for server in result["dbobjs"]["servers"]:
        for database in server["databases"]:
            for schema in database["schemas"]:
                for bucket in ("tables", "views", "others"):
                    for obj in schema[bucket]:
                        out[obj["name"]] = obj
    return out
