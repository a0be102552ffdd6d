#!/usr/bin/env bash
# Interop with an independent COSE implementation: pycose verifies every kind of signed object
# this crate produces, with the public key alone, and re-signs each to the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n--- interop: %s (%s, %ss so far)\n' "$1" "$(date -u +%H:%M:%S)" "$SECONDS"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "Python environment (pycose, cbor2)"
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="$target_dir/interop-venv"
if ! "$venv/bin/python" -c 'import pycose, cbor2' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pycose "cbor2<6"
fi
"$venv/bin/python" -c 'import importlib.metadata as m; print("pycose", m.version("pycose"), "cbor2", m.version("cbor2"))'

step "signed objects"
cargo run --quiet --example ffi_fixtures -- "$work/fixtures"

step "pycose verifies them"
"$venv/bin/python" tests/interop/test_pycose.py "$work/fixtures"

step "done"
