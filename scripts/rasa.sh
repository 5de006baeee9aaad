#!/usr/bin/env bash
# Runs the `rasa` command of the Python 3.10 environment with the project's defaults:
#   scripts/rasa.sh run ...   scripts/rasa.sh train ...   scripts/rasa.sh test ...
set -euo pipefail
cd "$(dirname "$0")/.."
VAR_DIR=${TMS_VAR_DIR:-$PWD/var}
mkdir -p "$VAR_DIR"
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT:-5055}/webhook}
export TRACKER_DIALECT=${TRACKER_DIALECT:-sqlite}
export TRACKER_STORE_URL=${TRACKER_STORE_URL:-sqlite:///$VAR_DIR/rasa-tracker.sqlite3}
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
export SQLALCHEMY_SILENCE_UBER_WARNING=1
exec .venv-rasa/bin/rasa "$@"
