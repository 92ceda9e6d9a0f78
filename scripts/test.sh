#!/bin/sh
# Runs the tests with node's test runner (through tsx, since Node 20 cannot
# run TypeScript itself). Node 20 neither expands globs nor finds .ts files in
# a directory, so the shell lists them; an empty list is an error, not a pass.
#   sh scripts/test.sh              every test, then the unit tests again with the clock moved
#   sh scripts/test.sh unit         test/unit only
#   sh scripts/test.sh integration
#   sh scripts/test.sh moved-clock  test/unit with every Date 400 days ahead and TZ at UTC+14
#   sh scripts/test.sh FILE...      the named files
set -eu
cd "$(dirname "$0")/.."
which=${1:-all}
files=""
preload=""
case "$which" in
  unit) files=$(ls test/unit/*.test.ts 2>/dev/null || true) ;;
  integration) files=$(ls test/integration/*.test.ts 2>/dev/null || true) ;;
  all) files=$(ls test/unit/*.test.ts test/integration/*.test.ts 2>/dev/null || true) ;;
  moved-clock)
    files=$(ls test/unit/*.test.ts 2>/dev/null || true)
    preload="--import ./scripts/moved-clock.mjs"
    # Kiritimati is UTC+14: local dates differ from UTC ones for 14 hours of every day.
    TZ=Pacific/Kiritimati
    export TZ
    year_now=$(date -u +%Y)
    # shellcheck disable=SC2086
    year_moved=$(node $preload -e 'process.stdout.write(String(new Date().getUTCFullYear()))')
    if [ "$year_moved" -le "$year_now" ]; then
      echo "moved-clock: the clock did not move (year $year_moved)" >&2
      exit 1
    fi
    echo "moved-clock: unit tests with every Date 400 days ahead ($year_moved) and TZ=$TZ"
    # With Debian's faketime (.ci/run installs it) the whole process tree's clock moves too: child
    # processes, and the libc time calls that Date does not cover. Timers keep the real monotonic clock.
    if command -v faketime >/dev/null 2>&1; then
      echo "moved-clock: and again under faketime '+400 days'"
      # shellcheck disable=SC2086
      FAKETIME_DONT_FAKE_MONOTONIC=1 faketime '+400 days' node --import tsx --test --test-concurrency=2 --test-reporter=spec $files
    fi
    ;;
  *) files=$(ls "$@") ;;
esac
if [ -z "$files" ]; then
  echo "no test files found for '$which'" >&2
  exit 1
fi
# Integration tests start several agents and app processes each; two files
# at a time keeps a 2-core machine responsive.
# shellcheck disable=SC2086
node $preload --import tsx --test --test-concurrency=2 --test-reporter=spec $files
if [ "$which" = all ]; then
  exec sh "$0" moved-clock
fi
