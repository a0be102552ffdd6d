#!/usr/bin/env bash
# The JSON Schemas (docs/schemas, draft 2020-12) checked by an independent validator, Python's
# jsonschema: every schema is valid, every valid JSON vector (tests/vectors/json) validates,
# every structurally invalid one is refused, and every one only the library's rules refuse is
# accepted by its schema. The vectors themselves are compared with the generator's output by
# the "test vectors" step.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n--- schemas: %s (%s, %ss so far)\n' "$1" "$(date -u +%H:%M:%S)" "$SECONDS"; }

step "Python environment (jsonschema)"
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="$target_dir/schemas-venv"
if ! "$venv/bin/python" -c 'import jsonschema, referencing' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "jsonschema>=4.18"
fi
"$venv/bin/python" -c 'import importlib.metadata as m; print("jsonschema", m.version("jsonschema"))'

step "validate the JSON vectors against the schemas"
"$venv/bin/python" tests/interop/test_schemas.py docs/schemas tests/vectors/json

step "done"
