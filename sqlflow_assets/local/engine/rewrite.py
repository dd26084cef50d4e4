"""Rewrites that turn a statement into the query whose scopes carry its lineage: INSERT/CREATE
queries, and stand-in SELECTs for UPDATE / DELETE / MERGE so their columns resolve like a query's."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

Extract = Callable[[exp.Expr], exp.Query]


def unwrapped(query: exp.Expr) -> exp.Expr:
    """A statement's query without the parentheses written around all of it (`INSERT INTO t
    (SELECT ...)`, Teradata `CREATE TABLE t AS (SELECT ...) WITH DATA`): sqlglot keeps them as
    an unaliased Subquery, which has no scope of its own to carry lineage."""
    while isinstance(query, exp.Subquery) and not query.alias:
        query = query.this
    return query


def with_query(statement: exp.Expr) -> exp.Query:
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


def name_expressions(query: exp.Query, dialect: Dialect) -> exp.Query:
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
