//! Stage 3, what is asked: the request's claims against the basis's terms.

use consentry::testing::{self, Scenario};
use consentry::vocab::Purpose;

use super::super::cases::case;
use super::super::common::{build, year};
use super::{Bases, Cases};

/// Consumer, subject, provider, categories, purpose and data range.
pub fn terms(s: &mut Scenario, cases: &mut Cases, b: &Bases) {
    let Bases { grant, .. } = b;
    let other_consumer_req = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .consumer(s.other_consumer)
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-consumer-mismatch",
            "Villeurbanne asks under the city hall's grant",
            other_consumer_req,
            grant.clone(),
        ),
        vec!["consumer_mismatch"],
    ));
    let child_req = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .subject(s.child)
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-subject-mismatch",
            "a request about the child under the parent's grant",
            child_req,
            grant.clone(),
        ),
        vec!["subject_mismatch"],
    ));
    let two_providers = build(s, s.grant().cover(s.cnaf, [testing::quotient_familial()]));
    let to_cnaf = |s: &Scenario, basis: &[u8]| {
        let mut r = s.request(basis);
        r = r
            .to_builder()
            .provider(s.cnaf)
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .categories(vec![testing::quotient_familial()])
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-wrong-provider",
            "a grant covering DGFiP and CNAF; the request is addressed to CNAF but presented to DGFiP",
            to_cnaf(s, &two_providers),
            two_providers
        ),
        vec!["wrong_provider"],
    ));
    cases.push((
        case(
            s.dgfip,
            "deny-wrong-provider-not-covered",
            "a grant covering DGFiP only; a request addressed to CNAF presented to DGFiP",
            to_cnaf(s, grant),
            grant.clone(),
        ),
        vec!["wrong_provider", "provider_not_covered"],
    ));
    let mut c = case(
        s.dgfip,
        "deny-provider-not-covered",
        "a grant covering DGFiP only; CNAF decides on a request addressed to it",
        to_cnaf(s, grant),
        grant.clone(),
    );
    c.provider = s.cnaf;
    cases.push((c, vec!["provider_not_covered"]));
    let household_req = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .categories(vec![testing::household(), testing::rfr()])
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-categories-not-covered",
            "the request adds the household composition to the reference tax income",
            household_req,
            grant.clone(),
        ),
        vec!["categories_not_covered"],
    ));
    let purpose_req = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .purpose(
                Purpose::new("education:transport_scolaire").unwrap_or_else(|_| unreachable!()),
            )
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-purpose-mismatch",
            "the request claims school transport instead of canteen pricing",
            purpose_req,
            grant.clone(),
        ),
        vec!["purpose_mismatch"],
    ));
    let range_req = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .data_range(year(2024))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-data-range-outside",
            "the request asks for tax year 2024 under a grant for 2025",
            range_req,
            grant.clone(),
        ),
        vec!["data_range_outside"],
    ));
}
