"""Expands every consent record of the test vectors as JSON-LD with pyld, an independent
JSON-LD processor, loading the records' context from the repository's copy and refusing any
other document (CI has no network).

For each record: it validates against docs/schemas/record.schema.json (and a copy with an
unknown key, or an unknown status, does not: negative controls); expansion succeeds; no key is dropped (the set of property IRIs after
expansion is exactly the set of keys of the compact document, expanded through the context's
prefixes); the record is a dpv:ConsentRecord or a dpv:DataProcessingRecord; and every IRI of
the DPV namespace it uses is a term of DPV 2.3 (tests/data/dpv/dpv-2.3-terms.txt).

Usage: check_records.py REPOSITORY_ROOT
"""

import copy
import json
import pathlib
import sys

from jsonschema import Draft202012Validator
from pyld import jsonld
from referencing import Registry, Resource

DPV = "https://w3id.org/dpv#"
CONTEXT_IRI = "urn:consentry:context:record-v1"


def main(root: pathlib.Path) -> None:
    context_doc = json.loads((root / "docs/records.context.jsonld").read_text())
    prefixes = {
        k: v for k, v in context_doc["@context"].items() if isinstance(v, str) and not k.startswith("@")
    }
    loads = []

    def loader(url, options=None):
        if url != CONTEXT_IRI:
            raise RuntimeError(f"refusing to fetch {url}: only the local context is served")
        loads.append(url)
        return {"contextUrl": None, "documentUrl": url, "document": context_doc}

    jsonld.set_document_loader(loader)
    terms = set((root / "tests/data/dpv/dpv-2.3-terms.txt").read_text().split())
    index = json.loads((root / "tests/vectors/index.json").read_text())
    cases = index["records"]
    files = sorted((root / "tests/vectors/records").glob("*.jsonld"))
    assert len(files) == len(cases) == index["counts"]["records"], (len(files), len(cases))
    assert len(files) >= 13, len(files)

    def expand_key(key):
        prefix, _, name = key.partition(":")
        assert prefix in prefixes, f"{key}: unknown prefix"
        return prefixes[prefix] + name

    def compact_keys(node, out):
        if isinstance(node, list):
            for item in node:
                compact_keys(item, out)
        elif isinstance(node, dict):
            for key, value in node.items():
                if not key.startswith("@"):
                    out.add(expand_key(key))
                    compact_keys(value, out)

    def expanded_iris(node, props, iris):
        if isinstance(node, list):
            for item in node:
                expanded_iris(item, props, iris)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "@type":
                    iris.update(value if isinstance(value, list) else [value])
                elif key == "@id":
                    iris.add(value)
                elif key == "@value":
                    continue
                else:
                    props.add(key)
                    expanded_iris(value, props, iris)

    schemas = root / "docs/schemas"
    registry = Registry()
    for schema_file in schemas.glob("*.schema.json"):
        registry = registry.with_resource(
            schema_file.name, Resource.from_contents(json.loads(schema_file.read_text()))
        )
    record_schema = json.loads((schemas / "record.schema.json").read_text())
    Draft202012Validator.check_schema(record_schema)
    validator = Draft202012Validator(record_schema, registry=registry)

    kinds = {}
    checked_terms = set()
    refused = 0
    for path in files:
        doc = json.loads(path.read_text())
        assert doc["@context"] == CONTEXT_IRI, path.name
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, (path.name, errors[:3])
        for mutate in (
            lambda d: d.__setitem__("consentry:unknown", 1),
            lambda d: d.__setitem__("consentry:status", "suspended"),
            lambda d: d["dpv:hasProcess"][0].__setitem__("dpv:hasDataSource", "someone"),
        ):
            bad = copy.deepcopy(doc)
            mutate(bad)
            assert not validator.is_valid(bad), path.name
            refused += 1
        expanded = jsonld.expand(doc)
        assert len(expanded) == 1, (path.name, len(expanded))
        props, iris = set(), set()
        expanded_iris(expanded, props, iris)
        wanted = set()
        compact_keys(doc, wanted)
        assert props == wanted, (path.name, sorted(props ^ wanted))
        types = expanded[0]["@type"]
        assert types in ([DPV + "ConsentRecord"], [DPV + "DataProcessingRecord"]), (path.name, types)
        kinds[types[0]] = kinds.get(types[0], 0) + 1
        for iri in (props | iris):
            if iri.startswith(DPV):
                name = iri[len(DPV):]
                assert name in terms, (path.name, iri)
                checked_terms.add(name)
        # Times and durations keep their types through the context.
        quads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
        assert "XMLSchema#dateTime" in quads and "XMLSchema#duration" in quads, path.name

    assert loads and all(u == CONTEXT_IRI for u in loads)
    consent = kinds.get(DPV + "ConsentRecord", 0)
    processing = kinds.get(DPV + "DataProcessingRecord", 0)
    assert consent >= 10 and processing >= 2, kinds
    print(
        f"{len(files)} records expanded ({consent} consent records, {processing} data-processing"
        f" records), context loaded {len(loads)} times from the local copy,"
        f" {len(checked_terms)} distinct DPV terms all in DPV 2.3; all valid against"
        f" record.schema.json, {refused} altered copies refused by it"
    )


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "."))
