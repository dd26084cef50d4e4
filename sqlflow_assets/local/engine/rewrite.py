"""Rewrites that turn a statement into the query whose scopes carry its lineage: INSERT/CREATE
queries, and stand-in SELECTs for UPDATE / DELETE / MERGE so their columns resolve like a query's."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token, TokenType

Extract = Callable[[exp.Expr], exp.Expr]


def unwrapped(query: exp.Expr) -> exp.Expr:
    """A statement's query without the parentheses written around all of it (`INSERT INTO t
    (SELECT ...)`, Teradata `CREATE TABLE t AS (SELECT ...) WITH DATA`): sqlglot keeps them as
    an unaliased Subquery, which has no scope of its own to carry lineage."""
    while isinstance(query, exp.Subquery) and not query.alias:
        query = query.this
    return query


def with_query(statement: exp.Expr) -> exp.Expr:
    """The query of INSERT/CREATE, carrying a WITH written before the INSERT keyword."""
    query = unwrapped(statement.expression)
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


def name_expressions(query: exp.Expr, dialect: Dialect) -> exp.Expr:
    """Alias unaliased computed projections by their SQL text, as SQLFlow names such columns
    (qualify() would call them `_col_n`)."""
    for select in list(query.find_all(exp.Select, bfs=False)):
        select.set("expressions", [named(p, dialect) for p in select.expressions])
    return query


def named(projection: exp.Expr, dialect: Dialect) -> exp.Expr:
    """A projection with the name SQLFlow gives it: a bare column or a cast of one (`CAST(c AS
    t)`, `c::t`, `TRY_CAST`) keeps the column's name, any other expression is named by its text."""
    if isinstance(projection, (exp.Alias, exp.Column, exp.Star)):
        return projection
    if isinstance(projection, exp.Cast) and isinstance(projection.this, exp.Column):
        return exp.Alias(this=projection, alias=exp.to_identifier(projection.this.name))
    return exp.Alias(this=projection, alias=exp.to_identifier(projection.sql(dialect), quoted=True))


def aliased(values: list[exp.Expr], names: list[str]) -> list[exp.Expr]:
    return [
        exp.Alias(this=v.copy(), alias=exp.to_identifier(name)) for v, name in zip(values, names, strict=False)
    ]


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
    values = aliased(set_values(update), set_columns(update))
    select = dml_select(values, sources, update.args.get("joins") or [], update.args.get("where"))
    with_ = update.args.get("with_")
    if with_ is not None:  # `WITH c AS (...) UPDATE ... FROM c`: the CTE feeds the stand-in
        select.set("with_", with_.copy())
    return select


def update_target(update: exp.Expr) -> exp.Table:
    """The table an UPDATE writes: T-SQL's `UPDATE a SET ... FROM t a` names it by its alias."""
    target = update.this
    if target.db or not isinstance(target.this, exp.Identifier):
        return target
    named_in_from = [
        table
        for part in (update.args.get("from_"), *(update.args.get("joins") or []))
        if part is not None
        for table in part.find_all(exp.Table)
        if table.alias == target.name
    ]
    return named_in_from[0] if named_in_from else target


def without_into(select: exp.Expr) -> exp.Expr:
    select.set("into", None)
    return select


def set_columns(update: exp.Expr) -> list[str]:
    """Target columns of `SET a = ..., (b, c) = ...`."""
    names: list[str] = []
    for eq in update.expressions:
        left = eq.this.unnest() if isinstance(eq.this, exp.Paren) else eq.this
        names += [c.name for c in left.expressions] if isinstance(left, exp.Tuple) else [left.name]
    return names


def set_values(update: exp.Expr) -> list[exp.Expr]:
    """Values of `SET a = v, (b, c) = (SELECT x, y ...)`, one per target column (a row subquery
    is repeated: each column reads the whole subquery)."""
    values: list[exp.Expr] = []
    for eq in update.expressions:
        left = eq.this.unnest() if isinstance(eq.this, exp.Paren) else eq.this
        width = len(left.expressions) if isinstance(left, exp.Tuple) else 1
        right = eq.expression
        if isinstance(right, exp.Tuple) and len(right.expressions) == width:
            values += right.expressions
        else:
            values += [right] * width
    return values


def values_query(insert: exp.Expr, names: list[str]) -> exp.Query:
    """The `VALUES` rows of an INSERT that hold subqueries as `SELECT <row> UNION ALL ...`."""
    rows = [row for row in insert.expression.expressions if row.find(exp.Query)]
    selects = [exp.Select(expressions=aliased(list(row.expressions), names)) for row in rows]
    query: exp.Query = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False)
    return query


def conflict_query(insert: exp.Expr) -> exp.Query:
    """`ON CONFLICT ... DO UPDATE SET ... [WHERE ...]` as `SELECT <set values> FROM target,
    target AS excluded WHERE ...` (`excluded` is the proposed row, i.e. the target's columns)."""
    conflict = insert.args["conflict"]
    table, _ = target_of(insert)
    target = table.copy()
    excluded = exp.alias_(table.copy(), "excluded", table=True)
    target.set("alias", None)
    values = aliased(set_values(conflict), set_columns(conflict))
    return dml_select(values, [target, excluded], [], conflict.args.get("where"))


def delete_query(delete: exp.Expr) -> exp.Query:
    """DELETE as a projection-less SELECT so its WHERE columns resolve like a query's."""
    sources = [delete.this, *(delete.args.get("using") or [])]
    return dml_select([], sources, [], delete.args.get("where"))


def merge_branch(merge: exp.Expr, index: int) -> tuple[exp.Expr, list[exp.Expr]]:
    """The THEN action of WHEN branch `index` and the values it writes."""
    then = merge.args["whens"].expressions[index].args["then"]
    if isinstance(then, exp.Update):
        return then, set_values(then)
    values = then.expression
    return then, list(values.expressions) if isinstance(values, exp.Tuple) else []


def merge_star(then: exp.Expr) -> list[str] | None:
    """The EXCEPT list of a MERGE action writing every source column by name (`UPDATE SET *
    [EXCEPT (...)]`, `INSERT *`, BigQuery `INSERT ROW`); None for an action listing its columns."""
    if isinstance(then, exp.Update) and len(then.expressions) == 1 and isinstance(then.expressions[0], exp.Star):
        return [c.name for c in then.expressions[0].args.get("except_") or []]
    if isinstance(then, exp.Insert) and (
        isinstance(then.this, exp.Star) or (isinstance(then.this, exp.Var) and then.this.name.upper() == "ROW")
    ):
        return [c.name for c in then.this.args.get("except_") or []] if isinstance(then.this, exp.Star) else []
    return None


def merge_query(merge: exp.Expr, index: int, columns: list[str], by_name: bool = False) -> exp.Query:
    """One MERGE branch as `SELECT <values> FROM target JOIN using ON ... WHERE <branch cond>`;
    `by_name`: the values are the source's columns of the same names (`UPDATE SET *`)."""
    when = merge.args["whens"].expressions[index]
    _, values = merge_branch(merge, index)
    join = exp.Join(this=merge.args["using"], on=merge.args["on"])
    if by_name:
        source = merge.args["using"].alias_or_name
        if columns == ["*"]:  # columns unknown: `s.*`, which the walker links and warns about
            star = exp.column(exp.Star(), table=source)
            return dml_select([star], [merge.this], [join], when.args.get("condition"))
        values = [exp.column(c, table=source) for c in columns]
    return dml_select(aliased(values, columns), [merge.this], [join], when.args.get("condition"))


ForeignKey = tuple[list[str], exp.Table, list[str]]


def foreign_keys(statement: exp.Expr) -> list[ForeignKey]:
    """(columns, referenced table, referenced columns) of every `FOREIGN KEY (...) REFERENCES
    t (...)` and column-level `REFERENCES t (...)` in a CREATE / ALTER TABLE. A reference without
    a column list names the master's primary key, which the SQL does not show: it is skipped."""
    found: list[ForeignKey] = []
    for reference in statement.find_all(exp.Reference):
        schema = reference.this
        if not isinstance(schema, exp.Schema) or not schema.expressions:
            continue
        owner = reference.parent
        if isinstance(owner, exp.ForeignKey):
            columns = [c.name for c in owner.expressions]
        else:
            definition = reference.find_ancestor(exp.ColumnDef)
            columns = [definition.name] if definition is not None else []
        found.append((columns, schema.this, [c.name for c in schema.expressions]))
    return found


# ---- canonical forms: shapes sqlglot parses but the analysis (or sqlglot's own qualify) trips on


# Token types, and upper-cased names (VAR tokens), that may call for a rewrite of the tree: without
# any of them the statement is left alone, with no walk of its tree (most statements of a job).
REWRITE_HINTS = frozenset(
    {TokenType.FOR, TokenType.ORDER_BY, TokenType.UNICODE_STRING, TokenType.UNPIVOT, TokenType.STREAM, "IDENTIFIER"}
)


def rewrite_hints(tokens: Iterable[Token]) -> frozenset[object]:
    """A statement's token types and upper-cased names, for `canonical`."""
    tokens = tuple(tokens)
    return frozenset({t.token_type for t in tokens}) | {t.text.upper() for t in tokens if t.token_type is TokenType.VAR}


def canonical(tree: exp.Expr, words: frozenset[object] | None = None) -> exp.Expr:
    """The statement with shapes that carry no lineage of their own, or that sqlglot's
    qualification cannot take, rewritten in place (idempotent):

    - T-SQL/BigQuery `DELETE t WHERE ...` (no FROM) keeps its table in `tables`: moved to `this`;
    - `FOR UPDATE/SHARE OF t1, t2` row locks are dropped (qualify reads their tables as sources);
    - ordinal `ORDER BY 1` items are dropped (with an unexpanded `*` qualify asserts on them);
    - `U&'...' UESCAPE '?'` becomes a plain string (sqlglot puts the escape into a regex);
    - Databricks `IDENTIFIER('a.v')` names become the table they name, `STREAM(t)` reads t;
    - UNPIVOT becomes a derived table whose value columns read the unpivoted columns;
    - a trigger's `NEW.c`/`OLD.c`, a SQL function's parameters are not columns of a table.

    `words`: the statement's `rewrite_hints`, when known.
    """
    if isinstance(tree, exp.Delete) and not isinstance(tree.this, exp.Table) and tree.args.get("tables"):
        tree.set("this", tree.args["tables"][0])
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.UserDefinedFunction):
        without_parameters(tree)
    source = tree.args.get("source") if isinstance(tree, exp.Insert) else None
    if isinstance(source, exp.Table) and tree.expression is None:  # Spark `INSERT INTO t TABLE s`
        tree.set("source", None)
        tree.set("expression", exp.select("*").from_(source))
    if words is None or words & TRIGGER_ROWS:
        without_trigger_rows(tree)
    if words is not None and not words & REWRITE_HINTS:
        return tree
    for node in list(tree.walk()):
        if isinstance(node, exp.Select) and node.args.get("locks"):
            node.set("locks", None)
        elif isinstance(node, exp.Order):
            kept = [o for o in node.expressions if not (isinstance(o.this, exp.Literal) and o.this.is_int)]
            if len(kept) < len(node.expressions):
                if kept:
                    node.set("expressions", kept)
                else:
                    node.pop()
        elif isinstance(node, exp.Stream) and isinstance(unwrapped(node.this), exp.Table):
            node.replace(unwrapped(node.this))  # Databricks `FROM STREAM(t)` reads t
        elif isinstance(node, exp.UnicodeString) and node.args.get("escape") is not None:
            node.replace(exp.Literal.string(node.name))
        elif isinstance(node, exp.Schema) and identifier_call(node) is not None:
            node.replace(identifier_call(node))
        elif isinstance(node, exp.Pivot) and node.args.get("unpivot") and isinstance(node.parent, exp.Table):
            unpivoted(node)
    return tree


TRIGGER_ROWS = frozenset({"NEW", "OLD"})


def without_trigger_rows(tree: exp.Expr) -> None:
    """A trigger body's `NEW.c` / `OLD.c` (MySQL, PostgreSQL) name the triggering row, not a
    table of the statement: they become opaque values unless a source is really called so."""
    columns = [c for c in tree.find_all(exp.Column) if c.table.upper() in TRIGGER_ROWS]
    if not columns:
        return
    sources = {t.alias_or_name.upper() for t in tree.find_all(exp.Table)}
    for column in columns:
        if column.table.upper() not in sources:
            column.replace(exp.Var(this=f"{column.table}.{column.name}"))


def without_parameters(create: exp.Create) -> None:
    """A SQL function's parameters, read unqualified in its body, are not table columns."""
    parameters = {p.name for p in create.this.expressions if isinstance(p, exp.ColumnDef)}
    body = create.expression
    for column in list(body.find_all(exp.Column)) if isinstance(body, exp.Expr) else []:
        if not column.table and column.name in parameters:
            column.replace(exp.Var(this=column.name))


def variables_query(statement: exp.Expr) -> exp.Query:
    """`SET @v = (<query>), ...` as `SELECT (<query>) AS "@v", ...`: the variables a query sets."""
    items = [
        exp.Alias(this=item.this.expression.copy(), alias=exp.to_identifier(item.this.this.sql(), quoted=True))
        for item in statement.expressions
        if isinstance(item, exp.SetItem) and isinstance(item.this, exp.EQ) and item.this.expression.find(exp.Query)
    ]
    return exp.Select(expressions=items)


def identifier_call(node: exp.Schema) -> exp.Table | None:
    """Databricks `IDENTIFIER('a.v')` (parsed as a table IDENTIFIER with a string column list)."""
    table = node.this
    if (
        isinstance(table, exp.Table)
        and table.name.upper() == "IDENTIFIER"
        and not table.args.get("db")
        and len(node.expressions) == 1
        and isinstance(node.expressions[0], exp.Literal)
        and node.expressions[0].is_string
    ):
        return exp.to_table(node.expressions[0].name)
    return None


def unpivoted(pivot: exp.Pivot) -> None:
    """`s [x] UNPIVOT [INCLUDE NULLS] ((v1, ...) FOR k IN ((a1, ...) [AS n], ...)) [AS u]` as the
    derived table `(SELECT *, 'n' AS k, a1 + b1 ... AS v1 FROM s [x]) AS u`: each value column reads
    the columns it unpivots, the name column is a constant, the other columns pass through `*`."""
    table = pivot.parent
    assert isinstance(table, exp.Table)  # rewrite() unpivots only a pivot of a table
    values = [v.name for v in pivot.expressions]
    fields = pivot.args.get("fields") or []
    if not values or len(fields) != 1 or not isinstance(fields[0], exp.In):
        return
    name_column = fields[0].this.name
    sources: list[list[exp.Expr]] = [[] for _ in values]
    for item in fields[0].expressions:
        inner = item.this if isinstance(item, exp.PivotAlias) else item
        inner = inner.unalias() if isinstance(inner, exp.Alias) else inner
        parts = inner.expressions if isinstance(inner, exp.Tuple) else [inner]
        for index, part in enumerate(parts[: len(values)]):
            sources[index].append(part.copy())
    projections: list[exp.Expr] = [exp.Star(), exp.alias_(exp.Literal.string(name_column), name_column)]
    for name, columns in zip(values, sources, strict=True):
        value = columns[0] if len(columns) == 1 else exp.Coalesce(this=columns[0], expressions=columns[1:])
        projections.append(exp.alias_(value, name))
    alias = pivot.args.get("alias") or table.args.get("alias")
    base = table.copy()
    base.set("pivots", None)
    if pivot.args.get("alias") is None:
        base.set("alias", None)  # the derived table takes the table's alias
    derived = exp.Select(expressions=projections).from_(base).subquery(
        alias.this.copy() if alias is not None else table.alias_or_name or "unpivoted"
    )
    table.replace(derived)
