#!/usr/bin/env bash
# Mutation testing, run by hand (not in CI: a full run takes hours on two cores).
# Every group runs cargo-mutants over the files that hold a part of the crate's rules and
# prints its score; survivors are listed in mutants.out/<group>/missed.txt. Each survivor is
# either killed by a new test or argued equivalent in docs/testing.md.
#
# Usage: bash .ci/mutants.sh [group ...]   (default: every group)
# Groups: decision ledger proof codec time sqlite postgres stats notify
# The postgres group needs a server and CONSENTRY_PG set as .ci/postgres.sh sets it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi

declare -A files=(
    [decision]="src/decision/verifier.rs src/decision/lifecycle.rs src/decision/existence.rs src/decision/reason.rs"
    [ledger]="src/ledger/mod.rs src/ledger/state.rs src/ledger/memory.rs src/ids.rs"
    [proof]="src/log/proof.rs src/log/merkle.rs src/log/hash.rs src/log/head.rs"
    [codec]="src/cbor/decode.rs src/cbor/encode.rs src/wire.rs"
    [time]="src/time.rs src/digest.rs"
    [sqlite]="src/store/mod.rs src/store/sqlite.rs"
    [postgres]="src/store/postgres.rs"
    [stats]="src/stats.rs src/log/replay.rs src/log/overdue.rs src/log/deletion.rs"
    [notify]="src/notify/mod.rs src/notify/inbox.rs src/notify/outbox.rs"
)
# The tests that judge each group. The unit tests (--lib) always run: a run without them
# reports mutants as missed that a unit test kills.
declare -A tests=(
    [decision]="--lib --test consent --test vectors"
    [ledger]="--lib --test consent --test vectors"
    [proof]="--lib --test merkle_vectors --test consent"
    [codec]="--lib --test hostile --test payloads --test vectors --test external"
    [time]="--lib --test consent --test hostile --test payloads --test vectors --test external"
    [sqlite]="--lib --test store_sqlite --test consent"
    [postgres]="--lib --test store_postgres --test consent"
    [stats]="--lib --test consent"
    [notify]="--lib --test consent --test vectors --test hostile"
)
declare -A features=([sqlite]="--features sqlite" [postgres]="--features postgres")
# The model-based test with fewer cases than CI's, so that a mutant costs seconds.
export CONSENTRY_MODEL_CASES="${CONSENTRY_MODEL_CASES:-200}"

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(decision ledger proof codec time sqlite postgres stats notify)
for group in "${groups[@]}"; do
    [ -n "${files[$group]:-}" ] || { echo "unknown group $group" >&2; exit 2; }
    args=()
    for f in ${files[$group]}; do args+=(-f "$f"); done
    mkdir -p "mutants.out/$group"
    start=$SECONDS
    # cargo-mutants exits non-zero when a mutant survives: the counts below are the result.
    # shellcheck disable=SC2086 # the feature and test lists are meant to split
    cargo mutants "${args[@]}" ${features[$group]:-} --timeout 300 --output "mutants.out/$group" \
        -- ${tests[$group]} || true
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
