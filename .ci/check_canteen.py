#!/usr/bin/env python3
"""Checks what the worked example decides: every decision, reason code, statement outcome, the
parent's access history and the tampered receipt caught.

Usage: cargo run -q --example canteen | python3 .ci/check_canteen.py

The example's wording may change; this reads only what it must not change: the ALLOW and DENY
verdicts in order, the reason codes in brackets under each DENY, the outcome of each lifecycle
statement (the Ok/Err value after "->"), the access history's entries (#N lines: their number,
their reason codes, categories and actions), and the entries REFUSED once a receipt is altered; and that the grant's allows release the reference
income only as its bracket (`dgfip:tranche_rfr`, bracket 2), the income itself never printed.
Then the sections after the history: the retention line of each transfer under the grant and the
habilitation (the first deleted, the others not yet), the overdue query (every transfer but the
deleted one), the consent record (type, status, its four consent events, two uses) and the usage
statistics (the operator's counts, restated from the flow above; every count suppressed in the
published report).
Fails with a message naming each expected line that is missing or different; ends with
"N passed, M failed".
"""

import re
import sys

CATEGORY = "dgfip:revenu_fiscal_reference"
# What the habilitation covers: the tax administration releases the income only as its
# bracket, which a habilitation cannot apply.
HABILITATION_CATEGORY = "dgfip:composition_foyer"
DERIVATION = "dgfip:tranche_rfr"
RAW_INCOME = "27480"

# The flow of examples/canteen.rs, in order: ("allow", basis) or ("deny", {codes}) for each
# decision, ("statement", outcome) for each lifecycle statement.
EXPECTED_EVENTS = [
    ("deny", {"categories_not_covered", "purpose_mismatch", "data_range_outside"},
     "September: a request beyond the consent (another category, purpose and year)"),
    ("allow", "grant", "September: the city hall asks for what was granted"),
    ("deny", {"frequency_exhausted"}, "ten days later, a second request in the same month"),
    ("statement", "Paused", "the parent pauses"),
    ("deny", {"paused"}, "October, while paused"),
    ("statement", "Active", "the parent resumes"),
    ("allow", "grant", "October, resumed"),
    ("statement", "Revoked", "the parent revokes"),
    ("deny", {"revoked"}, "December, after the revocation"),
    ("statement", "AlreadyRevoked", "a resume after the revocation is refused"),
    ("allow", "habilitation", "a transfer under the habilitation"),
]

# The parent's access history: the grant issued, then every decision and statement above
# (a refused statement is not logged).
EXPECTED_HISTORY = [("grant", None)] + [
    (kind, value) for kind, value, _ in EXPECTED_EVENTS if not (kind == "statement" and value == "AlreadyRevoked")
]

STATEMENT_ACTIONS = {"Paused": "pause", "Active": "resume", "Revoked": "revoke"}

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"check_canteen: FAIL {what}", file=sys.stderr)


# Every reason code the flow expects; a one-word code (`paused`) is known only from this list.
KNOWN_CODES = set().union(*(v for k, v, _ in EXPECTED_EVENTS if k == "deny"))


def codes_in(line):
    """The reason codes shown in a line: snake_case words, and the known one-word codes."""
    words = set(re.findall(r"(?<![\w:.-])[a-z]+(?:_[a-z]+)*(?![\w:.-])", line))
    return {w for w in words if "_" in w or w in KNOWN_CODES}


def parse(lines):
    """The decisions and statements in order, the history lines, and the refused entries."""
    events, history, refused, derived = [], [], [], []
    section = None  # "history" or "tampered" once their headers are passed
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("=="):
            low = line.lower()
            section = "history" if "history" in low and "altered" not in low else None
            if "altered" in low or "tamper" in low:
                section = "tampered"
        if re.search(r"\bDENY\b", line):
            codes = set()
            j = i + 1
            while j < len(lines) and lines[j].strip() and not lines[j].startswith("=="):
                m = re.match(r"\s*\[([a-z_]+)\]", lines[j])
                if m:
                    codes.add(m.group(1))
                j += 1
            events.append(("deny", codes, i + 1))
        elif re.search(r"\bALLOW\b", line):
            basis = None
            j = i + 1
            while j < len(lines) and lines[j].strip() and not lines[j].startswith("=="):
                m = re.match(r"\s*basis\s+(grant|habilitation)\b", lines[j])
                if m:
                    basis = m.group(1)
                j += 1
            block = lines[i + 1:j]
            events.append(("allow", basis, i + 1))
            if basis == "grant":
                derived.append((any(DERIVATION in l and re.search(r"\bbracket 2\b", l) for l in block), i + 1))
        elif "->" in line and re.search(r"->\s*(Ok|Err)\(", line):
            outcome = line.split("->", 1)[1].strip()
            m = re.match(r"Ok\((\w+)", outcome)
            value = m.group(1) if m else None
            if outcome.startswith("Err("):
                m = re.search(r"(AlreadyRevoked|\w+)\s*\{", outcome)
                value = m.group(1) if m else outcome
            events.append(("statement", value, i + 1))
        m = re.match(r"\s*#\s*(\d+)\s+(.*)$", line)
        if section == "history" and m:
            history.append((int(m.group(1)), m.group(2), i + 1))
        m = re.search(r"#\s*(\d+)\b.*\bREFUSED\b", line)
        if section == "tampered" and m:
            refused.append((int(m.group(1)), i + 1))
        i += 1
    return events, history, refused, derived


