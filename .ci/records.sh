#!/usr/bin/env bash
# Consent records (ISO/IEC TS 27560 in W3C DPV): pyld, an independent JSON-LD processor, expands
# every record of tests/vectors/records/ with the context served from docs/records.context.jsonld
# (any other fetch is refused: no network), checks every DPV term against DPV 2.3, and validates
# every record against docs/schemas/record.schema.json (jsonschema), with negative controls.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n--- records: %s (%s, %ss so far)\n' "$1" "$(date -u +%H:%M:%S)" "$SECONDS"; }

step "Python environment (pyld)"
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="$target_dir/records-venv"
if ! "$venv/bin/python" -c 'import pyld, jsonschema, referencing' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pyld "jsonschema>=4.18"
fi
"$venv/bin/python" -c 'import importlib.metadata as m; print("pyld", m.version("pyld"), "jsonschema", m.version("jsonschema"))'

step "pyld expands every record with the local context"
"$venv/bin/python" tests/interop/check_records.py .

step "done"
