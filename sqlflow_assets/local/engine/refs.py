"""What one expression references: columns (plain and in window specs), nested subquery scopes,
literals and column equalities, found in a single walk that stops at subqueries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.scope import Scope


@dataclass
class Refs:
    """Column references and nested subquery scopes found in one expression."""

    columns: list[exp.Column] = field(default_factory=list)
    window_columns: list[exp.Column] = field(default_factory=list)
    subqueries: list[Scope] = field(default_factory=list)
    literals: list[exp.Literal] = field(default_factory=list)
    equalities: list[tuple[exp.Column, exp.Column]] = field(default_factory=list)
    count_star: bool = False

    @property
    def empty(self) -> bool:
        return not (self.columns or self.window_columns or self.subqueries or self.count_star)


def collect(node: exp.Expr | None, scopes: dict[int, Scope]) -> Refs:
    """References in `node`, not descending into subqueries (they are scopes of their own)."""
    refs = Refs()
    if node is None:
        return refs
    stack: list[tuple[exp.Expr, bool]] = [(node, False)]
    while stack:
        current, in_window = stack.pop()
        if isinstance(current, exp.Column):
            if not isinstance(current.this, exp.Star):
                (refs.window_columns if in_window else refs.columns).append(current)
            continue
        sub = scopes.get(id(current)) if isinstance(current, exp.Query) else None
        if sub is not None:
            refs.subqueries.append(sub)
            continue
        if isinstance(current, exp.Literal):
            refs.literals.append(current)
        elif isinstance(current, exp.EQ) and isinstance(current.this, exp.Column):
            if isinstance(current.expression, exp.Column):
                refs.equalities.append((current.this, current.expression))
        elif isinstance(current, exp.Star) and isinstance(current.parent, exp.Count):
            refs.count_star = True
        window_spec = isinstance(current, exp.Window)
        for key, child in current.args.items():
            spec = in_window or (window_spec and key in ("partition_by", "order"))
            if isinstance(child, list):
                stack.extend((c, spec) for c in child if isinstance(c, exp.Expr))
            elif isinstance(child, exp.Expr):
                stack.append((child, spec))
    return refs


def output_names(scope: Scope) -> list[str]:
    expression = scope.expression
    return expression.named_selects if isinstance(expression, exp.Query) else []