def classify(text):
    """What a history line is about, from the codes, category and action it shows."""
    codes = codes_in(text) - {CATEGORY.split(":")[1]}
    if CATEGORY in text or HABILITATION_CATEGORY in text:
        basis = "habilitation" if re.search(r"habilitation", text, re.I) else "grant"
        return ("allow", basis)
    if codes:
        return ("deny", codes)
    for action in ("pause", "resume", "revoke"):
        if re.search(rf"\b{action}\b", text, re.I):
            return ("statement", action)
    if re.search(r"consent|grant", text, re.I):
        return ("grant", None)
    return ("unknown", text)


def check_after_history(lines, receipts):
    """Deletion, overdue query, consent record and usage statistics (sections 9 to 11)."""
    allows = [v for k, v, _ in EXPECTED_EVENTS if k == "allow"]
    denials = [v for k, v, _ in EXPECTED_EVENTS if k == "deny"]

    # Retention: one line per transfer of the parent, the first deleted, the others not yet.
    retention = [(int(m.group(1)), m.group(2)) for l in lines
                 for m in [re.match(r"\s*index\s+(\d+)\s+to .*?: (received on .*)$", l)] if m]
    check([i for i, _ in retention] == receipts,
          f"retention lines for entries {[i for i, _ in retention]}, expected the receipts {receipts}")
    for n, (index, text) in enumerate(retention):
        want = "deleted on" if n == 0 else "not deleted yet"
        check(want in text and "kept until" in text, f"retention of entry {index}: {text!r}, expected {want!r}")

    # The overdue query lists every receipt but the deleted one.
    overdue = [m.group(1) for l in lines for m in [re.search(r"Overdue retention at .*: receipts at index ([\d, ]+)", l)] if m]
    got = [int(x) for x in overdue[0].replace(" ", "").split(",")] if overdue else None
    check(got == receipts[1:], f"overdue receipts {got}, expected {receipts[1:]}")

    # The consent record of the grant: revoked, given / paused / resumed / withdrawn, 2 uses.
    record = [l for l in lines if re.search(r"record dpv:ConsentRecord urn:uuid:\S+: status revoked", l)]
    check(len(record) == 1, "the consent record line (dpv:ConsentRecord, status revoked)")
    events = [l for l in lines if "consent events:" in l]
    order = ["dpv:ConsentGiven", "consentry:ConsentPaused", "dpv:RenewedConsentGiven", "dpv:ConsentWithdrawn"]
    positions = [events[0].find(t) for t in order] if events else []
    check(events and all(p >= 0 for p in positions) and positions == sorted(positions),
          f"consent events in the order {order}: {events}")
    uses = [int(m.group(1)) for l in lines for m in [re.search(r"uses: (\d+) transfers", l)] if m]
    check(uses == [allows.count("grant")], f"record uses {uses}, expected {[allows.count('grant')]}")

    # Usage statistics: two CSV blocks, the operator's (threshold 1) and the published one.
    blocks, current = [], None
    for l in lines:
        if l.startswith("== Usage statistics"):
            current = {}
            blocks.append(current)
        elif current is not None:
            m = re.match(r"\s+([a-z_]+),(.*),([^,]+)$", l)
            if m and m.group(1) != "section":
                current[(m.group(1), m.group(2))] = m.group(3)
            elif not l.strip() or l.startswith("=="):
                current = None
    check(len(blocks) == 2, f"{len(blocks)} usage statistics blocks, expected 2")
    if len(blocks) == 2:
        internal, public = blocks
        transfers = str(len(allows))
        for dim in ("provider", "consumer", "purpose", "legal_basis"):
            check(internal.get((dim, "total")) == transfers, f"{dim} total {internal.get((dim, 'total'))}, expected {transfers}")
        check(internal.get(("legal_basis", "consent")) == str(allows.count("grant")),
              "transfers under consent: " + str(internal.get(("legal_basis", "consent"))))
        check(internal.get(("denial_reason", "total")) == str(len(denials)), "denials total " + str(internal.get(("denial_reason", "total"))))
        reasons = {}
        for codes in denials:
            for c in codes:
                reasons[c] = reasons.get(c, 0) + 1
        got = {k: int(v) for (d, k), v in internal.items() if d == "denial_reason" and k != "total"}
        check(got == reasons, f"denials per reason {got}, expected {reasons}")
        counts = {k: v for k, v in public.items() if k[0] != "report"}
        check(counts and set(counts.values()) == {"suppressed"},
              f"published counts not all suppressed (every count is below 10): {counts}")
        check(public.get(("report", "threshold")) == "10", "published threshold")


