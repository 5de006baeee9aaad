#!/usr/bin/env bash
# Runs the `rasa` command of the Python 3.10 environment with the project's defaults:
#   scripts/rasa.sh run ...   scripts/rasa.sh train ...   scripts/rasa.sh test ...
set -euo pipefail
cd "$(dirname "$0")/.."
VAR_DIR=${TMS_VAR_DIR:-$PWD/var}
mkdir -p "$VAR_DIR"
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT:-5055}/webhook}
# The secrets between Rasa and its neighbours: the one the action server wants and the one the
# backend sends to Rasa's channel. Unset, they are backend/config.py's development defaults;
# with TMS_ENV=production a missing one is refused here as it is there.
for default in ACTION_SERVER_SECRET=dev-action-secret RASA_CHANNEL_SECRET=dev-rasa-secret; do
  name=${default%%=*}
  if [ -z "${!name:-}" ]; then
    if [ "${TMS_ENV:-development}" = "production" ]; then
      echo "rasa: refusing to start: $name is not set (TMS_ENV=production)" >&2
      exit 2
    fi
    export "$default"
  fi
done
# `run` listens on RASA_HOST (loopback) unless told otherwise.
if [ "${1:-}" = "run" ] && [[ " $* " != *" --interface "* ]] && [[ " $* " != *" -i "* ]]; then
  set -- "$@" --interface "${RASA_HOST:-127.0.0.1}"
fi
export TRACKER_DIALECT=${TRACKER_DIALECT:-sqlite}
export TRACKER_STORE_URL=${TRACKER_STORE_URL:-sqlite:///$VAR_DIR/rasa-tracker.sqlite3}
# How many user turns of a conversation a turn loads (addons/stores/bounded_tracker_store.py).
export TRACKER_WINDOW_TURNS=${TRACKER_WINDOW_TURNS:-5}
# Several Rasa processes on one tracker store need Redis's lock store: with REDIS_URL set, `run`
# gets endpoints.yml plus that lock store, written into var/ (endpoints.yml cannot say "if").
# Without it, the in-memory lock store and one Rasa process. An explicit --endpoints wins.
if [ "${1:-}" = "run" ] && [ -n "${REDIS_URL:-}" ] && [[ " $* " != *" --endpoints "* ]]; then
  endpoints=$(.venv-rasa/bin/python -m addons.stores.lock_store endpoints.yml "$VAR_DIR/endpoints.redis.yml")
  set -- "$@" --endpoints "$endpoints"
fi
export RASA_TELEMETRY_ENABLED=false
# Rasa keeps the machine's own clock: under libfaketime (scripts/test-at.sh) TensorFlow's
# timed waits never end, and Rasa reads no date the product depends on (the backend and the
# action server do, through backend.clock).
unset LD_PRELOAD FAKETIME
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
export SQLALCHEMY_SILENCE_UBER_WARNING=1
exec .venv-rasa/bin/rasa "$@"
