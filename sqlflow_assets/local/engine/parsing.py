"""Splits a file into statements (one tokenize per file) and parses each one on its own,
so one bad statement yields one error instead of losing the whole file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from itertools import pairwise

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.mysql import MySQL
from sqlglot.dialects.oracle import Oracle
from sqlglot.dialects.teradata import Teradata
from sqlglot.dialects.tsql import TSQL
from sqlglot.errors import ParseError, TokenError
from sqlglot.parser import Parser
from sqlglot.tokens import Token, Tokenizer, TokenType

from .coords import Locator
from .model import ErrorInfo
from .recovery import candidate_ends, core_starts, gaps, paren_depths

MAX_FILE_CHARS = 5_000_000
MAX_STATEMENT_CHARS = 500_000
# sqlglot's scope analysis is quadratic in expression depth (e.g. a 20k-term OR chain takes
# minutes), so very long statements are refused up front.
MAX_STATEMENT_TOKENS = 40_000


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


def is_begin(token: Token) -> bool:
    """BEGIN, which some dialects (BigQuery) tokenize as the start of a raw command."""
    return token.token_type == TokenType.BEGIN or (
        token.token_type == TokenType.COMMAND and token.text.upper() == "BEGIN"
    )


def depth_change(tokens: list[Token], index: int) -> int:
    """+1 for a token opening a BEGIN/CASE block, -1 for the END closing one, else 0."""
    token = tokens[index]
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    next_word = following.text.upper() if following is not None else ""
    if is_begin(token):
        opens = following is not None and following.token_type != TokenType.SEMICOLON
        return 1 if opens and next_word not in TRANSACTION_WORDS else 0
    if token.token_type == TokenType.CASE:
        closes_case = index > 0 and tokens[index - 1].token_type == TokenType.END  # `END CASE`
        return 0 if closes_case else 1
    if token.token_type == TokenType.END:
        return 0 if next_word in UNCOUNTED_END else -1
    return 0


def declares(chunk: list[Token]) -> bool:
    """A PL/SQL routine header whose declarations end in `;` before its BEGIN (`CREATE PROCEDURE p
    IS v NUMBER; CURSOR c IS ...; BEGIN ... END;`): the chunk runs on to the END of that BEGIN."""
    if not chunk or any(is_begin(t) for t in chunk):
        return False
    if chunk[0].text.upper() == "DECLARE" or any(t.text.upper() == "DECLARE" for t in chunk[1:]):
        return chunk[0].text.upper() in ("DECLARE", "CREATE")
    if chunk[0].text.upper() != "CREATE" or not any(t.text.upper() in NAMED_BLOCK_WORDS for t in chunk[1:6]):
        return False
    for before, token in pairwise(chunk):
        if before.token_type in (TokenType.IS, TokenType.ALIAS) and token.token_type not in BODY_STRINGS:
            return token.token_type not in (TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN)
    return False


def token_chunks(tokens: list[Token], plsql: bool = False) -> Iterator[list[Token]]:
    """Statements as token lists: split on `;` except inside BEGIN ... END bodies (and, in PL/SQL,
    between a routine's IS and its BEGIN)."""
    chunk: list[Token] = []
    depth = 0
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON and depth == 0:
            if plsql and declares(chunk):
                chunk.append(token)
                continue
            if chunk:
                yield chunk
            chunk = []
            continue
        depth = max(0, depth + depth_change(tokens, index))
        chunk.append(token)
    if chunk:
        yield chunk


# Client-side batch separators alone on a line: T-SQL's `GO`, SQL*Plus's `/` (in column 1).
SEPARATOR_LINES = {
    TSQL: re.compile(r"^[ \t]*GO[ \t]*$", re.IGNORECASE | re.MULTILINE),
    Oracle: re.compile(r"^/[ \t]*$", re.MULTILINE),
}


def without_batch_separators(dialect: Dialect, text: str) -> str:
    """The dialect's batch separator lines become `;` padded to the same length (positions do not
    move); sqlglot would otherwise swallow everything after `GO` as one command, or read `/` as
    a division."""
    pattern = next((p for kind, p in SEPARATOR_LINES.items() if isinstance(dialect, kind)), None)
    if pattern is None:
        return text
    return pattern.sub(lambda m: ";".ljust(len(m.group(0))), text)


# Tokens a dialect's tokenizer reads as the start of a raw command (the rest of the statement one
# string), which the splitter and the parser need as tokens: T-SQL `END` (else `END TRY BEGIN
# CATCH ...` is swallowed up to the next `;`) and MySQL `REPLACE` (`REPLACE INTO t SELECT ...`).
TOKENS_NOT_COMMANDS = ((TSQL, frozenset({TokenType.END})), (MySQL, frozenset({TokenType.REPLACE})))


@cache
def tokenizer_class(dialect_class: type[Dialect]) -> type[Tokenizer]:
    base = dialect_class.tokenizer_class
    kept = next((tokens for kind, tokens in TOKENS_NOT_COMMANDS if issubclass(dialect_class, kind)), None)
    if kept is None:
        return base
    return type(f"{base.__name__}WithBlocks", (base,), {"COMMANDS": base.COMMANDS - kept})


def tokenize(dialect: Dialect, text: str) -> list[Token]:
    return tokenizer_class(type(dialect))(dialect=dialect).tokenize(text)


def parse_chunk(parser: Parser, tokens: list[Token], text: str) -> list[exp.Expr]:
    """Parse one statement's tokens (a procedure keeps its body); parsers reset on each call."""
    if isinstance(parser.dialect, Teradata):
        tokens = without_column_attributes(tokens)
    for dialect_class, clean in TOKEN_CLEANERS:
        if isinstance(parser.dialect, dialect_class):
            tokens = clean(tokens)
    return [t for t in parser.parse(tokens, text) if t is not None]


def token_cleaners() -> tuple[tuple[type[Dialect], Callable[[list[Token]], list[Token]]], ...]:
    return (
        (MySQL, with_replace_into),
        (MySQL, without_outfile),
        (TSQL, without_dml_top),
        (Oracle, without_merge_delete),
        (Teradata, without_stats_option),
        (Dialect, with_plsql_is),
    )


def without_stats_option(tokens: list[Token]) -> list[Token]:
    """Teradata `WITH [NO] DATA AND [NO] STATS|STATISTICS`: statistics are no data flow."""
    for index in range(len(tokens) - 1):
        if tokens[index].token_type == TokenType.AND and tokens[index - 1].text.upper() == "DATA":
            end = index + 1 + (tokens[index + 1].text.upper() == "NO")
            if end < len(tokens) and tokens[end].text.upper() in ("STATS", "STATISTICS"):
                return tokens[:index] + tokens[end + 1 :]
    return tokens


def group_end(tokens: list[Token], start: int) -> int:
    """Index after the parenthesised group opening at `start` (or after the single token there)."""
    if tokens[start].token_type != TokenType.L_PAREN:
        return start + 1
    depth = 0
    for index in range(start, len(tokens)):
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[index].token_type, 0)
        if depth == 0:
            return index + 1
    return len(tokens)


