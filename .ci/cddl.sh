#!/usr/bin/env bash
# Validates the test vectors against docs/consentry.cddl with the `cddl` tool (cddl-rs):
# every valid object vector, every directory, and every log entry, logged object and valid
# tree head must conform, and every invalid vector whose index entry says
# `"cddl_rejects": true` must be refused, so the check is not vacuous.
# Usage: bash .ci/cddl.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMA=docs/consentry.cddl
VECTORS=tests/vectors
CDDL_VERSION=0.10.7

if ! command -v cddl >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cddl" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cddl >/dev/null 2>&1; then
  echo "installing cddl $CDDL_VERSION"
  start=$(date +%s)
  cargo install --locked --quiet cddl --version "$CDDL_VERSION"
  echo "installed cddl in $(( $(date +%s) - start )) s"
fi

start=$(date +%s)
# The lists come from index.json: valid objects and directories must pass, the flagged invalid
# objects must fail.
mapfile -t must_pass < <(python3 - "$VECTORS/index.json" <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))
for o in index["objects"]:
    if o["expected"]["outcome"] == "valid":
        print(o["file"])
for d in index["directories"].values():
    print(d["file"])
log = index["log"]
for e in log["entries"]:
    print(e["file"])
    if e["object"]:
        print(e["object"]["file"])
for h in log["heads"]:
    if h["expected"]["outcome"] == "valid":
        print(h["file"])
PY
)
mapfile -t must_fail < <(python3 - "$VECTORS/index.json" <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))
for o in index["objects"]:
    if o["expected"]["outcome"] == "invalid" and o.get("cddl_rejects"):
        print(o["file"])
log = index["log"]
for c in log["heads"] + log["malformed_entries"]:
    if c["expected"]["outcome"] == "invalid" and c.get("cddl_rejects"):
        print(c["file"])
PY
)

passed=0 failed=0 rejected=0 missed=0
for f in "${must_pass[@]}"; do
  if out=$(cddl --ci validate -d "$SCHEMA" -c "$VECTORS/$f" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL (valid vector refused): $f"
    echo "$out" | grep -m3 ERROR || true
  fi
done
for f in "${must_fail[@]}"; do
  if cddl --ci validate -d "$SCHEMA" -c "$VECTORS/$f" >/dev/null 2>&1; then
    missed=$((missed + 1))
    echo "FAIL (invalid vector accepted): $f"
  else
    rejected=$((rejected + 1))
  fi
done

echo "cddl: ${passed} valid vectors conform, ${failed} do not; ${rejected} invalid vectors refused, ${missed} accepted ($(( $(date +%s) - start )) s)"
if [ "$failed" -ne 0 ] || [ "$missed" -ne 0 ] || [ "$passed" -lt 10 ] || [ "$rejected" -lt 10 ]; then
  echo "cddl validation failed"
  exit 1
fi
echo "${passed} passed, 0 failed"
