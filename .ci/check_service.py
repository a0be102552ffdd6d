#!/usr/bin/env python3
"""Checks what the service example shows: the service's setup (directory, keys and their
windows, ceiling, verifier with receipts), then each step of its story: the grant signed by the
consent manager's current key, the allow and its receipt, the replay denied, the request beyond
the grant denied with its reason codes, the revocation applied, the request after it denied,
the signed tree head, and the subject's access history, each entry proven.

Usage: cargo run -q --example service | python3 .ci/check_service.py

The example's wording may change; this reads only what it must not change: the setup lines'
facts, every step (its "== N." header, in order, once), the ALLOW or DENY verdict of each
decision with what an allow lets the provider send or every reason code of a denial (in
brackets, in order), the statement's outcome, the log entry each step left ("entry #N"), the
head's size, and each history entry (its number, what it is about, its codes). Fails with a
message naming each expected line that is missing or different; ends with "N passed, M failed".
"""

import re
import sys

PROVIDER = "Direction générale des Finances publiques"
CATEGORY = "dgfip:revenu_fiscal_reference"
PURPOSE = "education:tarification_cantine"
BEYOND = ["categories_not_covered", "purpose_mismatch", "data_range_outside"]

# The directory as the service builds it: (name, role, valid from, valid until) of each key.
KEYS = [
    (PROVIDER, "Provider", "2025-01-01", "2027-01-01"),
    ("Mairie de Lyon", "Consumer", "2025-01-01", "2027-01-01"),
    ("FranceConnect", "ConsentManager", "2024-01-01", "2025-06-01"),
    ("FranceConnect", "ConsentManager", "2025-06-01", "2026-01-01"),
    ("Camille Martin", "Subject", "2025-01-01", "2027-01-01"),
]

