"""Settings that would be ignored without a word: destination keys in the wrong section of dlt's TOML files.

The destination is dlt's top-level `destination_type` with credentials in top-level
`[destination.<type>]` tables. A line appended to the end of `.dlt/config.toml` lands in whatever
table is open there (`[runtime]`), so `destination_type = "postgres"` becomes
`runtime.destination_type`, nobody reads it, and the run loads into DuckDB. `misplaced_destination_keys`
finds such keys in the TOML files dlt reads; `config.storage()`, the Dagster storage resource and
`sqlflow-assets start` report them.

A `[destination.*]` table under a pipeline's own section (`[sqlflow.destination.postgres]`, dlt's
per-pipeline scoping) is where dlt looks too, so it is not reported. This module reads files only.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

DESTINATION_TYPE = "destination_type"
DESTINATION_TABLE = "destination"
PIPELINE_SECTIONS = frozenset({"sqlflow", "sqlflow_lineage"})  # config.PIPELINE_NAME, config.LINEAGE_PIPELINE_NAME


def dlt_toml_files() -> list[Path]:
    """The TOML files dlt reads settings from (the project's `.dlt/`, then dlt's global folder), existing ones."""
    providers = Container()[PluggableRunContext].providers.providers
    locations = [location for provider in providers for location in getattr(provider, "locations", ()) or ()]
    return [Path(location) for location in dict.fromkeys(locations) if str(location).endswith(".toml") and os.path.isfile(location)]


def misplaced_destination_keys(files: Iterable[Path] | None = None, project: Path | None = None) -> list[str]:
    """One message per destination key outside the top level of `files` (default: `dlt_toml_files()`).

    Paths are shown relative to `project` when inside it. A file TOML cannot read is left to dlt,
    which reports it when it loads the file.
    """
    messages = []
    for path in dlt_toml_files() if files is None else files:
        try:
            document = tomllib.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        shown = _shown(Path(path), project)
        for section, key, value in _keys(document, ()):
            if not section:
                continue
            where = f"`[{'.'.join(section)}]`"
            if key == DESTINATION_TYPE:
                messages.append(f"found `{DESTINATION_TYPE}` under {where} in {shown}; it must be at the top level (above every [section])")
            elif key == DESTINATION_TABLE and isinstance(value, Mapping) and section[0] not in PIPELINE_SECTIONS:
                for name in value or {"": None}:
                    table = f"{DESTINATION_TABLE}.{name}" if name else DESTINATION_TABLE
                    messages.append(f"found `[{table}]` under {where} in {shown}; it must be a top-level table `[{table}]`")
    return messages


def _keys(table: Mapping[str, Any], section: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """(section, key, value) of every key, tables entered except a misplaced `destination` one (reported whole)."""
    for key, value in table.items():
        yield section, key, value
        if isinstance(value, Mapping) and not (key == DESTINATION_TABLE and section):
            yield from _keys(value, (*section, key))


def _shown(path: Path, project: Path | None) -> str:
    if project is not None:
        try:
            return str(path.resolve().relative_to(project.resolve()))
        except ValueError:
            pass
    return str(path)
