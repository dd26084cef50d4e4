"""Settings that would be ignored without a word: destination keys in the wrong section of dlt's TOML files.

The destination is dlt's top-level `destination_type` with credentials in top-level
`[destination.<type>]` tables. A line appended to the end of `.dlt/config.toml` lands in whatever
table is open there (`[runtime]`), so `destination_type = "postgres"` becomes
`runtime.destination_type`, nobody reads it, and the run loads into DuckDB. `misplaced_destination_keys`
finds such keys in the TOML files dlt reads; `config.storage()`, the Dagster storage resource and
`sqlflow-assets start` report them.

A `[destination.*]` table under a pipeline's own section (`[sqlflow.destination.postgres]`, dlt's
per-pipeline scoping) is where dlt looks too, so it is not reported.

Changing `destination_type` is the other trap: new jobs load into the new destination, the old ones
stay behind. `destination_change` says so, with the command that loads every job there.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.pipeline.pipeline import Pipeline

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


RELOAD_COMMAND = "sqlflow-assets reload --all"
CHANGE_RECORD = "destination_change.json"  # in the data folder given: a change seen and not yet reloaded


def destination_change(configured: str, pipeline_name: str, data_dir: Path) -> str | None:
    """A message while the jobs loaded so far sit in another destination type than `configured`.

    dlt's state of `pipeline_name` knows where it last loaded; when that differs, the change is
    recorded in `data_dir` (the next load into the new destination overwrites dlt's state, and the
    older jobs are still elsewhere), so every run says it until `RELOAD_COMMAND` loaded every job
    there (`destination_reloaded`) or the destination is set back. None when nothing changed.
    """
    record = data_dir / CHANGE_RECORD
    try:
        pending = json.loads(record.read_text())
    except (FileNotFoundError, ValueError):
        pending = None
    previous = _last_destination_type(pipeline_name)
    previous_type = str(previous).rsplit(".", 1)[-1] if previous else None
    if previous_type and previous_type != configured:
        pending = {"from": previous_type, "to": configured}
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(pending))
    elif pending and pending.get("to") != configured:
        record.unlink(missing_ok=True)
        pending = None
    if not pending:
        return None
    return (
        f"the destination is now {configured} but the jobs loaded so far went to {pending['from']}: "
        f"`{RELOAD_COMMAND}` loads every job into {configured}"
    )


def _last_destination_type(pipeline_name: str) -> str | None:
    """The destination in the pipeline's saved state (its `state.json`), as loaded last; None before any load.

    Read from the file, not through `dlt.attach`, which would put the configured destination in.
    """
    try:
        state = json.loads((Path(get_dlt_pipelines_dir()) / pipeline_name / Pipeline.STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return state.get("destination_type") if isinstance(state, dict) else None


def destination_reloaded(data_dir: Path) -> None:
    """Every job is loaded into the configured destination: the change is no longer reported."""
    (data_dir / CHANGE_RECORD).unlink(missing_ok=True)
