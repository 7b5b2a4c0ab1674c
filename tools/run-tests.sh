#!/usr/bin/env bash
# npm test: the type-check (tsconfig.check.json covers the tests and tools as well as lib/) runs
# beside vitest instead of before it: on two cores it ends long before the tests do. Its errors
# are printed after the test report, and either failing fails the run.
# Arguments go to vitest: npm test -- __tests__/policy.test.ts
set -uo pipefail

case "${1:-}" in
  -h | --help)
    echo "usage: npm test [-- <vitest arguments>]   (type-check with tsc and run vitest side by side)"
    exit 0
    ;;
esac

bin="$(dirname "$0")/../node_modules/.bin"
types_log="$(mktemp)"
trap 'rm -f "$types_log"' EXIT

"$bin/tsc" -p tsconfig.check.json >"$types_log" 2>&1 &
types_pid=$!
"$bin/vitest" run "$@"
tests=$?
wait "$types_pid"
types=$?

if [ "$types" -ne 0 ]; then
  cat "$types_log" >&2
  echo "npm test: the type-check failed (tsc -p tsconfig.check.json, exit $types)" >&2
fi
[ "$tests" -eq 0 ] && [ "$types" -eq 0 ]