# The story, in order: (step number, title, what it shows, the log entry it leaves or None).
STEPS = [
    (1, "the consent manager signs the grant", ("grant",), None),
    # An allow: the categories, the data range (tax year 2024) and the retention deadline (the
    # grant's 365 days from the decision) it lets the provider send.
    (2, "the city hall asks for what was granted",
     ("allow", [CATEGORY], ("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), "2026-09-01T08:00:00Z"), 0),
    (3, "the same request, replayed", ("deny", ["replayed_request"]), 1),
    (4, "a request beyond the grant", ("deny", BEYOND), 2),
    (5, "Camille revokes her grant", ("statement", "revoked"), 3),
    (6, "the city hall asks after the revocation", ("deny", ["revoked"]), 4),
    (7, "the provider signs its log's head", ("head", 5), None),
    (8, "Camille's access history", ("history",), None),
]

# Camille's access history: every entry the story logged, in order.
HISTORY = [
    ("receipt", [CATEGORY]),
    ("denial", ["replayed_request"]),
    ("denial", BEYOND),
    ("statement", "revoke"),
    ("denial", ["revoked"]),
]

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"check_service: FAIL {what}", file=sys.stderr)


def sections(lines):
    """The lines before the first step, and each step's lines by its number, in order."""
    preamble, steps, order, current = [], {}, [], None
    for n, line in enumerate(lines, 1):
        m = re.match(r"==\s*(\d+)\.", line)
        if m:
            current = int(m.group(1))
            order.append((current, n))
            steps.setdefault(current, [])
        if current is None:
            preamble.append(line)
        else:
            steps[current].append(line)
    return preamble, steps, order


def find(lines, pattern):
    """The first match of `pattern` in `lines`, or None."""
    for line in lines:
        m = re.search(pattern, line)
        if m:
            return m
    return None


def check_setup(preamble):
    """The setup lines; returns the provider's and the consent manager's current key ids."""
    check(find(preamble, r"^consentry: a provider service sets itself up"), "the title line is missing")
    check(find(preamble, r"^directory: 4 parties, 1 representation\b"),
          "expected a line 'directory: 4 parties, 1 representation'")
    keys = []
    for line in preamble:
        m = re.match(r"\s+(.+?)\s+(\w+)\s+key ([0-9a-f]{32}) valid (\d{4}-\d\d-\d\d)T\S+ \.\. (\d{4}-\d\d-\d\d)T", line)
        if m:
            keys.append(m.groups())
    got = [(name, role, start, end) for name, role, _, start, end in keys]
    check(got == KEYS, f"directory keys: expected {KEYS}, got {got}")
    kids = {(k[0], k[3]): k[2] for k in keys}
    check(find(preamble, rf"^ceiling: {re.escape(PROVIDER)} opens {re.escape(PURPOSE)}:.*\b{re.escape(CATEGORY)}\b"),
          f"expected the provider's ceiling for {PURPOSE}, covering {CATEGORY}")
    provider_kid = kids.get((PROVIDER, "2025-01-01"))
    m = find(preamble, rf"^verifier: {re.escape(PROVIDER)}, receipts signed by key ([0-9a-f]{{32}})")
    check(m, "expected a line 'verifier: <provider>, receipts signed by key <kid>'")
    if m:
        check(m.group(1) == provider_kid,
              f"the verifier signs receipts with key {m.group(1)}, not the provider's listed key {provider_kid}")
    return kids.get(("FranceConnect", "2025-06-01"))


def codes_listed(lines):
    """The reason codes in brackets under a DENY, in order."""
    return [m.group(1) for line in lines for m in [re.match(r"\s*\[([a-z_]+)\]", line)] if m]


def check_step(number, title, shows, entry, lines, fc_kid):
    where = f"step {number} ({title})"
    allow = [l for l in lines if re.search(r"\bALLOW\b", l)]
    deny = [l for l in lines if re.search(r"\bDENY\b", l)]
    kind = shows[0]
    if kind in ("allow", "deny"):
        want = 1 if kind == "allow" else 0
        check(len(allow) == want and len(deny) == 1 - want,
              f"{where}: expected one {kind.upper()}, got {len(allow)} ALLOW and {len(deny)} DENY")
    else:
        check(not allow and not deny, f"{where}: expected no decision, got {allow + deny}")
    if kind == "grant":
        m = find(lines, r"grant: \d+ bytes, signed by FranceConnect \(key ([0-9a-f]{32})\)")
        check(m, f"{where}: expected 'grant: N bytes, signed by FranceConnect (key <kid>)'")
        if m:
            check(m.group(1) == fc_kid, f"{where}: signed by key {m.group(1)}, not FranceConnect's current key {fc_kid}")
    elif kind == "allow":
        m = find(lines, r"^\s+categories\s+(.*)$")
        got = m.group(1).split(", ") if m else None
        check(got == shows[1], f"{where}: expected categories {shows[1]}, got {got}")
        m = find(lines, r"^\s+data range\s+(\S+) \.\. (\S+)$")
        got = m.groups() if m else None
        check(got == shows[2], f"{where}: expected the data range {shows[2]}, got {got}")
        m = find(lines, r"^\s+keep until\s+(\S+)$")
        got = m.group(1) if m else None
        check(got == shows[3], f"{where}: expected 'keep until {shows[3]}', got {got}")
        check(find(lines, r"^\s+basis\s+grant\b"), f"{where}: expected the basis to be the grant")
        check(find(lines, r"expressed by FranceConnect for Camille Martin"),
              f"{where}: expected consent expressed by FranceConnect for Camille Martin")
        check(find(lines, rf"^\s+receipt\s+\d+ bytes, signed by {re.escape(PROVIDER)}$"),
              f"{where}: expected a receipt signed by {PROVIDER}")
    elif kind == "deny":
        got = codes_listed(lines)
        check(got == shows[1], f"{where}: expected DENY {shows[1]}, got {got}")
    elif kind == "statement":
        check(find(lines, rf"statement applied -> {shows[1]}\b"),
              f"{where}: expected 'statement applied -> {shows[1]} ...'")
        check(not find(lines, r"REFUSED"), f"{where}: the statement was refused")
    elif kind == "head":
        m = find(lines, r"Signed tree head: (\d+) entries")
        got = int(m.group(1)) if m else None
        check(got == shows[1], f"{where}: expected a head over {shows[1]} entries, got {got}")
    elif kind == "history":
        check_history(where, lines)
    logged = [int(m.group(1)) for l in lines for m in [re.search(r"logged\s+entry\s*#(\d+)", l)] if m]
    want = [] if entry is None else [entry]
    check(logged == want, f"{where}: expected log entries {want}, got {logged}")


def check_history(where, lines):
    m = find(lines, r"access history \((\d+) entries, each proven")
    got = int(m.group(1)) if m else None
    check(got == len(HISTORY), f"{where}: expected {len(HISTORY)} proven entries in the header, got {got}")
    items = [(int(m.group(1)), m.group(2)) for l in lines for m in [re.match(r"\s*#(\d+)\s+\S+\s+(.*)$", l)] if m]
    check([i for i, _ in items] == list(range(len(HISTORY))),
          f"{where}: expected entries #0..#{len(HISTORY) - 1}, got {[i for i, _ in items]}")
    for n, (kind, value) in enumerate(HISTORY):
        text = items[n][1] if n < len(items) else None
        if text is None:
            check(False, f"{where}: entry #{n} ({kind} {value}) is missing")
        elif kind == "receipt":
            m = re.match(r"Mairie de Lyon received (.*)$", text)
            got = m.group(1).split(", ") if m else None
            check(got == value, f"{where}: entry #{n}: expected Mairie de Lyon received {value}, got {text!r}")
        elif kind == "denial":
            m = re.match(r"request denied: (.*)$", text)
            got = m.group(1).split(", ") if m else None
            check(got == value, f"{where}: entry #{n}: expected a denial {value}, got {text!r}")
        elif kind == "statement":
            check(re.match(rf"{value} by Camille Martin$", text, re.I),
                  f"{where}: entry #{n}: expected '{value} by Camille Martin', got {text!r}")
    check(find(lines, r"history clean: true$"), f"{where}: expected 'history clean: true'")


def main():
    lines = sys.stdin.read().splitlines()
    check(lines, "no output on stdin: pipe `cargo run -q --example service` into this script")
    preamble, steps, order = sections(lines)
    fc_kid = check_setup(preamble)

    numbers = [n for n, _ in order]
    check(numbers == [s[0] for s in STEPS],
          f"steps shown in the order {numbers}, expected {[s[0] for s in STEPS]} (each once)")
    for number, title, shows, entry in STEPS:
        if number not in steps:
            check(False, f"step {number} ({title}) is missing: no '== {number}.' line")
            continue
        check_step(number, title, shows, entry, steps[number], fc_kid)

    # Nothing decided outside the steps: one allow and three denials in all.
    verdicts = [w for l in lines for w in re.findall(r"\b(ALLOW|DENY)\b", l)]
    want = [s[2][0].upper() for s in STEPS if s[2][0] in ("allow", "deny")]
    check(verdicts == want, f"verdicts {verdicts}, expected {want}")

    print(f"check_service: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
