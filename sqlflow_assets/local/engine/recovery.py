"""Partial recovery of statements sqlglot cannot parse whole (issue #20): where, inside an
unparsable chunk (a trigger, an event, a loop, procedural code, an unknown wrapper), the ordinary
SQL statements that carry lineage start and may end, found on tokens alone. `parsing` tries them
and reports what is left as a warning with its coordinates."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot.tokens import Token, TokenType

# Tokens that start a lineage-bearing statement (`REPLACE INTO` is MySQL's INSERT).
CORE_STARTS = frozenset(
    {
        TokenType.INSERT,
        TokenType.MERGE,
        TokenType.UPDATE,
        TokenType.DELETE,
        TokenType.CREATE,
        TokenType.WITH,
        TokenType.SELECT,
        TokenType.REPLACE,
    }
)
# Words before INSERT/UPDATE/DELETE that make it a trigger event or a lock (`AFTER INSERT OR
# UPDATE ON t`, `FOR UPDATE`, `ON DELETE CASCADE`), a privilege or a REPLACE of `CREATE OR REPLACE`.
NOT_A_START_AFTER = frozenset(
    {"AFTER", "BEFORE", "OR", "OF", "FOR", "ON", "INSTEAD", "GRANT", ",", "CREATE", "EACH", "NO"}
)
# Words that may end a statement inside procedural code without a `;` (`IF c THEN INSERT ...
# ELSE ...`, `... END LOOP`, `WHEN MATCHED ...` is MERGE's own and is not one of them).
ENDINGS = frozenset({"END", "ELSE", "ELSIF", "ELSEIF", "LOOP", "END-EXEC"})
MAX_ENDS = 6  # parse attempts per start: the chunk's end, then the nearest procedural endings


def paren_depths(tokens: list[Token]) -> list[int]:
    """Parenthesis depth before each token."""
    depths, depth = [], 0
    for token in tokens:
        if token.token_type == TokenType.R_PAREN:
            depth = max(0, depth - 1)
        depths.append(depth)
        if token.token_type == TokenType.L_PAREN:
            depth += 1
    return depths


def core_starts(tokens: list[Token], depths: list[int], first: int) -> Iterator[int]:
    """Indexes from `first` on where a lineage-bearing statement may start (outside parentheses
    relative to `first`, or a query right after `IN (`/`AS (` opening a cursor loop)."""
    base = depths[first] if first < len(tokens) else 0
    for index in range(first, len(tokens)):
        token = tokens[index]
        if token.token_type not in CORE_STARTS:
            continue
        before = tokens[index - 1].text.upper() if index > 0 else ""
        if before in NOT_A_START_AFTER:
            continue
        if token.token_type in (TokenType.SELECT, TokenType.WITH) and depths[index] > base:
            # a parenthesised query is part of what surrounds it, except a loop's cursor query
            opener = tokens[index - 2].text.upper() if index > 1 else ""
            if not (before == "(" and opener in ("IN", "CURSOR", "IS", "AS", "FOR")):
                continue
        elif depths[index] > base:
            continue
        yield index


def candidate_ends(tokens: list[Token], depths: list[int], start: int) -> list[int]:
    """Exclusive end indexes to try for a statement starting at `start`: the end of its
    parenthesis (a cursor query) or of the chunk, then before each procedural ending word."""
    depth = depths[start]
    ends: list[int] = []
    for index in range(start + 1, len(tokens)):
        if depths[index] < depth:  # the `)` closing a cursor query
            return [index, *reversed(ends)][:MAX_ENDS]
        if depths[index] == depth and tokens[index].text.upper() in ENDINGS:
            ends.append(index)
    return [len(tokens), *reversed(ends)][:MAX_ENDS]


def gaps(count: int, covered: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Index ranges of a chunk's tokens outside the recovered statements."""
    position = 0
    for start, end in sorted(covered):
        if start > position:
            yield position, start
        position = max(position, end)
    if position < count:
        yield position, count
