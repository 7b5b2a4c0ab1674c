#!/usr/bin/env bash
# npm test: the static checks (the type-check of tsconfig.check.json, which covers the tests and
# tools as well as lib/, and Biome's lint and format check) run beside vitest instead of before
# it: on two cores they end long before the tests do. Their errors are printed after the test
# report, and any failing fails the run.
# Arguments go to vitest: npm test -- __tests__/policy.test.ts
set -uo pipefail

case "${1:-}" in
  -h | --help)
    echo "usage: npm test [-- <vitest arguments>]   (tsc, biome ci and vitest side by side)"
    exit 0
    ;;
esac

cd "$(dirname "$0")/.." || exit 1
bin=node_modules/.bin
types_log="$(mktemp)"
lint_log="$(mktemp)"
trap 'rm -f "$types_log" "$lint_log"' EXIT

"$bin/tsc" -p tsconfig.check.json >"$types_log" 2>&1 &
types_pid=$!
"$bin/biome" ci --colors=off --error-on-warnings . >"$lint_log" 2>&1 &
lint_pid=$!
"$bin/vitest" run "$@"
tests=$?
wait "$types_pid"
types=$?
wait "$lint_pid"
lint=$?

if [ "$types" -ne 0 ]; then
  cat "$types_log" >&2
  echo "npm test: the type-check failed (tsc -p tsconfig.check.json, exit $types)" >&2
fi
if [ "$lint" -ne 0 ]; then
  cat "$lint_log" >&2
  echo "npm test: the lint and format check failed (biome ci, exit $lint; npm run format fixes what it can)" >&2
fi
[ "$tests" -eq 0 ] && [ "$types" -eq 0 ] && [ "$lint" -eq 0 ]
