"""The user's guide and the docs hold true of the code: every relative link (and `#anchor`) resolves, and
every command, TOML, JSON, SQL and Python block in them parses, without starting anything.

Commands of `sqlflow-assets` and `sqlflow-local` go through the programs' own argparse parsers (stopped
right after parsing, so nothing runs); `./scripts/*` must exist and be executable, and
`./scripts/start` arguments are those of `sqlflow-assets start`; `python -c` snippets compile. The
impact examples name tables and columns that the bundled sample, or a SQL block of the README, has.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlglot
from markdown_it import MarkdownIt
from markdown_it.token import Token
from sqlglot import exp

from sqlflow_assets import cli
from sqlflow_assets.api.vendors import SUPPORTED_VENDORS
from sqlflow_assets.config import SAMPLE_SQL_DIR
from sqlflow_assets.local import serve_cli

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
# the user's guide, docs/ and the READMEs of top-level folders
PAGES = [README, *sorted(DOCS.glob("*.md")), *sorted(REPO.glob("*/README.md"))]
# programs whose syntax is not ours; the docs may show them (never the README), unchecked
FOREIGN = {"source", "dagster", "dg", "dlt"}
SHELL = {"bash", "sh", "shell", "console"}
PYTHONS = {"python", "python3", ".venv/bin/python"}
MARKDOWN = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    text: str
    section: str  # the heading the block is under

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def tokens(page: Path) -> list[Token]:
    return MARKDOWN.parse(page.read_text(encoding="utf-8"))


def blocks(page: Path) -> Iterator[Block]:
    section = ""
    parsed = tokens(page)
    for index, token in enumerate(parsed):
        if token.type == "heading_open":
            section = parsed[index + 1].content
        elif token.type == "fence":
            yield Block(page, token.map[0] + 1 if token.map else 0, token.info.strip().split(" ")[0], token.content, section)


def all_blocks(*languages: str) -> list[Block]:
    return [block for page in PAGES for block in blocks(page) if block.language in languages]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: dict[str, int] = {}
    parsed = tokens(page)
    for index, token in enumerate(parsed):
        if token.type == "heading_open":
            base = slug("".join(child.content for child in parsed[index + 1].children or []))
            count = found.get(base)
            found[base] = 0 if count is None else count + 1
            if count is not None:
                found[f"{base}-{count + 1}"] = 0
    return set(found)


def links(page: Path) -> Iterator[str]:
    for token in tokens(page):
        for child in token.children or []:
            target = child.attrs.get("href") or child.attrs.get("src")
            if isinstance(target, str) and not re.match(r"^[a-z][a-z0-9+.-]*:", target):
                yield target


LINKS = [(page, target) for page in PAGES for target in links(page)]


def test_the_pages_exist_and_the_guide_is_short() -> None:
    assert {
        "README.md",
        "architecture.md",
        "configuration.md",
        "local-server.md",
        "operations.md",
        "sqlflow-api.md",
        "sqlflow-format.md",
    } <= {page.name for page in PAGES}
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 220


@pytest.mark.parametrize(("page", "target"), LINKS, ids=[f"{p.relative_to(REPO)}->{t}" for p, t in LINKS])
def test_relative_links_resolve(page: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    assert resolved.exists(), f"{page.relative_to(REPO)}: {target!r} points at nothing"
    if anchor and resolved.suffix == ".md":
        assert anchor in anchors(resolved), f"{page.relative_to(REPO)}: no heading #{anchor} in {resolved.name}"


# --- commands ------------------------------------------------------------------------------------


def commands(block: Block) -> Iterator[list[str]]:
    """The block's commands as argument lists (comments dropped, `\\` continuations joined)."""
    text = re.sub(r"\\\n", " ", block.text)
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            yield words


SHELL_COMMANDS = [(block, words) for block in all_blocks(*SHELL) for words in commands(block)]


class Parsed(Exception):
    """Raised by the patched `ArgumentParser.parse_args` with what it parsed, before the command runs."""


