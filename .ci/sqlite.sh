#!/usr/bin/env bash
# The SQLite store (feature `sqlite`): its tests on real files (restarts, corruption, faults,
# crash recovery with `CONSENTRY_CRASH_KILLS` kills, default 20) and the model-based test run
# on it. Prints each step's duration; fails if a step fails or runs no test.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() {
    local name=$1
    shift
    local start
    start=$(date +%s)
    cargo test --features sqlite "$@" 2>&1 | tee "$log"
    local passed
    passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log" | awk '{n += $1} END {print n + 0}')
    printf '%s: %s tests passed in %s s\n' "$name" "$passed" "$(($(date +%s) - start))"
    if [ "$passed" -eq 0 ]; then
        echo "$name: no test ran" >&2
        exit 1
    fi
}

step "unit tests of the stores, and their documented codes" --lib -- store:: \
    the_documented_codes_are_the_library_codes
step "SQLite store" --test store_sqlite
step "model-based test on SQLite" --test consent sqlite_store_agrees_with_the_reference_model
