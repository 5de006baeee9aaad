#!/usr/bin/env bash
# `make test`'s second core, while the first runs lint and the tests without Rasa: the model
# is trained if its data changed, then the fuzzing runs (it needs no model) on a database of
# its own, then the scale-out tests (tests/scale) while the first core runs the other Rasa tests. `scripts/second-core.sh wait` waits for it, prints its tail and exits with its status.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
status=var/second-core.status

if [ "${1:-}" = "wait" ]; then
  until [ -s "$status" ]; do sleep 1; done
  rc=$(cat "$status")
  if [ "$rc" != 0 ]; then
    echo "the second core failed (exit $rc): var/train.log, var/fuzz.log, var/scale.log" >&2
    tail -n 60 var/fuzz.log 2>/dev/null >&2
    tail -n 60 var/scale.log 2>/dev/null >&2
  else
    tail -n 2 var/fuzz.log
    tail -n 2 var/scale.log
  fi
  exit "$rc"
fi

rm -f "$status"
bash scripts/train.sh > var/train.log 2>&1
rc=$?
if [ "$rc" = 0 ]; then
  # Its own database: the first group's session empties tms_test as it goes.
  own_db="${TEST_DATABASE_URL%/*}/tms_test_fuzz"
  TEST_DATABASE_URL="$own_db" \
    .venv/bin/python -m pytest -m "fuzz and not rasa" -p no:cacheprovider > var/fuzz.log 2>&1
  rc=$?
  # Then the scale-out tests (several Rasa processes each; they need the model), beside the
  # first core's other assistant tests: Rasa's model loads are most of both groups' time.
  TEST_DATABASE_URL="$own_db" \
    .venv/bin/python -m pytest -m rasa tests/scale -p no:cacheprovider > var/scale.log 2>&1
  scale_rc=$?
  [ "$rc" = 0 ] && rc=$scale_rc
fi
echo "$rc" > "$status"
