//! Derivations: a category released only as a declared derivation of it, with parameters the
//! grant fixes (docs/model.md, "Derived forms"). One test per rule: the allow says exactly which
//! derived value may be sent, the raw value is refused where only a derivation is allowed, a
//! basis beyond a derived-only ceiling cannot be built, and the receipt carries the purpose, the
//! legal reference and the derivations applied.

use consentry::ceiling::{CeilingExcess, DerivedOnly, PurposeCeiling};
use consentry::danger::UncheckedGrant;
use consentry::derivation::{Derivation, DerivationCode, DerivationKind, DerivedValue};
use consentry::grant::GrantError;
use consentry::habilitation::HabilitationError;
use consentry::log::Receipt;
use consentry::request::Request;
use consentry::signed::{SignedPayload, Unverified};
use consentry::testing::{
    self, RFR_BRACKET, Scenario, canteen_purpose, derived, household, kit_ceiling, rfr,
};

const BOUNDS: [u64; 3] = [15_000, 30_000, 45_000];

/// The canteen cast, where DGFiP releases the reference income for canteen pricing only as its
/// bracket (the household composition stays raw), and also defines "income below a threshold".
fn derived_only() -> Scenario {
    let below = Derivation::new(
        DerivationCode::new("dgfip:rfr_sous_seuil").unwrap(),
        rfr(),
        DerivationKind::Below,
    )
    .unwrap();
    let mut s = Scenario::canteen_builder()
        .derivation(below)
        .build()
        .unwrap();
    s.ceilings.publish(PurposeCeiling {
        derived_only: vec![DerivedOnly {
            category: rfr(),
            derivations: vec![DerivationCode::new(RFR_BRACKET).unwrap()],
        }],
        ..kit_ceiling(s.dgfip, canteen_purpose(), [rfr(), household()])
    });
    s
}

fn excess_codes(e: &GrantError) -> Vec<&'static str> {
    match e {
        GrantError::BeyondCeiling(x) => x.iter().map(CeilingExcess::code).collect(),
        other => panic!("not beyond the ceiling: {other}"),
    }
}

#[test]
fn an_allow_names_the_derivation_and_its_parameters() {
    let s = Scenario::canteen();
    let term = derived(rfr(), RFR_BRACKET, &BOUNDS);
    let grant = s.sign_grant(&s.grant().derive(term.clone()).build(&s.ceilings).unwrap());
    let d = s.decide(&s.sign_request(&s.request(&grant)), &grant);
    let a = d.allowed().expect("allowed");
    assert_eq!(a.categories(), [rfr()]);
    assert_eq!(a.derivations(), std::slice::from_ref(&term));
    assert_eq!(a.derivation(&rfr()), Some(&term));
    assert_eq!(a.purpose(), &canteen_purpose());
    // The provider computes the value with the vocabulary: 31 200 euros is bracket 2.
    let bracket = s.ceilings.derivations().get(term.derivation()).unwrap();
    assert_eq!(
        bracket.apply(a.derivation(&rfr()).unwrap().parameters(), 31_200),
        DerivedValue::Bracket(2)
    );
}

#[test]
fn without_a_derivation_everything_goes_raw() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let d = s.decide(&s.sign_request(&s.request(&grant)), &grant);
    let a = d.allowed().expect("allowed");
    assert!(a.derivations().is_empty());
    assert_eq!(a.derivation(&rfr()), None);
}

/// The rule's own refusal: the raw income asked for under a grant that covers it raw, where
/// DGFiP releases it only as its bracket; the grant still serves the household composition.
#[test]
fn raw_is_refused_where_only_a_derivation_is_allowed() {
    let s = derived_only();
    let raw = s
        .grant()
        .cover(s.dgfip, [household()])
        .build_without_ceiling_check()
        .unwrap();
    let raw = s.sign_grant(&raw);
    let d = s.decide(&s.sign_request(&s.request(&raw)), &raw);
    assert_eq!(d.codes(), ["raw_where_derived_only"]);
    assert!(
        d.reasons()[0]
            .to_string()
            .contains("dgfip:revenu_fiscal_reference")
    );
    let household_only = s
        .request(&raw)
        .to_builder()
        .categories(vec![household()])
        .build()
        .unwrap();
    assert!(s.decide(&s.sign_request(&household_only), &raw).is_allow());
    // With the bracket, the income is allowed, derived.
    let bracket = s
        .grant()
        .derive(derived(rfr(), RFR_BRACKET, &BOUNDS))
        .build(&s.ceilings)
        .unwrap();
    let bracket = s.sign_grant(&bracket);
    let a = s.decide(&s.sign_request(&s.request(&bracket)), &bracket);
    assert_eq!(a.allowed().unwrap().derivations().len(), 1);
}

#[test]
fn a_grant_covering_raw_cannot_be_built_beyond_a_derived_only_ceiling() {
    let s = derived_only();
    let e = s.grant().build(&s.ceilings).unwrap_err();
    assert_eq!(e.code(), "grant/beyond_ceiling");
    assert_eq!(excess_codes(&e), ["ceiling/raw_where_derived_only"]);
}

