"""Coordinates (docs/sqlflow-format.md §6): 1-based line/column start-end pairs tagged with the file hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from sqlglot.tokens import Token

from .model import Coordinates


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


Meta = dict[str, Any]
# id(node) -> meta of the first and of the last positioned token under the node
Spans = dict[int, tuple[Meta, Meta]]


def widened(bounds: tuple[Meta, Meta] | None, first: Meta, last: Meta) -> tuple[Meta, Meta]:
    if bounds is None:
        return first, last
    return (
        first if first["start"] < bounds[0]["start"] else bounds[0],
        last if last["end"] > bounds[1]["end"] else bounds[1],
    )


def token_spans(root: exp.Expr) -> Spans:
    """The token span of every node of a tree from one walk: in reversed pre-order each node is
    complete before its parent and hands its span up, so nested scopes and projections do not
    rewalk their subtrees (that rewalking was ~10% of a TPC-DS query's analysis)."""
    spans: Spans = {}
    for node in reversed(list(root.walk(bfs=False))):
        meta = node.meta
        bounds = spans.get(id(node))
        if "start" in meta:
            bounds = spans[id(node)] = widened(bounds, meta, meta)
        if bounds is not None and node is not root and node.parent is not None:
            spans[id(node.parent)] = widened(spans.get(id(node.parent)), *bounds)
    return spans


@dataclass(frozen=True)
class Locator:
    """Turns sqlglot token positions of one file into coordinate pairs."""

    hash_code: str

    def pair(self, line: int, start_col: int, end_line: int, end_col: int) -> Coordinates:
        return [
            {"x": line, "y": start_col, "hashCode": self.hash_code},
            {"x": end_line, "y": end_col, "hashCode": self.hash_code},
        ]

    def of_node(self, node: exp.Expr | None) -> Coordinates:
        """Span of an identifier-bearing node (empty when sqlglot synthesised it)."""
        ident = node.this if isinstance(node, (exp.Column, exp.Table)) else node
        meta = ident.meta if isinstance(ident, exp.Expr) else None
        if not meta or "line" not in meta:
            return []
        width = meta["end"] - meta["start"]
        return self.pair(meta["line"], meta["col"] - width, meta["line"], meta["col"] + 1)

    def of_span(self, spans: Spans, node: exp.Expr) -> Coordinates:
        """From the first to the last positioned token inside `node` (closing parentheses and
        keywords carry no position, so the end can stop short); `spans` covers node's tree."""
        bounds = spans.get(id(node))
        if bounds is None:
            return []
        first, last = bounds
        width = first["end"] - first["start"]
        return self.pair(first["line"], first["col"] - width, last["line"], last["col"] + 1)

    def of_tokens(self, first: Token, last: Token) -> Coordinates:
        """Span of a statement from its first to its last token."""
        first_col = first.col - (first.end - first.start)
        return self.pair(first.line, first_col, last.line, last.col + 1)
