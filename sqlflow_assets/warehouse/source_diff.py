"""`sqlflow-assets diff`: a version of a source analysed without loading it, compared with its current lineage.

A version (a working copy folder, a git ref, or the configured source as it is) is submitted to
the configured SQLFlow as a throwaway job named `DIFF_JOB_PREFIX + source`, its export analysed in
this process (`lineage_step.analyse`: the same rows a load computes) and the job deleted again; its
end-to-end edges become `column_lineage` rows through `graph.build_graph`, so names are normalised
exactly as the graph normalises them. `changes.compare` does the rest. Nothing is written anywhere.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from sqlflow_assets.api.client import SQLFlowClient
from sqlflow_assets.domain import DIFF_JOB_PREFIX
from sqlflow_assets.errors import JobLineageError, SourceError, SQLFlowError
from sqlflow_assets.job import lineage_step
from sqlflow_assets.submit import submission
from sqlflow_assets.submit.source_paths import Files
from sqlflow_assets.tables import GRAPH, LINEAGE
from sqlflow_assets.warehouse import changes, graph

GRAPH_COLUMNS = ("column_lineage",)


def source_at(source: submission.SqlSource, *, path: str | None = None, git_ref: str | None = None) -> submission.SqlSource:
    """`source` read from a working copy folder (`path`; a git source's `subfolder` under it) or at
    another branch of its repository (`git_ref`), its name, dialect and filters kept."""
    if path:
        folder = Path(path).expanduser().resolve()
        if source.kind == "git" and source.subfolder:
            folder = folder / source.subfolder.strip("/")
        if not folder.is_dir():
            raise SourceError(message=f"--path {path}: no such folder")
        return source.model_copy(update={"kind": "folder", "path": str(folder), "url": None, "branch": None, "subfolder": None})
    if git_ref:
        if source.kind != "git":
            raise SourceError(message=f"SQL source {source.name!r} is a {source.kind} source; --git-ref needs a git source")
        return source.model_copy(update={"branch": git_ref})
    return source


def analyse_files(
    client: SQLFlowClient, source: submission.SqlSource, files: Files, *, timeout: float = 600, poll_seconds: float = 0.5
) -> pa.Table:
    """`files` analysed by SQLFlow as `source` would be, as `column_lineage` rows of that source (nothing loaded)."""
    options = {"default_database": source.default_database, "default_schema": source.default_schema}
    job_id = client.submit_user_job(DIFF_JOB_PREFIX + source.name, files, source.dbvendor, **options)["jobId"]
    try:
        job = client.wait_for_job(job_id, poll_seconds=poll_seconds, timeout=timeout)
        with tempfile.TemporaryDirectory(prefix="sqlflow-diff-") as folder:
            export = client.export_lineage_json_file(job_id, Path(folder) / "export.json")
            lineage = lineage_step.analyse(job_id, export, job)
    finally:
        with contextlib.suppress(SQLFlowError):  # a server without deleteUserJob keeps the job; its name says what it was
            client.delete_job(job_id)
    current = pa.Table.from_pylist(
        [{
            "source": source.name, "job_id": job_id, "job_name": source.job, "status": job.get("status"),
            "create_time": str(job.get("createTime") or ""), "db_vendor": source.dbvendor,
            "default_database": source.default_database, "default_schema": source.default_schema,
        }],
        schema=_current_jobs_schema(),
    )  # fmt: skip
    return graph.build_graph(current, lineage.lineage["end_to_end_edges"])["column_lineage"]


def analyse_source(client: SQLFlowClient, source: submission.SqlSource, **wait: float) -> pa.Table:
    """The source's files now (`submission.read_source`), analysed by `analyse_files`."""
    return analyse_files(client, source, submission.read_source(source).files, **wait)


def current_lineage(column_lineage: pa.Table | None, source: str) -> pa.Table:
    """`source`'s rows of the current `column_lineage` (none when the graph or the source is not there)."""
    if column_lineage is None:
        return _empty_lineage()
    mask = pc.equal(column_lineage.column("source"), source)
    return column_lineage.filter(pc.fill_null(mask, False))


def job_lineage(jobs: pa.Table | None, end_to_end_edges: pa.Table | None, job_id: str) -> pa.Table:
    """A loaded job's `end_to_end_edges` as `column_lineage` rows, names read in its job's context.

    `jobs`: `sqlflow_raw.jobs`; the job needs its row there and its edges loaded.
    """
    loaded = end_to_end_edges is not None and job_id in set(end_to_end_edges.column("job_id").to_pylist())
    if jobs is None or not loaded or job_id not in jobs.column("job_id").to_pylist():
        raise JobLineageError(job_id=job_id, message="no loaded lineage (not in sqlflow_raw.jobs or lineage.end_to_end_edges)")
    found = jobs.filter(pc.equal(jobs.column("job_id"), job_id)).to_pylist()[0]
    row = pa.Table.from_pylist(
        [
            {
                **{name: found.get(name) for name in _current_jobs_schema().names},
                "source": graph.source_of(found.get("job_name"), job_id),
            }
        ],
        schema=_current_jobs_schema(),
    )
    edges = end_to_end_edges if end_to_end_edges is not None else _empty_edges()
    return graph.build_graph(row, edges.filter(pc.equal(edges.column("job_id"), job_id)))["column_lineage"]


def compare(previous: pa.Table, new: pa.Table, current_graph: pa.Table | None, source: str, depth: int) -> changes.Changes:
    """`changes.compare` of two versions of `source` against the current graph (none: an empty one)."""
    graph_rows = current_graph if current_graph is not None else _empty_lineage()
    return changes.compare(previous, new, graph_rows, source=source, depth=depth)


def _current_jobs_schema() -> pa.Schema:
    return GRAPH["current_jobs"].arrow_schema()


def _empty_lineage() -> pa.Table:
    return GRAPH["column_lineage"].empty()


def _empty_edges() -> pa.Table:
    return LINEAGE["end_to_end_edges"].empty()
