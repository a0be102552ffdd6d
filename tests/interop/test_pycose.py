"""Interop with an independent COSE implementation (pycose, cbor2).

Usage: python tests/interop/test_pycose.py FIXTURE_DIR
(FIXTURE_DIR is written by `cargo run --example ffi_fixtures -- FIXTURE_DIR`: signed objects in
FIXTURE_DIR/signed as NAME.cose with the signer's raw public key in NAME.pub, test seeds in
FIXTURE_DIR/*.seed.)

For every signed object, with nothing but its bytes and the signer's public key:
- pycose decodes it as a tagged COSE_Sign1 with the protected header {alg: EdDSA, content type,
  kid} and an empty unprotected header, and verifies its signature;
- the kid is the first 16 bytes of SHA-256("consentry-kid-v1\\0" || public key);
- a copy with one bit flipped in the payload, and one in the signature, fails to verify;
- the payload and the whole message are in deterministic encoding: cbor2 decodes them and
  re-encodes them canonically to the same bytes (the message's byte strings are opaque to that
  check, so the protected header is checked on its own, below);
- the protected header's inner bytes (the content of its byte string) are exactly what
  docs/format.md §3 requires, read byte by byte without a CBOR library: a map of exactly three
  entries with a one-byte header; labels 1, 3 and 4, each once, as one-byte unsigned integers;
  alg exactly -8 (one byte, 0x27); the content type an unsigned integer in its shortest form
  naming one of our kinds; the kid a 16-byte byte string with a one-byte header; nothing after
  the map. The format lets a reader take the three in any order (for other COSE libraries), so
  that is what the rule checks; that this crate writes them in the deterministic order 1, 3, 4
  is checked on top, as the exact 26 bytes a3 01 27 03 19 <ct> 04 50 <kid>;
- negative controls: the same header rule and the canonical-encoding check are run on headers
  and payloads that break one rule each (a non-shortest integer, label or length, a non-shortest
  or indefinite map header, a duplicate, an extra or a missing parameter, a wrong alg, a short
  kid, a trailing byte) and must refuse every one, while a reordered header must pass the rule;
  so neither check is vacuous;
- pycose, signing the same payload and header with the same seed, produces the very same bytes
  (Ed25519 is deterministic), so either implementation can produce what the other verifies.

Ends with "N passed, M failed"; exits non-zero on any failure or if fewer objects than expected
were checked.
"""

import glob
import hashlib
import os
import sys

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm, ContentType
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import CoseMessage, Sign1Message

# The content types of the kinds this version issues.
CONTENT_TYPES = {65001: "grant", 65002: "habilitation", 65003: "statement", 65004: "request"}
EXPECTED_OBJECTS = 10

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}", file=sys.stderr)


def verifies(data, public):
    try:
        msg = CoseMessage.decode(data)
        msg.key = OKPKey(crv=Ed25519, x=public)
        return bool(msg.verify_signature())
    except Exception:  # a tampered message may also fail to decode
        return False


def canonical(data):
    try:
        return cbor2.dumps(cbor2.loads(data), canonical=True) == data
    except Exception:  # a negative control may not even decode
        return False


