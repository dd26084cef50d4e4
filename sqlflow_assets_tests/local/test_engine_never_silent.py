"""Never silent (issue #20): every statement that reads a table either yields lineage or carries
an entry in `errors` saying why not. The walk builds small statements from every statement
keyword (and every CREATE/ALTER object kind) the dialect's sqlglot parser knows, keeps those
sqlglot parses whole and that read the table `src_t`, and runs each through the engine."""

from __future__ import annotations

from functools import cache

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

import sqlflow_assets_tests.engine_scoring as scoring
from sqlflow_assets.api.vendors import SUPPORTED_VENDORS, dialect_for
from sqlflow_assets.local.engine import AnalysisOptions, SqlFile, analyze

ISSUE_VENDORS = scoring.REALWORLD_VENDORS
# one dbvendor per sqlglot dialect the vendors map supports (the issue's names where they exist)
VENDORS = tuple({dialect_for(v): v for v in (*SUPPORTED_VENDORS, *ISSUE_VENDORS)}.values())
QUERY = "SELECT a, b FROM src_t WHERE c > 0"
# `{k}` is a statement keyword, `{o}` an object kind (TABLE, VIEW, ...)
TEMPLATES = (
    "{k} " + QUERY,
    "{k} ({q})",
    "{k} x AS {q}",
    "{k} x ({q})",
    "{k} INTO x {q}",
    "{k} INTO x (a, b) {q}",
    "{k} INTO x TABLE src_t",
    "{k} INTO x VALUES (1, (SELECT MAX(a) FROM src_t))",
    "{k} INTO x (a) SELECT NEW.a FROM src_t",
    "{k} OVERWRITE TABLE x {q}",
    "{k} x = ({q})",
    "{k} @x = ({q})",
    "{k} x := ({q})",
    "{k} ({q}) TO 'out.csv'",
    "{k} src_t TO 'out.csv'",
    "{k} DATA OPTIONS (uri = 'gs://b/*.csv') AS {q}",
    "{k} x SET a = (SELECT a FROM src_t WHERE src_t.b = x.b)",
    "{k} x SET a = s.a FROM src_t s WHERE x.b = s.b",
    "{k} FROM x WHERE a IN (SELECT a FROM src_t)",
    "{k} x WHERE a IN (SELECT a FROM src_t)",
    "{k} INTO x USING src_t s ON x.a = s.a WHEN MATCHED THEN UPDATE SET b = s.b",
    "{k} x USING src_t s ON x.a = s.a WHEN NOT MATCHED THEN INSERT (a, b) VALUES (s.a, s.b)",
    "{k} r IN ({q}) DO INSERT INTO x SELECT a FROM src_t",
    "{k} TABLE x AS {q}",
    "{k} LAZY TABLE x AS {q}",
    "{k} {q} INTO x",
    "{k} VIEW x AS {q}",
)
OBJECT_TEMPLATES = (
    "CREATE {o} x AS {q}",
    "CREATE OR REPLACE {o} x AS {q}",
    "CREATE {o} x AS ({q})",
    "CREATE {o} x (a INT, b INT) AS {q}",
    "CREATE {o} x(p INT) AS {q}",
    "CREATE {o} x() RETURNS TABLE AS RETURN ({q})",
    "ALTER {o} x AS {q}",
)


def keywords(dialect: Dialect, token_types: object) -> set[str]:
    """Keyword texts of the dialect's tokenizer that map to the given token types."""
    wanted = set(token_types)
    return {text for text, kind in dialect.tokenizer_class.KEYWORDS.items() if kind in wanted and " " not in text}


@cache
def statements(vendor: str) -> tuple[str, ...]:
    """The generated statements sqlglot parses whole in the vendor's dialect and that read src_t."""
    dialect = Dialect.get_or_raise(dialect_for(vendor))
    parser = dialect.parser_class
    words = keywords(dialect, parser.STATEMENT_PARSERS) | {"EXPORT", "FOR", "CACHE", "COPY", "SET"}
    kinds = keywords(dialect, parser.CREATABLES | parser.DB_CREATABLES) | {"TABLE FUNCTION", "MATERIALIZED VIEW"}
    candidates = [QUERY, f"WITH w AS ({QUERY}) SELECT a FROM w", f"{QUERY} UNION ALL {QUERY}"]
    candidates += [t.format(k=k, q=QUERY) for k in sorted(words) for t in TEMPLATES]
    candidates += [t.format(o=o, q=QUERY) for o in sorted(kinds) for t in OBJECT_TEMPLATES]
    return tuple(dict.fromkeys(sql for sql in candidates if parses_and_reads(sql, dialect)))


def parses_and_reads(sql: str, dialect: Dialect) -> bool:
    try:
        trees = sqlglot.parse(sql, dialect=dialect)
    except SqlglotError:
        return False
    if len(trees) != 1 or trees[0] is None:
        return False
    tree = trees[0]
    if any(isinstance(node, exp.Command) for node in tree.walk()):
        return False
    return any(reads(table) for table in tree.find_all(exp.Table) if table.name.lower() == "src_t")


def reads(table: exp.Table) -> bool:
    """Whether a table is read for its rows: in a query or a FROM/JOIN, as MERGE/DELETE's USING,
    or as `COPY t TO ...` (not DESCRIBE/ANALYZE/DROP/TRUNCATE/GRANT naming it)."""
    parent = table.parent
    if table.find_ancestor(exp.Query, exp.From, exp.Join) is not None:
        return True
    if isinstance(parent, (exp.Merge, exp.Delete)) and table.arg_key == "using":
        return True
    return isinstance(parent, exp.Copy) and table.arg_key == "this" and not parent.args.get("kind")


@cache
def outcomes(vendor: str) -> tuple[tuple[str, dict], ...]:
    """Each walked statement with the engine's result for it alone."""
    options = AnalysisOptions(show_relation_type=("fdd", "fdr"))
    return tuple((sql, analyze([SqlFile("walk.sql", sql)], vendor, options)) for sql in statements(vendor))


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_statement_kind_reading_a_table_yields_lineage_or_says_why(vendor: str) -> None:
    silent = [
        sql
        for sql, result in outcomes(vendor)
        if not any(s["parentName"].lower().endswith("src_t") for r in result["relationships"] for s in r["sources"])
        and not result["errors"]
    ]
    assert silent == []


INTERNAL = ("AttributeError", "AssertionError", "TypeError", "KeyError", "IndexError", "ValueError")


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_statement_of_the_walk_trips_the_engine(vendor: str) -> None:
    """What the engine cannot analyse it says in words, not as an internal exception."""
    tripped = [
        (sql, e["errorMessage"])
        for sql, result in outcomes(vendor)
        for e in result["errors"]
        if e["errorMessage"].startswith(INTERNAL)
    ]
    assert tripped == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_walk_covers_the_statement_kinds_of_the_dialect(vendor: str) -> None:
    """Not vacuous: the walk reaches queries, DML, CTAS/views and the dialect's own kinds."""
    kinds = {sqlglot.parse_one(sql, dialect=dialect_for(vendor)).key for sql in statements(vendor)}
    assert {"select", "union", "insert", "create", "update", "delete"} <= kinds
    assert len(statements(vendor)) >= 15
