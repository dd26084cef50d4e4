"""Entry point: analyse a job's SQL files into the SQLFlow lineage object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from .catalog import Catalog
from .collapse import collapse, to_table_level
from .context import StatementContext
from .coords import Locator, md5
from .emit import sqlflow_json
from .graph import Graph
from .model import AnalysisOptions, Coordinates, DbObject, Edge, ErrorInfo, Process, SqlFile
from .parsing import ParsedStatement, split_statements
from .statements import (
    CREATE_TABLE,
    CREATE_VIEW,
    DELETE,
    INSERT,
    MERGE,
    SELECT,
    UPDATE,
    Kind,
    StatementAnalyzer,
)
from .vendors import dialect_for


def classify(tree: exp.Expr) -> tuple[Kind, str] | None:
    """Statement kind and StatementAnalyzer method for statements that carry lineage;
    None for the rest (SET, DROP, GRANT, ...)."""
    if isinstance(tree, exp.Select) and tree.args.get("into") is not None:
        return CREATE_TABLE, "select_into"
    if isinstance(tree, exp.Query):
        return SELECT, "select"
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        return {"VIEW": (CREATE_VIEW, "create"), "TABLE": (CREATE_TABLE, "create")}.get(kind)
    handlers = (
        (exp.Insert, INSERT, "insert"),
        (exp.MultitableInserts, INSERT, "insert_all"),
        (exp.Update, UPDATE, "update"),
        (exp.Delete, DELETE, "delete"),
        (exp.Merge, MERGE, "merge"),
    )
    return next(((kind, name) for node_type, kind, name in handlers if isinstance(tree, node_type)), None)


def add_process(graph: Graph, kind: Kind, parsed: ParsedStatement, coordinates: Coordinates) -> str:
    process = Process(
        graph.new_id(),
        f"{kind.process_name}-{graph.next_number(kind.process_name)}",
        kind.process_type,
        md5(parsed.text),
        coordinates,
        graph.default_database,
        graph.default_schema,
        parsed.procedure,
    )
    graph.processes.append(process)
    return process.id


def body_statements(node: exp.Expr) -> list[exp.Expr]:
    """Statements inside a procedure body, in order, looking into nested IF/BEGIN blocks."""
    found: list[exp.Expr] = []
    for child in node.iter_expressions():
        if isinstance(child, exp.Command) or classify(child) is not None:
            found.append(child)
        else:
            found.extend(body_statements(child))
    return found


def procedure_body(tree: exp.Expr) -> list[exp.Expr] | None:
    """The parsed body of CREATE PROCEDURE/FUNCTION ... BEGIN ... END, if sqlglot parsed one."""
    if isinstance(tree, exp.Create) and isinstance(tree.expression, exp.Block):
        return body_statements(tree.expression)
    return None


def inner_statements(parsed: ParsedStatement, body: list[exp.Expr]) -> list[ParsedStatement]:
    """Body statements as statements of their own, attributed to the procedure."""
    name = parsed.tree.this.name if isinstance(parsed.tree.this, exp.Expr) else "procedure"

    def reparse(index: int) -> exp.Expr:
        return procedure_body(parsed.reparse())[index]

    return [
        replace(parsed, tree=tree, reparse=partial(reparse, index), procedure=name)
        for index, tree in enumerate(body)
    ]


def analyze_statement(
    graph: Graph, catalog: Catalog, locator: Locator, file_name: str, parsed: ParsedStatement
) -> None:
    """Lineage of one statement; any failure becomes an entry of `errors`, never an exception."""
    dialect = catalog.dialect
    coords = locator.of_tokens(parsed.tokens[0], parsed.tokens[-1])
    tree = parsed.tree
    if isinstance(tree, exp.Command):
        text = tree.sql(dialect)[:80]
        graph.errors.append(ErrorInfo(f"statement not parsed (unsupported syntax): {text}", "UnsupportedStatement", coords, file_name))
        return
    body = procedure_body(tree)
    if body is not None:
        for inner in inner_statements(parsed, body):
            analyze_statement(graph, catalog, locator, file_name, inner)
        return
    classified = classify(tree)
    if classified is None:
        return
    kind, handler = classified
    ctx = StatementContext(graph, locator, file_name, coords, add_process(graph, kind, parsed, coords))
    try:
        analyzer = StatementAnalyzer(ctx, catalog, kind, normalize_identifiers(tree, dialect=dialect), parsed.reparse)
        getattr(analyzer, handler)()
    except Exception as error:  # noqa: BLE001 - bad SQL must never escape analyze()
        ctx.error(f"{type(error).__name__}: {error}", "SemanticError")


def kept_objects(graph: Graph, options: AnalysisOptions) -> tuple[list[DbObject], list[Edge]]:
    """Objects and edges to emit after simpleOutput / ignoreRecordSet / tableToTable."""
    collapsing = options.simple_output or options.ignore_record_set or options.table_to_table
    if not collapsing:
        return list(graph.objects.values()), list(graph.edges)
    keep_top = options.ignore_record_set and not options.simple_output and not options.table_to_table

    def keep(obj: DbObject) -> bool:
        return obj.persistent or (keep_top and obj.top_level)

    edges = collapse(graph, keep)
    if options.table_to_table:
        edges = to_table_level(graph, edges)
    return [o for o in graph.objects.values() if keep(o)], edges


def analyze(files: Sequence[SqlFile], dbvendor: str, options: AnalysisOptions = AnalysisOptions()) -> dict:
    """Column lineage of a job: `files` are analysed in order, sharing one catalog of tables."""
    dialect = Dialect.get_or_raise(dialect_for(dbvendor))
    graph = Graph(options.default_database or "DEFAULT", options.default_schema or "DEFAULT")
    catalog = Catalog.from_metadata(dialect, options.metadata)
    for sql_file in files:
        locator = Locator("0" if len(files) == 1 else md5(sql_file.text))
        for parsed in split_statements(dialect, sql_file.text, locator, sql_file.name):
            if parsed.error is not None:
                graph.errors.append(parsed.error)
            elif parsed.tree is not None:
                analyze_statement(graph, catalog, locator, sql_file.name, parsed)
    objects, edges = kept_objects(graph, options)
    return sqlflow_json(graph, objects, edges, dbvendor, options.show_relation_type)
