//! Stages 1 and 2: objects that do not parse, or whose signature or key does not hold.

use consentry::Timestamp;
use consentry::signed::SignedPayload;
use consentry::testing::{Scenario, key_for};

use super::super::cases::case;
use super::{Bases, Cases, Uses};

/// Malformed objects, wrong kinds, unknown keys, bad signatures, keys not valid.
pub fn refusals(s: &mut Scenario, cases: &mut Cases, b: &Bases, u: &Uses) {
    let Bases { grant, req, .. } = b;
    let Uses {
        paused_grant,
        pause,
        ..
    } = u;
    cases.push((
        case(
            s.dgfip,
            "deny-malformed-request",
            "the request truncated to 40 bytes",
            req[..40].to_vec(),
            grant.clone(),
        ),
        vec!["malformed"],
    ));
    cases.push((
        case(
            s.dgfip,
            "deny-malformed-basis",
            "the grant with a trailing byte",
            req.clone(),
            [grant.clone(), vec![0]].concat(),
        ),
        vec!["malformed"],
    ));
    cases.push((
        case(
            s.dgfip,
            "deny-malformed-both",
            "both objects malformed: the request's reason first",
            req[..40].to_vec(),
            grant[..40].to_vec(),
        ),
        vec!["malformed", "malformed"],
    ));
    cases.push((
        case(
            s.dgfip,
            "deny-wrong-kind-basis",
            "the request presented as its own basis",
            req.clone(),
            req.clone(),
        ),
        vec!["wrong_kind"],
    ));
    cases.push((
        case(
            s.dgfip,
            "deny-wrong-kind-request",
            "a pause statement presented as the request",
            pause.clone(),
            paused_grant.clone(),
        ),
        vec!["wrong_kind"],
    ));
    let stranger_req = s.request(grant).sign(&key_for("stranger"));
    cases.push((
        case(
            s.dgfip,
            "deny-unknown-key",
            "the request signed with a key no party holds",
            stranger_req.clone(),
            grant.clone(),
        ),
        vec!["unknown_key"],
    ));
    let mut bad_sig_req = req.clone();
    let last = bad_sig_req.len() - 1;
    bad_sig_req[last] ^= 0x80;
    cases.push((
        case(
            s.dgfip,
            "deny-bad-signature",
            "the request's signature altered",
            bad_sig_req.clone(),
            grant.clone(),
        ),
        vec!["bad_signature"],
    ));
    let mut bad_sig_grant = grant.clone();
    let last = bad_sig_grant.len() - 1;
    bad_sig_grant[last] ^= 0x80;
    cases.push((
        case(
            s.dgfip,
            "deny-unknown-key-and-bad-basis-signature",
            "request signed by an unknown key, grant signature altered: request first",
            stranger_req,
            bad_sig_grant,
        ),
        vec!["unknown_key", "bad_signature"],
    ));
    cases.push((
        case(
            s.dgfip,
            "deny-malformed-basis-before-bad-signature",
            "request signature altered, grant malformed: the malformed stage comes first",
            bad_sig_req,
            grant[..40].to_vec(),
        ),
        vec!["malformed", "bad_signature"],
    ));
    let not_signers = s.request(grant).sign(s.key(s.other_consumer));
    cases.push((
        case(
            s.dgfip,
            "deny-key-not-signers",
            "the request names the city hall but is signed with Villeurbanne's key",
            not_signers,
            grant.clone(),
        ),
        vec!["key_not_valid"],
    ));
    let mut c = case(
        s.dgfip,
        "deny-key-compromised",
        "the city hall's key was reported compromised the day before the request",
        req.clone(),
        grant.clone(),
    );
    c.directory = "canteen-compromised";
    cases.push((c, vec!["key_not_valid"]));
    let mut c = case(
        s.dgfip,
        "deny-key-expired-basis",
        "a grant signed 2025-09-01 with the parent's first key, valid until 2025-06-01",
        req.clone(),
        grant.clone(),
    );
    c.directory = "canteen-rotated";
    cases.push((c, vec!["key_not_valid"]));
    let early = s.sign_grant(
        &s.grant()
            .issued_at(Timestamp::from_secs(1_733_011_200))
            .build(&s.ceilings)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    cases.push((
        case(
            s.dgfip,
            "deny-key-not-yet-valid-basis",
            "a grant issued 2024-12-01, before the parent's key was valid",
            s.sign_request(&s.request(&early)),
            early,
        ),
        vec!["key_not_valid"],
    ));
}
