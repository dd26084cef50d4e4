"""Coordinates (FORMAT.md §6): 1-based line/column start-end pairs tagged with the file hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokens import Token

from .model import Coordinates


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


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

    def of_span(self, node: exp.Expr) -> Coordinates:
        """From the first to the last positioned token inside `node` (closing parentheses and
        keywords carry no position, so the end can stop short)."""
        metas = [n.meta for n in node.walk(bfs=False) if "start" in n.meta]  # DFS: 2x cheaper
        if not metas:
            return []
        first = min(metas, key=lambda m: m["start"])
        last = max(metas, key=lambda m: m["end"])
        width = first["end"] - first["start"]
        return self.pair(first["line"], first["col"] - width, last["line"], last["col"] + 1)

    def of_tokens(self, first: Token, last: Token) -> Coordinates:
        """Span of a statement from its first to its last token."""
        first_col = first.col - (first.end - first.start)
        return self.pair(first.line, first_col, last.line, last.col + 1)
