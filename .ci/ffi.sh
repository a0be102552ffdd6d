#!/usr/bin/env bash
# The C ABI through real foreign code: the header is up to date; a C program runs the canteen
# flow and the misuse probes against the static and the shared library, the latter under
# valgrind; a Python ctypes test does the same against the shared library. The libraries come
# from the crate consentry-ffi (ffi/), built with its `sqlite` feature (the service story opens
# a SQLite ledger): the library itself must stay an rlib.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n--- ffi: %s (%s, %ss so far)\n' "$1" "$(date -u +%H:%M:%S)" "$SECONDS"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "header is up to date"
if ! command -v cbindgen >/dev/null; then
    cargo install --locked cbindgen --version 0.29.4
fi
cbindgen --quiet --config cbindgen.toml --crate consentry-ffi --output "$work/consentry.h"
if ! diff -u include/consentry.h "$work/consentry.h"; then
    echo "include/consentry.h is out of date: run" >&2
    echo "  cbindgen --config cbindgen.toml --crate consentry-ffi --output include/consentry.h" >&2
    exit 1
fi

step "Rust tests of the ABI crate"
# Tests no longer built or found pass as "0 passed": require that at least as many ran as
# there are (the C and Python runs keep their own floors).
cargo test -p consentry-ffi --features sqlite --lib 2>&1 | tee "$work/ffi-tests.log"
ran=$(sed -n 's/^test result: ok\. \([0-9][0-9]*\) passed.*/\1/p' "$work/ffi-tests.log" |
    awk '{ n += $1 } END { print n + 0 }')
if [ "$ran" -lt 16 ]; then
    echo "cargo test -p consentry-ffi --features sqlite --lib ran $ran tests, at least 16 expected (did the tests move?)" >&2
    exit 1
fi
echo "ffi: $ran Rust tests of the C ABI ran"

step "fixtures"
cargo run --quiet --example ffi_fixtures -- "$work/fixtures"

step "build the libraries"
cargo build -p consentry-ffi --features sqlite
metadata=$(cargo metadata --format-version 1 --no-deps)
target_dir=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' <<<"$metadata")
# Only the ABI crate builds them: the library stays an rlib, so that a crate depending on it
# builds no shared or static library of its own.
python3 -c '
import json, sys
packages = json.load(sys.stdin)["packages"]
library_kinds = {"lib", "rlib", "dylib", "cdylib", "staticlib"}
lib = next(t for p in packages if p["name"] == "consentry" for t in p["targets"]
           if library_kinds & set(t["kind"]))
kinds = lib["crate_types"]
if kinds != ["lib"]:
    sys.exit(f"the consentry library builds {kinds}: only an rlib is expected")
' <<<"$metadata"
lib="$target_dir/debug"
for f in libconsentry_ffi.a libconsentry_ffi.so; do
    [ -f "$lib/$f" ] || { echo "missing $lib/$f" >&2; exit 1; }
done

cflags=(-std=c11 -Wall -Wextra -Werror -Iinclude)
step "C against the static library"
gcc "${cflags[@]}" tests/ffi/canteen.c "$lib/libconsentry_ffi.a" -lpthread -ldl -lm -o "$work/canteen_static"
"$work/canteen_static" "$work/fixtures"

step "C against the shared library"
gcc "${cflags[@]}" tests/ffi/canteen.c -L"$lib" -lconsentry_ffi -Wl,-rpath,"$lib" -o "$work/canteen_shared"
# Read the dynamic section into a variable first: piping into `grep -q` under pipefail fails
# whenever grep exits before the writer has finished.
needed=$(readelf -d "$work/canteen_shared")
grep -q 'NEEDED.*\[libconsentry_ffi\.so\]' <<<"$needed" || {
    echo "canteen_shared does not load libconsentry_ffi.so; its dynamic section:" >&2
    echo "$needed" >&2
    exit 1
}
"$work/canteen_shared" "$work/fixtures"

step "C under valgrind"
if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq valgrind >/dev/null
    else
        echo "valgrind is missing and cannot be installed here" >&2
        exit 1
    fi
fi
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    "$work/canteen_shared" "$work/fixtures"
valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    "$work/canteen_static" "$work/fixtures"

step "Python ctypes"
python3 tests/ffi/test_ffi.py "$lib/libconsentry_ffi.so" "$work/fixtures"

step "done"
