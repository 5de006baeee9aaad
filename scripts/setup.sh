#!/usr/bin/env bash
# Creates both Python environments from the pinned locks. Idempotent: a second run with
# unchanged locks does nothing. Run by `make setup` (and so by `make demo` and `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_BACKEND=${PYTHON_BACKEND:-python3.11}
PYTHON_RASA=${PYTHON_RASA:-/root/.pyenv/versions/3.10.13/bin/python}
command -v "$PYTHON_BACKEND" >/dev/null 2>&1 || PYTHON_BACKEND=python3

bash scripts/install-system-deps.sh

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# pip's output without the noise this machine's pip config adds. The braces keep grep's
# "nothing left to show" from counting as a failure, while pipefail still reports pip's own:
# a failed install fails setup, and no stamp is written.
quiet() { { grep -v "^WARNING: Location\|BuildBackendWarning\|!!\|\*\*\*\|Please be careful\|name as your package\|with strategy\|^ *$" || true; }; }
export -f quiet

make_env() {  # make_env DIR PYTHON STAMP INSTALL-COMMAND...
  local dir=$1 python=$2 stamp=$3; shift 3
  if [ -f "$dir/.setup-stamp" ] && [ "$(cat "$dir/.setup-stamp")" = "$stamp" ]; then
    echo "setup: $dir is up to date"
    return
  fi
  echo "setup: building $dir with $python"
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  # A newer pip is welcome, not required (an offline machine keeps the one venv brought).
  "$dir/bin/python" -m pip install --quiet --upgrade pip 2>&1 | quiet || echo "setup: pip not upgraded"
  if ! "$@"; then
    echo "setup: installing $dir failed; run make setup again once the cause is fixed" >&2
    exit 1
  fi
  echo "$stamp" > "$dir/.setup-stamp"
}

backend_stamp=$(stamp_of requirements/backend.lock pyproject.toml)
make_env .venv "$PYTHON_BACKEND" "$backend_stamp" bash -c '
  set -euo pipefail
  .venv/bin/python -m pip install --quiet -r requirements/backend.lock 2>&1 | quiet
  .venv/bin/python -m pip install --quiet --no-deps -e . 2>&1 | quiet
  .venv/bin/python -c "import backend, sqlalchemy, psycopg, sanic, apscheduler, rasa_sdk, prometheus_client"
'

if [ "${SKIP_RASA_ENV:-0}" != "1" ]; then
  if [ ! -x "$PYTHON_RASA" ]; then
    echo "setup: Python 3.10 not found at $PYTHON_RASA (Rasa 3.6 needs it); set PYTHON_RASA" >&2
    exit 1
  fi
  rasa_stamp=$(stamp_of requirements/rasa.lock)
  make_env .venv-rasa "$PYTHON_RASA" "$rasa_stamp" bash -c '
    set -euo pipefail
    .venv-rasa/bin/python -m pip install --quiet -r requirements/rasa.lock 2>&1 | quiet
    .venv-rasa/bin/python -c "import rasa; assert rasa.__version__ == \"3.6.21\", rasa.__version__"
  '
fi
