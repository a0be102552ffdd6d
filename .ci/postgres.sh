#!/usr/bin/env bash
# The PostgreSQL store against a real server: installs PostgreSQL 15 (Debian's packages) if it
# is missing, starts the cluster, creates the test role and database, runs the store's tests
# and the model-based test on the store, and stops the cluster on exit if it started it.
# Run as root. Locally: `sudo bash .ci/postgres.sh` (CONSENTRY_PG_ROUNDS and
# CONSENTRY_CRASH_KILLS raise the many-nodes rounds and the crash test's kills).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step_name="" step_start=$SECONDS
step() {
    [ -n "$step_name" ] && printf -- '--- postgres: %s took %d s\n' "$step_name" $((SECONDS - step_start))
    step_name=$1 step_start=$SECONDS
    printf -- '\n--- postgres: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"
}

bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d)
started=""
cleanup() {
    if [ -n "$started" ]; then
        pg_ctlcluster 15 main stop || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

step "install PostgreSQL 15 if missing"
if [ ! -x "$bin/postgres" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi
"$bin/postgres" --version

step "start the cluster"
if ! pg_lsclusters -h | awk '$1 == 15 && $2 == "main"' | grep -q .; then
    pg_createcluster 15 main >/dev/null
fi
if ! pg_lsclusters -h | awk '$1 == 15 && $2 == "main" && $4 == "online"' | grep -q .; then
    pg_ctlcluster 15 main start
    started=yes
fi
for _ in $(seq 1 60); do
    pg_isready -q -h localhost -p 5432 && break
    sleep 1
done
pg_isready -h localhost -p 5432

step "role and database (idempotent)"
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE ROLE consentry LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'consentry')\gexec
ALTER ROLE consentry LOGIN PASSWORD 'consentry';
SELECT 'CREATE DATABASE consentry OWNER consentry' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'consentry')\gexec
SQL
export CONSENTRY_PG="host=localhost port=5432 user=consentry password=consentry dbname=consentry"

# A filter that matches no test passes as "0 passed": require that each run ran some.
count_passed() {
    sed -n 's/^test result: ok\. \([0-9][0-9]*\) passed.*/\1/p' "$1" | awk '{ n += $1 } END { print n + 0 }'
}

step "store tests (restart, corruption, many nodes, crash, faults)"
cargo test --features postgres --test store_postgres 2>&1 | tee "$work/store.log"
ran=$(count_passed "$work/store.log")
if [ "$ran" -eq 0 ]; then
    echo "cargo test --features postgres --test store_postgres ran no test" >&2
    exit 1
fi
echo "postgres: $ran store tests ran"

step "model-based test on the store"
cargo test --features postgres --test consent postgres_store_agrees_with_the_reference_model 2>&1 |
    tee "$work/model.log"
ran=$(count_passed "$work/model.log")
if [ "$ran" -eq 0 ]; then
    echo "the model-based test on the PostgreSQL store did not run" >&2
    exit 1
fi

step "done"
printf 'postgres: total %d s\n' "$SECONDS"
