"""Entry point: analyse a job's SQL files into the SQLFlow lineage object."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import cast

from sqlglot.dialects.dialect import Dialect

from sqlflow_assets.api.vendors import dialect_for

from .catalog import Catalog
from .collapse import collapse, to_table_level
from .coords import Locator, md5
from .dispatch import Job, analyze_statement
from .emit import sqlflow_json
from .graph_builder import Graph
from .model import AnalysisOptions, DbObject, Edge, Metadata, SqlFile
from .parsing import split_statements


def keep_predicate(options: AnalysisOptions) -> Callable[[DbObject], bool] | None:
    """Which objects survive simpleOutput / ignoreRecordSet / tableToTable (None: all of them)."""
    if not (options.simple_output or options.ignore_record_set or options.table_to_table):
        return None
    keep_top = options.ignore_record_set and not options.simple_output and not options.table_to_table

    def keep(obj: DbObject) -> bool:
        return obj.persistent or obj.type == "constantTable" or (keep_top and obj.top_level)

    return keep


def shaped(graph: Graph, options: AnalysisOptions) -> tuple[list[DbObject], list[Edge]]:
    """Objects and edges to emit after ignoreFunction and the collapsing options."""
    objects = list(graph.objects.values())
    edges = list(graph.edges)
    if options.ignore_function:
        functions = {o.id for o in objects if o.type == "function"}
        objects = [o for o in objects if o.id not in functions]
        edges = [e for e in edges if e.source.obj_id not in functions]
    keep = keep_predicate(options)
    if keep is None:
        return objects, edges
    edges = collapse(graph, keep)
    if options.table_to_table:
        edges = to_table_level(graph, edges)
    return [o for o in objects if keep(o)], edges


def fill_data_types(graph: Graph, catalog: Catalog) -> None:
    """dataType of table columns known from metadata or CREATE TABLE (docs/sqlflow-format.md §3)."""
    for obj in graph.tables.values():
        name = catalog.name_of(obj)
        for column in obj.columns.values():
            column.data_type = column.data_type or catalog.data_type(name, column.name) or None


# Allocation rounds of the middle generation between two full collections (CPython's default: 10).
FULL_COLLECTION_RARITY = 100


@contextmanager
def rare_full_collections() -> Iterator[None]:
    """Full cyclic-GC collections 10x rarer while a job is analysed.

    Every full collection rescans the whole graph built so far, which grows with the job: with
    the default they cost about 15% of a 10,000-statement job. Statement trees (cyclic through
    their parent links) are still freed, by the young collections or the rarer full ones, so
    peak memory does not change measurably.
    """
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, FULL_COLLECTION_RARITY))
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def analyze(
    files: Sequence[SqlFile],
    dbvendor: str,
    options: AnalysisOptions = AnalysisOptions(),  # noqa: B008 - frozen, so sharing it is safe
) -> dict:
    """Column lineage of a job: `files` are analysed in order, sharing one catalog of tables."""
    with rare_full_collections():
        return analyze_files(files, dbvendor, options)


def analyze_files(files: Sequence[SqlFile], dbvendor: str, options: AnalysisOptions) -> dict:
    """The analysis proper: split, analyse statement by statement, shape, emit."""
    dialect = Dialect.get_or_raise(dialect_for(dbvendor))
    graph = Graph(options.default_database or "DEFAULT", options.default_schema or "DEFAULT")
    metadata = cast("Metadata | None", options.metadata)  # __post_init__ stored it frozen
    job = Job(graph, Catalog.from_metadata(dialect, metadata, graph.default_schema), options)
    for sql_file in files:
        locator = Locator("0" if len(files) == 1 else md5(sql_file.text))
        for parsed in split_statements(dialect, sql_file.text, locator, sql_file.name):
            if parsed.error is not None:
                graph.errors.append(parsed.error)
            elif parsed.tree is not None:
                analyze_statement(job, locator, sql_file.name, parsed)
    fill_data_types(graph, job.catalog)
    objects, edges = shaped(graph, options)
    return sqlflow_json(graph, objects, edges, dbvendor.strip().lower(), options)
