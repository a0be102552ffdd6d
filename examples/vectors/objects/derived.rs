//! Grants with derivations (key 15): one valid, releasing the reference income only as its
//! bracket, and the derivations a reader refuses. Built after the decisions, so that the ids of
//! the objects and decisions before them stay as they were.

use consentry::cose::ObjectKind;
use consentry::danger;
use consentry::testing::Scenario;

use super::super::cases::Gen;
use super::super::common::{build, enc, payload_of, rfr_bracket_term, with};

/// `[[category, code, [parameters]]]`.
fn terms(items: &[(&str, &str, &[u64])]) -> Vec<u8> {
    enc(|e| {
        e.array(items.len());
        for (category, code, parameters) in items {
            e.array(3).text(category).text(code);
            e.array(parameters.len());
            for p in *parameters {
                e.uint(*p);
            }
        }
    })
}

/// The valid grant with a bracket, and the refused derivations, written over its payload.
pub fn derived(g: &mut Gen, s: &Scenario) {
    use ObjectKind::Grant as G;
    let grant = build(s, s.grant().derive(rfr_bracket_term()));
    g.valid(
        "grant-derived-bracket",
        "the parent's canteen grant releasing the reference tax income only as its bracket: key 15 is [[\"dgfip:revenu_fiscal_reference\", \"dgfip:tranche_rfr\", [15000, 30000, 45000]]]",
        G,
        grant.clone(),
    );
    let p = payload_of(&grant);
    let sg = |payload: &[u8]| danger::sign(G, s.key(s.parent), payload);
    let rfr = "dgfip:revenu_fiscal_reference";
    let code = "dgfip:tranche_rfr";
    let cases: [(&str, &str, Vec<u8>, bool); 5] = [
        (
            "value-grant-derivations-empty",
            "key 15 written empty (it is written only when the grant derives a category)",
            terms(&[]),
            true,
        ),
        (
            "value-grant-derivation-unsorted-parameters",
            "a bracket whose bounds are not strictly increasing",
            terms(&[(rfr, code, &[30_000, 15_000])]),
            false,
        ),
        (
            "value-grant-derivation-too-many-parameters",
            "a derivation with 17 parameters (at most 16)",
            terms(&[(rfr, code, &(1..=17).collect::<Vec<u64>>())]),
            true,
        ),
        (
            "value-grant-derivation-not-covered",
            "a derivation of the family quotient, which the grant does not cover",
            terms(&[("cnaf:quotient_familial", "cnaf:tranche_qf", &[450])]),
            false,
        ),
        (
            "value-grant-derivation-twice",
            "two derivations of the same category",
            terms(&[(rfr, code, &[1]), (rfr, code, &[2])]),
            false,
        ),
    ];
    for (name, description, value, cddl) in cases {
        g.invalid(
            name,
            description,
            G,
            "canteen",
            sg(&with(&p, 15, value)),
            "value/invalid",
            cddl,
        );
    }
}