def main():
    lines = sys.stdin.read().splitlines()
    check(lines, "no output on stdin: pipe `cargo run -q --example canteen` into this script")
    events, history, refused, derived = parse(lines)

    # Every decision and statement, in order.
    for n, (kind, value, title) in enumerate(EXPECTED_EVENTS):
        want = f"{kind.upper()} {sorted(value)}" if kind == "deny" else f"{kind} {value}"
        if n >= len(events):
            check(False, f"missing event {n + 1} ({title}): expected {want}, the output ends first")
            continue
        got_kind, got_value, at = events[n]
        got = f"{got_kind.upper()} {sorted(got_value)}" if got_kind == "deny" else f"{got_kind} {got_value}"
        check(
            (got_kind, got_value) == (kind, value),
            f"event {n + 1} ({title}): expected {want}, got {got} at line {at}",
        )
    check(
        len(events) == len(EXPECTED_EVENTS),
        f"{len(events)} decisions and statements printed, {len(EXPECTED_EVENTS)} expected",
    )

    # The grant's allows send the income's bracket, never the income.
    check(len(derived) == 2, f"{len(derived)} allows under the grant, expected 2")
    for ok, at in derived:
        check(ok, f"the allow at line {at} does not release the income as {DERIVATION}, bracket 2")
    check(not any(RAW_INCOME in l.replace(" ", "") for l in lines), "the raw income is printed")

    # The logged entries and the signed head agree on the size of the log.
    logged = [int(m.group(1)) for l in lines for m in [re.search(r"logged\s+entry\s*#(\d+)", l)] if m]
    check(logged == list(range(len(EXPECTED_HISTORY))),
          f"entries logged as #{logged}, expected #0..#{len(EXPECTED_HISTORY) - 1} in order")
    head = [int(m.group(1)) for l in lines for m in [re.search(r"tree head:\s*(\d+)\s+entries", l)] if m]
    check(head == [len(EXPECTED_HISTORY)], f"signed tree head over {head} entries, expected {len(EXPECTED_HISTORY)}")

    # The access history: every entry, each proven, in order, about what was decided.
    proven = [int(m.group(1)) for l in lines for m in [re.search(r"history\s*\((\d+)\s+entries", l)] if m]
    check(proven == [len(EXPECTED_HISTORY)],
          f"access history header gives {proven} proven entries, expected {len(EXPECTED_HISTORY)}")
    check([h[0] for h in history] == list(range(len(EXPECTED_HISTORY))),
          f"history lists entries #{[h[0] for h in history]}, expected #0..#{len(EXPECTED_HISTORY) - 1}")
    for n, (kind, value) in enumerate(EXPECTED_HISTORY):
        if kind == "statement":
            value = STATEMENT_ACTIONS[value]
        if n >= len(history):
            check(False, f"history entry #{n} ({kind} {value}) is missing")
            continue
        got = classify(history[n][1])
        check(got == (kind, value),
              f"history entry #{n}: expected {kind} {value}, got {got} at line {history[n][2]}")

    # The altered receipt is caught, and nothing else is refused.
    receipts = [h[0] for h in history if classify(h[1])[0] == "allow"]
    check(len(refused) == 1, f"{len(refused)} entries REFUSED after one receipt was altered, expected 1")
    for index, at in refused:
        check(index in receipts, f"entry #{index} REFUSED at line {at} is not one of the receipts {receipts}")

    check_after_history(lines, receipts)

    print(f"check_canteen: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