def header_problems(prot):
    """What, in the protected header's inner bytes `prot`, breaks docs/format.md §3.

    Read byte by byte (no CBOR library, so cbor2's leniency cannot hide anything): a map of
    three entries in a one-byte header (0xa3: shortest, definite); each label a one-byte unsigned
    integer, 1, 3 or 4, each once; alg exactly -8 (0x27); the content type an unsigned integer in
    its shortest form naming one of our kinds; the kid a byte string of 16 bytes (0x50); no byte
    after the map. Any order of the three entries is accepted, as the format says. Returns the
    list of problems, empty when the header is right.
    """
    problems = []
    if not prot or prot[0] != 0xA3:
        return [f"map header {prot[:1].hex() or 'absent'}, expected a3 (three entries, shortest)"]
    at, seen = 1, []
    for _ in range(3):
        if at >= len(prot):
            return problems + [f"truncated at byte {at}"]
        label = prot[at]
        at += 1
        if label not in (0x01, 0x03, 0x04):
            return problems + [f"label byte {label:02x} at {at - 1}: not 1, 3 or 4 in one byte"]
        if label in seen:
            problems.append(f"label {label} twice")
        seen.append(label)
        if label == 0x01:
            if prot[at : at + 1] != b"\x27":
                return problems + [f"alg at {at}: {prot[at:at + 1].hex()}, expected 27 (-8)"]
            at += 1
        elif label == 0x03:
            first = prot[at] if at < len(prot) else None
            widths = {0x18: 1, 0x19: 2, 0x1A: 4, 0x1B: 8}
            if first is None or first >> 5 != 0:
                return problems + [f"content type at {at}: not an unsigned integer"]
            extra = widths.get(first, 0) if first >= 24 else 0
            if first > 0x1B:
                return problems + [f"content type at {at}: reserved header {first:02x}"]
            value = first if first < 24 else int.from_bytes(prot[at + 1 : at + 1 + extra], "big")
            shortest = (
                1 if value < 24 else 2 if value < 1 << 8 else 3 if value < 1 << 16
                else 5 if value < 1 << 32 else 9
            )
            if 1 + extra != shortest:
                problems.append(f"content type {value} at {at}: not in its shortest form")
            if value not in CONTENT_TYPES:
                problems.append(f"content type {value}: no kind of ours")
            at += 1 + extra
        else:
            if prot[at : at + 1] != b"\x50":
                return problems + [
                    f"kid header at {at}: {prot[at:at + 1].hex()}, expected 50 (16 bytes, shortest)"
                ]
            if len(prot) < at + 17:
                return problems + [f"kid truncated at byte {len(prot)}"]
            at += 17
    if at != len(prot):
        problems.append(f"{len(prot) - at} byte(s) after the map")
    return problems


def negative_controls():
    """Headers and payloads that break one rule each: every one must be refused, else the
    checks above prove nothing. A reordered header must pass the rule (the format allows it)."""
    kid = bytes(range(16))
    ct = b"\x19\xfd\xe9"  # 65001, shortest
    alg, ctype, kidp = b"\x01\x27", b"\x03" + ct, b"\x04\x50" + kid
    good = b"\xa3" + alg + ctype + kidp
    check(header_problems(good) == [], f"control: the right header is refused: {header_problems(good)}")
    reordered = b"\xa3" + kidp + ctype + alg
    check(header_problems(reordered) == [], "control: a reordered header is refused")
    bad_headers = {
        "non-shortest label": b"\xa3\x18\x01\x27" + ctype + kidp,
        "non-shortest alg": b"\xa3\x01\x38\x07" + ctype + kidp,
        "non-shortest content type": b"\xa3" + alg + b"\x03\x1a\x00\x00\xfd\xe9" + kidp,
        "non-shortest small content type": b"\xa3" + alg + b"\x03\x18\x05" + kidp,
        "non-shortest kid length": b"\xa3" + alg + ctype + b"\x04\x58\x10" + kid,
        "non-shortest map header": b"\xb8\x03" + alg + ctype + kidp,
        "indefinite map": b"\xbf" + alg + ctype + kidp + b"\xff",
        "duplicate parameter": b"\xa3" + alg + alg + kidp,
        "extra parameter": b"\xa4" + alg + ctype + kidp + b"\x05\x40",
        "missing kid": b"\xa2" + alg + ctype,
        "alg ES256": b"\xa3\x01\x26" + ctype + kidp,
        "unknown content type": b"\xa3" + alg + b"\x03\x00" + kidp,
        "15-byte kid": b"\xa3" + alg + ctype + b"\x04\x4f" + kid[:15],
        "trailing byte": good + b"\x00",
    }
    for what, prot in bad_headers.items():
        check(header_problems(prot) != [], f"control: a header with a {what} passes the rule")
    # The canonical-encoding check refuses what is not deterministic.
    for what, data in {
        "non-shortest integer": b"\xa1\x00\x18\x01",
        "unsorted keys": b"\xa2\x01\x00\x00\x01",
        "indefinite map": b"\xbf\x00\x01\xff",
    }.items():
        check(not canonical(data), f"control: a payload with a {what} passes as canonical")
    return len(bad_headers) + 3


