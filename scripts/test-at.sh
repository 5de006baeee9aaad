#!/usr/bin/env bash
# Runs the test suite with the machine's clock moved to another moment (libfaketime), to prove
# that nothing depends on the day it runs. Every process the suite starts (backend, scheduler,
# Rasa, action server, fake Graph API) inherits the same offset from the real clock.
#
#   scripts/test-at.sh '2027-01-31 23:50'            # the operator's local time (Asia/Kathmandu)
#   scripts/test-at.sh '2028-02-29 00:10' -m 'not rasa'   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/test-at.sh 'YYYY-MM-DD HH:MM' [pytest args...]" >&2; exit 2; }
local_time=$1; shift
zone=${OPERATOR_TIMEZONE:-Asia/Kathmandu}
command -v faketime >/dev/null || { echo "faketime is missing: run make setup" >&2; exit 1; }
target=$(date -u -d "TZ=\"$zone\" $local_time" +%s)
offset=$(( target - $(date -u +%s) ))
echo "test-at: $local_time in $zone = $(date -u -d "@$target" '+%Y-%m-%d %H:%M UTC') (offset ${offset}s)"
# A relative offset (not "@date"), so that processes started later agree with the first one;
# the monotonic clock moves by the same offset (Python 3.11 sleeps on absolute monotonic
# deadlines, which libfaketime garbles when only the wall clock is moved).
if [ "$offset" -ge 0 ]; then FAKETIME="+$offset"; else FAKETIME="$offset"; fi
export FAKETIME
export LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$(dpkg -L libfaketime | grep -m1 'libfaketimeMT.so.1$')"
make -s setup
bash scripts/ensure-postgres.sh tms_test
date
.venv/bin/python -c "from backend import clock; print('the project clock reads', clock.local_now())"
exec .venv/bin/python -m pytest "$@"
