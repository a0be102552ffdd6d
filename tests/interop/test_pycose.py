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
- the payload, the protected header and the whole message are in deterministic encoding:
  cbor2 decodes them and re-encodes them canonically to the same bytes;
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
    return cbor2.dumps(cbor2.loads(data), canonical=True) == data


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
        check(canonical(cbor2.dumps(cbor2.loads(data).value[0])), f"{name}: protected header")
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