def without_dml_top(tokens: list[Token]) -> list[Token]:
    """T-SQL `UPDATE TOP (n) t ...` / `DELETE TOP (n) FROM t`: TOP limits rows, not lineage."""
    if len(tokens) > 2 and tokens[0].token_type in (TokenType.UPDATE, TokenType.DELETE) and tokens[1].token_type == TokenType.TOP:
        end = group_end(tokens, 2)
        percent = end < len(tokens) and tokens[end].text.upper() == "PERCENT"
        return tokens[:1] + tokens[end + percent :]
    return tokens


def without_merge_delete(tokens: list[Token]) -> list[Token]:
    """Oracle `MERGE ... WHEN MATCHED THEN UPDATE SET ... DELETE WHERE (cond)`: the DELETE clause
    removes updated rows; it is dropped (its condition carries no column flow)."""
    if not tokens or tokens[0].token_type != TokenType.MERGE:
        return tokens
    for index in range(1, len(tokens) - 1):
        if tokens[index].token_type == TokenType.DELETE and tokens[index + 1].token_type == TokenType.WHERE:
            end = next(
                (i for i in range(index + 2, len(tokens)) if tokens[i].token_type == TokenType.WHEN and paren_depths(tokens[index:i + 1])[-1] == 0),
                len(tokens),
            )
            return tokens[:index] + tokens[end:]
    return tokens


