#!/usr/bin/env python3
"""Validates the JSON vectors against the JSON Schemas with an independent validator.

Usage: python3 tests/interop/test_schemas.py docs/schemas tests/vectors/json

Every schema must be a valid draft 2020-12 schema. For every form listed in
tests/vectors/json/index.json: each valid document must validate against the form's schema,
each structurally invalid one must be refused by it, and each document of `refused` (refused
by a rule only the library applies) must validate: the schema states the shapes, the library
the rules a schema cannot express. Counts are asserted against the index, so the check cannot
pass on zero files. Ends with "N passed, M failed" and fails if any case failed.
"""

import json
import pathlib
import sys

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012


def main(schema_dir, vector_dir):
    schema_dir, vector_dir = pathlib.Path(schema_dir), pathlib.Path(vector_dir)
    schemas = {}
    for path in sorted(schema_dir.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema", path
        assert schema.get("$id") == path.name, f"{path}: $id must be the file's name"
        schemas[path.name] = schema
    registry = Registry().with_resources(
        (name, Resource.from_contents(s, default_specification=DRAFT202012))
        for name, s in schemas.items()
    )
    index = json.loads((vector_dir / "index.json").read_text())
    forms = index["forms"]
    passed = failed = 0
    seen = {"valid": 0, "invalid": 0, "refused": 0}

    def check(ok, message):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL:", message)

    used = {"common.schema.json"}
    for form in forms:
        name = form["schema"]
        check(name in schemas, f"{form['form']}: no schema {name}")
        if name not in schemas:
            continue
        used.add(name)
        validator = Draft202012Validator(
            schemas[name], registry=registry, format_checker=FormatChecker()
        )
        for file in form["valid"]:
            doc = json.loads((vector_dir.parent / file).read_text())
            errors = [e.message for e in validator.iter_errors(doc)]
            check(not errors, f"{file}: refused by {name}: {errors[:3]}")
            seen["valid"] += 1
        for case in form["invalid"]:
            doc = json.loads((vector_dir.parent / case["file"]).read_text())
            check(not validator.is_valid(doc), f"{case['file']}: accepted by {name}")
            seen["invalid"] += 1
        for case in form["refused"]:
            doc = json.loads((vector_dir.parent / case["file"]).read_text())
            errors = [e.message for e in validator.iter_errors(doc)]
            check(not errors, f"{case['file']}: a rule beyond the schema, but {name} refuses it: {errors[:3]}")
            seen["refused"] += 1
    # Every schema is a form's, and the counts are the index's (never zero). The consent
    # record's schema is checked on the record vectors (tests/vectors/records, JSON-LD) by
    # check_records.py, with negative controls.
    elsewhere = {"record.schema.json"}
    check(used | elsewhere == set(schemas), f"schemas without vectors: {sorted(set(schemas) - used - elsewhere)}")
    counts = index["counts"]
    check(counts["forms"] == len(forms) and len(forms) >= 20, f"forms: {len(forms)}, index says {counts['forms']}")
    for kind in ("valid", "invalid", "refused"):
        check(seen[kind] == counts[kind] and seen[kind] > 0, f"{kind}: checked {seen[kind]}, index says {counts[kind]}")
    # Every file under the vector directory is listed in the index.
    files = {str(p.relative_to(vector_dir.parent)) for p in vector_dir.rglob("*.json") if p.name != "index.json"}
    listed = {f for form in forms for f in form["valid"]} | {
        c["file"] for form in forms for c in form["invalid"] + form["refused"]
    }
    check(files == listed, f"files not in the index: {sorted(files - listed)[:5]}, listed but absent: {sorted(listed - files)[:5]}")
    print(
        f"schemas: {len(schemas)} schemas, {len(forms)} forms; {seen['valid']} valid, "
        f"{seen['invalid']} invalid and {seen['refused']} library-refused documents"
    )
    print(f"test_schemas: {passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    sys.exit(0 if main(*sys.argv[1:3]) else 1)
