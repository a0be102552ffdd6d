//! Envelope refusals: the COSE_Sign1 structure, its protected header, and its encoding.

use consentry::cose::ObjectKind;
use consentry::danger;

use super::super::cases::Gen;
use super::super::common::{alg, ct, enc, kid, protected, signed_with};
use super::Objects;

/// The tag, the arity and the protected header's parameters.
pub fn header(g: &mut Gen, o: &Objects) {
    use ObjectKind::Grant as G;
    let Objects {
        pk,
        grant,
        grant_payload,
        prot,
        sig,
        ..
    } = o;
    let inner = &grant[1..];
    g.invalid(
        "envelope-wrong-tag",
        "tag 98 (COSE_Sign) instead of 18",
        G,
        "canteen",
        enc(|e| {
            e.tag(98).raw(inner);
        }),
        "envelope/wrong_tag",
        true,
    );
    g.invalid(
        "envelope-untagged",
        "the COSE_Sign1 array without its tag",
        G,
        "canteen",
        inner.to_vec(),
        "envelope/wrong_tag",
        true,
    );
    g.invalid(
        "envelope-wrong-arity",
        "an array of 3 items (no signature)",
        G,
        "canteen",
        enc(|e| {
            e.tag(18).array(3).bytes(prot).map(0).bytes(grant_payload);
        }),
        "envelope/wrong_arity",
        true,
    );
    g.invalid(
        "envelope-unsupported-algorithm",
        "alg -7 (ES256) in the protected header",
        G,
        "canteen",
        signed_with(
            pk,
            &protected(&[alg(-7), ct(65_001), kid(pk)]),
            grant_payload,
        ),
        "envelope/unsupported_algorithm",
        true,
    );
    g.invalid(
        "envelope-missing-alg",
        "protected header without alg",
        G,
        "canteen",
        signed_with(pk, &protected(&[ct(65_001), kid(pk)]), grant_payload),
        "envelope/missing_alg",
        true,
    );
    g.invalid(
        "envelope-missing-content-type",
        "protected header without content type",
        G,
        "canteen",
        signed_with(pk, &protected(&[alg(-8), kid(pk)]), grant_payload),
        "envelope/missing_content_type",
        true,
    );
    g.invalid(
        "envelope-missing-kid",
        "protected header without kid",
        G,
        "canteen",
        signed_with(pk, &protected(&[alg(-8), ct(65_001)]), grant_payload),
        "envelope/missing_kid",
        true,
    );
    g.invalid(
        "envelope-unexpected-parameter",
        "protected header with a fourth parameter (33, x5chain)",
        G,
        "canteen",
        signed_with(
            pk,
            &protected(&[
                alg(-8),
                ct(65_001),
                kid(pk),
                (
                    33,
                    enc(|e| {
                        e.bytes(&[1, 2, 3]);
                    }),
                ),
            ]),
            grant_payload,
        ),
        "envelope/unexpected_parameter",
        true,
    );
    g.invalid(
        "envelope-duplicate-parameter",
        "protected header with alg twice",
        G,
        "canteen",
        signed_with(
            pk,
            &protected(&[alg(-8), alg(-8), ct(65_001), kid(pk)]),
            grant_payload,
        ),
        "cbor/duplicate_key",
        false,
    );
    g.invalid(
        "envelope-unprotected-not-empty",
        "the kid repeated in the unprotected header",
        G,
        "canteen",
        danger::assemble(
            prot,
            &enc(|e| {
                e.map(1).uint(4).bytes(pk.key_id().as_bytes());
            }),
            grant_payload,
            sig,
        ),
        "envelope/unprotected_not_empty",
        true,
    );
    g.invalid(
        "envelope-unknown-content-type",
        "content type 65099",
        G,
        "canteen",
        signed_with(
            pk,
            &protected(&[alg(-8), ct(65_099), kid(pk)]),
            grant_payload,
        ),
        "envelope/unknown_content_type",
        true,
    );
}

