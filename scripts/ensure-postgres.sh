#!/usr/bin/env bash
# Makes sure the local PostgreSQL answers and the named databases exist.
# Usage: scripts/ensure-postgres.sh [DBNAME ...]
set -euo pipefail
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER

if ! pg_isready -q; then
  echo "postgres: not answering, starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
fi
pg_isready -q || { echo "postgres: still not answering on $PGHOST:$PGPORT" >&2; exit 1; }

for db in "$@"; do
  if [ "$(psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
    createdb "$db"
    echo "postgres: created database $db"
  fi
done
