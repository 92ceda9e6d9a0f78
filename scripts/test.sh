#!/bin/sh
# Runs the tests with node's test runner (through tsx, since Node 20 cannot
# run TypeScript itself). Node 20 neither expands globs nor finds .ts files in
# a directory, so the shell lists them; an empty list is an error, not a pass.
#   sh scripts/test.sh            every test
#   sh scripts/test.sh unit       test/unit only
#   sh scripts/test.sh integration
set -eu
cd "$(dirname "$0")/.."
which=${1:-all}
files=""
case "$which" in
  unit) files=$(ls test/unit/*.test.ts 2>/dev/null || true) ;;
  integration) files=$(ls test/integration/*.test.ts 2>/dev/null || true) ;;
  all) files=$(ls test/unit/*.test.ts test/integration/*.test.ts 2>/dev/null || true) ;;
  *) files=$(ls "$@") ;;
esac
if [ -z "$files" ]; then
  echo "no test files found for '$which'" >&2
  exit 1
fi
# Integration tests start several agents and app processes each; two files
# at a time keeps a 2-core machine responsive.
# shellcheck disable=SC2086
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec $files
