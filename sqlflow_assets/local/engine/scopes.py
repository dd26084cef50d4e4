"""Walks the sqlglot scopes of one qualified query and adds its column edges to the graph.

Every scope becomes one intermediate object (RS-n, RESULT_OF_<alias>-n, cte-<name>-n, ...);
projections give fdd edges, WHERE/JOIN give fdr edges into PseudoRows, GROUP BY/HAVING give fdr
edges into the aggregate columns (docs/sqlflow-format.md §8).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, ScopeType

from .context import StatementContext
from .coords import token_spans
from .model import Column, DbObject
from .refs import Refs, collect, output_names

Node = tuple[DbObject, Column]
SELECT_EFFECT = "select"


class ScopeWalker:
    """Adds the edges of one query (root scope -> `root_obj`) to the statement's graph."""

    def __init__(
        self, ctx: StatementContext, root: Scope, root_obj: DbObject, root_effect: str | None = None
    ) -> None:
        self.ctx = ctx
        self.root_obj = root_obj
        self.root_effect = root_effect
        self.graph = ctx.graph
        self.objects: dict[int, DbObject] = {id(root.expression): root_obj}
        self.scopes: dict[int, Scope] = {id(s.expression): s for s in root.traverse()}
        self.reported: set[str] = set()
        self.constant_table: DbObject | None = None
        self.function_tables: list[exp.Table] = []
        self.spans = token_spans(root.expression)

    def run(self) -> None:
        table_functions = []
        for scope in self.scopes.values():
            self.ctx.check_time()
            expression = scope.expression
            obj = self.obj_for(scope)
            if not obj.persistent and not obj.coordinates:
                obj.coordinates.extend(self.ctx.locator.of_span(self.spans, expression))
            if isinstance(expression, exp.Select):
                self.walk_select(scope)
            elif isinstance(expression, exp.SetOperation):
                self.walk_set_operation(scope)
            else:
                table_functions.append(scope)
        for scope in table_functions:
            self.walk_table_function(scope, scope.expression)
        for source in self.function_tables:
            self.walk_table_function(
                self.scopes[id(source.parent_select)], source.this, self.objects[id(source)]
            )

    # ---- objects ------------------------------------------------------------------------
    def obj_for(self, scope: Scope) -> DbObject:
        """The intermediate object of a scope, named by how the scope is used (docs/sqlflow-format.md §4).

        Keyed by the scope's expression: sqlglot gives a recursive CTE's self-reference a
        separate Scope over the same base-case SELECT, which must map to the same object.
        """
        obj = self.objects.get(id(scope.expression))
        if obj is None:
            obj = self.graph.intermediate(*self.naming(scope))
            self.objects[id(scope.expression)] = obj
        return obj

    @staticmethod
    def naming(scope: Scope) -> tuple[str, str]:
        parent = scope.expression.parent
        alias = parent.alias if isinstance(parent, (exp.CTE, exp.Subquery)) else ""
        if scope.scope_type == ScopeType.CTE and alias:
            return f"cte-{alias}", "with_cte"
        if scope.scope_type == ScopeType.DERIVED_TABLE and alias:
            return f"RESULT_OF_{alias}", "select_list"
        if isinstance(scope.expression, exp.SetOperation):
            return f"RESULT_OF_{scope.expression.key.upper()}", "select_union"
        return "RS", "select_list"

    def column(self, obj: DbObject, name: str, node: exp.Expr | None = None) -> Node:
        coords = self.ctx.locator.of_node(node) if node is not None else None
        return obj, self.graph.column(obj, name, coords)

    def pseudo(self, obj: DbObject) -> Node:
        return obj, self.graph.pseudo(obj)

    # ---- resolution ---------------------------------------------------------------------
    def resolve(self, scope: Scope, column: exp.Column) -> Node | None:
        """The object column a reference reads, looking outwards for correlated references.

        The dialect's pseudo columns (ROWNUM, LEVEL, ...) read no table and resolve to None.
        """
        if not column.table and column.name.upper() in self.ctx.pseudocolumns:
            return None
        table = column.table or self.only_source(self.reading_scope(scope))
        current: Scope | None = scope
        while table and current is not None:
            source = self.source_named(current, table)
            if self.lacks(source, column.name):
                break
            if source is not None:
                return self.column(
                    self.source_obj(source), column.name, column if isinstance(source, exp.Table) else None
                )
            current = current.parent
        self.report_unresolved(column)
        return None

    def lacks(self, source: exp.Table | Scope | None, name: str) -> bool:
        """A query source (derived table, CTE) that does not output `name`: the reference is
        unresolvable, and only it is lost (a table function's columns are whatever is read)."""
        return (
            isinstance(source, Scope)
            and isinstance(source.expression, exp.Query)
            and not self.selects(source, name)
        )

    def selects(self, scope: Scope, name: str) -> bool:
        """Whether a derived table / CTE / set operation outputs `name`, by name or through a
        star (see through_star)."""
        return name in output_names(scope) or self.through_star(scope, name)

    def through_star(self, scope: Scope, name: str) -> bool:
        """A column read from a derived table or CTE that does not name it, but whose unexpanded
        `*` covers a single source (`SELECT a FROM (SELECT *, ... FROM t) x`), comes from that
        source through the star, as SQLFlow has it. Several sources behind the star prove
        nothing: the column stays unattributed (the star's warning says why)."""
        select = scope.expression
        if not isinstance(select, exp.Select):
            return False
        stars = [p for p in select.expressions if p.is_star]
        qualifiers = {p.table if isinstance(p, exp.Column) else "" for p in stars}
        if "" in qualifiers:
            names = list(scope.selected_sources)
            source = self.source_named(scope, names[0]) if len(names) == 1 else None
        else:
            source = self.source_named(scope, qualifiers.pop()) if len(qualifiers) == 1 else None
        if source is None or self.lacks(source, name):
            return False
        self.link("fdd", self.column(self.source_obj(source), name), self.column(self.obj_for(scope), name))
        return True

    @staticmethod
    def source_named(scope: Scope, name: str) -> exp.Table | Scope | None:
        """A source by alias, else a table by its own name (quoted names can differ from aliases)."""
        source = scope.sources.get(name)
        if source is None:
            source = next(
                (s for s in scope.sources.values() if isinstance(s, exp.Table) and s.name == name), None
            )
        return source if isinstance(source, (exp.Table, Scope)) else None

    def source_obj(self, source: exp.Table | Scope) -> DbObject:
        if isinstance(source, Scope):
            return self.obj_for(source)
        if isinstance(source.this, exp.Identifier):
            return self.ctx.table(source, located=False)
        return self.function_table(source)

    def function_table(self, source: exp.Table) -> DbObject:
        """`FROM generate_series(...) g`, `TABLE(f(x))`: a function object, fed by its arguments
        once every column read from it is known (see run)."""
        obj = self.objects.get(id(source))
        if obj is None:
            call = source.this
            name = self.function_name(call) if isinstance(call, exp.Expr) else None
            obj = self.graph.synthetic(name or "function", "function")
            self.objects[id(source)] = obj
            self.function_tables.append(source)
        return obj

    @staticmethod
    def reading_scope(scope: Scope) -> Scope:
        """The scope an unqualified column reads from: a FROM-less subquery (`(SELECT a + b)`)
        reads the columns of the query around it."""
        while not scope.selected_sources and scope.parent is not None:
            scope = scope.parent
        return scope

    @staticmethod
    def only_source(scope: Scope) -> str:
        """The single FROM source an unqualified column must come from ('' when ambiguous)."""
        names = list(scope.selected_sources)
        return names[0] if len(names) == 1 else ""

    def report_unresolved(self, column: exp.Column) -> None:
        text = column.sql()
        if text not in self.reported:
            self.reported.add(text)
            self.ctx.error(f"could not attribute column {text} to a table", "SemanticWarning", column)

    # ---- edges --------------------------------------------------------------------------
    def link(
        self,
        rel_type: str,
        source: Node,
        target: Node,
        clause: str | None = None,
        function: str | None = None,
    ) -> None:
        if source[1].system and target[1].system:
            effect = None
        elif target[0] is self.root_obj and self.root_effect:
            effect = self.root_effect
        else:
            effect = SELECT_EFFECT
        self.graph.link(rel_type, source, target, effect, self.ctx.process_id, clause, function)

    def link_refs(
        self,
        scope: Scope,
        refs: Refs,
        targets: list[Node],
        rel_type: str,
        clause: str | None,
        function: str | None = None,
    ) -> None:
        """Edges from every reference of `refs` into each target column."""
        for column in refs.columns:
            source = self.resolve(scope, column)
            if source is not None:
                for target in targets:
                    self.link(rel_type, source, target, clause, function)
        for column in refs.window_columns:
            source = self.resolve(scope, column)
            if source is not None:
                for target in targets:
                    self.link("fdr", source, target, "windowFunction")
        for sub in refs.subqueries:
            sub_obj = self.obj_for(sub)
            names = output_names(sub)
            for target in targets:
                for name in names[:1] if rel_type == "fdd" else names:
                    self.link(rel_type, self.column(sub_obj, name), target, clause)
                self.link("fdr", self.pseudo(sub_obj), target)
        if refs.count_star:
            for table in self.from_sources(scope):
                for target in targets:
                    self.link("fdr", self.pseudo(table), target, clause)

    def from_sources(self, scope: Scope) -> list[DbObject]:
        return [
            self.source_obj(source)
            for _, source in scope.selected_sources.values()
            if isinstance(source, (exp.Table, Scope))
        ]

    def star(self, scope: Scope, projection: exp.Expr, target: Node) -> None:
        """An unexpanded `*` / `t.*` (columns unknown): link `*` columns and say so in errors."""
        qualifier = projection.table if isinstance(projection, exp.Column) else ""
        sources = (
            [self.source_named(scope, qualifier)]
            if qualifier
            else [s for _, s in scope.selected_sources.values()]
        )
        for source in sources:
            if isinstance(source, (exp.Table, Scope)):
                obj = self.source_obj(source)
                self.link("fdd", self.column(obj, "*"), target)
                self.ctx.error(
                    f"could not expand {projection.sql()}: columns of {obj.name} unknown",
                    "SemanticWarning",
                    projection,
                )

    def project(self, scope: Scope, obj: DbObject, projection: exp.Expr) -> Node:
        """The result column of one projection and the fdd edges of its value."""
        alias = projection.args.get("alias")
        locator = self.ctx.locator
        if alias is not None and alias.meta:
            coords = locator.of_node(alias)
        else:
            coords = locator.of_span(self.spans, projection)
        target = obj, self.graph.column(obj, projection.alias_or_name, coords)
        if projection.is_star:
            self.star(scope, projection, target)
        refs = collect(projection, self.scopes)
        function = self.function_name(projection)
        self.link_refs(scope, refs, [target], "fdd", None, function)
        if refs.empty and function is not None:
            # e.g. CURRENT_DATE, NOW(): the value comes from the function alone
            node = self.graph.synthetic(function, "function")
            self.link("fdd", self.column(node, function), target, function=function)
        if self.ctx.show_constants:
            for literal in refs.literals:
                self.link("fdd", self.column(self.constants(), literal.sql(), literal), target)
        return target

    def function_name(self, expression: exp.Expr) -> str | None:
        """SQLFlow's name for the function computing an expression, as written in the SQL
        (`sum`, `Nvl`), `case-when` for CASE; None when it is not a function call."""
        value = expression.unalias()
        if isinstance(value, exp.Case):
            return "case-when"
        if not isinstance(value, exp.Func):
            return None
        fallback = value.name if isinstance(value, exp.Anonymous) else value.sql_name().lower()
        return self.ctx.written(value) or fallback

    def constants(self) -> DbObject:
        """The statement's SQL_CONSTANTS-n table, created on first use (showConstantTable)."""
        if self.constant_table is None:
            self.constant_table = self.graph.intermediate("SQL_CONSTANTS", "constantTable")
        return self.constant_table

    def walk_select(self, scope: Scope) -> None:
        select = scope.expression
        obj = self.obj_for(scope)
        aggregates: list[Node] = []
        for _, source in scope.selected_sources.values():
            if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
                self.ctx.table(source)
        for projection in select.expressions:
            target = self.project(scope, obj, projection)
            if projection.find(exp.AggFunc):
                aggregates.append(target)
        rows = self.pseudo(obj)
        for _, source in scope.selected_sources.values():
            if isinstance(source, Scope):
                self.link("fdr", self.pseudo(self.obj_for(source)), rows)
        self.join_pairs(scope, self.filter(scope, select.args.get("where"), "where", [rows]))
        for join in select.args.get("joins") or []:
            self.join_pairs(scope, self.filter(scope, join.args.get("on"), "joinCondition", [rows]))
        grouped = aggregates or [rows]
        self.filter(scope, select.args.get("group"), "groupBy", grouped)
        # HAVING decides both the aggregate values SQLFlow ties it to and which groups survive
        self.filter(scope, select.args.get("having"), "having", list(dict.fromkeys([*grouped, rows])))
        self.filter(scope, select.args.get("qualify"), "qualify", [rows])
        self.filter(scope, select.args.get("connect"), "connectBy", [rows])

    def join_pairs(self, scope: Scope, refs: Refs) -> None:
        """`join` relations for `a.x = b.y` between two different sources (showRelationType=join)."""
        for left, right in refs.equalities:
            if left.table != right.table:
                ends = self.resolve(scope, left), self.resolve(scope, right)
                if ends[0] is not None and ends[1] is not None:
                    self.link("join", ends[0], ends[1])

    def filter(self, scope: Scope, clause_node: exp.Expr | None, clause: str, targets: list[Node]) -> Refs:
        """fdr edges from a clause's references into `targets`; returns the references."""
        refs = collect(clause_node, self.scopes)
        self.link_refs(scope, refs, targets, "fdr", clause)
        return refs

    def walk_table_function(self, scope: Scope, call: exp.Expr, obj: DbObject | None = None) -> None:
        """UNNEST / LATERAL FLATTEN / table functions: the call's arguments feed every column read
        from it (the scope's own object unless `obj` is given).

        Runs after the enclosing selects, which create the columns they read.
        """
        obj = obj or self.obj_for(scope)
        targets = [(obj, c) for c in obj.columns.values() if not c.system] or [self.pseudo(obj)]
        self.link_refs(scope, collect(call, self.scopes), targets, "fdd", None)

    def walk_set_operation(self, scope: Scope) -> None:
        obj = self.obj_for(scope)
        names = output_names(scope)
        for branch in scope.set_operation_scopes:
            branch_obj = self.obj_for(branch)
            for name, branch_name in zip(names, output_names(branch), strict=False):
                self.link("fdd", self.column(branch_obj, branch_name), self.column(obj, name))
            self.link("fdr", self.pseudo(branch_obj), self.pseudo(obj))
