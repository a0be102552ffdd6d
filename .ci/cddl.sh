#!/usr/bin/env bash
# Validates the test vectors against docs/consentry.cddl with the `cddl` tool (cddl-rs):
# every valid object vector, every directory, every log entry, logged object and valid tree
# head, and the signed directory with every update the CDDL admits must conform, and every invalid vector whose index entry says
# `"cddl_rejects": true` must be refused, so the check is not vacuous.
#
# A refusal counts only when the tool says why in the expected terms: a schema refusal
# ("Validation of … failed: error validating …"), or, for a vector that is not well-formed CBOR
# (checked here independently), a CBOR parsing error (see `verdict` for how the tool words it). Anything else (the tool crashing, the
# schema not parsing, a file missing, no verdict at all) is a tool error and fails the run,
# whatever the vector. Every file the index lists is checked, and the counts must equal the
# numbers of files listed (cross-checked with the index's own counts).
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
[ -r "$SCHEMA" ] || { echo "cannot read the schema $SCHEMA" >&2; exit 1; }

start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The lists come from index.json: valid objects, directories, log entries, logged objects and
# valid heads must pass; the flagged invalid objects, heads and entries must fail. The script
# also writes which listed files exist and which of the must-fail ones are not well-formed
# CBOR, and checks the lists against the index's own counts.
python3 - "$VECTORS" "$work" <<'PY'
import json, os, sys
vectors, work = sys.argv[1], sys.argv[2]
index = json.load(open(os.path.join(vectors, "index.json")))
log = index["log"]
must_pass, must_fail = [], []
objects_valid = [o for o in index["objects"] if o["expected"]["outcome"] == "valid"]
must_pass += [o["file"] for o in objects_valid]
must_pass += [d["file"] for d in index["directories"].values()]
for e in log["entries"]:
    must_pass.append(e["file"])
    if e["object"]:
        must_pass.append(e["object"]["file"])
heads_valid = [h for h in log["heads"] if h["expected"]["outcome"] == "valid"]
must_pass += [h["file"] for h in heads_valid]
registry = index["registry"]
must_pass += [registry["genesis"]["file"], registry["final"]["file"]]
for u in registry["updates"]:
    (must_fail if u["cddl_rejects"] else must_pass).append(u["file"])
for c in index["objects"] + log["heads"] + log["malformed_entries"]:
    if c["expected"]["outcome"] == "invalid" and c.get("cddl_rejects"):
        must_fail.append(c["file"])
problems = []
# The lists agree with the counts the index states.
for what, listed, stated in [
    ("valid objects", len(objects_valid), index["counts"]["objects_valid"]),
    ("log entries", len(log["entries"]), log["counts"]["entries"]),
    ("valid heads", len(heads_valid), log["counts"]["heads_valid"]),
]:
    if listed != stated:
        problems.append(f"index.json lists {listed} {what} but its counts say {stated}")
for f in must_pass + must_fail:
    if not os.path.isfile(os.path.join(vectors, f)):
        problems.append(f"listed in index.json but missing: {f}")
for f in sorted(set(f for f in must_pass + must_fail if (must_pass + must_fail).count(f) > 1)):
    problems.append(f"listed twice: {f}")


def well_formed(data):
    """Whether `data` is exactly one well-formed CBOR item (RFC 8949 §5.3.1, not validity)."""

    def item(at, depth=0):
        if at >= len(data) or depth > 64:
            raise ValueError
        ib = data[at]
        major, ai = ib >> 5, ib & 0x1F
        at += 1
        if ai < 24:
            arg = ai
        elif ai <= 27:
            n = 1 << (ai - 24)
            if at + n > len(data):
                raise ValueError
            arg = int.from_bytes(data[at : at + n], "big")
            at += n
        elif ai == 31 and major in (2, 3, 4, 5):
            while True:
                if at >= len(data):
                    raise ValueError
                if data[at] == 0xFF:
                    return at + 1
                at = item(at, depth + 1)
        else:
            raise ValueError
        if major in (2, 3):
            if at + arg > len(data):
                raise ValueError
            return at + arg
        if major == 4:
            for _ in range(arg):
                at = item(at, depth + 1)
            return at
        if major == 5:
            for _ in range(2 * arg):
                at = item(at, depth + 1)
            return at
        if major == 6:
            return item(at, depth + 1)
        return at

    try:
        return item(0) == len(data)
    except (ValueError, RecursionError):
        return False


with open(os.path.join(work, "pass"), "w") as out:
    out.write("".join(f + "\n" for f in must_pass))