/// A derivation the ceiling does not accept, one the vocabulary does not define, one defined
/// for another category, and parameters beyond the derivation's shape: each beyond the
/// ceiling when building, and at decision time (`beyond_ceiling`).
#[test]
fn a_derivation_the_ceiling_and_vocabulary_do_not_allow_is_beyond_the_ceiling() {
    let s = derived_only();
    let cases = [
        (
            "not accepted",
            derived(rfr(), "dgfip:rfr_sous_seuil", &[20_000]),
        ),
        ("undefined", derived(rfr(), "dgfip:inconnue", &[1])),
        (
            "another category's",
            derived(rfr(), testing::QF_BRACKET, &[1]),
        ),
        (
            "too many bounds",
            derived(rfr(), RFR_BRACKET, &(1..=9).collect::<Vec<_>>()),
        ),
    ];
    for (what, term) in cases {
        let e = s
            .grant()
            .derive(term.clone())
            .build(&s.ceilings)
            .unwrap_err();
        assert_eq!(excess_codes(&e), ["ceiling/derivation"], "{what}");
        let unchecked = s
            .grant()
            .derive(term)
            .build_without_ceiling_check()
            .unwrap();
        let bytes = s.sign_grant(&unchecked);
        let d = s.decide(&s.sign_request(&s.request(&bytes)), &bytes);
        assert_eq!(d.codes(), ["beyond_ceiling"], "{what}");
    }
    // Where the ceiling accepts any derivation (the kit's canteen), an undefined one is still
    // beyond it.
    let canteen = Scenario::canteen();
    let e = canteen
        .grant()
        .derive(derived(rfr(), "dgfip:inconnue", &[1]))
        .build(&canteen.ceilings)
        .unwrap_err();
    assert_eq!(excess_codes(&e), ["ceiling/derivation"]);
}

#[test]
fn a_derivation_of_a_category_not_covered_is_refused() {
    let s = Scenario::canteen();
    let e = s
        .grant()
        .derive(derived(household(), "dgfip:parts", &[1]))
        .build(&s.ceilings)
        .unwrap_err();
    assert_eq!(e.code(), "grant/bad_derivations");
}

/// A habilitation applies no derivation: a category a ceiling releases only derived is beyond
/// it.
#[test]
fn a_habilitation_cannot_cover_a_derived_only_category() {
    let s = derived_only();
    let e = s.habilitation_builder().build(&s.ceilings).unwrap_err();
    assert_eq!(e.code(), "habilitation/beyond_ceiling");
    let HabilitationError::BeyondCeiling(x) = e else {
        unreachable!()
    };
    assert_eq!(
        x.iter().map(CeilingExcess::code).collect::<Vec<_>>(),
        ["ceiling/raw_where_derived_only"]
    );
}

/// Reconstruction by successive requests: the parameters are the grant's, whatever the
/// request; a request has no field for them, in either form.
#[test]
fn a_request_cannot_choose_the_parameters() {
    let s = Scenario::canteen();
    let term = derived(rfr(), RFR_BRACKET, &BOUNDS);
    let grant = s.sign_grant(&s.grant().derive(term.clone()).build(&s.ceilings).unwrap());
    let request = s.request(&grant);
    let mut json = serde_json::to_value(&request).unwrap();
    json["derivations"] = serde_json::to_value([&term]).unwrap();
    let refused = consentry::json::from_json::<Request>(&json.to_string()).unwrap_err();
    assert_eq!(refused.code(), "json/shape");
    // Ten requests over ten months: each allowed with the same bounds.
    let mut s = s;
    for _ in 0..10 {
        let d = s.decide(&s.sign_request(&s.request(&grant)), &grant);
        assert_eq!(
            d.allowed().expect("allowed").derivations(),
            std::slice::from_ref(&term)
        );
        s.advance_days(31);
    }
}

/// Every receipt carries the purpose, the legal reference (a habilitation's; none for a
/// grant) and the derivations applied, copied from the authorization, and reads back.
#[test]
fn receipts_carry_purpose_legal_reference_and_derivations() {
    let s = Scenario::canteen();
    let term = derived(rfr(), RFR_BRACKET, &BOUNDS);
    let grant = s.sign_grant(&s.grant().derive(term.clone()).build(&s.ceilings).unwrap());
    let d = s.decide(&s.sign_request(&s.request(&grant)), &grant);
    let receipt = Receipt::for_authorization(d.allowed().unwrap(), s.next_uuid(), s.now);
    let read = Receipt::from_payload_bytes(&receipt.to_payload_bytes()).unwrap();
    assert_eq!(read.purpose().code(), canteen_purpose().code());
    assert_eq!(read.purpose().text(), None, "the code only");
    assert_eq!(read.legal_reference(), None);
    assert_eq!(read.derivations(), [term]);

    let s = Scenario::canteen();
    let h = s.habilitation();
    let bytes = h.sign(s.key(s.authority));
    let d = s.decide(&s.sign_request(&s.request(&bytes)), &bytes);
    let receipt = Receipt::for_authorization(d.allowed().unwrap(), s.next_uuid(), s.now);
    let signed = receipt.sign(s.key(s.dgfip));
    let read = Unverified::<Receipt>::parse(&signed).unwrap();
    assert_eq!(read.claims().legal_reference(), Some(h.legal_reference()));
    assert!(read.claims().derivations().is_empty());
}

/// The kit: a cast whose derivation redefines a code is refused with the vocabulary's code.
#[test]
fn the_kit_refuses_a_redefined_derivation() {
    let other = Derivation::new(
        DerivationCode::new(RFR_BRACKET).unwrap(),
        rfr(),
        DerivationKind::Above,
    )
    .unwrap();
    let e = Scenario::canteen_builder()
        .derivation(other)
        .build()
        .err()
        .unwrap();
    assert_eq!(e.code(), "derivation/redefined");
}
