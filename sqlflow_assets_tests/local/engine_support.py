"""Helpers turning an engine result into comparable edge sets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze

BOTH = ("fdd", "fdr")
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """Import `benchmarks/<name>.py` as a module, so a test gates on the script's own scoring
    (registered in sys.modules first: the scripts define dataclasses)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
