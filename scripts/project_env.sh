# Sourced by scripts/bootstrap.sh (so by scripts/start and scripts/test) after it set ROOT: dlt's data
# folder (pipeline state, the git cache of SQL sources, the record of submitted sources) lives in
# the checkout, as Dagster's home does, so two checkouts never share them. A DLT_DATA_DIR already set
# is kept. `sqlflow-assets` defaults to the same folder (`config.PROJECT_DATA_DIR`).
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export DLT_DATA_DIR=${DLT_DATA_DIR:-$ROOT/.dlt_data}
# `dagster` run by hand from the repo root reads `.env`: the same folder then (appended once).
if ! grep -qs '^DLT_DATA_DIR=' "$ROOT/.env"; then
  echo "DLT_DATA_DIR=$DLT_DATA_DIR" >> "$ROOT/.env"
fi
