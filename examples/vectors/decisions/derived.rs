//! Derivations: a grant that releases the reference income only as a bracket, under the canteen
//! ceiling (raw allowed) and under the scholarship ceiling (derived only); the raw income asked
//! for under the scholarship ceiling.

use consentry::testing::Scenario;

use super::super::cases::case;
use super::super::common::{
    build, build_unchecked, grant_for, grant_with_purpose, rfr_bracket_term, scholarship,
};
use super::Cases;

/// Two allows with a derivation, and the raw value refused where only a derivation is allowed.
pub fn derived(s: &mut Scenario, cases: &mut Cases) {
    let bracket = build(s, grant_for(s, s.parent).derive(rfr_bracket_term()));
    cases.push((
        case(
            s.dgfip,
            "allow-grant-derived-bracket",
            "a grant releasing the reference tax income only as its bracket (dgfip:tranche_rfr, bounds 15000, 30000, 45000, fixed by the grant): allowed, and the authorization names the derivation and its parameters",
            s.sign_request(&s.request(&bracket)),
            bracket,
        ),
        vec![],
    ));
    let derived_only = build(
        s,
        grant_with_purpose(s, s.parent, scholarship()).derive(rfr_bracket_term()),
    );
    cases.push((
        case(
            s.dgfip,
            "allow-derived-only-with-bracket",
            "for the scholarship purpose, where DGFiP releases the reference tax income only as dgfip:tranche_rfr: a grant applying that derivation is allowed",
            s.sign_request(&s.request(&derived_only)),
            derived_only,
        ),
        vec![],
    ));
    let raw = build_unchecked(s, grant_with_purpose(s, s.parent, scholarship()));
    cases.push((
        case(
            s.dgfip,
            "deny-raw-where-derived-only",
            "for the scholarship purpose, a grant (built past the ceiling check) covering the reference tax income raw, where DGFiP releases it only as dgfip:tranche_rfr: the raw value asked for is refused",
            s.sign_request(&s.request(&raw)),
            raw,
        ),
        vec!["raw_where_derived_only"],
    ));
}