def seeds_by_public_key(fixtures):
    out = {}
    for path in glob.glob(os.path.join(fixtures, "*.seed")):
        seed = open(path, "rb").read()
        public = (
            Ed25519PrivateKey.from_private_bytes(seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        out[public] = seed
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    fixtures = sys.argv[1]
    controls = negative_controls()
    print(f"{controls} malformed headers and payloads refused by the checks (negative controls)")
    seeds = seeds_by_public_key(fixtures)
    objects = sorted(glob.glob(os.path.join(fixtures, "signed", "*.cose")))
    kinds = set()
    for path in objects:
        name = os.path.basename(path)[: -len(".cose")]
        data = open(path, "rb").read()
        public = open(path[: -len(".cose")] + ".pub", "rb").read()
        check(len(public) == 32, f"{name}: public key length")

        msg = CoseMessage.decode(data)
        check(isinstance(msg, Sign1Message), f"{name}: not a COSE_Sign1")
        check(data[0] == 0xD2, f"{name}: not tagged 18")
        msg.key = OKPKey(crv=Ed25519, x=public)
        check(msg.verify_signature(), f"{name}: signature does not verify")
        check(msg.phdr.get(Algorithm) is EdDSA, f"{name}: alg {msg.phdr.get(Algorithm)}")
        ct = msg.phdr.get(ContentType)
        check(ct in CONTENT_TYPES, f"{name}: content type {ct}")
        kinds.add(CONTENT_TYPES.get(ct))
        kid = hashlib.sha256(b"consentry-kid-v1\0" + public).digest()[:16]
        check(msg.phdr.get(KID) == kid, f"{name}: kid is not derived from the key")
        check(len(msg.phdr) == 3 and not msg.uhdr, f"{name}: unexpected header parameters")

        # Tampering: one bit of the payload (its last byte), one bit of the signature.
        payload_at = data.rindex(msg.payload)
        for what, at in (("payload", payload_at + len(msg.payload) - 1), ("signature", len(data) - 1)):
            tampered = bytearray(data)
            tampered[at] ^= 0x01
            check(not verifies(bytes(tampered), public), f"{name}: tampered {what} verifies")
        # Another key.
        other = next((k for k in seeds if k != public), None)
        check(other is not None and not verifies(data, other), f"{name}: verifies with another key")

        # Deterministic encoding, all the way down.
        check(canonical(msg.payload), f"{name}: payload not in canonical encoding")
        prot = cbor2.loads(data).value[0]
        problems = header_problems(prot)
        check(problems == [], f"{name}: protected header {prot.hex()}: {problems}")
        ours = b"\xa3\x01\x27\x03\x19" + ct.to_bytes(2, "big") + b"\x04\x50" + kid
        check(prot == ours, f"{name}: protected header {prot.hex()} is not in the order 1, 3, 4")
        check(canonical(data), f"{name}: message not in canonical encoding")

        # pycose signs the same payload with the same key: the same bytes.
        seed = seeds.get(public)
        check(seed is not None, f"{name}: no seed for the signer")
        if seed is not None:
            again = Sign1Message(
                phdr={Algorithm: EdDSA, ContentType: ct, KID: kid}, payload=msg.payload
            )
            again.key = OKPKey(crv=Ed25519, d=seed, x=public)
            check(again.encode(tag=True) == data, f"{name}: pycose's encoding differs")
        print(f"  {name}: {CONTENT_TYPES.get(ct)}, {len(data)} bytes, verified")

    print(f"{len(objects)} signed objects of kinds {sorted(k for k in kinds if k)} checked with pycose")
    check(len(objects) >= EXPECTED_OBJECTS, f"only {len(objects)} signed objects found")
    check(kinds == set(CONTENT_TYPES.values()), f"kinds covered: {kinds}")
    print(f"interop: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