/// The kind, a detached payload, the signature's length.
pub fn items(g: &mut Gen, o: &Objects) {
    use ObjectKind::{Grant as G, Request as R};
    let Objects {
        pk,
        grant: _,
        request,
        grant_payload,
        prot,
        sig,
        ..
    } = o;
    g.invalid(
        "envelope-wrong-kind",
        "a valid request presented where a grant is expected",
        G,
        "canteen",
        request.clone(),
        "envelope/wrong_kind",
        false,
    );
    g.invalid(
        "envelope-wrong-kind-content-type",
        "a grant payload validly signed under the request content type, read as a grant",
        G,
        "canteen",
        danger::sign(R, pk, grant_payload),
        "envelope/wrong_kind",
        true,
    );
    g.invalid(
        "envelope-detached-payload",
        "payload null (detached), signature over the real payload",
        G,
        "canteen",
        enc(|e| {
            e.tag(18).array(4).bytes(prot).map(0).null().bytes(sig);
        }),
        "envelope/detached_payload",
        true,
    );
    g.invalid(
        "envelope-signature-length",
        "a 63-byte signature",
        G,
        "canteen",
        danger::assemble(prot, &[0xa0], grant_payload, &sig[..63]),
        "envelope/signature_length",
        true,
    );
}

/// The envelope's CBOR encoding: non-shortest, out of range, trailing, indefinite, truncated,
/// too large, unwrapped.
pub fn encoding(g: &mut Gen, o: &Objects) {
    use ObjectKind::Grant as G;
    let Objects {
        pk,
        grant,
        request: _,
        grant_payload,
        prot,
        sig,
        ..
    } = o;
    let mut nonshortest = prot.clone();
    // a3 01 27 …: alg -8 written on two bytes (38 07).
    nonshortest.splice(2..3, [0x38, 0x07]);
    g.invalid(
        "envelope-non-shortest-alg",
        "alg -8 written 38 07 instead of 27 (validly signed over these header bytes)",
        G,
        "canteen",
        signed_with(pk, &nonshortest, grant_payload),
        "cbor/non_shortest",
        false,
    );
    g.invalid(
        "envelope-kid-length",
        "a 15-byte kid",
        G,
        "canteen",
        signed_with(
            pk,
            &protected(&[
                alg(-8),
                ct(65_001),
                (
                    4,
                    enc(|e| {
                        e.bytes(&pk.key_id().as_bytes()[..15]);
                    }),
                ),
            ]),
            grant_payload,
        ),
        "value/invalid",
        true,
    );
    g.invalid(
        "envelope-alg-out-of-range",
        "alg -2^64, outside the integer range",
        G,
        "canteen",
        signed_with(
            pk,
            &protected(&[
                (
                    1,
                    enc(|e| {
                        e.negative(u64::MAX);
                    }),
                ),
                ct(65_001),
                kid(pk),
            ]),
            grant_payload,
        ),
        "cbor/out_of_range",
        true,
    );
    let mut trailing = grant.clone();
    trailing.push(0x00);
    g.invalid(
        "envelope-trailing-bytes",
        "a valid grant followed by one 00 byte",
        G,
        "canteen",
        trailing,
        "cbor/trailing_bytes",
        false,
    );
    g.invalid(
        "envelope-indefinite-array",
        "the COSE_Sign1 array written with indefinite length (9f … ff)",
        G,
        "canteen",
        enc(|e| {
            e.tag(18)
                .raw(&[0x9f])
                .bytes(prot)
                .map(0)
                .bytes(grant_payload)
                .bytes(sig)
                .raw(&[0xff]);
        }),
        "cbor/indefinite",
        false,
    );
    g.invalid(
        "envelope-truncated-header",
        "cut inside the payload's length: d2 84, the protected header, a0, then 59 01",
        G,
        "canteen",
        {
            assert_eq!(grant[29], 0xa0);
            [&grant[..30], &[0x59, 0x01][..]].concat()
        },
        "cbor/truncated",
        true,
    );
    g.invalid(
        "envelope-truncated-signature",
        "the last 10 bytes cut: the signature's length claims more than the input holds",
        G,
        "canteen",
        grant[..grant.len() - 10].to_vec(),
        "cbor/too_long",
        true,
    );
    g.invalid(
        "envelope-too-large",
        "a 70 000-byte payload: the object exceeds 65 536 bytes",
        G,
        "canteen",
        danger::sign(G, pk, &vec![0u8; 70_000]),
        "cbor/too_large",
        true,
    );
    g.invalid(
        "envelope-protected-not-wrapped",
        "the protected header map written directly instead of inside a byte string",
        G,
        "canteen",
        enc(|e| {
            e.tag(18)
                .array(4)
                .raw(prot)
                .map(0)
                .bytes(grant_payload)
                .bytes(sig);
        }),
        "cbor/wrong_type",
        true,
    );
}
