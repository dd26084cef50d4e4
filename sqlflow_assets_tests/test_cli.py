"""`sqlflow-assets start` set-up: a local user is created once, never printed, and kept."""

import os
import stat
import subprocess
import sys

from sqlflow_assets_tests.conftest import REPO_ROOT

ENSURE = (
    "from pathlib import Path; from sqlflow_assets.cli import ensure_credentials; "
    "user, secret = ensure_credentials(Path('.')); print('resolved', user, secret)"
)


def ensure_credentials_in(project, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    return subprocess.run(
        [sys.executable, "-c", ENSURE],
        cwd=project, env={**clean, "DLT_PROJECT_DIR": str(project), "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True, text=True, check=True, timeout=120,
    )


def test_first_start_writes_a_private_local_user_then_keeps_it(tmp_path):
    first = ensure_credentials_in(tmp_path)
    secrets_file = tmp_path / ".dlt" / "secrets.toml"
    text = secrets_file.read_text()
    secret = text.split('secret_key = "')[1].split('"')[0]
    assert len(secret) >= 24 and 'user_id = "local|' in text
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600

    second = ensure_credentials_in(tmp_path)
    assert "created" not in second.stdout
    assert secrets_file.read_text() == text
    assert second.stdout.strip().endswith(secret)  # the same user and secret are resolved again
    setup_message = next(line for line in first.stdout.splitlines() if line.startswith("created"))
    assert secret not in setup_message


def test_configured_credentials_are_used_as_they_are(tmp_path):
    result = ensure_credentials_in(tmp_path, SOURCES__SQLFLOW__USER_ID="auth0|me", SOURCES__SQLFLOW__SECRET_KEY="k" * 20)
    assert "auth0|me" in result.stdout and not (tmp_path / ".dlt" / "secrets.toml").exists()