with open(os.path.join(work, "fail"), "w") as out:
    out.write("".join(f + "\n" for f in must_fail))
with open(os.path.join(work, "not-cbor"), "w") as out:
    for f in must_fail:
        path = os.path.join(vectors, f)
        if os.path.isfile(path) and not well_formed(open(path, "rb").read()):
            out.write(f + "\n")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY
mapfile -t must_pass <"$work/pass"
mapfile -t must_fail <"$work/fail"
mapfile -t not_cbor <"$work/not-cbor"
if [ "${#must_pass[@]}" -eq 0 ] || [ "${#must_fail[@]}" -eq 0 ]; then
  echo "index.json lists ${#must_pass[@]} vectors that must pass and ${#must_fail[@]} that must fail" >&2
  exit 1
fi

# Runs the tool on one file; prints its verdict: valid, refused (a schema validation error),
# not-cbor (a CBOR parsing error) or tool-error; the tool's output is left in $work/out.
# cddl 0.10.7 reports CBOR input that ends early as "error parsing CDDL: I/O error: failed to
# fill whole buffer" (its CBOR reader's error, mislabelled); that message alone counts as a
# CBOR parsing error, and only for vectors that are not well-formed CBOR (see above). Any
# other "error parsing CDDL" is the schema failing to parse: a tool error.
truncated='failed: error parsing CDDL: I/O error: failed to fill whole buffer'
verdict() {
  local file=$1 rc=0
  cddl --ci validate -d "$SCHEMA" -c "$file" >"$work/out" 2>&1 || rc=$?
  if grep -qE 'panicked|does not exist|No such file' "$work/out" ||
    grep -F 'error parsing CDDL' "$work/out" | grep -qvF "$truncated"; then
    echo tool-error
  elif [ "$rc" -eq 0 ] && grep -qF "Validation of \"$file\" is successful" "$work/out"; then
    echo valid
  elif [ "$rc" -ne 0 ] && grep -qF "Validation of \"$file\" failed: error validating" "$work/out"; then
    echo refused
  elif [ "$rc" -ne 0 ] && grep -qE "Validation of \"$file\" (failed: error parsing cbor|$truncated)" "$work/out"; then
    echo not-cbor
  else
    echo tool-error
  fi
}

passed=0 failed=0 rejected=0 rejected_parse=0 missed=0 tool_errors=0
tool_error() {
  tool_errors=$((tool_errors + 1))
  echo "TOOL ERROR on $1 (exit status and output are not a verdict on the vector):"
  head -n 5 "$work/out" | sed 's/^/    /'
}
for f in "${must_pass[@]}"; do
  case $(verdict "$VECTORS/$f") in
    valid) passed=$((passed + 1)) ;;
    refused | not-cbor)
      failed=$((failed + 1))
      echo "FAIL (valid vector refused): $f"
      grep -m3 -E 'ERROR|error' "$work/out" || true ;;
    *) tool_error "$f" ;;
  esac
done
for f in "${must_fail[@]}"; do
  is_cbor=yes
  for n in "${not_cbor[@]}"; do [ "$n" = "$f" ] && is_cbor=no; done
  v=$(verdict "$VECTORS/$f")
  case "$v/$is_cbor" in
    refused/yes) rejected=$((rejected + 1)) ;;
    not-cbor/no) rejected_parse=$((rejected_parse + 1)) ;;
    valid/*)
      missed=$((missed + 1))
      echo "FAIL (invalid vector accepted): $f" ;;
    *)
      # A schema verdict on bytes that are not CBOR, or a parsing error on well-formed CBOR,
      # says something is wrong with the tool, not with the vector.
      tool_error "$f ($v, well-formed CBOR: $is_cbor)" ;;
  esac
done

expected_pass=${#must_pass[@]} expected_fail=${#must_fail[@]}
echo "cddl: ${passed} of ${expected_pass} valid vectors conform, ${failed} refused;" \
  "$((rejected + rejected_parse)) of ${expected_fail} invalid vectors refused" \
  "(${rejected} by the schema, ${rejected_parse} as malformed CBOR), ${missed} accepted;" \
  "${tool_errors} tool errors ($(( $(date +%s) - start )) s)"
if [ "$tool_errors" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$missed" -ne 0 ] ||
  [ "$passed" -ne "$expected_pass" ] || [ "$((rejected + rejected_parse))" -ne "$expected_fail" ]; then
  echo "cddl validation failed"
  echo "cddl: $((passed + rejected + rejected_parse)) passed, $((failed + missed + tool_errors)) failed"
  exit 1
fi
echo "cddl: $((passed + rejected + rejected_parse)) passed, 0 failed"
