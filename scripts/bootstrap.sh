# Sourced by scripts/start and scripts/test: creates .venv on first use and reinstalls the project
# whenever pyproject.toml or constraints.txt changed, so both commands work on a fresh clone with
# only Python 3.11+, with the versions in constraints.txt (the lock: versions that ran together).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
STAMP=$VENV/.sqlflow_assets_installed
WANT=$(cat pyproject.toml constraints.txt | "$VENV/bin/python" -c "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())")
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".[dev]"
  echo "$WANT" > "$STAMP"
fi
# `dagster` and `dg` read `.env` from the folder they run in: with this line, `dagster asset
# materialize --partition <job id> ...` from the repo root uses the project's instance (which knows
# the job partitions) instead of a throwaway one. Appended once; other lines of `.env` are the user's.
if ! grep -qs '^DAGSTER_HOME=' .env; then
  echo "DAGSTER_HOME=$ROOT/.dagster_home" >> .env
fi
export PATH=$VENV/bin:$PATH
export DLT_PROJECT_DIR=$ROOT
export RUNTIME__DLTHUB_TELEMETRY=false
source "$ROOT/scripts/project_env.sh"