def with_replace_into(tokens: list[Token]) -> list[Token]:
    """MySQL `REPLACE INTO t ...` is an INSERT (replacing rows with the same key)."""
    if len(tokens) > 1 and tokens[0].token_type == TokenType.REPLACE and tokens[1].token_type == TokenType.INTO:
        tokens[0].token_type = TokenType.INSERT
    return tokens


def without_outfile(tokens: list[Token]) -> list[Token]:
    """MySQL `SELECT ... INTO OUTFILE|DUMPFILE 'file'` writes a file: the query is what it reads."""
    for index in range(len(tokens) - 2):
        if (
            tokens[index].token_type == TokenType.INTO
            and tokens[index + 1].text.upper() in ("OUTFILE", "DUMPFILE")
            and tokens[index + 2].token_type == TokenType.STRING
        ):
            return tokens[:index] + tokens[index + 3 :]
    return tokens


# Teradata column attributes: `a (TITLE 'x')`, `a (FORMAT 'x')`, `a (NAMED x)` after a value.
COLUMN_ATTRIBUTES = frozenset({"TITLE", "FORMAT", "NAMED"})


def without_column_attributes(tokens: list[Token]) -> list[Token]:
    """Drop Teradata's `(TITLE '...')`-style attributes: display hints that are neither part of a
    column's name nor of its data flow, and that not every sqlglot version parses."""
    kept: list[Token] = []
    index = 0
    while index < len(tokens):
        window = tokens[index : index + 4]
        if (
            len(window) == 4
            and kept
            and window[0].token_type == TokenType.L_PAREN
            and window[1].text.upper() in COLUMN_ATTRIBUTES
            and window[3].token_type == TokenType.R_PAREN
        ):
            index += 4
            continue
        kept.append(tokens[index])
        index += 1
    return kept


def with_plsql_is(tokens: list[Token]) -> list[Token]:
    """PL/SQL writes `CREATE PROCEDURE p IS BEGIN`; sqlglot only knows `AS BEGIN`."""
    for token, following in pairwise(tokens):
        if token.token_type == TokenType.IS and following.token_type == TokenType.BEGIN:
            token.token_type = TokenType.ALIAS
    return tokens


def position(text: str, offset: int) -> tuple[int, int]:
    """0-based (line, column) of a character offset."""
    return text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1)


def shifted(tokens: list[Token], text: str, start: int) -> list[Token]:
    """Tokens of `text[start:]` tokenized alone, moved to their positions in the whole text."""
    line, column = position(text, start)
    for token in tokens:
        if token.line == 1:
            token.col += column
        token.line += line
        token.start += start
        token.end += start
    return tokens


def file_tokens(
    dialect: Dialect, text: str, locator: Locator, file_name: str
) -> Iterator[list[Token] | ErrorInfo]:
    """The file's tokens; if it does not tokenize (e.g. an open quote), each `;`-separated
    piece on its own, so only the broken piece is lost."""
    try:
        yield tokenize(dialect, text)
        return
    except TokenError:
        pass
    for piece in re.finditer(r"[^;]+", text):
        try:
            yield shifted(tokenize(dialect, piece.group()), text, piece.start())
        except TokenError as error:
            begin = piece.start() + len(piece.group()) - len(piece.group().lstrip())
            line, column = position(text, begin)
            coords = locator.pair(line + 1, column + 1, line + 1, column + 1)
            yield ErrorInfo(str(error), "SyntaxError", coords, file_name)


@dataclass(frozen=True)
class SourceFile:
    """One file being split: its (separator-normalised) text and how to parse and locate it."""

    dialect: Dialect
    parser: Parser
    text: str
    locator: Locator
    name: str

    def error(self, chunk: list[Token], message: str, error_type: str) -> ParsedStatement:
        coords = self.locator.of_tokens(chunk[0], chunk[-1])
        return ParsedStatement(
            None, tuple(chunk), self.sql(chunk), ErrorInfo(message, error_type, coords, self.name)
        )

    def sql(self, chunk: list[Token]) -> str:
        return self.text[chunk[0].start : chunk[-1].end + 1]


