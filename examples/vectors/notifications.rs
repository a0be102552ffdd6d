//! Notifications: what DGFiP tells CNAF after applying statements about a grant covering both,
//! each notification applied, ignored as a redelivery or refused for its own reason, in order.
//! A reader replays them in the index's order against one inbox of CNAF (on an empty ledger,
//! the canteen directory, at the index's time) and must reach the same outcome for each.

use std::collections::BTreeMap;

use consentry::cose::ObjectKind;
use consentry::danger;
use consentry::decision::Verifier;
use consentry::ledger::Status;
use consentry::notify::{Carried, Inbox, Notification, Notifier, Received};
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::testing::{Scenario, quotient_familial};
use consentry::{InMemoryLedger, PartyId};
use serde_json::{Value as Json, json};

use super::common::hex;

/// Writes the notifications' files into `files` and returns their index entry.
pub fn notifications(files: &mut BTreeMap<String, Vec<u8>>) -> Json {
    let s = Scenario::canteen();
    let grant = s
        .grant()
        .cover(s.cnaf, [quotient_familial()])
        .build(&s.ceilings)
        .unwrap_or_else(|e| panic!("the two-provider grant: {e}"));
    let grant = s.sign_grant(&grant);
    files.insert("notifications/grant.cbor".into(), grant.clone());
    let dgfip = Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    };
    let carrying = |action| Carried::Statement {
        statement: s.statement(&grant, action, s.parent),
        basis: grant.clone(),
    };
    let pause = dgfip.sign(s.cnaf, 1, s.now, &carrying(Action::Pause));
    let resume = dgfip.sign(s.cnaf, 2, s.now, &carrying(Action::Resume));
    let forked = dgfip.sign(s.cnaf, 1, s.now.plus_secs(1), &carrying(Action::Revoke));
    let ahead = dgfip.sign(s.cnaf, 3, s.now, &carrying(Action::Revoke));
    let misaddressed = dgfip.sign(s.mairie, 2, s.now, &carrying(Action::Revoke));
    let forged = Notifier {
        emitter: s.dgfip,
        key: s.key(s.mairie),
    }
    .sign(s.cnaf, 2, s.now, &carrying(Action::Revoke));
    let mut zero = Notification {
        emitter: s.dgfip,
        recipient: s.cnaf,
        seq: 1,
        issued_at: s.now,
        carried: carrying(Action::Revoke),
    }
    .to_payload_bytes();
    // Key 3 (seq), the fourth entry, is 1 encoded as 0x01: make it 0.
    let at = zero
        .windows(2)
        .position(|w| w == [0x03, 0x01])
        .expect("the seq entry");
    zero[at + 1] = 0x00;
    let seq_zero = danger::sign(ObjectKind::Notification, s.key(s.dgfip), &zero);

    let ledger = InMemoryLedger::new();
    let verifier = Verifier::new(s.cnaf, &s.directory, &s.ceilings, &ledger);
    let mut inbox = Inbox::new(s.cnaf);
    let mut steps = Vec::new();
    let cases: [(&str, &str, &[u8]); 8] = [
        (
            "pause",
            "DGFiP's first notification: the parent's pause",
            &pause,
        ),
        ("redelivery", "the same bytes again: ignored", &pause),
        (
            "fork",
            "other bytes under number 1, validly signed",
            &forked,
        ),
        ("out-of-order", "number 3 before number 2", &ahead),
        ("misaddressed", "number 2, for the city hall", &misaddressed),
        (
            "forged",
            "number 2 claiming DGFiP, signed with the city hall's key",
            &forged,
        ),
        (
            "seq-zero",
            "a notification numbered 0, signed by DGFiP",
            &seq_zero,
        ),
        ("resume", "number 2: the parent's resume", &resume),
    ];
    for (i, (name, description, bytes)) in cases.into_iter().enumerate() {
        let file = format!("notifications/{:02}-{name}.cbor", i + 1);
        files.insert(file.clone(), bytes.to_vec());
        let expected = match inbox.receive_statement(bytes, &verifier, s.now) {
            Ok(Received::Applied(status)) => json!({
                "outcome": "applied",
                "status": status_name(status),
            }),
            Ok(Received::AlreadyApplied) => json!({"outcome": "already_applied"}),
            Ok(other) => panic!("{name}: unexpected {other:?}"),
            Err(e) => json!({
                "outcome": "refused",
                "code": e.code(),
                "detail": e.detail_code(),
            }),
        };
        let mut expected = expected;
        expected["last_seq"] = json!(inbox.last_seq(s.dgfip));
        steps.push(json!({
            "name": name,
            "description": description,
            "file": file,
            "expected": expected,
        }));
    }
    let outcomes: Vec<&str> = steps
        .iter()
        .map(|st| st["expected"]["outcome"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        outcomes,
        [
            "applied",
            "already_applied",
            "refused",
            "refused",
            "refused",
            "refused",
            "refused",
            "applied"
        ],
        "the notification vectors' outcomes"
    );
    // What the recipient saves of the stream after the replay (`docs/format.md` §14.2).
    let state = inbox
        .stream(s.dgfip)
        .expect("DGFiP's stream advanced")
        .to_bytes();
    files.insert("notifications/stream-state.bin".into(), state);
    json!({
        "description": "Replay in order against one inbox of the recipient, with the recipient's verifier on an empty ledger, the canteen directory, at `at`.",
        "directory": "canteen",
        "emitter": party(s.dgfip),
        "recipient": party(s.cnaf),
        "at": s.now.secs(),
        "grant": {"file": "notifications/grant.cbor"},
        "steps": steps,
        "stream_state": {
            "file": "notifications/stream-state.bin",
            "description": "The recipient's saved state of the emitter's stream after the replay (docs/format.md 14.2): the emitter's 16 bytes, the last number applied (2, 8 bytes big-endian), and the SHA-256 of the signed bytes of the two notifications applied (steps pause and resume), oldest first.",
        },
    })
}

fn party(p: PartyId) -> String {
    hex(p.as_bytes())
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Paused { .. } => "paused",
        Status::Revoked { .. } => "revoked",
        _ => "other",
    }
}
