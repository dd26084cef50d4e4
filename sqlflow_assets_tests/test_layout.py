"""The tests' own layout: shared helpers live in `support.py`, fixtures in conftest, and no test module imports another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED = {"sqlflow_assets_tests.support", "sqlflow_assets_tests.fixtures", "sqlflow_assets_tests.fixtures.make_payload"}


def test_test_modules_import_only_the_support_module_and_fixtures() -> None:
    wrong = []
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            wrong += [f"{path.relative_to(TESTS)}: {m}" for m in modules if (m.startswith("sqlflow_assets_tests") and m not in SHARED) or m.split(".")[0] == "benchmarks"]
    assert wrong == []