def split_statements(
    dialect: Dialect, text: str, locator: Locator, file_name: str
) -> Iterator[ParsedStatement]:
    """Statements of a file in order; size, token and syntax problems come back as errors."""
    if len(text) > MAX_FILE_CHARS:
        message = f"file exceeds the input limit of {MAX_FILE_CHARS} characters"
        yield ParsedStatement(None, (), "", ErrorInfo(message, "InputTooLarge", [], file_name))
        return
    source = SourceFile(
        dialect, dialect.parser(), without_batch_separators(dialect, text), locator, file_name
    )
    for tokens in file_tokens(dialect, source.text, locator, file_name):
        if isinstance(tokens, ErrorInfo):
            yield ParsedStatement(None, (), "", tokens)
            continue
        for chunk in token_chunks(tokens, isinstance(dialect, Oracle)):
            yield from chunk_statements(source, chunk)


# First words of body statements that carry no table lineage (declarations, RETURN).
NO_LINEAGE_WORDS = frozenset({"DECLARE", "RETURN"})
# How a statement that defines or runs a routine starts (first tokens, upper-cased).
ROUTINE_WORDS = frozenset({"PROCEDURE", "FUNCTION"})
RUNNING_WORDS = frozenset({"DO", "EXECUTE"})
# What a CREATE names whose body is procedural code (the body's statements carry its name).
NAMED_BLOCK_WORDS = ROUTINE_WORDS | {"TRIGGER", "EVENT", "PACKAGE", "TASK"}
BODY_STRINGS = frozenset({TokenType.STRING, TokenType.RAW_STRING, TokenType.HEREDOC_STRING})
# The word a quoted body follows: `AS $$...$$`, `DO $$...$$`, `EXECUTE IMMEDIATE $$...$$` (where
# sqlglot tokenizes `IMMEDIATE $$...$$` as one string after EXECUTE).
BODY_OPENERS = frozenset({"AS", "DO", "EXECUTE", "IMMEDIATE"})
DOLLAR_QUOTED = re.compile(r"\$(\w*)\$(.*)\$\1\$", re.DOTALL)


# Routine languages whose bodies are SQL (a JavaScript or Python body is not ours to split).
SQL_LANGUAGES = frozenset({"SQL", "PLPGSQL", "PLSQL"})


def chunk_statements(
    source: SourceFile, chunk: list[Token], procedure: str = "batchQueries"
) -> Iterator[ParsedStatement]:
    """The statement(s) of one chunk, or the error that stopped it (then, for a BEGIN ... END
    block sqlglot cannot parse as a whole, the statements inside it one by one). Routine bodies
    sqlglot keeps as text or a raw command (BigQuery/Snowflake procedures, `DO $$ ... $$`,
    PL/pgSQL functions) are split into their statements, every one kept."""
    if len(source.sql(chunk)) > MAX_STATEMENT_CHARS or len(chunk) > MAX_STATEMENT_TOKENS:
        message = (
            f"statement exceeds the input limit of {MAX_STATEMENT_CHARS} characters "
            f"or {MAX_STATEMENT_TOKENS} tokens"
        )
        yield source.error(chunk, message, "InputTooLarge")
        return
    if all(t.text.upper() in QUIET_WORDS for t in chunk):
        return  # `END LOOP`, `END IF` left between the statements of a procedural block
    in_string = string_sql(source, chunk)
    if in_string is not None:  # `UNLOAD ('<query>') TO ...`, `EXEC sp_executesql N'...'`
        yield source.error(chunk, in_string[1], RECOVERY_WARNING)
        yield from body_statements(source, in_string[0], procedure)
        return
    split = multi_insert(chunk)
    if split is not None:  # Hive `FROM s INSERT ... SELECT ... INSERT ... SELECT ...`
        for part in split:
            yield from chunk_statements(source, part, procedure)
        return
    body = quoted_body(source, chunk) if is_routine(chunk) else None
    if body is None and is_begin(chunk[0]) and depth_change(chunk, 0):
        body = block_body(chunk) or None  # an anonymous block (Snowflake scripting, PL/SQL)
    if body is not None:
        yield from body_statements(source, body, routine_name(chunk) or procedure)
        return
    try:
        trees = parse_chunk(source.parser, chunk, source.text)
    except RecursionError:
        yield source.error(chunk, "statement nests too deeply to parse", "SyntaxError")
        return
    except ParseError as error:
        message = error.errors[0]["description"] if error.errors else str(error)
        statements = recovered(source, chunk, procedure, f"not parsed whole: {message}")
        yield from statements if statements is not None else [source.error(chunk, message, "SyntaxError")]
        return
    gave_up = any(unparsed_part(t) for t in trees)
    body = block_body(chunk) if gave_up and is_routine(chunk) else []
    if body:  # BigQuery `CREATE PROCEDURE ... BEGIN ... END`
        yield from body_statements(source, body, routine_name(chunk) or procedure)
        return
    statements = recovered(source, chunk, procedure, "unsupported syntax") if gave_up else None
    if statements is not None:
        yield from statements
        return
    for index, tree in enumerate(trees):
        reparse = partial(reparse_nth, source.dialect, chunk, source.text, index)
        yield ParsedStatement(tree, tuple(chunk), source.sql(chunk), None, reparse, procedure)


