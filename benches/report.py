#!/usr/bin/env python3
"""Ratio table of the criterion results (python3 standard library only).

Reads every `<target>/criterion/<group>/.../new/{benchmark,estimates}.json` left by
`cargo bench --bench consentry` (and, if present, by the peers package), and prints a Markdown
table: operation, median ns, ratio to the raw ring verify and to the raw ring sign measured in
the same group (hence the same run). Then checks the targets.

Usage: python3 benches/report.py [criterion-dir ...]
(default: target/criterion and benches/peers/target/criterion, from the repository root)
"""

import json
import os
import sys

TARGETS = [
    # (description, group, bench, reference bench, max ratio)
    ("grant check <= 1.05 x raw verify", "grant", "check", "ref_verify", 1.05),
    ("decision, fresh grant <= 2.1 x raw verify", "decision", "fresh_grant", "ref_verify", 2.1),
    ("decision, cached grant <= 1.05 x raw verify", "decision", "cached_grant", "ref_verify", 1.05),
    # The same two, against the raw verification of each fresh request, measured with the same
    # untimed setup (a signature) before each batch, hence under the same cache conditions.
    ("decision, fresh grant <= 2.1 x raw verify (of the request, same setup)", "decision",
     "fresh_grant", "ref_verify_request", 2.1),
    ("decision, cached grant <= 1.05 x raw verify (of the request, same setup)", "decision",
     "cached_grant", "ref_verify_request", 1.05),
    ("issuing <= 1.05 x raw sign", "grant", "issue", "ref_sign", 1.05),
    # The peers, one criterion group per jsonwebtoken 12 backend (one binary each): with the
    # aws-lc-rs provider, consentry's check is no slower than the JWT and at least 2x faster
    # than biscuit; with ring, at least 1.5x faster than biscuit.
    ("grant check (ring) >= 1.5x faster than biscuit", "peers_aws_lc_rs", "consentry_check",
     "biscuit", 1 / 1.5),
    ("grant check (aws-lc-rs) >= 2x faster than biscuit", "peers_aws_lc_rs",
     "consentry_check_aws_lc_rs", "biscuit", 1 / 2),
    ("grant check (aws-lc-rs) no slower than JWT (aws-lc-rs backend)", "peers_aws_lc_rs",
     "consentry_check_aws_lc_rs", "jwt", 1.0),
    ("grant check (aws-lc-rs) no slower than JWT (RustCrypto backend)", "peers_rust_crypto",
     "consentry_check_aws_lc_rs", "jwt", 1.0),
]


def load(root):
    """{(group, function_id): median ns}"""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        try:
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                meta = json.load(f)
            with open(os.path.join(dirpath, "estimates.json")) as f:
                est = json.load(f)
        except (OSError, ValueError):
            continue
        fid = meta.get("function_id") or ""
        if meta.get("value_str"):
            fid = f"{fid}/{meta['value_str']}"
        out[(meta["group_id"], fid)] = est["median"]["point_estimate"]
    return out


def fmt_ns(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 10_000 else f"{ns:.0f} ns"


def main():
    roots = sys.argv[1:] or ["target/criterion", "benches/peers/target/criterion"]
    results = {}
    for r in roots:
        if os.path.isdir(r):
            results.update(load(r))
    if not results:
        sys.exit("no criterion results found; run `cargo bench --bench consentry` first")
    print("| group | operation | median | ÷ raw verify | ÷ raw sign |")
    print("|---|---|---|---|---|")
    for (group, bench) in sorted(results, key=lambda k: (k[0], k[1].split("/")[0], len(k[1]), k[1])):
        ns = results[(group, bench)]
        v = results.get((group, "ref_verify"))
        s = results.get((group, "ref_sign"))
        rv = f"{ns / v:.3f}" if v else "–"
        rs = f"{ns / s:.3f}" if s else "–"
        print(f"| {group} | {bench} | {fmt_ns(ns)} | {rv} | {rs} |")
    print()
    print("| target | measured ratio | limit | met |")
    print("|---|---|---|---|")
    for desc, group, bench, ref, limit in TARGETS:
        a, b = results.get((group, bench)), results.get((group, ref))
        if a is None or b is None:
            print(f"| {desc} | not measured | {limit:.3f} | – |")
            continue
        ratio = a / b
        print(f"| {desc} | {ratio:.3f} | {limit:.3f} | {'yes' if ratio <= limit else 'NO'} |")


if __name__ == "__main__":
    main()
