"""Object names as one key across jobs: `db.schema.table` normalised in the context of the job that wrote it.

Why a module of its own: the graph stitches jobs by these keys, and a 100k-relationship job has
10k distinct names. sqlglot's parser is the authority on how a dialect reads a name (quotes, case
folding, odd characters), but one parse per name cost about 1 ms (11 s per 10k names). Most names
are plain unquoted identifiers: for those the parse result is known without parsing (an unquoted
`Identifier` per dotted part), so `normalize_names` folds them directly with the same folding
function and sends only the rest (quoted, keywords, unusual characters, more than three parts)
through the parser. The results are identical (`test_names.py` compares both paths name by name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import ParseError

from sqlflow_assets.api.vendors import UnknownVendorError, dialect_for

PLACEHOLDER_PARTS = frozenset({"", "default"})
_PLAIN_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class NameContext:
    """What a job's names are read in: its dialect and its default database and schema."""

    db_vendor: str | None
    default_database: str | None
    default_schema: str | None


def normalize_name(name: str, context: NameContext) -> str:
    """`db.schema.table` as one key across jobs: quotes removed, case folded the way the job's
    dialect folds it, SQLFlow's `DEFAULT` placeholders dropped, missing parts from the job's defaults.
    """
    return _complete(name, _parts(name, context.db_vendor), context)


def normalize_names(names: Iterable[str], context: NameContext) -> list[str]:
    """`normalize_name` of each of `names` (same results), parsing only the names that need the parser."""
    keywords = _keywords(context.db_vendor)
    fold = _plain_fold(context.db_vendor)
    out = []
    for name in names:
        pieces = name.split(".")
        if len(pieces) <= 3 and all(_PLAIN_PART.match(p) and p.upper() not in keywords for p in pieces):
            parts = [fold(p) for p in pieces]
        else:
            parts = _parts(name, context.db_vendor)
        out.append(_complete(name, parts, context))
    return out


def _complete(name: str, parts: list[str], context: NameContext) -> str:
    parts = [part for part in parts if part.lower() not in PLACEHOLDER_PARTS]
    if not parts:
        return name
    # a 1-part name lacks the database and the schema, a 2-part one the database
    missing = (context.default_database, context.default_schema)[: max(0, 3 - len(parts))]
    prefix = [_normalize_part(part, context.db_vendor) for part in missing if part and part.lower() not in PLACEHOLDER_PARTS]
    return ".".join([*prefix, *parts])


@lru_cache(maxsize=4096)
def _parts_cached(name: str, db_vendor: str | None) -> tuple[str, ...]:
    try:
        table = exp.to_table(name, dialect=_dialect(db_vendor))
    except (ParseError, ValueError):
        return (name.strip('"`[]'),)
    return tuple(_fold(identifier, db_vendor) for identifier in table.parts if isinstance(identifier, exp.Identifier)) or (name,)


def _parts(name: str, db_vendor: str | None) -> list[str]:
    return list(_parts_cached(name, db_vendor))


def _normalize_part(part: str, db_vendor: str | None) -> str:
    return _parts(part, db_vendor)[0] if "." not in part else part


def _fold(identifier: exp.Identifier, db_vendor: str | None) -> str:
    """Case as the dialect resolves it; case-insensitive dialects fold to lower case."""
    dialect = _dialect(db_vendor)
    if dialect.normalization_strategy is NormalizationStrategy.CASE_INSENSITIVE:
        return identifier.name.lower()
    return dialect.normalize_identifier(identifier.copy()).name


@lru_cache(maxsize=64)
def _dialect(db_vendor: str | None) -> Dialect:
    try:
        name = dialect_for(db_vendor) if db_vendor else None
    except UnknownVendorError:
        name = None
    return Dialect.get_or_raise(name)


@lru_cache(maxsize=64)
def _plain_fold(db_vendor: str | None) -> Callable[[str], str]:
    """`_fold` of an unquoted ASCII identifier (what the parser makes of a plain name part) as a str
    method: the dialect's folding of such a part is a case map, read off one probe."""
    probe = _fold(exp.Identifier(this="aB", quoted=False), db_vendor)
    folds: dict[str, Callable[[str], str]] = {"ab": str.lower, "AB": str.upper, "aB": str}
    return folds[probe]


@lru_cache(maxsize=64)
def _keywords(db_vendor: str | None) -> frozenset[str]:
    """Words the dialect's tokenizer reads as keywords: a name part among them goes to the parser."""
    return frozenset(word.upper() for word in _dialect(db_vendor).tokenizer_class.KEYWORDS)
