"""Fixtures of the fault tests: real `sqlflow-local` servers of their own, configured per test."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlflow_assets_tests.conftest import start_local_server, stop_local_server
from sqlflow_assets_tests.local.test_server import Api

USER_ID, SECRET = "fault|1", "fault-secret-0123"


class Servers:
    """Starts real servers on one data dir (a restart keeps jobs and the signing key) and stops them all."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, secret: str = SECRET, **config: Any) -> tuple[subprocess.Popen, Api]:
        """A server whose config.json holds `config` (`workers`, ...); returns its process and a client for USER_ID."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "config.json").write_text(json.dumps(config))
        proc, url = start_local_server(self.data_dir, f"{USER_ID}:{secret}")
        self.procs.append(proc)
        return proc, Api(url, USER_ID, secret)

    def stop(self, proc: subprocess.Popen) -> None:
        stop_local_server(proc)
        self.procs.remove(proc)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    started = Servers(tmp_path / "server")
    yield started
    for proc in list(started.procs):
        started.stop(proc)


def poll(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """The first truthy value of `condition()`, polled every 50 ms; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.05)
    return value
