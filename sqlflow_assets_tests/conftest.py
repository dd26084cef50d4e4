"""Shared fixtures: a real `sqlflow-local` server on a free loopback port, temp dirs for dlt and DuckDB."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
os.environ.setdefault("DLT_PROJECT_DIR", str(REPO_ROOT))


@dataclass(frozen=True)
class LocalServer:
    base_url: str
    user_id: str
    secret_key: str
    data_dir: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_local_server(data_dir: Path, users: str) -> tuple[subprocess.Popen, str]:
    """Start `sqlflow-local serve` as a child process and wait until it answers HTTP."""
    port = free_port()
    env = {**os.environ, "SQLFLOW_LOCAL_USERS": users}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sqlflow_assets.local.cli", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sqlflow-local exited early: {proc.stderr.read().decode()}")
        try:
            requests.get(f"{base_url}/healthz", timeout=1)
            return proc, base_url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("sqlflow-local did not start within 30 s")


def stop_local_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def local_server(tmp_path_factory) -> LocalServer:
    """One real local SQLFlow server for the whole test session."""
    data_dir = tmp_path_factory.mktemp("sqlflow_local")
    user_id, secret_key = "tester|1", "test-secret-0123"
    proc, base_url = start_local_server(data_dir, f"{user_id}:{secret_key}")
    yield LocalServer(base_url=base_url, user_id=user_id, secret_key=secret_key, data_dir=data_dir)
    stop_local_server(proc)
