#!/usr/bin/env bash
# Mutation testing, run by hand (not in CI: a full run takes hours on two cores).
# Every group runs cargo-mutants over the files that hold a part of the crate's rules and
# prints its score; survivors are listed in mutants.out/<group>/missed.txt. Each survivor is
# either killed by a new test or argued equivalent in docs/testing.md.
#
# Usage: bash .ci/mutants.sh [group ...]   (default: every group)
# Groups: decision ledger proof codec time
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi

declare -A files=(
    [decision]="src/decision/verifier.rs src/decision/lifecycle.rs src/decision/existence.rs src/decision/reason.rs"
    [ledger]="src/ledger/mod.rs src/ledger/state.rs src/ledger/memory.rs src/ids.rs"
    [proof]="src/log/proof.rs src/log/merkle.rs src/log/head.rs"
    [codec]="src/cbor/decode.rs src/cbor/encode.rs src/wire.rs"
    [time]="src/time.rs src/digest.rs"
)
# The tests that judge each group: the whole suite, less the slow model-based cases.
export CONSENTRY_MODEL_CASES="${CONSENTRY_MODEL_CASES:-200}"

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(decision ledger proof codec time)
for group in "${groups[@]}"; do
    [ -n "${files[$group]:-}" ] || { echo "unknown group $group" >&2; exit 2; }
    args=()
    for f in ${files[$group]}; do args+=(-f "$f"); done
    start=$SECONDS
    # cargo-mutants exits non-zero when a mutant survives: the counts below are the result.
    cargo mutants "${args[@]}" --timeout 300 --output "mutants.out/$group" || true
    out="mutants.out/$group/mutants.out"
    caught=$(wc -l < "$out/caught.txt"); missed=$(wc -l < "$out/missed.txt")
    timeout=$(wc -l < "$out/timeout.txt"); unviable=$(wc -l < "$out/unviable.txt")
    viable=$((caught + missed + timeout))
    echo "mutants $group: $((caught + timeout)) caught (timeouts included) of $viable viable, $unviable unviable, $((SECONDS - start)) s"
    if [ "$missed" -gt 0 ]; then
        echo "survivors:"
        sed 's/^/  /' "$out/missed.txt"
    fi
done
