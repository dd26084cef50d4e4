"""Fixtures of the fault tests: real `sqlflow-local` servers of their own, configured per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlflow_assets_tests.support import Servers


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    started = Servers(tmp_path / "server")
    yield started
    for proc in list(started.procs):
        started.stop(proc)


