"""Splits a file into statements (one tokenize per file) and parses each one on its own,
so one bad statement yields one error instead of losing the whole file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from .coords import Locator
from .model import ErrorInfo

MAX_FILE_CHARS = 5_000_000
MAX_STATEMENT_CHARS = 500_000


@dataclass(frozen=True)
class ParsedStatement:
    """One statement's tree (None when it failed) with its tokens and position."""

    tree: exp.Expr | None
    tokens: tuple[Token, ...]
    text: str
    error: ErrorInfo | None


def token_chunks(tokens: list[Token]) -> Iterator[list[Token]]:
    chunk: list[Token] = []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if chunk:
                yield chunk
            chunk = []
        else:
            chunk.append(token)
    if chunk:
        yield chunk


def parse_chunk(dialect: Dialect, tokens: list[Token], text: str) -> exp.Expr | None:
    """Parse one statement's tokens; a fresh parser each time because parsers keep state."""
    trees = [t for t in dialect.parser().parse(tokens, text) if t is not None]
    return trees[0] if trees else None


def split_statements(
    dialect: Dialect, text: str, locator: Locator, file_name: str
) -> Iterator[ParsedStatement]:
    """Statements of a file in order; size, token and syntax problems come back as errors."""
    if len(text) > MAX_FILE_CHARS:
        message = f"file exceeds the input limit of {MAX_FILE_CHARS} characters"
        yield ParsedStatement(None, (), "", ErrorInfo(message, "InputTooLarge", [], file_name))
        return
    try:
        tokens = dialect.tokenize(text)
    except TokenError as error:
        yield ParsedStatement(None, (), "", ErrorInfo(str(error), "SyntaxError", [], file_name))
        return
    for chunk in token_chunks(tokens):
        sql = text[chunk[0].start : chunk[-1].end + 1]
        coords = locator.of_tokens(chunk[0], chunk[-1])
        if len(sql) > MAX_STATEMENT_CHARS:
            message = f"statement exceeds the input limit of {MAX_STATEMENT_CHARS} characters"
            yield ParsedStatement(None, tuple(chunk), sql, ErrorInfo(message, "InputTooLarge", coords, file_name))
            continue
        try:
            tree = parse_chunk(dialect, chunk, text)
        except ParseError as error:
            message = error.errors[0]["description"] if error.errors else str(error)
            yield ParsedStatement(None, tuple(chunk), sql, ErrorInfo(message, "SyntaxError", coords, file_name))
            continue
        yield ParsedStatement(tree, tuple(chunk), sql, None)
