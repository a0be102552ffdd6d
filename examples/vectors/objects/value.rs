//! Value refusals: well-typed items whose values break a rule of the format.

use consentry::cose::ObjectKind;
use consentry::danger;
use consentry::testing::{Scenario, key_for};

use super::super::cases::Gen;
use super::super::common::{DAY, NOW, enc, uint, with};
use super::Objects;

/// Values of a grant's terms: scope, onward transfer, categories, data range, access pattern.
pub fn grant(g: &mut Gen, s: &Scenario, o: &Objects) {
    use ObjectKind::Grant as G;
    let Objects {
        pk, grant_payload, ..
    } = o;
    let p = grant_payload;
    let sg = |payload: &[u8]| danger::sign(G, pk, payload);
    let big_scope = enc(|e| {
        e.array(65);
        for i in 0..65u8 {
            let mut id = [0u8; 16];
            id[15] = i;
            e.array(2).bytes(&id).array(1).text("dgfip:x");
        }
    });
    g.invalid(
        "value-scope-too-many-providers",
        "a scope with 65 providers (at most 64)",
        G,
        "canteen",
        sg(&with(p, 5, big_scope)),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-onward-transfer-false",
        "onward transfer (key 14) written as false: the key is written only when true",
        G,
        "canteen",
        sg(&with(
            p,
            14,
            enc(|e| {
                e.bool(false);
            }),
        )),
        "value/invalid",
        true,
    );
    let dgfip = s.dgfip;
    g.invalid(
        "value-categories-unsorted",
        "categories of a scope entry out of order",
        G,
        "canteen",
        sg(&with(
            p,
            5,
            enc(|e| {
                e.array(1)
                    .array(2)
                    .bytes(dgfip.as_bytes())
                    .array(2)
                    .text("dgfip:revenu_fiscal_reference")
                    .text("dgfip:composition_foyer");
            }),
        )),
        "value/invalid",
        false,
    );
    g.invalid(
        "value-empty-data-range",
        "data range [from, from]",
        G,
        "canteen",
        sg(&with(
            p,
            12,
            enc(|e| {
                e.array(2).uint(NOW.secs()).uint(NOW.secs());
            }),
        )),
        "value/invalid",
        false,
    );
    g.invalid(
        "value-access-pattern",
        "access pattern [2]",
        G,
        "canteen",
        sg(&with(
            p,
            11,
            enc(|e| {
                e.array(1).uint(2);
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-access-zero-uses",
        "access pattern [1, 0, 2592000]: at least one use per period",
        G,
        "canteen",
        sg(&with(
            p,
            11,
            enc(|e| {
                e.array(3).uint(1).uint(0).uint(30 * DAY);
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-category-syntax",
        "category DGFIP:rfr (upper case)",
        G,
        "canteen",
        sg(&with(
            p,
            5,
            enc(|e| {
                e.array(1)
                    .array(2)
                    .bytes(dgfip.as_bytes())
                    .array(1)
                    .text("DGFIP:rfr");
            }),
        )),
        "value/invalid",
        true,
    );
}

/// Values of a grant's other fields: the id, the window, the purpose text.
pub fn grant_fields(g: &mut Gen, o: &Objects) {
    use ObjectKind::Grant as G;
    let Objects {
        pk, grant_payload, ..
    } = o;
    let p = grant_payload;
    let sg = |payload: &[u8]| danger::sign(G, pk, payload);
    g.invalid(
        "value-id-length",
        "a 15-byte grant id",
        G,
        "canteen",
        sg(&with(
            p,
            1,
            enc(|e| {
                e.bytes(&[7; 15]);
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-empty-window",
        "expires at (key 10) equal to not before (key 9)",
        G,
        "canteen",
        sg(&with(p, 10, uint(NOW.secs()))),
        "value/invalid",
        false,
    );
    g.invalid(
        "value-empty-purpose-text",
        "purpose text (key 7) empty",
        G,
        "canteen",
        sg(&with(
            p,
            7,
            enc(|e| {
                e.text("");
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-purpose-text-too-long",
        "purpose text of 513 bytes",
        G,
        "canteen",
        sg(&with(
            p,
            7,
            enc(|e| {
                e.text(&"x".repeat(513));
            }),
        )),
        "value/invalid",
        true,
    );
}

/// Values of a habilitation, a statement and a request.
pub fn others(g: &mut Gen, o: &Objects) {
    use ObjectKind::{Habilitation as H, Request as R, Statement as S};
    let Objects {
        pk,
        mk,
        statement_payload,
        request_payload,
        hab_payload,
        ..
    } = o;
    let ak = key_for("authority");
    g.invalid(
        "value-empty-legal-reference",
        "a habilitation whose legal reference (key 7) is empty",
        H,
        "canteen",
        danger::sign(
            H,
            &ak,
            &with(
                hab_payload,
                7,
                enc(|e| {
                    e.text("");
                }),
            ),
        ),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-statement-action",
        "a statement with action 3",
        S,
        "canteen",
        danger::sign(S, pk, &with(statement_payload, 3, uint(3))),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-request-no-category",
        "a request with an empty category list",
        R,
        "canteen",
        danger::sign(
            R,
            mk,
            &with(
                request_payload,
                7,
                enc(|e| {
                    e.array(0);
                }),
            ),
        ),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-statement-hash-length",
        "a statement whose basis hash (key 2) is 31 bytes",
        S,
        "canteen",
        danger::sign(
            S,
            pk,
            &with(
                statement_payload,
                2,
                enc(|e| {
                    e.bytes(&[1; 31]);
                }),
            ),
        ),
        "value/invalid",
        true,
    );
}