def unparsed_part(tree: exp.Expr) -> bool:
    """Whether sqlglot kept (part of) a statement as raw text: a Command, or a routine body with
    a Command inside (T-SQL `BEGIN TRY`, ...), whose statements are then split from the tokens."""
    if isinstance(tree, exp.Command) or isinstance(tree.expression, exp.Command):
        return True
    body = tree.expression
    return isinstance(tree, exp.Create) and isinstance(body, exp.Block) and body.find(exp.Command) is not None


def body_statements(source: SourceFile, body: list[Token], procedure: str) -> Iterator[ParsedStatement]:
    """Statements of a routine or block body; declarations and RETURN carry no table lineage."""
    for inner in token_chunks(body):
        if inner[0].text.upper() not in NO_LINEAGE_WORDS:
            yield from chunk_statements(source, inner, procedure)


def is_routine(chunk: list[Token]) -> bool:
    """CREATE [OR REPLACE] PROCEDURE/FUNCTION ..., `DO $$ ... $$`, `EXECUTE IMMEDIATE $$ ... $$`,
    written in SQL or a procedural SQL."""
    first = chunk[0].text.upper()
    if not (first in RUNNING_WORDS or (first == "CREATE" and any(t.text.upper() in ROUTINE_WORDS for t in chunk[1:5]))):
        return False
    languages = {b.text.upper() for a, b in pairwise(chunk) if a.text.upper() == "LANGUAGE"}
    return languages <= SQL_LANGUAGES


def routine_name(chunk: list[Token]) -> str | None:
    """The bare name of the routine a CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT defines."""
    if chunk[0].text.upper() != "CREATE":
        return None
    start = next((i for i, t in enumerate(chunk[:6]) if t.text.upper() in NAMED_BLOCK_WORDS), None)
    if start is None:
        return None
    start += 1
    name = None
    expect_name = True
    for token in chunk[start:]:
        if expect_name and (token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) or token.text.isidentifier()):
            name, expect_name = token.text, False
        elif not expect_name and token.token_type == TokenType.DOT:
            expect_name = True
        else:
            break
    return name


def quoted_body(source: SourceFile, chunk: list[Token]) -> list[Token] | None:
    """Tokens of a routine body written as a string (`AS $$ ... $$`, `AS '...'`), placed at their
    positions in the file; None when the routine has no such body or it does not tokenize."""
    string = next(
        (
            token
            for before, token in pairwise(chunk)
            if token.token_type in BODY_STRINGS and before.text.upper() in BODY_OPENERS
        ),
        None,
    )
    if string is None:
        return None
    raw = source.text[string.start : string.end + 1]
    dollar = DOLLAR_QUOTED.search(raw)
    start, end = (dollar.start(2), dollar.end(2)) if dollar else (1, len(raw) - 1)
    return string_tokens(source, string.start + start, raw[start:end], quoted=dollar is None)


def string_tokens(source: SourceFile, offset: int, body: str, quoted: bool) -> list[Token] | None:
    """Tokens of SQL written inside a string at `offset` of the file; a quoted string's doubled
    quotes (`''`) become ` '`, which keeps every position."""
    try:
        tokens = tokenize(source.dialect, body.replace("''", " '") if quoted else body)
    except TokenError:
        return None
    return shifted(tokens, source.text, offset) or None


