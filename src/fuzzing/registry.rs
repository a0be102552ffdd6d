//! `directory_updates`: signed directory updates offered to the canteen directory's history, on
//! raw and on *shaped* inputs (a valid update with one item changed, signed by the operator).

use super::decode::change_one;
use crate::cbor::{Limits, Value};
use crate::cose::ObjectKind;
use crate::directory::{
    DirectoryHistory, DirectorySnapshot, DirectoryUpdate, PartyKey, Representation,
    RepresentationKind, UpdateError,
};
use crate::keys::SigningKey;
use crate::testing::{Scenario, key_for};

/// The operator of the fuzzed history (the vectors' operator).
#[must_use]
pub fn registry_operator() -> SigningKey {
    key_for("operator")
}

struct Fixture {
    history: DirectoryHistory,
    /// A valid next update touching every kind of change but the operator key's hand-over.
    template: Vec<u8>,
}

thread_local! {
    static FIXTURE: Fixture = fixture();
}

fn fixture() -> Fixture {
    let s = Scenario::canteen();
    let operator = registry_operator();
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now).sign(&operator);
    let history = DirectoryHistory::load(&genesis, &operator.verifying_key())
        .unwrap_or_else(|e| unreachable!("the canteen directory loads: {e}"));
    let at = s.now.plus_secs(60);
    let template = history
        .next_update(at)
        .rotate_key(
            s.mairie,
            s.key(s.mairie).key_id(),
            PartyKey::new(key_for("mairie-2").verifying_key(), at),
        )
        .report_compromise(s.key(s.other_consumer).key_id(), s.now)
        .add_representation(Representation {
            representative: s.franceconnect,
            subject: s.child,
            kind: RepresentationKind::Mandate,
            valid_from: at,
            valid_until: None,
        })
        .end_representation(s.franceconnect, s.parent, at.plus_secs(60))
        .to_payload_bytes();
    Fixture { history, template }
}

/// Offers `data` as a signed update, then the shaped update derived from it, to the canteen
/// directory's history.
pub fn directory_updates(data: &[u8]) {
    directory_updates_reach(data);
}

/// Runs [`directory_updates`]'s checks; whether the shaped update got past the operator's
/// signature to the sequence and change rules, where the assertions on an applied update are.
#[allow(
    clippy::must_use_candidate,
    reason = "run for its assertions; the reach report is for the tests that want it"
)]
pub fn directory_updates_reach(data: &[u8]) -> bool {
    FIXTURE.with(|f| {
        let _ = offer(&f.history, data);
        let shaped = sign(&shaped_update(f, data));
        !matches!(
            offer(&f.history, &shaped),
            Err(UpdateError::Parse(_) | UpdateError::NotOperatorKey { .. })
        )
    })
}

/// Offers `signed` to a copy of `history`, and checks what an applied update must satisfy.
fn offer(history: &DirectoryHistory, signed: &[u8]) -> Result<(), UpdateError> {
    let mut h = history.clone();
    let before = h.version();
    let applied = h.apply(signed).cloned();
    match applied {
        Ok(update) => {
            // The version moved by one; the payload re-encodes to the signed bytes; a second
            // offer is a redelivery; the history's state at the update's time is the current.
            assert_eq!(h.version(), before + 1);
            assert_eq!(update.seq(), before + 1);
            assert_eq!(
                DirectoryUpdate::from_payload_bytes(&update.to_payload_bytes()).as_ref(),
                Ok(&update)
            );
            assert_eq!(
                h.apply(signed).map(|_| ()),
                Err(UpdateError::AlreadyApplied { seq: update.seq() })
            );
            let now = h.at(update.issued_at()).map(|d| d.to_cbor());
            assert_eq!(now, Ok(h.current().to_cbor()));
            let then = h.at(history.versions()[0].issued_at).map(|d| d.to_cbor());
            if update.issued_at() > history.versions()[0].issued_at {
                assert_eq!(then, Ok(history.current().to_cbor()));
            }
            Ok(())
        }
        Err(e) => {
            assert_eq!(h.version(), before, "a refused update changes nothing");
            assert_eq!(h.current().to_cbor(), history.current().to_cbor());
            assert!(!e.code().is_empty());
            Err(e)
        }
    }
}

/// The template update with one item changed as the first eight bytes of `data` say,
/// re-encoded deterministically.
fn shaped_update(f: &Fixture, data: &[u8]) -> Vec<u8> {
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

/// `payload` signed as an update by the operator.
fn sign(payload: &[u8]) -> Vec<u8> {
    crate::cose::sign(ObjectKind::DirectoryUpdate, &registry_operator(), payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_applies() {
        FIXTURE.with(|f| {
            assert_eq!(offer(&f.history, &sign(&f.template)), Ok(()));
        });
    }
}
