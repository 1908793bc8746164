#!/bin/sh
# Run the tests in two lanes at once: the fresh-system tests (each builds its own Debian system and
# mostly waits on downloads, package installs and builds) $FRESH_WORKERS at a time with
# pytest-xdist, and every other test in one process, in order, as it always ran (those share
# per-user caches and this machine's services and were not written to run at once). The host
# lane's output is shown when both are done; the exit code is the first failing lane's.
#   Usage: scripts/test-lanes.sh MARK-EXPRESSION [PYTEST ARGS...]   ("" selects every test)
set -u
cd "$(dirname "$0")/.."
python=.dev/bin/python
selected=$1
shift
both() { if [ -n "$selected" ]; then echo "($selected) and $1"; else echo "$1"; fi; }
workers=${FRESH_WORKERS:-2}
if [ "$workers" = 0 ]; then
    exec "$python" -m pytest ${selected:+-m "$selected"} "$@"
fi
log=$(mktemp "${TMPDIR:-/tmp}/bulletproof-host-tests.XXXXXX")
"$python" -m pytest -m "$(both "not fresh")" "$@" >"$log" 2>&1 &
host=$!
"$python" -m pytest -m "$(both fresh)" -n "$workers" "$@"
fresh=$?
wait "$host"
host_rc=$?
echo "=== the host lane (every test but the fresh-system ones) ==="
cat "$log"
rm -f "$log"
# pytest's 5 is "nothing selected": a lane can be empty under a narrow PYTEST_ARGS
[ "$fresh" = 5 ] && fresh=0
[ "$host_rc" = 5 ] && host_rc=0
[ "$fresh" != 0 ] && exit "$fresh"
exit "$host_rc"
