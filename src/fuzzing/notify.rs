//! `notifications`: notifications offered to a provider's inbox (CNAF's, in the canteen), on raw
//! and on *shaped* inputs (a valid notification from the tax administration with one item
//! changed, signed by it).

use super::decode::change_one;
use crate::cbor::{Limits, Value};
use crate::cose::ObjectKind;
use crate::decision::Verifier;
use crate::directory::{DirectoryHistory, DirectorySnapshot};
use crate::ledger::{InMemoryLedger, Status};
use crate::notify::{Carried, Inbox, Notification, NotificationError, Received, StreamState};
use crate::signed::{SignedPayload, Unverified};
use crate::statement::Action;
use crate::testing::{Scenario, quotient_familial};

struct Fixture {
    s: Scenario,
    grant: Vec<u8>,
    history: DirectoryHistory,
    /// The payload of a valid notification from the tax administration to CNAF, number 1, carrying
    /// the parent's
    /// pause of the two-provider grant.
    template: Vec<u8>,
}

thread_local! {
    static FIXTURE: Fixture = fixture();
}

fn fixture() -> Fixture {
    let s = Scenario::canteen();
    let grant = s
        .grant()
        .cover(s.cnaf, [quotient_familial()])
        .build(&s.ceilings)
        .unwrap_or_else(|e| unreachable!("within the canteen's ceilings: {e}"));
    let grant = s.sign_grant(&grant);
    let operator = super::registry_operator();
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now).sign(&operator);
    let history = DirectoryHistory::load(&genesis, &operator.verifying_key())
        .unwrap_or_else(|e| unreachable!("the canteen directory loads: {e}"));
    let template = Notification {
        emitter: s.dgfip,
        recipient: s.cnaf,
        seq: 1,
        issued_at: s.now,
        carried: Carried::Statement {
            statement: s.statement(&grant, Action::Pause, s.parent),
            basis: grant.clone(),
        },
    }
    .to_payload_bytes();
    Fixture {
        s,
        grant,
        history,
        template,
    }
}

/// Offers `data` as a notification to CNAF's inbox (as a statement's, then as an update's), then
/// the shaped notification derived from it; reads `data` as a saved stream state too.
pub fn notifications(data: &[u8]) {
    notifications_reach(data);
}

/// Runs [`notifications`]'s checks; whether the shaped notification got past its signature to
/// the inbox's own rules.
#[allow(
    clippy::must_use_candidate,
    reason = "run for its assertions; the reach report is for the tests that want it"
)]
pub fn notifications_reach(data: &[u8]) -> bool {
    if let Ok(state) = StreamState::from_bytes(data) {
        assert_eq!(
            state.to_bytes(),
            data,
            "a stream state is read only from its own bytes"
        );
    }
    FIXTURE.with(|f| {
        let _ = offer(f, data);
        let shaped = sign(f, &shaped(f, data));
        !matches!(
            offer(f, &shaped),
            Err(NotificationError::Malformed(_) | NotificationError::Forged(_))
        )
    })
}

/// Offers `signed` to a fresh inbox of CNAF, with a fresh ledger and a copy of the history, and
/// checks what an accepted or refused notification must satisfy; the statement call's result.
fn offer(f: &Fixture, signed: &[u8]) -> Result<Received, NotificationError> {
    let s = &f.s;
    let ledger = InMemoryLedger::new();
    let verifier = Verifier::new(s.cnaf, &s.directory, &s.ceilings, &ledger);
    let grant = Unverified::<crate::grant::Grant>::parse(&f.grant)
        .unwrap_or_else(|e| unreachable!("the fixture's grant parses: {e}"));
    let key = crate::ids::BasisKey::new(
        crate::ids::BasisKind::Grant,
        grant.claims().subject(),
        grant.claims().id(),
    );
    let mut inbox = Inbox::new(s.cnaf);
    let got = inbox.receive_statement(signed, &verifier, s.now);
    match &got {
        Ok(received) => {
            // Accepted: the stream moved by one, a second offer is a redelivery, and the
            // notification re-encodes to its payload.
            let n = Unverified::<Notification>::parse(signed)
                .unwrap_or_else(|e| panic!("accepted but does not parse: {e}"));
            assert_eq!(n.claims().recipient, s.cnaf);
            assert_eq!(inbox.last_seq(n.claims().emitter), 1);
            assert_eq!(
                Notification::from_payload_bytes(&n.claims().to_payload_bytes()).as_ref(),
                Ok(n.claims())
            );
            let status = ledger.status(&key);
            assert_eq!(
                inbox.receive_statement(signed, &verifier, s.now),
                Ok(Received::AlreadyApplied)
            );
            assert_eq!(ledger.status(&key), status, "a redelivery changes nothing");
            // Its stream's state, saved and resumed by a new inbox, still knows it.
            let saved = inbox.take_changed();
            assert_eq!(saved.len(), 1, "one stream advanced");
            let state = StreamState::from_bytes(&saved[0].to_bytes())
                .unwrap_or_else(|e| panic!("a saved state reads back: {e}"));
            let mut resumed = Inbox::new(s.cnaf);
            resumed.resume(state);
            assert_eq!(
                resumed.receive_statement(signed, &verifier, s.now),
                Ok(Received::AlreadyApplied)
            );
            if let Received::Applied(new) = received {
                assert_ne!(*new, Status::Active, "the template pauses");
            }
        }
        Err(e) => {
            assert!(e.code().starts_with("notification/"));
            assert_eq!(
                ledger.status(&key),
                Status::Active,
                "a refusal changes nothing"
            );
            if let Ok(n) = Unverified::<Notification>::parse(signed) {
                assert_eq!(inbox.last_seq(n.claims().emitter), 0);
            }
        }
    }
    let mut history = f.history.clone();
    let mut inbox = Inbox::new(s.cnaf);
    if inbox.receive_update(signed, &mut history).is_err() {
        assert_eq!(history.version(), f.history.version());
    }
    got
}

/// The template with one item changed as the first eight bytes of `data` say, re-encoded
/// deterministically.
fn shaped(f: &Fixture, data: &[u8]) -> Vec<u8> {
    let mut choice = [0u8; 8];
    for (i, c) in choice.iter_mut().enumerate() {
        *c = data.get(i).copied().unwrap_or(0);
    }
    let choice = u64::from_be_bytes(choice);
    let Ok(Value::Map(mut entries)) = Value::decode(&f.template, Limits::OBJECT) else {
        unreachable!("a payload is a map")
    };
    if choice != 0 {
        let at = (choice >> 40) as usize % entries.len();
        change_one(&mut entries[at].1, choice);
    }
    Value::Map(entries).encode()
}

/// `payload` signed as a notification by the tax administration.
fn sign(f: &Fixture, payload: &[u8]) -> Vec<u8> {
    crate::cose::sign(ObjectKind::Notification, f.s.key(f.s.dgfip), payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_applied() {
        FIXTURE.with(|f| {
            assert_eq!(
                offer(f, &sign(f, &f.template)),
                Ok(Received::Applied(Status::Paused { since: f.s.now }))
            );
        });
    }
}
