"""Per-statement analysis: classify a parsed statement, open its process, run its handler,
and turn every failure into an entry of `errors`."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from .catalog import Catalog
from .context import StatementContext, StatementTimeout, hard_time_limit
from .coords import Locator, md5
from .graph_builder import Graph
from .model import AnalysisOptions, Coordinates, ErrorInfo, Process
from .parsing import ParsedStatement
from .statements import (
    ALTER_CONSTRAINTS,
    CREATE_TABLE,
    CREATE_VIEW,
    DELETE,
    INSERT,
    MERGE,
    RENAME_TABLE,
    SELECT,
    UPDATE,
    Kind,
    StatementAnalyzer,
)

STATEMENT_TIME_LIMIT = 20.0  # seconds of analysis per statement, checked between scopes


@dataclass(frozen=True)
class Job:
    """What every statement of one analyze() call shares."""

    graph: Graph
    catalog: Catalog
    options: AnalysisOptions


# Statement node type -> (kind, StatementAnalyzer method); first match wins.
HANDLERS: tuple[tuple[type[exp.Expr], Kind, str], ...] = (
    (exp.Insert, INSERT, "insert"),
    (exp.MultitableInserts, INSERT, "insert_all"),
    (exp.Update, UPDATE, "update"),
    (exp.Delete, DELETE, "delete"),
    (exp.Merge, MERGE, "merge"),
)
CREATE_KINDS = {"VIEW": (CREATE_VIEW, "create"), "TABLE": (CREATE_TABLE, "create")}


def classify(tree: exp.Expr) -> tuple[Kind, str] | None:
    """Statement kind and StatementAnalyzer method for statements that carry lineage;
    None for the rest (SET, DROP, GRANT, ...)."""
    if isinstance(tree, exp.Select) and tree.args.get("into") is not None:
        return CREATE_TABLE, "select_into"
    if isinstance(tree, exp.Query):
        return SELECT, "select"
    if isinstance(tree, exp.Create):
        return CREATE_KINDS.get(str(tree.args.get("kind") or "").upper())
    if isinstance(tree, exp.Alter):
        actions = tree.args.get("actions") or []
        if any(isinstance(a, exp.AlterRename) for a in actions):
            return RENAME_TABLE, "rename"
        constrains = any(isinstance(a, exp.AddConstraint) and a.find(exp.Reference) for a in actions)
        return (ALTER_CONSTRAINTS, "foreign_keys") if constrains else None
    return next(((kind, name) for node_type, kind, name in HANDLERS if isinstance(tree, node_type)), None)


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
        # a bare expression directly in a block is what sqlglot made of text it could not parse
        unparsed = isinstance(child, exp.Command) or (
            isinstance(node, exp.Block) and isinstance(child, (exp.Condition, exp.Alias))
        )
        if unparsed or classify(child) is not None:
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
    table = parsed.tree.this.find(exp.Table) if isinstance(parsed.tree.this, exp.Expr) else None
    name = table.name if table is not None else "procedure"

    def reparse(index: int) -> exp.Expr:
        return procedure_body(parsed.reparse())[index]

    return [
        replace(parsed, tree=tree, reparse=partial(reparse, index), procedure=name)
        for index, tree in enumerate(body)
    ]


def analyze_statement(job: Job, locator: Locator, file_name: str, parsed: ParsedStatement) -> None:
    """Lineage of one statement; any failure becomes an entry of `errors`, never an exception."""
    graph, catalog = job.graph, job.catalog
    dialect = catalog.dialect
    coords = locator.of_tokens(parsed.tokens[0], parsed.tokens[-1])
    tree = parsed.tree
    if isinstance(tree, exp.Command):
        text = tree.sql(dialect)[:80]
        graph.errors.append(
            ErrorInfo(
                f"statement not parsed (unsupported syntax): {text}",
                "UnsupportedStatement",
                coords,
                file_name,
            )
        )
        return
    if isinstance(tree, (exp.Condition, exp.Alias)):
        graph.errors.append(
            ErrorInfo(f"not a SQL statement: {tree.sql(dialect)[:80]}", "SyntaxError", coords, file_name)
        )
        return
    body = procedure_body(tree)
    if body is not None:
        for inner in inner_statements(parsed, body):
            analyze_statement(job, locator, file_name, inner)
        return
    classified = classify(tree)
    if classified is None:
        return
    kind, handler = classified
    ctx = StatementContext(
        graph,
        locator,
        file_name,
        coords,
        add_process(graph, kind, parsed, coords),
        show_constants=job.options.show_constant_table,
        deadline=time.monotonic() + STATEMENT_TIME_LIMIT,
        pseudocolumns=frozenset(c.upper() for c in dialect.PSEUDOCOLUMNS),
        text=parsed.text,
        offset=parsed.tokens[0].start,
    )
    try:
        analyzer = StatementAnalyzer(
            ctx, catalog, kind, normalize_identifiers(tree, dialect=dialect), parsed.reparse
        )
        with hard_time_limit(STATEMENT_TIME_LIMIT):
            getattr(analyzer, handler)()
    except StatementTimeout:
        ctx.error(f"statement analysis exceeded {STATEMENT_TIME_LIMIT:g}s", "TimeLimitExceeded")
    except Exception as error:  # bad SQL must never escape analyze(): report it instead
        ctx.error(f"{type(error).__name__}: {error}", "SemanticError")
