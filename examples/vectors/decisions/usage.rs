//! Stage 3, the request's use: freshness, replay, one-time and periodic limits.

use consentry::testing::Scenario;

use super::super::cases::{Step, case};
use super::super::common::NOW;
use super::{Bases, Cases, Uses};

/// A request from the future or too old, a replay, a one-time grant used, a period exhausted.
pub fn usage(s: &mut Scenario, cases: &mut Cases, b: &Bases, u: &Uses) {
    let Bases { grant, .. } = b;
    let Uses {
        one_time,
        one_time_req,
        twice,
        twice_first,
        monthly,
        monthly_first,
        monthly_again,
        ..
    } = u;
    let future = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(121))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-request-from-future",
            "a request issued 121 s in the future",
            future,
            grant.clone(),
        ),
        vec!["request_from_future"],
    ));
    let old = {
        let mut r = s.request(grant);
        r = r
            .to_builder()
            .issued_at(NOW.minus_secs(301))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case(
            s.dgfip,
            "deny-request-too-old",
            "a request issued 301 s before now",
            old,
            grant.clone(),
        ),
        vec!["request_too_old"],
    ));
    let mut c = case(
        s.dgfip,
        "deny-replayed-request",
        "a grant of 2 uses per 30 days; the same request presented twice",
        twice_first.clone(),
        twice.clone(),
    );
    c.history.push(Step::Decide {
        request: twice_first.clone(),
        basis: twice.clone(),
        now: NOW,
    });
    c.now = NOW.plus_secs(30);
    cases.push((c, vec!["replayed_request"]));
    let mut c = case(
        s.dgfip,
        "deny-replayed-and-exhausted",
        "a monthly grant; the same request presented twice",
        monthly_first.clone(),
        monthly.clone(),
    );
    c.history.push(Step::Decide {
        request: monthly_first.clone(),
        basis: monthly.clone(),
        now: NOW,
    });
    cases.push((c, vec!["replayed_request", "frequency_exhausted"]));
    let second_one_time = s.sign_request(&s.request(one_time));
    let mut c = case(
        s.dgfip,
        "deny-one-time-used",
        "a one-time grant already used",
        second_one_time,
        one_time.clone(),
    );
    c.history.push(Step::Decide {
        request: one_time_req.clone(),
        basis: one_time.clone(),
        now: NOW,
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, vec!["one_time_used"]));
    let mut c = case(
        s.dgfip,
        "deny-frequency-exhausted",
        "a monthly grant asked twice in the same period, with fresh request ids",
        monthly_again.clone(),
        monthly.clone(),
    );
    c.history.push(Step::Decide {
        request: monthly_first.clone(),
        basis: monthly.clone(),
        now: NOW,
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, vec!["frequency_exhausted"]));
}
