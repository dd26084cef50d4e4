"""Per-statement analysis: classify a parsed statement, open its process, run its handler,
and turn every failure into an entry of `errors`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.oracle import Oracle
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from .catalog import Catalog
from .context import StatementContext, StatementTimeout, hard_time_limit
from .coords import Locator, md5
from .graph_builder import Graph
from .model import AnalysisOptions, Coordinates, ErrorInfo, Process
from .parsing import ParsedStatement
from .rewrite import canonical, rewrite_hints, variables_query
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


def into_variables(into: exp.Expr, dialect: Dialect | None) -> bool:
    """`SELECT ... INTO` naming variables (PL/SQL, `INTO r.a, r.b`, `BULK COLLECT INTO`), not a
    table to create."""
    return bool(into.args.get("expressions") or into.args.get("bulk_collect")) or isinstance(dialect, Oracle)


def classify(tree: exp.Expr, dialect: Dialect | None = None) -> tuple[Kind, str] | None:
    """Statement kind and StatementAnalyzer method for statements that carry lineage;
    None for the rest (SET, DROP, GRANT, ...)."""
    into = tree.args.get("into") if isinstance(tree, exp.Select) else None
    if into is not None:
        return (SELECT, "select_variables") if into_variables(into, dialect) else (CREATE_TABLE, "select_into")
    if isinstance(tree, exp.Query):
        return SELECT, "select"
    if isinstance(tree, exp.Create):
        return CREATE_KINDS.get(str(tree.args.get("kind") or "").upper())
    if isinstance(tree, exp.Set) and variables_query(tree).expressions:
        return SELECT, "set_variables"
    if isinstance(tree, exp.Cache) and isinstance(tree.expression, exp.Query):
        return CREATE_TABLE, "cache"
    if isinstance(tree, exp.Alter):
        actions = tree.args.get("actions") or []
        if len(actions) == 1 and isinstance(actions[0], exp.Query):
            return CREATE_VIEW, "alter_view"
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
    this = parsed.tree.this if parsed.tree is not None else None
    table = this.find(exp.Table) if isinstance(this, exp.Expr) else None
    name = table.name if table is not None else "procedure"

    def reparse(index: int) -> exp.Expr:
        assert parsed.reparse is not None  # a parsed statement always carries its reparse
        body = procedure_body(parsed.reparse())
        assert body is not None  # the same text parses to the same procedure again
        return body[index]

    return [
        replace(parsed, tree=tree, reparse=partial(reparse, index), procedure=name)
        for index, tree in enumerate(body)
    ]


def nested_statements(tree: exp.Expr, dialect: Dialect | None) -> list[exp.Expr]:
    """The outermost lineage-bearing statements and queries inside a statement the engine has no
    handler for (`EXPORT DATA ... AS <query>`, `COPY (<query>) TO`, `SET @v = (<query>)`,
    `CREATE TABLE FUNCTION ... AS <query>`, BigQuery `FOR x IN (<query>) DO <statement>`)."""
    found: list[exp.Expr] = []
    stack = list(reversed(list(tree.iter_expressions())))
    while stack:
        node = stack.pop()
        if classify(node, dialect) is not None:
            found.append(node)
        else:
            stack.extend(reversed(list(node.iter_expressions())))
    return found


def reads_tables(tree: exp.Expr) -> bool:
    """Whether a statement reads a table: a table (not a table function) inside a query, or
    `COPY t TO ...`."""
    if isinstance(tree, exp.Copy) and not tree.args.get("kind") and isinstance(tree.this, exp.Table):
        return True
    return any(
        isinstance(t.this, exp.Identifier) and t.find_ancestor(exp.Query) is not None for t in tree.find_all(exp.Table)
    )


NO_LINEAGE_WARNING = "LineageWarning"





def analyze_statement(job: Job, locator: Locator, file_name: str, parsed: ParsedStatement) -> None:
    """Lineage of one statement; any failure becomes an entry of `errors`, never an exception.
    Never silent: a statement that reads a table and yields no edge gets a warning saying so."""
    graph = job.graph
    reads, errors, processes = graph.table_reads, len(graph.errors), len(graph.processes)
    tree, reparse = parsed.tree, parsed.reparse
    assert tree is not None and reparse is not None  # analyze_files passes parsed statements only
    if not isinstance(tree, exp.Command):
        words = rewrite_hints(parsed.tokens)
        canonical(tree, words)
        parsed = replace(parsed, reparse=partial(canonical_reparse, reparse, words))
    analyze_tree(job, locator, file_name, parsed)
    if len(graph.errors) == errors and graph.table_reads == reads and reads_tables(tree):
        coords = locator.of_tokens(parsed.tokens[0], parsed.tokens[-1])
        reason = (
            "no column of the tables it reads flows into its result"
            if len(graph.processes) > processes
            else f"{tree.key.upper()} statements are not analysed for lineage"
        )
        graph.errors.append(
            ErrorInfo(
                f"no lineage: {reason}",
                NO_LINEAGE_WARNING,
                coords,
                file_name,
            )
        )


def canonical_reparse(reparse: Callable[[], exp.Expr], words: frozenset[object]) -> exp.Expr:
    return canonical(reparse(), words)


def nested_reparse(reparse: Callable[[], exp.Expr], dialect: Dialect, index: int) -> exp.Expr:
    return nested_statements(reparse(), dialect)[index]


def analyze_tree(job: Job, locator: Locator, file_name: str, parsed: ParsedStatement) -> None:
    graph, catalog = job.graph, job.catalog
    dialect = catalog.dialect
    coords = locator.of_tokens(parsed.tokens[0], parsed.tokens[-1])
    tree, reparse = parsed.tree, parsed.reparse
    assert tree is not None and reparse is not None  # only parsed statements get here
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
            analyze_tree(job, locator, file_name, inner)
        return
    classified = classify(tree, dialect)
    if classified is None:
        for index, node in enumerate(nested_statements(tree, dialect)):
            reparse_node = partial(nested_reparse, reparse, dialect, index)
            analyze_tree(job, locator, file_name, replace(parsed, tree=node, reparse=reparse_node))
        return
    kind, handler = classified
    if isinstance(tree, (exp.Update, exp.Delete, exp.Merge)) and not isinstance(tree.this, exp.Table):
        target = tree.this.key if isinstance(tree.this, exp.Expr) else "nothing"
        message = f"{tree.key.upper()} of a {target} is not analysed (no target table)"
        graph.errors.append(ErrorInfo(message, "UnsupportedStatement", coords, file_name))
        return
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
            ctx, catalog, kind, normalize_identifiers(tree, dialect=dialect), reparse
        )
        with hard_time_limit(STATEMENT_TIME_LIMIT):
            getattr(analyzer, handler)()
    except StatementTimeout:
        ctx.error(f"statement analysis exceeded {STATEMENT_TIME_LIMIT:g}s", "TimeLimitExceeded")
    except Exception as error:  # bad SQL must never escape analyze(): report it instead
        ctx.error(f"{type(error).__name__}: {error}", "SemanticError")