# SQL written in a string literal, with what the warning says about the rest of the statement:
# Redshift `UNLOAD ('<query>') TO ...`, T-SQL `EXEC sp_executesql N'<sql>'` and `EXEC ('<sql>')`.
STRING_SQL = (
    (re.compile(r"UNLOAD\s*\(\s*'((?:[^']|'')*)'", re.IGNORECASE), "UNLOAD: its query is analysed, not the files it writes"),
    (
        re.compile(r"EXEC(?:UTE)?\s+(?:\w+\.)*\[?sp_executesql\]?\s+N?'((?:[^']|'')*)'", re.IGNORECASE),
        "dynamic SQL: the statement in its string is analysed",
    ),
    (re.compile(r"EXEC(?:UTE)?\s*\(\s*N?'((?:[^']|'')*)'\s*\)", re.IGNORECASE), "dynamic SQL: the statement in its string is analysed"),
)
STRING_SQL_WORDS = frozenset({"UNLOAD", "EXEC", "EXECUTE"})


def string_sql(source: SourceFile, chunk: list[Token]) -> tuple[list[Token], str] | None:
    """The tokens of SQL a statement carries in a string literal (see STRING_SQL), with what is
    said about the rest; None for other statements."""
    if chunk[0].text.upper() not in STRING_SQL_WORDS:
        return None
    text = source.sql(chunk)
    for pattern, note in STRING_SQL:
        match = pattern.match(text)
        if match is not None:
            tokens = string_tokens(source, chunk[0].start + match.start(1), match.group(1), quoted=True)
            return (tokens, note) if tokens else None
    return None


# Clauses that end a SELECT list (where a Hive multi-insert's shared FROM goes).
AFTER_SELECT_LIST = frozenset(
    {TokenType.WHERE, TokenType.GROUP_BY, TokenType.HAVING, TokenType.ORDER_BY, TokenType.LIMIT,
     TokenType.DISTRIBUTE_BY, TokenType.SORT_BY, TokenType.CLUSTER_BY, TokenType.LATERAL}
)


def multi_insert(chunk: list[Token]) -> list[list[Token]] | None:
    """Hive's `FROM s INSERT ... SELECT a [WHERE ...] INSERT ... SELECT b ...` as one statement per
    INSERT with the shared FROM put after its SELECT list (tokens keep their positions)."""
    if chunk[0].token_type != TokenType.FROM:
        return None
    depths = paren_depths(chunk)
    inserts = [i for i, t in enumerate(chunk) if t.token_type == TokenType.INSERT and depths[i] == 0]
    if not inserts:
        return None
    shared = chunk[: inserts[0]]
    parts = []
    for start, end in zip(inserts, [*inserts[1:], len(chunk)], strict=True):
        part = chunk[start:end]
        select = next((i for i, t in enumerate(part) if t.token_type == TokenType.SELECT), None)
        if select is None:
            return None
        cut = next(
            (i for i in range(select, len(part)) if part[i].token_type in AFTER_SELECT_LIST and depths[start + i] == 0),
            len(part),
        )
        parts.append(part[:cut] + shared + part[cut:])
    return parts


def block_body(chunk: list[Token]) -> list[Token]:
    """The tokens between a chunk's first block-opening BEGIN and its final END (else none)."""
    if chunk[-1].token_type != TokenType.END:
        return []
    begin = next((i for i in range(len(chunk)) if is_begin(chunk[i]) and depth_change(chunk, i)), None)
    return chunk[begin + 1 : -1] if begin is not None else []


def reparse_nth(dialect: Dialect, tokens: list[Token], text: str, index: int) -> exp.Expr:
    return parse_chunk(dialect.parser(), tokens, text)[index]


# ---- partial recovery (issue #20) -------------------------------------------------------------

RECOVERY_WARNING = "SyntaxWarning"
# Leftovers too small to report: block closers and punctuation between recovered statements.
QUIET_WORDS = frozenset({"END", "IF", "LOOP", "FOR", "WHILE", "REPEAT", ";", "(", ")", "BEGIN", "/"})


def lineage_bearing(tree: exp.Expr) -> bool:
    """A statement that reads a table into something: a query, DML, CREATE ... AS <query>."""
    if tree.find(exp.Table) is None:
        return False
    if isinstance(tree, exp.Create):
        return isinstance(tree.expression, exp.Query)
    return isinstance(
        tree, (exp.Query, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.MultitableInserts)
    )


