"""Per-statement lineage: qualify the statement's query, walk its scopes, link it to targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.optimizer.scope import build_scope

from .catalog import Catalog
from .context import StatementContext
from .model import Column, DbObject
from .refs import output_names
from .rewrite import (
    Extract,
    conflict_query,
    delete_query,
    foreign_keys,
    merge_branch,
    merge_query,
    merge_star,
    name_expressions,
    set_columns,
    target_of,
    unwrapped,
    update_query,
    update_target,
    values_query,
    variables_query,
    with_query,
    without_into,
)
from .scopes import ScopeWalker


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
FOREIGN_KEY_EFFECT = "foreign_key"
ALTER_CONSTRAINTS = Kind("Query Alter Table", "sstaltertable", FOREIGN_KEY_EFFECT)
LIKE_EFFECT = "like_table"


class Qualification(Enum):
    """Successively weaker qualification (see StatementAnalyzer.qualified)."""

    FULL = "every column"
    PARTIAL = "columns naming what their source lacks stay as written"
    TABLES = "tables only"


UNKNOWN_COLUMN = "Unknown column"  # the qualify() error partial qualification gets past


def qualify_query(query: exp.Expr, catalog: Catalog, level: Qualification) -> exp.Expr:
    """sqlglot's qualify() minus its normalize_identifiers pass (dispatch normalised the whole
    statement already; a second pass costs about 5% of a large job) and its quoting/validation."""
    tables = qualify_tables(query, dialect=catalog.dialect)
    if level is Qualification.TABLES:
        return tables
    return qualify_columns(
        tables, catalog.schema(), allow_partial_qualification=level is Qualification.PARTIAL
    )


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
    def qualified(self, extract: Extract) -> exp.Expr:
        """The query qualified, degrading per column: a column its source does not select stays
        as written (it alone is unresolved); only when that fails too are just the tables
        qualified. Each failed attempt is a warning naming the column it tripped on."""
        dialect = self.catalog.dialect
        tree, attempts = self.tree, list(Qualification)
        while True:
            level = attempts.pop(0)
            try:
                return qualify_query(name_expressions(extract(tree), dialect), self.catalog, level)
            except OptimizeError as error:
                if not attempts:
                    raise
                self.ctx.error(f"columns not fully resolved: {error}", "SemanticWarning")
                if not str(error).startswith(UNKNOWN_COLUMN):
                    attempts = attempts[-1:]  # partial qualification only helps unknown columns
            tree = normalize_identifiers(self.reparse(), dialect=dialect)  # qualify mutated it

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

    def flow(
        self,
        rel_type: str,
        source: tuple[DbObject, str | None],
        target: tuple[DbObject, str | None],
        effect: str | None = None,
        clause: str | None = None,
    ) -> None:
        """One edge between named columns (None names PseudoRows), in this statement's process."""
        graph = self.ctx.graph

        def node(obj: DbObject, name: str | None) -> tuple[DbObject, Column]:
            return obj, graph.pseudo(obj) if name is None else graph.column(obj, name)

        effect = effect or self.kind.effect
        graph.link(rel_type, node(*source), node(*target), effect, self.ctx.process_id, clause)

    def link_target(
        self, source: DbObject, names: list[str], target: DbObject, columns: list[str], effect: str
    ) -> None:
        """Map result-set columns to target columns by position (fdd) and rows to rows (fdr)."""
        if len(columns) != len(names):
            self.ctx.error(
                f"{target.name}: {len(columns)} target columns for {len(names)} values",
                "SemanticWarning",
            )
        for name, column in zip(names, columns, strict=False):
            self.flow("fdd", (source, name), (target, column), effect)
        self.flow("fdr", (source, None), (target, None), effect)

    def known_columns(self, table: DbObject) -> list[str] | None:
        """A table's columns from metadata or an earlier CREATE (None when unknown)."""
        return self.catalog.columns(self.catalog.name_of(table))

    # ---- statements (dispatched by name from dispatch.classify) --------------------------
    def select(self) -> None:
        root = self.ctx.graph.intermediate("RS", "select_list", top_level=True)
        self.query_lineage(unwrapped, root)

    def insert(self) -> None:
        table, columns = target_of(self.tree)
        if isinstance(table, exp.Directory) and isinstance(self.tree.expression, exp.Query):
            self.select_variables()  # `INSERT OVERWRITE [LOCAL] DIRECTORY ... <query>`: a file
            return
        if not isinstance(table, exp.Table):
            self.ctx.error(f"INSERT into a {table.key} is not analysed", "UnsupportedStatement", table)
            return
        target = self.ctx.table(table)
        values = self.tree.expression
        if isinstance(values, exp.Values) and self.ctx.show_constants:
            self.constant_rows(values, target, columns or self.known_columns(target) or [])
        if isinstance(values, exp.Values) and values.find(exp.Query):
            self.values_subqueries(target, columns or self.known_columns(target))
        if not isinstance(values, exp.Query):
            return
        root = self.ctx.graph.intermediate("INSERT-SELECT", "insert-select")
        names = self.query_lineage(with_query, root)
        target_columns = columns or self.known_columns(target) or names
        self.link_target(root, names, target, target_columns, self.kind.effect)
        conflict = self.tree.args.get("conflict")
        if conflict is not None and conflict.expressions:
            self.conflict_update(target)

    def values_subqueries(self, target: DbObject, columns: list[str] | None) -> None:
        """`INSERT ... VALUES (..., (SELECT ...))`: the rows' values as a query, by position."""
        rows = [row for row in self.tree.expression.expressions if row.find(exp.Query)]
        names = columns or [f"column{i + 1}" for i in range(len(rows[0].expressions))]
        root = self.ctx.graph.intermediate("INSERT-SELECT", "insert-select")
        found = self.query_lineage(partial(values_query, names=names), root)
        self.link_target(root, found, target, names[: len(found)], self.kind.effect)

    def conflict_update(self, target: DbObject) -> None:
        """PostgreSQL `ON CONFLICT ... DO UPDATE SET c = <value>` (MySQL `ON DUPLICATE KEY UPDATE`):
        an UPDATE of the target whose values read the target and `excluded` (the proposed row)."""
        root = self.ctx.graph.intermediate("UPDATE-SET", "update-set")
        names = self.query_lineage(conflict_query, root)
        self.link_target(root, names, target, names, UPDATE.effect)

    def constant_rows(self, values: exp.Values, target: DbObject, columns: list[str]) -> None:
        """showConstantTable: the literals of `INSERT ... VALUES` flow from SQL_CONSTANTS-n."""
        constants = self.ctx.graph.intermediate("SQL_CONSTANTS", "constantTable")
        for row in values.expressions:
            for column, value in zip(columns, row.expressions, strict=False):
                for literal in value.find_all(exp.Literal):
                    self.flow("fdd", (constants, literal.sql()), (target, column))

    def insert_all(self) -> None:
        """Oracle INSERT ALL/FIRST: one INSERT-SELECT feeding every INTO branch by value names."""
        root = self.ctx.graph.intermediate("INSERT-SELECT", "insert-select")
        names = self.query_lineage(lambda tree: unwrapped(tree.args["source"]), root)
        for branch in self.tree.expressions:
            self.insert_branch(root, names, branch)

    def insert_branch(self, root: DbObject, names: list[str], branch: exp.Expr) -> None:
        """One `[WHEN cond THEN] INTO t [(cols)] [VALUES (...)]` of a multi-table insert.

        VALUES name the subquery's output columns (by name, not position); the target's columns
        are the INTO list, else the known columns (both by position), else the VALUES names.
        """
        table, columns = target_of(branch.this)
        target = self.ctx.table(table)
        values = branch.this.expression
        rows = (
            values.expressions[0].expressions if isinstance(values, exp.Values) and values.expressions else []
        )
        reads = [[c.name for c in v.find_all(exp.Column)] for v in rows] or [[n] for n in names]
        defaults = [v.alias_or_name or v.sql(self.catalog.dialect) for v in rows] or names
        targets = columns or self.known_columns(target) or defaults
        for column, read in zip(targets, reads, strict=False):
            for name in read:
                self.flow("fdd", (root, name), (target, column))
        condition = branch.args.get("expression")
        for column in condition.find_all(exp.Column) if condition is not None else ():
            self.flow("fdr", (root, column.name), (target, None), clause="where")
        self.flow("fdr", (root, None), (target, None))

    def create(self) -> None:
        """CREATE VIEW / CTAS: lineage into the new object; plain CREATE TABLE: register it."""
        table, columns = target_of(self.tree)
        target = self.ctx.table(table, "view" if self.kind is CREATE_VIEW else "table")
        if isinstance(self.tree.expression, exp.Query):
            self.populate(target, columns, with_query)
            return
        body = self.tree.expression
        if isinstance(body, exp.Table) and isinstance(body.this, exp.Identifier):
            self.table_flow(body, table, LIKE_EFFECT)  # Teradata `CREATE TABLE t AS s WITH NO DATA`
            return
        if isinstance(body, exp.Expr) and body.find(exp.Query) is not None:  # `AS RETURN (<query>)`
            self.populate(target, columns, lambda tree: unwrapped(tree.expression.find(exp.Query)))
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
                self.catalog.name_of(target),
                [(d.name, target.columns[d.name].data_type or "") for d in definitions],
            )
        self.foreign_keys(target)

    def foreign_keys(self, target: DbObject | None = None) -> None:
        """FOREIGN KEY ... REFERENCES (CREATE TABLE, ALTER TABLE ADD CONSTRAINT): the master
        column flows into the key column, fdd with effectType foreign_key (docs/sqlflow-format.md §8)."""
        target = target or self.ctx.table(self.tree.this)
        for columns, referenced, master_columns in foreign_keys(self.tree):
            master = self.ctx.table(referenced)
            for column, master_column in zip(columns, master_columns, strict=False):
                self.flow("fdd", (master, master_column), (target, column), FOREIGN_KEY_EFFECT)

    def rename(self) -> None:
        """ALTER TABLE ... RENAME TO: table-level flow from the old name to the new one."""
        for action in self.tree.args.get("actions") or []:
            if isinstance(action, exp.AlterRename):
                self.table_flow(self.tree.this, action.this, self.kind.effect)

    def table_flow(self, source_table: exp.Table, target_table: exp.Table, effect: str) -> None:
        """`source.PseudoRows -fdd-> target.PseudoRows` (docs/sqlflow-format.md §8); the target inherits the
        source's known columns."""
        source, target = self.ctx.table(source_table), self.ctx.table(target_table)
        self.flow("fdd", (source, None), (target, None), effect)
        known = self.catalog.known(self.catalog.name_of(source))
        if known is not None:
            self.catalog.add(self.catalog.name_of(target), known.items())

    def select_variables(self) -> None:
        """PL/SQL `SELECT ... [BULK COLLECT] INTO v1, v2 FROM ...` (variables, not a new table), or
        a query written to files: the query's lineage into its result set."""
        root = self.ctx.graph.intermediate("RS", "select_list", top_level=True)
        self.query_lineage(lambda tree: unwrapped(without_into(tree) if isinstance(tree, exp.Select) else tree.expression), root)

    def set_variables(self) -> None:
        """`SET @v = (SELECT ...)`: the query's lineage into the variables, as a result set."""
        root = self.ctx.graph.intermediate("RS", "select_list", top_level=True)
        self.query_lineage(variables_query, root)

    def alter_view(self) -> None:
        """`ALTER VIEW v AS <query>` (MySQL, Hive, Databricks) redefines the view like CREATE VIEW."""
        target = self.ctx.table(self.tree.this, "view")
        self.populate(target, None, lambda tree: unwrapped(tree.args["actions"][0]))

    def cache(self) -> None:
        """Spark `CACHE [LAZY] TABLE c AS <query>` creates the temporary table c."""
        self.populate(self.ctx.table(self.tree.this), None, lambda tree: unwrapped(tree.expression))

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
        self.catalog.add(self.catalog.name_of(target), [(c, "") for c in target_columns])

    def update(self) -> None:
        target = self.ctx.table(update_target(self.tree))
        root = self.ctx.graph.intermediate("UPDATE-SET", "update-set")
        names = self.query_lineage(update_query, root)
        self.link_target(root, names, target, set_columns(self.tree), self.kind.effect)

    def delete(self) -> None:
        """DELETE: WHERE columns are fdr into the target's PseudoRows."""
        target = self.ctx.table(self.tree.this, located=False)
        self.query_lineage(delete_query, target, self.kind.effect)

    def merge(self) -> None:
        """MERGE: each WHEN branch is a MERGE-UPDATE-n / MERGE-INSERT-n result set. `UPDATE SET *
        [EXCEPT (...)]`, `INSERT *` (Delta) and `INSERT ROW` (BigQuery) write every column of the
        source into the target column of the same name."""
        target = self.ctx.table(self.tree.this)
        for index in range(len(self.tree.args["whens"].expressions)):
            then, _ = merge_branch(self.tree, index)
            star = merge_star(then)
            if star is not None:
                columns = self.source_columns(self.tree.args["using"], target, star)
                kind = "update" if isinstance(then, exp.Update) else "insert"
            elif isinstance(then, exp.Update):
                columns, kind = set_columns(then), "update"
            elif isinstance(then, exp.Insert):
                columns = [c.name for c in then.this.expressions] if then.this is not None else []
                columns, kind = columns or self.known_columns(target) or [], "insert"
            else:
                continue
            root = self.ctx.graph.intermediate(f"MERGE-{kind.upper()}", f"merge-{kind}")
            extract = partial(merge_query, index=index, columns=columns, by_name=star is not None)
            names = self.query_lineage(extract, root)
            self.link_target(root, names, target, columns, f"merge_{kind}")

    def source_columns(self, using: exp.Expr, target: DbObject, excluded: list[str]) -> list[str]:
        """The columns a MERGE `*` writes: the source's (a query's outputs, a known table's
        columns), else the target's known columns, else `*` (unknown; the walker warns)."""
        query = unwrapped(using)
        if isinstance(query, exp.Query) and not any(p.is_star for p in query.selects):
            names = list(query.named_selects)
        elif isinstance(using, exp.Table):
            names = self.catalog.columns((using.db or self.ctx.graph.default_schema, using.name)) or []
        else:
            names = []
        names = names or self.known_columns(target) or ["*"]
        return [n for n in names if n not in excluded]
