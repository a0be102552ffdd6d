#!/usr/bin/env bash
# Fuzzing smoke run: every cargo-fuzz target for a short fixed time, starting from the committed
# seeds and past crash inputs (copied to a scratch corpus, so the committed files are never
# modified). Fails on any crash. FUZZ_SECS sets the time per target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# cargo-fuzz passes nightly-only flags (sanitizers); this lets the stable toolchain accept them.
export RUSTC_BOOTSTRAP=1
secs="${FUZZ_SECS:-20}"
begin=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi
cargo fuzz --version

cargo fuzz build
built=$(date +%s)
echo "build: $((built - begin)) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
printf '%-16s %12s %10s %8s %8s  %s\n' target executions exec/s cov ft result
for target in $(cargo fuzz list); do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    for dir in "fuzz/seeds/$target" "fuzz/regressions/$target"; do
        if [ -d "$dir" ]; then
            cp "$dir"/* "$corpus"/ 2>/dev/null || true
        fi
    done
    log="$work/$target.log"
    result=ok
    if ! cargo fuzz run "$target" "$corpus" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        result=CRASH
        failed=1
    fi
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n 1)
    rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    printf '%-16s %12s %10s %8s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "$result"
    if [ "$result" != ok ]; then
        tail -n 60 "$log"
        echo "the crashing input is under fuzz/artifacts/$target/"
    fi
done
echo "total: $(($(date +%s) - begin)) s"
exit "$failed"