def parse(
    main: Callable[[list[str]], int], argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> argparse.Namespace:
    """Parse `argv` with the parser `main` builds, stopping before it runs anything."""
    original = argparse.ArgumentParser.parse_args

    def parse_only(self: argparse.ArgumentParser, args: list[str] | None = None, namespace: None = None) -> None:
        raise Parsed(original(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_only)
    try:
        main(argv)
    except Parsed as parsed:
        return parsed.args[0]
    except SystemExit as refused:
        pytest.fail(f"{argv} is refused: {capsys.readouterr().err.strip() or refused}")
    pytest.fail(f"{argv} ran without parsing arguments")


def program(word: str) -> str:
    return word.removeprefix(".venv/bin/")


@pytest.mark.parametrize(("block", "words"), SHELL_COMMANDS, ids=[f"{b}:{w[0]}" for b, w in SHELL_COMMANDS])
def test_shell_commands_parse(block: Block, words: list[str], monkeypatch, capsys) -> None:
    name, args = words[0], words[1:]
    if name.startswith("./scripts/"):
        script = REPO / name
        assert script.is_file() and os.access(script, os.X_OK), f"{block}: {name} is not an executable script"
        if name == "./scripts/start":
            assert 'exec sqlflow-assets start "$@"' in script.read_text(), "./scripts/start no longer passes its arguments on"
            parse(cli.main, ["start", *args], monkeypatch, capsys)
    elif program(name) == "sqlflow-assets":
        parse(cli.main, args, monkeypatch, capsys)
    elif program(name) == "sqlflow-local":
        parse(serve_cli.main, args, monkeypatch, capsys)
    elif name in PYTHONS:
        if args[:1] == ["-c"]:
            compile(args[1], str(block), "exec")
        else:
            assert (REPO / args[0]).is_file(), f"{block}: no script {args[0]}"
    else:
        assert name in FOREIGN and block.page != README, f"{block}: {name!r} is not a command the docs can check"


def test_the_guide_runs_the_two_commands() -> None:
    names = {words[0] for block, words in SHELL_COMMANDS if block.page == README}
    assert {"./scripts/start", "./scripts/test"} <= names


# --- other blocks --------------------------------------------------------------------------------


@pytest.mark.parametrize("block", all_blocks("toml"), ids=str)
def test_toml_blocks_parse(block: Block) -> None:
    tomllib.loads(block.text)


@pytest.mark.parametrize("block", all_blocks("json"), ids=str)
def test_json_blocks_parse(block: Block) -> None:
    json.loads(block.text)


@pytest.mark.parametrize("block", all_blocks("sql"), ids=str)
def test_sql_blocks_parse(block: Block) -> None:
    assert sqlglot.parse(block.text, read="duckdb")


@pytest.mark.parametrize("block", all_blocks("python"), ids=str)
def test_python_blocks_compile_and_import_what_exists(block: Block) -> None:
    compile(block.text, str(block), "exec")
    for node in ast.parse(block.text).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sqlflow_assets"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{block}: {node.module} has no {alias.name}"


# --- facts ---------------------------------------------------------------------------------------


def names_in(sql: str) -> tuple[set[str], set[str]]:
    """(schema.table, column) names the SQL creates, reads or writes."""
    tables, columns = set(), set()
    for statement in filter(None, sqlglot.parse(sql, read="postgres")):
        for table in statement.find_all(exp.Table):
            tables.add(".".join(part.name for part in table.parts))
        for node in statement.find_all(exp.Column, exp.ColumnDef, exp.Alias):
            columns.add(node.alias if isinstance(node, exp.Alias) else node.name)
    return tables, columns


def test_impact_examples_name_tables_and_columns_that_exist() -> None:
    """Each `sqlflow-assets impact` target of the README is a table (and column) of the bundled sample or of
    the README's own SQL, so the example answers something when tried."""
    sql = [path.read_text() for path in sorted(SAMPLE_SQL_DIR.glob("*.sql"))]
    sql += [block.text for block in blocks(README) if block.language == "sql"]
    tables, columns = set(), set()
    for text in sql:
        found = names_in(text)
        tables |= found[0]
        columns |= found[1]
    targets = [words[2] for block, words in SHELL_COMMANDS if block.page == README and words[1:2] == ["impact"]]
    assert targets
    for target in targets:
        table, _, column = target.rpartition(".") if target not in tables else (target, "", "")
        assert table in tables and (not column or column in columns), f"impact {target}: not in the sample or the README's SQL"


def test_the_dbvendor_list_is_the_apis() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert set(re.findall(r"`(dbv(?!endor)[a-z0-9]+)`", text)) == set(SUPPORTED_VENDORS)


CITATION = re.compile(r"docs/(sqlflow-(?:api|format)\.md)((?:[ ,(]*§\d+(?:[–-]§?\d+)?)*)")


def cited_sections() -> list[tuple[str, str, int]]:
    """(citing file, cited page, section number) for every `docs/sqlflow-*.md §N` in the code."""
    found = []
    for path in sorted((REPO / "sqlflow_assets").rglob("*.py")):
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            for number in re.findall(r"§(\d+)", match.group(2)):
                found.append((str(path.relative_to(REPO)), match.group(1), int(number)))
    return found


def test_the_code_cites_sections_that_exist() -> None:
    citations = cited_sections()
    assert citations, "the code cites the SQLFlow notes; none found means the pattern broke"
    for citing, page, number in citations:
        headings = re.findall(r"^#{2,3} (\d+)[a-z]?\.", (DOCS / page).read_text(encoding="utf-8"), flags=re.M)
        assert str(number) in headings, f"{citing} cites {page} §{number}, which has no such section"
