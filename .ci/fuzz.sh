#!/usr/bin/env bash
# Fuzzing smoke run: every cargo-fuzz target for a short fixed time, starting from the committed
# seeds and past crash inputs (copied to a scratch corpus, so the committed files are never
# modified). Fails on any crash, if no target ran, or if a target has no committed seed (a
# missing or empty fuzz/seeds/<target>/). FUZZ_SECS sets the time per target (default 20).
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
mapfile -t targets < <(cargo fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
    echo "cargo fuzz list gave no target: nothing would be fuzzed" >&2
    exit 1
fi
# Every target starts from its committed seeds: a missing or empty seed directory is an error,
# not a run from nothing.
for target in "${targets[@]}"; do
    seeds="fuzz/seeds/$target"
    if [ ! -d "$seeds" ] || [ -z "$(find "$seeds" -maxdepth 1 -type f ! -name '.*' -print -quit)" ]; then
        echo "$seeds is missing or holds no seed: run cargo run --example fuzz_seeds" >&2
        exit 1
    fi
done
failed=0 ran=0
printf '%-16s %12s %10s %8s %8s  %s\n' target executions exec/s cov ft result
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    for dir in "fuzz/seeds/$target" "fuzz/regressions/$target"; do
        if [ -d "$dir" ]; then
            find "$dir" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$corpus"/ \;
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
    # A run that executed nothing (or whose statistics are missing) did not fuzz.
    if [ "$result" = ok ] && ! [ "${execs:-0}" -gt 0 ] 2>/dev/null; then
        result="NO RUN"
        failed=1
    fi
    if [ "$result" = ok ]; then
        ran=$((ran + 1))
    fi
    rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
    printf '%-16s %12s %10s %8s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "$result"
    if [ "$result" != ok ]; then
        tail -n 60 "$log"
    fi
    if [ "$result" = CRASH ]; then
        echo "the crashing input is under fuzz/artifacts/$target/"
    fi
done
echo "total: $(($(date +%s) - begin)) s"
echo "fuzz: ${ran} passed, $((${#targets[@]} - ran)) failed"
if [ "$ran" -eq 0 ]; then
    echo "no target ran" >&2
    exit 1
fi
exit "$failed"
