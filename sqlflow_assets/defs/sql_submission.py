"""The `sqlflow/sql_submission` asset: submits each configured SQL source whose content or options changed.

The rules (reading sources, fingerprints, persistent jobs) live in `sqlflow_assets.submit.submission`;
this is the Dagster glue: run config, the record of submissions (`submissions.json` under dlt's
data folder, shared with `sqlflow-assets submit`, shown in the materialisation metadata as `sources`,
a JSON map of source name to fingerprint and job id), and what a person reads per
source (`job_id/<source>`, `content_hash/<source>`, and `skipped/<source>`: the entries not sent,
symbolic links, oversized or irregular files, path -> why, also logged as a warning).

Sources given in the run's config (`folder`, `sources`) come from whoever can launch a run, so
their local roots are confined to the project folder (`submission.read_source(inside=...)`);
the configured ones (`.dlt/config.toml`, env) are the operator's.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from sqlflow_assets import config as settings
from sqlflow_assets.defs.resources import SQLFlowResource
from sqlflow_assets.defs.shared import OWNERS, last_json_metadata
from sqlflow_assets.domain import counted
from sqlflow_assets.submit import submission

SUBMISSION_KEY = dg.AssetKey(["sqlflow", "sql_submission"])
STATE_KEY = "sources"
SKIPPED_LISTED = 100  # skipped entries named in metadata per source (the rest counted)


class SqlSourceConfig(submission.SqlSource, dg.Config):
    """One SQL source given in run config (the same fields as `[[sources.sqlflow.sql_sources]]`)."""


class SqlSubmissionConfig(dg.Config):
    """Which sources to submit, and how.

    `sources`: replaces the configured `[[sources.sqlflow.sql_sources]]` for this run.
    `only`: submit just these source names. `folder`: one folder source instead, named like the
    default one. `dbvendor`: overrides each submitted source's. `force`: submit even when unchanged.
    """

    sources: list[SqlSourceConfig] | None = None
    only: list[str] | None = None
    folder: str | None = None
    dbvendor: str | None = None
    force: bool = False

    def names_sources(self) -> bool:
        """Whether this run's config names sources itself (then their local roots stay in the project folder)."""
        return bool(self.folder) or self.sources is not None

    def selected(self) -> list[submission.SqlSource]:
        if self.folder:
            sources = [submission.SqlSource(name=submission.DEFAULT_SOURCE_NAME, path=self.folder)]
        elif self.sources is not None:
            sources = submission.configured_sources([source.model_dump() for source in self.sources])
        else:
            sources = submission.configured_sources()
        if self.only:
            unknown = sorted(set(self.only) - {source.name for source in sources})
            if unknown:
                raise dg.Failure(f"unknown SQL source(s) {', '.join(map(repr, unknown))}; known: {[s.name for s in sources]}")
            sources = [source for source in sources if source.name in self.only]
        if self.dbvendor:
            sources = [source.model_copy(update={"dbvendor": self.dbvendor}) for source in sources]
        return sources


@dg.asset(
    key=SUBMISSION_KEY, group_name="sqlflow", output_required=False, kinds={"sql"}, owners=OWNERS,
    description=(
        "Submits each configured SQL source (`[[sources.sqlflow.sql_sources]]`; with none, `SQLFLOW_SQL_DIR` or the bundled sample) whose "
        "files or options changed, as one SQLFlow job. Runs daily at 03:00 (`sqlflow_sql_submission_daily`) and "
        "when materialised; nothing is submitted while that schedule is stopped, and it materialises only when "
        "something was sent."
    ),
)
def sql_submission(
    context: dg.AssetExecutionContext, config: SqlSubmissionConfig, sqlflow: SQLFlowResource
) -> Iterator[dg.MaterializeResult]:
    """Submit one SQLFlow job per configured SQL source whose files or options changed (all of them when forced).

    Materialises only when something was submitted; its metadata carries every source's state,
    so unchanged sources keep theirs. A source that cannot be read or submitted fails the run
    after the others' submissions are recorded.
    """
    sources = config.selected()
    previous = last_json_metadata(context, SUBMISSION_KEY, STATE_KEY)

    def report(outcome: submission.Outcome) -> None:
        if outcome.submitted:
            context.log.info(
                f"{outcome.source.name}: submitted {counted(outcome.file_count, 'file')} ({outcome.action}), job {outcome.job_id}"
            )
        else:
            context.log.info(f"{outcome.source.name}: {counted(outcome.file_count, 'file')} unchanged since job {outcome.job_id}")
        if outcome.skipped:
            listed = "; ".join(f"{path}: {why}" for path, why in list(outcome.skipped.items())[:20])
            more = f"; and {len(outcome.skipped) - 20} more" if len(outcome.skipped) > 20 else ""
            context.log.warning(f"{outcome.source.name}: skipped {counted(len(outcome.skipped), 'entry', 'entries')} ({listed}{more})")

    inside = settings.project_dir() if config.names_sources() else None
    outcomes, failures, state = submission.submit_recorded(
        sqlflow.client(), sources, settings.submission_state_path(), config.force, report, inside, known=previous,
        configured=not config.names_sources(),
    )
    submitted = [outcome for outcome in outcomes if outcome.submitted]
    if submitted:
        yield dg.MaterializeResult(metadata=_metadata(state, submitted))
    if failures:
        raise dg.Failure(
            "SQL source(s) not submitted: " + "; ".join(f"{name}: {error}" for name, error in failures.items())
        )


def _metadata(state: dict[str, dict[str, Any]], submitted: list[submission.Outcome]) -> dict[str, Any]:
    metadata: dict[str, Any] = {STATE_KEY: dg.MetadataValue.json(state), "submitted": [o.source.name for o in submitted]}
    for outcome in submitted:
        name = outcome.source.name
        metadata[f"job_id/{name}"] = outcome.job_id
        metadata[f"content_hash/{name}"] = outcome.fingerprint
        metadata[f"file_count/{name}"] = outcome.file_count
        metadata[f"where/{name}"] = outcome.source.describe()
        if outcome.revision:
            metadata[f"revision/{name}"] = outcome.revision
        if outcome.skipped:
            listed = dict(list(outcome.skipped.items())[:SKIPPED_LISTED])
            if len(outcome.skipped) > SKIPPED_LISTED:
                listed["…"] = f"{len(outcome.skipped) - SKIPPED_LISTED} more"
            metadata[f"skipped/{name}"] = dg.MetadataValue.json(listed)
    return metadata
