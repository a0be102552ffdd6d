//! The federation's directory as it lives: signed by its operator, changed by signed updates,
//! and kept with its history. The city hall rotates its key on schedule; later its new key
//! leaks, the operator reports the compromise (dated back to the leak) and gives it a third key;
//! a provider decides each request against the directory of the day, and an auditor, later,
//! checks an old decision against the directory that held when it was made.
//!
//! Every outcome is asserted: the example fails if the library decides otherwise.
//!
//! Run with `cargo run --example rotation`.

use consentry::SigningKey;
use consentry::decision::{Basis, Decision, Reason, Subject, Verifier};
use consentry::directory::{DirectoryHistory, DirectorySnapshot, KeyRefusal, PartyKey};
use consentry::request::Request;
use consentry::signed::{SignedPayload, Verified};
use consentry::testing::{Scenario, key_for};
use std::error::Error;

const DAY: u64 = 86_400;

fn main() -> Result<(), Box<dyn Error>> {
    // The canteen's cast (fixed keys, ids and clock), and the federation's operator, whose
    // public key every service configures as its trust anchor.
    let mut s = Scenario::canteen();
    let operator = key_for("operator");
    let anchor = operator.verifying_key();

    // Version 0: the operator signs the directory; the provider loads it with the anchor.
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now).sign(&operator);
    let mut history = DirectoryHistory::load(&genesis, &anchor)?;
    println!(
        "directory version {} loaded, signed by the operator ({} bytes)",
        history.version(),
        genesis.len()
    );

    let grant = s.sign_grant(&s.grant().build(&s.ceilings)?);
    let first_key = key_for("mairie");
    let first = sign(&s.request(&grant), &first_key);
    show(
        "request signed with the first key",
        &decide(&s, &history, &first, &grant)?,
    );

    // Version 1: a scheduled rotation, announced a day ahead.
    s.advance_days(1);
    let second_key = key_for("mairie-2");
    let rotate_at = s.now.plus_secs(DAY);
    let rotation = history
        .next_update(s.now)
        .rotate_key(
            s.mairie,
            first_key.key_id(),
            PartyKey::new(second_key.verifying_key(), rotate_at),
        )
        .sign(&operator);
    history.apply(&rotation)?;
    println!(
        "version {}: the city hall's second key from {rotate_at}",
        history.version()
    );

    // The next month, after the rotation: the first key signs nothing new.
    s.advance_days(30);
    let stale = sign(&s.request(&grant), &first_key);
    let decision = decide(&s, &history, &stale, &grant)?;
    show("request signed with the retired first key", &decision);
    assert!(has_key_refusal(&decision, |k| matches!(
        k,
        KeyRefusal::Expired { .. }
    )));
    let second = sign(&s.request(&grant), &second_key);
    let decision = decide(&s, &history, &second, &grant)?;
    show("request signed with the second key", &decision);
    assert!(decision.is_allow());
    let decided_at = s.now;

    // A week later the city hall finds its second key was stolen three days ago. The operator
    // reports the compromise as of then, and gives the city hall a third key from now.
    s.advance_days(7);
    let leaked_at = s.now.minus_secs(3 * DAY);
    let third_key = key_for("mairie-3");
    let report = history
        .next_update(s.now)
        .report_compromise(second_key.key_id(), leaked_at)
        .add_key(s.mairie, PartyKey::new(third_key.verifying_key(), s.now))
        .sign(&operator);
    history.apply(&report)?;
    println!(
        "version {}: the second key compromised since {leaked_at}, a third key from {}",
        history.version(),
        s.now
    );

    // The thief's request, signed with the stolen key: denied, and not counted as a use. The
    // city hall's own next request, a month after its last, with its third key: allowed.
    let thief = sign(&s.request(&grant), &second_key);
    let decision = decide(&s, &history, &thief, &grant)?;
    show("request signed with the stolen second key", &decision);
    assert!(has_key_refusal(&decision, |k| matches!(
        k,
        KeyRefusal::Compromised { .. }
    )));
    s.advance_days(25);
    let genuine = sign(&s.request(&grant), &third_key);
    let decision = decide(&s, &history, &genuine, &grant)?;
    show("request signed with the third key", &decision);
    assert!(decision.is_allow());

    // The auditor, later, re-checks the request allowed with the second key. It was signed
    // before the leak: valid on the directory of its day, and still valid on today's.
    let then = history.at(decided_at)?;
    let today = history.current();
    let checked_then = Verified::<Request>::parse_and_verify(&second, &*then).is_ok();
    let checked_today = Verified::<Request>::parse_and_verify(&second, today).is_ok();
    println!(
        "auditor: the allowed request of {decided_at}: valid then {checked_then}, valid today {checked_today}"
    );
    assert!(checked_then && checked_today);

    // A request the thief signed after the leak but before the report would have been allowed
    // on the directory of its day; today's directory shows it for what it was.
    let before_report = leaked_at.plus_secs(DAY);
    let today_clock = s.now;
    s.now = before_report;
    let forged = sign(&s.request(&grant), &second_key);
    s.now = today_clock;
    let then = history.at(before_report)?;
    let valid_then = Verified::<Request>::parse_and_verify(&forged, &*then).is_ok();
    let valid_today = Verified::<Request>::parse_and_verify(&forged, today).is_ok();
    println!(
        "auditor: a request signed with the second key at {before_report}: valid on that day's directory {valid_then}, on today's {valid_today}: to review"
    );
    assert!(valid_then && !valid_today);
    Ok(())
}

fn sign(request: &Request, key: &SigningKey) -> Vec<u8> {
    request.sign(key)
}

/// The provider's decision, against the directory that holds at the scenario's clock.
fn decide(
    s: &Scenario,
    history: &DirectoryHistory,
    request: &[u8],
    grant: &[u8],
) -> Result<Decision, Box<dyn Error>> {
    let directory = history.at(s.now)?;
    Ok(
        Verifier::new(s.verifier_provider, &*directory, &s.ceilings, &s.ledger).decide(
            request,
            Basis::Signed(grant),
            s.now,
        ),
    )
}

fn show(what: &str, decision: &Decision) {
    match decision.refusal() {
        None => println!("{what}: allow"),
        Some(refusal) => {
            let codes: Vec<&str> = refusal.reasons().iter().map(Reason::code).collect();
            println!("{what}: deny {}", codes.join(", "));
        }
    }
}

fn has_key_refusal(decision: &Decision, kind: impl Fn(&KeyRefusal) -> bool) -> bool {
    decision.refusal().is_some_and(|r| {
        r.reasons().iter().any(|reason| {
            matches!(reason, Reason::KeyNotValid { object: Subject::Request, refusal } if kind(refusal))
        })
    })
}
