"""Per-statement lineage: classify a parsed statement, qualify its query, link it to targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from .catalog import Catalog
from .context import StatementContext
from .model import DbObject
from .scopes import ScopeWalker, output_names


@dataclass(frozen=True)
class Kind:
    """How SQLFlow names a statement's process and the effectType of its target edges."""

    process_name: str
    process_type: str
    effect: str


SELECT = Kind("Query Select", "sstselect", "select")
INSERT = Kind("Query Insert", "sstinsert", "insert")
CREATE_VIEW = Kind("Query Create View", "sstcreateview", "create_view")
CREATE_TABLE = Kind("Query Create Table", "sstcreatetable", "create_table")
UPDATE = Kind("Query Update", "sstupdate", "update")
DELETE = Kind("Query Delete", "sstdelete", "delete")
MERGE = Kind("Query Merge", "sstmerge", "merge")
RENAME_TABLE = Kind("Query Alter Table", "sstaltertable", "rename_table")
LIKE_EFFECT = "like_table"


Extract = Callable[[exp.Expr], exp.Query]


def with_query(statement: exp.Expr) -> exp.Query:
    """The query of INSERT/CREATE, carrying a WITH written before the INSERT keyword."""
    query = statement.expression
    with_ = statement.args.get("with_")
    if with_ is not None and isinstance(query, exp.Query) and not query.args.get("with_"):
        query.set("with_", with_)
    return query


def target_of(statement: exp.Expr) -> tuple[exp.Table, list[str] | None]:
    """Target table of INSERT/CREATE and its explicit column list, if any."""
    this = statement.this
    if isinstance(this, exp.Schema):
        names = [
            c.name for c in this.expressions if isinstance(c, (exp.Identifier, exp.ColumnDef, exp.Column))
        ]
        return this.this, names or None
    return this, None


def name_expressions(query: exp.Query, dialect: Dialect) -> exp.Query:
    """Alias unaliased computed projections by their SQL text, as SQLFlow names such columns
    (qualify() would call them `_col_n`)."""
    for select in list(query.find_all(exp.Select)):
        select.set("expressions", [named(p, dialect) for p in select.expressions])
    return query


def named(projection: exp.Expr, dialect: Dialect) -> exp.Expr:
    if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
        return projection
    return exp.Alias(this=projection, alias=exp.to_identifier(projection.sql(dialect), quoted=True))


def aliased(values: list[exp.Expr], names: list[str]) -> list[exp.Expr]:
    return [exp.alias_(v.copy(), name, quoted=False) for v, name in zip(values, names, strict=False)]


def dml_select(
    projections: list[exp.Expr], sources: list[exp.Expr], joins: list[exp.Expr], where: exp.Expr | None
) -> exp.Select:
    """`SELECT <projections> FROM <sources> <joins> WHERE ...` standing in for a DML statement, so
    its columns resolve exactly as a query's. Joins that MySQL/T-SQL hang on a table are lifted."""
    select = exp.Select(expressions=projections)
    tables = [source.copy() for source in sources]
    lifted = [join for table in tables for join in table.args.get("joins") or []]
    for table in tables:
        table.set("joins", None)
    select.set("from_", exp.From(this=tables[0]))
    for join in [*(exp.Join(this=t) for t in tables[1:]), *lifted, *(j.copy() for j in joins)]:
        select.append("joins", join)
    if where is not None:
        select.set("where", where.copy() if isinstance(where, exp.Where) else exp.Where(this=where.copy()))
    return select


def update_query(update: exp.Expr) -> exp.Query:
    """UPDATE as `SELECT <set values> FROM target [, from] [joins] WHERE ...`; a T-SQL FROM that
    already names the target is used as is."""
    target = update.this
    from_ = update.args.get("from_")
    if from_ is not None and target.alias_or_name in {t.alias_or_name for t in from_.find_all(exp.Table)}:
        sources = [from_.this]
    else:
        sources = [target, *([from_.this] if from_ is not None else [])]
    values = aliased([eq.expression for eq in update.expressions], set_columns(update))
    return dml_select(values, sources, update.args.get("joins") or [], update.args.get("where"))


def without_into(select: exp.Expr) -> exp.Query:
    select.set("into", None)
    return select


def set_columns(update: exp.Expr) -> list[str]:
    return [eq.this.name for eq in update.expressions]


def delete_query(delete: exp.Expr) -> exp.Query:
    """DELETE as a projection-less SELECT so its WHERE columns resolve like a query's."""
    sources = [delete.this, *(delete.args.get("using") or [])]
    return dml_select([], sources, [], delete.args.get("where"))


