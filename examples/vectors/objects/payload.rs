//! Payload refusals: each payload is validly signed, so the payload decoder is reached.

use consentry::cose::ObjectKind;
use consentry::danger;

use super::super::cases::Gen;
use super::super::common::{NOW, enc, entries, map_of, uint, with, without};
use super::Objects;

/// The payload map: version, key order, duplicate, unknown and missing keys, trailing bytes.
pub fn map(g: &mut Gen, o: &Objects) {
    use ObjectKind::{Grant as G, Request as R};
    let Objects {
        pk,
        mk,
        grant_payload,
        request_payload,
        ..
    } = o;
    let p = grant_payload;
    let sg = |payload: &[u8]| danger::sign(G, pk, payload);
    g.invalid(
        "payload-unsupported-version",
        "grant with version 1, the previous format (readers accept exactly one version)",
        G,
        "canteen",
        sg(&with(p, 0, uint(1))),
        "payload/unsupported_version",
        true,
    );
    g.invalid(
        "payload-future-version",
        "grant with version 3",
        G,
        "canteen",
        sg(&with(p, 0, uint(3))),
        "payload/unsupported_version",
        true,
    );
    g.invalid(
        "payload-non-shortest-version",
        "version 2 written 18 02",
        G,
        "canteen",
        sg(&with(p, 0, vec![0x18, 0x02])),
        "cbor/non_shortest",
        false,
    );
    let mut indefinite = vec![0xbf];
    for (k, v) in entries(p) {
        indefinite.extend(uint(k));
        indefinite.extend(v);
    }
    indefinite.push(0xff);
    g.invalid(
        "payload-indefinite-map",
        "the grant map written with indefinite length (bf … ff)",
        G,
        "canteen",
        sg(&indefinite),
        "cbor/indefinite",
        false,
    );
    let mut swapped = entries(p);
    swapped.swap(7, 8);
    g.invalid(
        "payload-unsorted-keys",
        "keys 7 (purpose text) and 8 (issued at) swapped: key 7 is read after key 8",
        G,
        "canteen",
        sg(&map_of(&swapped)),
        "cbor/unsorted_keys",
        false,
    );
    let mut swapped = entries(p);
    swapped.swap(1, 2);
    g.invalid(
        "payload-unsorted-keys-early",
        "keys 2 (subject) and 1 (id) swapped: the key-order check before reading reports key 1 as out of order",
        G,
        "canteen",
        sg(&map_of(&swapped)),
        "cbor/unsorted_keys",
        false,
    );
    let mut dup = entries(p);
    dup.insert(2, dup[1].clone());
    g.invalid(
        "payload-duplicate-key",
        "key 1 (id) written twice",
        G,
        "canteen",
        sg(&map_of(&dup)),
        "cbor/duplicate_key",
        false,
    );
    g.invalid(
        "payload-unknown-key",
        "an extra key 16 in a grant",
        G,
        "canteen",
        sg(&with(p, 16, uint(0))),
        "cbor/unknown_key",
        true,
    );
    g.invalid(
        "payload-unknown-key-request",
        "an extra key 11 in a request",
        R,
        "canteen",
        danger::sign(R, mk, &with(request_payload, 11, uint(0))),
        "cbor/unknown_key",
        true,
    );
    g.invalid(
        "payload-missing-key",
        "a grant without key 13 (retention)",
        G,
        "canteen",
        sg(&without(p, 13)),
        "cbor/missing_key",
        true,
    );
    g.invalid(
        "payload-missing-version",
        "a grant without key 0 (version)",
        G,
        "canteen",
        sg(&without(p, 0)),
        "cbor/missing_key",
        true,
    );
    let mut ptrail = p.clone();
    ptrail.push(0x00);
    g.invalid(
        "payload-trailing-bytes",
        "the grant payload followed by one 00 byte",
        G,
        "canteen",
        sg(&ptrail),
        "cbor/trailing_bytes",
        false,
    );
}

/// Item types and lengths: wrong types, invalid UTF-8, a collection too long.
pub fn types(g: &mut Gen, o: &Objects) {
    use ObjectKind::Grant as G;
    let Objects {
        pk, grant_payload, ..
    } = o;
    let p = grant_payload;
    let sg = |payload: &[u8]| danger::sign(G, pk, payload);
    g.invalid(
        "payload-wrong-type-subject",
        "subject (key 2) as a text string",
        G,
        "canteen",
        sg(&with(
            p,
            2,
            enc(|e| {
                e.text("parent");
            }),
        )),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-float-time",
        "issued at (key 8) as a float",
        G,
        "canteen",
        sg(&with(
            p,
            8,
            [&[0xfb][..], &1_756_684_800f64.to_be_bytes()].concat(),
        )),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-tagged-time",
        "issued at (key 8) wrapped in tag 1 (epoch time)",
        G,
        "canteen",
        sg(&with(
            p,
            8,
            enc(|e| {
                e.tag(1).uint(NOW.secs());
            }),
        )),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-text-key",
        "a text map key \"0\" for the version",
        G,
        "canteen",
        sg(&{
            let mut m = entries(p);
            m.remove(0);
            let mut b = enc(|e| {
                e.map(m.len() + 1).text("0").uint(1);
            });
            for (k, v) in m {
                b.extend(uint(k));
                b.extend(v);
            }
            b
        }),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-array",
        "a grant payload that is an array",
        G,
        "canteen",
        sg(&enc(|e| {
            e.array(1).uint(1);
        })),
        "cbor/wrong_type",
        true,
    );
    let bad_utf8 = {
        let mut b = vec![0x60 + 11];
        b.extend_from_slice(b"education:");
        b.push(0xff);
        b
    };
    g.invalid(
        "payload-invalid-utf8",
        "purpose code (key 6) with an ff byte",
        G,
        "canteen",
        sg(&with(p, 6, bad_utf8)),
        "cbor/invalid_utf8",
        true,
    );
    g.invalid(
        "payload-too-long-scope",
        "a scope array claiming 300 entries (limit 256 items per collection)",
        G,
        "canteen",
        sg(&with(p, 5, vec![0x99, 0x01, 0x2c])),
        "cbor/too_long",
        true,
    );
}