# T-SQL `BEGIN TRY ... END TRY`, `BEGIN CATCH ... END CATCH`: the word belongs to BEGIN.
BLOCK_KINDS = frozenset({"TRY", "CATCH"})


def block_bounds(chunk: list[Token]) -> tuple[int, int] | None:
    """Indexes of a chunk's first block-opening BEGIN and of the END closing it."""
    begin = next((i for i in range(len(chunk)) if is_begin(chunk[i]) and depth_change(chunk, i) > 0), None)
    if begin is None:
        return None
    depth = 0
    for index in range(begin, len(chunk)):
        depth += depth_change(chunk, index)
        if depth == 0:
            return begin, index
    return None


def recovered(
    source: SourceFile, chunk: list[Token], procedure: str, reason: str
) -> list[ParsedStatement] | None:
    """What can be had of a chunk sqlglot could not parse whole: the statements of its
    BEGIN ... END body one by one, else the lineage-bearing statements found inside it (an
    event's, trigger's or loop's INSERT ... SELECT, MERGE, CTAS), each parsed on its own; the rest
    is one warning per stretch, with its coordinates. None when nothing lineage-bearing is found."""
    bounds = block_bounds(chunk)
    name = routine_name(chunk) or procedure
    if bounds is not None:
        begin, end = bounds
        first = begin + 2 if begin + 1 < end and chunk[begin + 1].text.upper() in BLOCK_KINDS else begin + 1
        statements = list(body_statements(source, chunk[first:end], name))
        pieces = list(token_chunks(chunk[:begin]))  # the header, then declarations (warned once)
        head = [
            s
            for number, piece in enumerate(pieces)
            for s in recovered_cores(source, piece, name, reason, warn=number == 0)
        ]
        rest = chunk[end + 1 :]
        rest = rest[1:] if rest and rest[0].text.upper() in BLOCK_KINDS else rest  # `END TRY`
        tail = list(chunk_statements(source, rest, name)) if rest else []  # `... BEGIN CATCH ... END CATCH`
        return head + statements + tail
    found = recovered_cores(source, chunk, name, reason)
    return found if any(s.tree is not None for s in found) else None


def recovered_cores(
    source: SourceFile, chunk: list[Token], procedure: str, reason: str, warn: bool = True
) -> list[ParsedStatement]:
    """The lineage-bearing statements inside a token run, and a warning per stretch between them."""
    if not chunk:
        return []
    depths = paren_depths(chunk)
    found: list[ParsedStatement] = []
    covered: list[tuple[int, int]] = []
    position = 0
    while position < len(chunk):
        start = next(core_starts(chunk, depths, position), None)
        if start is None:
            break
        for end in candidate_ends(chunk, depths, start):
            trees = parsed_core(source, chunk[start:end]) if (start, end) != (0, len(chunk)) else None
            if trees:
                tokens = chunk[start:end]
                for index, tree in enumerate(trees):
                    reparse = partial(reparse_nth, source.dialect, tokens, source.text, index)
                    found.append(ParsedStatement(tree, tuple(tokens), source.sql(tokens), None, reparse, procedure))
                covered.append((start, end))
                position = end
                break
        else:
            position = start + 1
    for first, last in gaps(len(chunk), covered):
        rest = chunk[first:last]
        if not warn or all(t.text.upper() in QUIET_WORDS for t in rest):
            continue
        text = " ".join(source.sql(rest).split())[:80]
        found.append(source.error(rest, f"skipped, {reason}: {text}", RECOVERY_WARNING))
    found.sort(key=lambda s: s.tokens[0].start if s.tokens else 0)
    return found


def parsed_core(source: SourceFile, tokens: list[Token]) -> list[exp.Expr] | None:
    """The trees of a token run if it parses whole into lineage-bearing statements."""
    try:
        trees = parse_chunk(source.parser, list(tokens), source.text)
    except (ParseError, RecursionError):
        return None
    if trees and all(lineage_bearing(t) and not isinstance(t.expression, exp.Command) for t in trees):
        return trees
    return None


# Token rewrites before parsing, per dialect (see each function).
TOKEN_CLEANERS = token_cleaners()
