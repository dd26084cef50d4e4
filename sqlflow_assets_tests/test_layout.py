"""The tests' own layout: shared helpers live in `support.py` (the engine's scoring in `engine_scoring.py`),
fixtures in conftest, no test module imports another, and nothing in the tests imports or loads `benchmarks/`."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED = {
    "sqlflow_assets_tests.support",
    "sqlflow_assets_tests.engine_scoring",
    "sqlflow_assets_tests.fixtures",
    "sqlflow_assets_tests.fixtures.make_payload",
    "sqlflow_assets_tests.fixtures.review_repo",
}


def imported(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.module or ""
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def code_words(tree: ast.AST) -> Iterator[str]:
    """Every import, name, attribute and string the code uses; docstrings (prose) left out."""
    prose = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    yield from imported(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Attribute):
            yield node.attr
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            yield node.value


def trees() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(TESTS.rglob("*.py")):
        yield str(path.relative_to(TESTS)), ast.parse(path.read_text(encoding="utf-8"))


def test_test_modules_import_only_the_support_module_and_fixtures() -> None:
    wrong = [f"{name}: {m}" for name, tree in trees() for m in imported(tree) if m.startswith("sqlflow_assets_tests") and m not in SHARED]
    assert wrong == []


def test_nothing_in_the_tests_imports_or_loads_the_benchmarks() -> None:
    """The benchmark scripts import the tests' scoring, never the other way: no code under
    `sqlflow_assets_tests/` names `benchmarks` (an import, or a path to load a script by); prose may.
    This module is left out: it names the word to look for."""
    wrong = [
        f"{name}: {word!r}"
        for name, tree in trees()
        if name != Path(__file__).name
        for word in code_words(tree)
        if "benchmarks" in word.lower()
    ]
    assert wrong == []


def test_no_two_modules_share_a_name_and_the_layout_table_names_each() -> None:
    package = TESTS.parent / "sqlflow_assets"
    modules = [path for path in package.rglob("*.py") if path.name not in ("__init__.py", "__main__.py")]
    names = [path.stem for path in modules]
    assert sorted({name for name in names if names.count(name) > 1}) == []
    layout = (TESTS.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = sorted(str(path.relative_to(package)) for path in modules if f"`{path.name}`" not in layout)
    assert missing == [], f"docs/architecture.md's layout table does not name {missing}"


def test_the_suite_runner_keeps_a_group_on_one_worker(tmp_path: Path) -> None:
    """`scripts/test` runs two xdist workers with `--dist loadgroup`: a module's tests (and all browser
    tests) must share a worker. xdist marks a group by rewriting the test's node id, which some pytest
    releases ignore (9.2), silently spreading a group over both workers; this catches such a pair."""
    (tmp_path / "test_grouped.py").write_text(
        "import pytest\n" + "".join(f"@pytest.mark.xdist_group('g')\ndef test_{n}(): pass\n" for n in range(6)), encoding="utf-8"
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup", "-v", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    workers = {line.split()[0] for line in ran.stdout.splitlines() if "PASSED" in line}
    assert ran.returncode == 0 and len(workers) == 1, ran.stdout[-2000:]