def merge_branch(merge: exp.Expr, index: int) -> tuple[exp.Expr, list[exp.Expr]]:
    """The THEN action of WHEN branch `index` and the values it writes."""
    then = merge.args["whens"].expressions[index].args["then"]
    if isinstance(then, exp.Update):
        return then, [eq.expression for eq in then.expressions]
    values = then.expression
    return then, list(values.expressions) if isinstance(values, exp.Tuple) else []


def merge_query(merge: exp.Expr, index: int, columns: list[str]) -> exp.Query:
    """One MERGE branch as `SELECT <values> FROM target JOIN using ON ... WHERE <branch cond>`."""
    when = merge.args["whens"].expressions[index]
    _, values = merge_branch(merge, index)
    join = exp.Join(this=merge.args["using"], on=merge.args["on"])
    return dml_select(aliased(values, columns), [merge.this], [join], when.args.get("condition"))


@dataclass
class StatementAnalyzer:
    """Adds the lineage of one statement to the graph; one instance per statement.

    `reparse` yields a fresh tree: qualify() mutates the tree, so a retry needs a new one.
    """

    ctx: StatementContext
    catalog: Catalog
    kind: Kind
    tree: exp.Expr
    reparse: Callable[[], exp.Expr]

    # ---- query lineage ------------------------------------------------------------------
    def qualified(self, extract: Extract) -> exp.Query:
        """qualify() the query; when columns cannot be resolved, qualify only the tables."""
        options = dict(
            dialect=self.catalog.dialect,
            schema=self.catalog.schema(),
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
        dialect = self.catalog.dialect
        try:
            return qualify(name_expressions(extract(self.tree), dialect), **options)
        except OptimizeError as error:
            self.ctx.error(f"columns not fully resolved: {error}", "SemanticWarning")
            fresh = normalize_identifiers(self.reparse(), dialect=dialect)
            return qualify(name_expressions(extract(fresh), dialect), qualify_columns=False, **options)

    def query_lineage(self, extract: Extract, root_obj: DbObject, effect: str | None = None) -> list[str]:
        """Walk the query's scopes into `root_obj`; returns the query's output column names."""
        qualified = self.qualified(extract)
        self.ctx.check_time()
        root = build_scope(qualified)
        if root is None:
            self.ctx.error("query has no analysable scope", "SemanticError")
            return []
        ScopeWalker(self.ctx, root, root_obj, effect).run()
        return output_names(root)

    def link_target(
        self, source: DbObject, names: list[str], target: DbObject, columns: list[str], effect: str
    ) -> None:
        """Map result-set columns to target columns by position (fdd) and rows to rows (fdr)."""
        graph = self.ctx.graph
        if len(columns) != len(names):
            self.ctx.error(
                f"{target.name}: {len(columns)} target columns for {len(names)} values",
                "SemanticWarning",
            )
        pid = self.ctx.process_id
        for name, column in zip(names, columns, strict=False):
            graph.link(
                "fdd",
                (source, graph.column(source, name)),
                (target, graph.column(target, column)),
                effect,
                pid,
            )
        graph.link("fdr", (source, graph.pseudo(source)), (target, graph.pseudo(target)), effect, pid)

    # ---- statements (dispatched by name from analyze.classify) --------------------------
    def select(self) -> None:
        root = self.ctx.graph.intermediate("RS", "select_list", top_level=True)
        self.query_lineage(lambda tree: tree, root)

    def insert(self) -> None:
        table, columns = target_of(self.tree)
        target = self.ctx.table(table)
        if not isinstance(self.tree.expression, exp.Query):
            return
        root = self.ctx.graph.intermediate("INSERT-SELECT", "insert-select")
        names = self.query_lineage(with_query, root)
        target_columns = columns or self.catalog.columns(target.name) or names
        self.link_target(root, names, target, target_columns, self.kind.effect)

    def insert_all(self) -> None:
        """Oracle INSERT ALL/FIRST: one INSERT-SELECT feeding every INTO branch by value names."""
        root = self.ctx.graph.intermediate("INSERT-SELECT", "insert-select")
        names = self.query_lineage(lambda tree: tree.args["source"], root)
        graph, pid = self.ctx.graph, self.ctx.process_id
        for branch in self.tree.expressions:
            table, columns = target_of(branch.this)
            target = self.ctx.table(table)
            values = branch.this.expression
            rows = (
                values.expressions[0].expressions
                if isinstance(values, exp.Values) and values.expressions
                else None
            )
            targets = columns or self.catalog.columns(target.name) or names
            reads = [[c.name for c in v.find_all(exp.Column)] for v in rows] if rows else [[n] for n in names]
            for column, read in zip(targets, reads, strict=False):
                for name in read:
                    graph.link(
                        "fdd",
                        (root, graph.column(root, name)),
                        (target, graph.column(target, column)),
                        self.kind.effect,
                        pid,
                    )
            for column in branch.find_all(exp.Column) if branch.args.get("expression") else ():
                if column.find_ancestor(exp.Insert) is None:
                    graph.link(
                        "fdr",
                        (root, graph.column(root, column.name)),
                        (target, graph.pseudo(target)),
                        self.kind.effect,
                        pid,
                        "where",
                    )
            graph.link(
                "fdr", (root, graph.pseudo(root)), (target, graph.pseudo(target)), self.kind.effect, pid
            )

    def create(self) -> None:
        """CREATE VIEW / CTAS: lineage into the new object; plain CREATE TABLE: register it."""
        table, columns = target_of(self.tree)
        target = self.ctx.table(table, "view" if self.kind is CREATE_VIEW else "table")
        if isinstance(self.tree.expression, exp.Query):
            self.populate(target, columns, with_query)
            return
        like = self.tree.find(exp.LikeProperty)
        if like is not None:
            self.table_flow(like.this, table, LIKE_EFFECT)
            return
        schema = self.tree.this
        definitions = (
            [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]
            if isinstance(schema, exp.Schema)
            else []
        )
        for definition in definitions:
            column = self.ctx.graph.column(target, definition.name, self.ctx.locator.of_node(definition.this))
            kind_node = definition.args.get("kind")
            column.data_type = kind_node.sql(self.catalog.dialect) if kind_node is not None else None
        if definitions:
            self.catalog.add(
                target.name, [(d.name, target.columns[d.name].data_type or "") for d in definitions]
            )

    def rename(self) -> None:
        """ALTER TABLE ... RENAME TO: table-level flow from the old name to the new one."""
        for action in self.tree.args.get("actions") or []:
            if isinstance(action, exp.AlterRename):
                self.table_flow(self.tree.this, action.this, self.kind.effect)

    def table_flow(self, source_table: exp.Table, target_table: exp.Table, effect: str) -> None:
        """`source.PseudoRows -fdd-> target.PseudoRows` (FORMAT.md §8); the target inherits the
        source's known columns."""
        source, target = self.ctx.table(source_table), self.ctx.table(target_table)
        graph = self.ctx.graph
        graph.link(
            "fdd", (source, graph.pseudo(source)), (target, graph.pseudo(target)), effect, self.ctx.process_id
        )
        known = self.catalog.tables.get(source.name)
        if known is not None:
            self.catalog.add(target.name, known.items())

    def select_into(self) -> None:
        """`SELECT ... INTO t` (T-SQL temp tables, ...) is a CTAS."""
        target = self.ctx.table(self.tree.args["into"].this)
        self.populate(target, None, without_into)

    def populate(self, target: DbObject, columns: list[str] | None, extract: Extract) -> None:
        """A query creating `target`: lineage, then its columns become known to later statements."""
        root = self.ctx.graph.intermediate("RS", "select_list")
        names = self.query_lineage(extract, root)
        target_columns = columns or names
        self.link_target(root, names, target, target_columns, self.kind.effect)
        self.catalog.add(target.name, [(c, "") for c in target_columns])

    def update(self) -> None:
        target = self.ctx.table(self.tree.this)
        root = self.ctx.graph.intermediate("UPDATE-SET", "update-set")
        names = self.query_lineage(update_query, root)
        self.link_target(root, names, target, set_columns(self.tree), self.kind.effect)

    def delete(self) -> None:
        """DELETE: WHERE columns are fdr into the target's PseudoRows."""
        target = self.ctx.table(self.tree.this, located=False)
        self.query_lineage(delete_query, target, self.kind.effect)

    def merge(self) -> None:
        """MERGE: each WHEN branch is a MERGE-UPDATE-n / MERGE-INSERT-n result set."""
        target = self.ctx.table(self.tree.this)
        for index in range(len(self.tree.args["whens"].expressions)):
            then, _ = merge_branch(self.tree, index)
            if isinstance(then, exp.Update):
                columns, kind = set_columns(then), "update"
            elif isinstance(then, exp.Insert):
                columns = [c.name for c in then.this.expressions] if then.this is not None else []
                columns, kind = columns or self.catalog.columns(target.name) or [], "insert"
            else:
                continue
            root = self.ctx.graph.intermediate(f"MERGE-{kind.upper()}", f"merge-{kind}")
            names = self.query_lineage(partial(merge_query, index=index, columns=columns), root)
            self.link_target(root, names, target, columns, f"merge_{kind}")
