"""Splits a file into statements (one tokenize per file) and parses each one on its own,
so one bad statement yields one error instead of losing the whole file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

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
    """One statement's tree (None when it failed) with its tokens and position.

    `reparse` yields a fresh copy of the tree (qualify mutates trees; retries need a new one).
    """

    tree: exp.Expr | None
    tokens: tuple[Token, ...]
    text: str
    error: ErrorInfo | None
    reparse: Callable[[], exp.Expr] | None = None
    procedure: str = "batchQueries"


# Words after END that close a block we did not count as opened (PL/SQL `END IF;`, `END LOOP;`).
UNCOUNTED_END = frozenset({"IF", "LOOP", "WHILE", "REPEAT", "FOR"})
# Words after BEGIN that make it a transaction statement, not a block.
TRANSACTION_WORDS = frozenset({"TRANSACTION", "TRAN", "WORK", "DISTRIBUTED"})


def depth_change(tokens: list[Token], index: int) -> int:
    """+1 for a token opening a BEGIN/CASE block, -1 for the END closing one, else 0."""
    token = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    next_word = following.text.upper() if following is not None else ""
    if token.token_type == TokenType.BEGIN:
        opens = following is not None and following.token_type != TokenType.SEMICOLON
        return 1 if opens and next_word not in TRANSACTION_WORDS else 0
    if token.token_type == TokenType.CASE:
        return 1
    if token.token_type == TokenType.END:
        return 0 if next_word in UNCOUNTED_END else -1
    return 0


def token_chunks(tokens: list[Token]) -> Iterator[list[Token]]:
    """Statements as token lists: split on `;` except inside BEGIN ... END bodies."""
    chunk: list[Token] = []
    depth = 0
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON and depth == 0:
            if chunk:
                yield chunk
            chunk = []
            continue
        depth = max(0, depth + depth_change(tokens, index))
        chunk.append(token)
    if chunk:
        yield chunk


def parse_chunk(dialect: Dialect, tokens: list[Token], text: str) -> list[exp.Expr]:
    """Parse one statement's tokens (a procedure keeps its body); a fresh parser each time."""
    return [t for t in dialect.parser().parse(tokens, text) if t is not None]


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
            yield ParsedStatement(
                None, tuple(chunk), sql, ErrorInfo(message, "InputTooLarge", coords, file_name)
            )
            continue
        try:
            trees = parse_chunk(dialect, chunk, text)
        except ParseError as error:
            message = error.errors[0]["description"] if error.errors else str(error)
            yield ParsedStatement(
                None, tuple(chunk), sql, ErrorInfo(message, "SyntaxError", coords, file_name)
            )
            continue
        for index, tree in enumerate(trees):
            reparse = partial(reparse_nth, dialect, chunk, text, index)
            yield ParsedStatement(tree, tuple(chunk), sql, None, reparse)


def reparse_nth(dialect: Dialect, tokens: list[Token], text: str, index: int) -> exp.Expr:
    return parse_chunk(dialect, tokens, text)[index]
