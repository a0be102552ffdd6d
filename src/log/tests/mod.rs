//! Tests of the signed log: codecs, heads and the monitor, histories, and properties over
//! random logs.

mod codec;
mod deletion;
mod history;
mod monitor;
mod props;

use crate::cbor::{Limits, Value};
use crate::directory::{Party, PartyId, PartyKey, Role};
use crate::keys::SigningKey;
use crate::log::{LogEntry, Receipt};
use crate::signed::SignedPayload;
use crate::statement::Action;
use crate::testing::{Scenario, key_for, party_for};
use std::sync::OnceLock;

/// The log operator's key and party id.
pub(super) fn operator() -> (SigningKey, PartyId) {
    (key_for("log-operator"), party_for("log-operator"))
}

/// The canteen scenario with the log operator in its directory.
pub(super) fn scenario() -> Scenario {
    let mut s = Scenario::canteen();
    let (key, id) = operator();
    let party = Party::new(id, "Journal des échanges", Role::Provider).with_key(PartyKey::new(
        key.verifying_key(),
        crate::Timestamp(1_735_689_600),
    ));
    s.directory.add_party(party).expect("new party");
    s
}

/// Signed objects of the canteen scenario, made once: they cost signatures.
pub(super) struct Pool {
    /// The parent's grant (signed by the parent).
    pub grant: Vec<u8>,
    /// Receipts: the first about the parent under the grant, the others under the
    /// habilitation, about the parent too.
    pub receipts: Vec<Vec<u8>>,
    /// A pause of the grant by the parent.
    pub pause: Vec<u8>,
    /// A grant by the parent for the child.
    pub child_grant: Vec<u8>,
    /// A receipt about the child.
    pub child_receipt: Vec<u8>,
}

pub(super) fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let s = scenario();
        let grant = s.sign_grant(&s.grant().build(&s.ceilings).expect("grant"));
        let provider_key = s.key(s.dgfip);
        let receipt_for = |request: &[u8], basis: &[u8]| {
            let decision = s.decide(request, basis);
            let allow = decision.allowed().expect("allowed");
            Receipt::for_authorization(allow, s.next_uuid(), s.now).sign(provider_key)
        };
        let mut receipts = vec![receipt_for(&s.sign_request(&s.request(&grant)), &grant)];
        let habilitation = s.habilitation().sign(s.key(s.authority));
        for _ in 0..2 {
            let request = s.sign_request(&s.request(&habilitation));
            receipts.push(receipt_for(&request, &habilitation));
        }
        let pause = s.statement(&grant, Action::Pause, s.parent);
        let child_grant = crate::grant::Grant::builder(
            crate::ids::BasisId(s.next_uuid()),
            s.child,
            s.mairie,
            crate::testing::canteen_purpose(),
        )
        .expressed_by(s.parent)
        .cover(s.dgfip, [crate::testing::rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(100 * 86_400))
        .access(crate::terms::AccessPattern::MONTHLY)
        .data_range(crate::terms::DataRange::year(2025).expect("year"))
        .retention_secs(86_400)
        .build(&s.ceilings)
        .expect("child grant");
        let child_grant = s.sign_grant(&child_grant);
        let child_receipt = receipt_for(&s.sign_request(&s.request(&child_grant)), &child_grant);
        Pool {
            grant,
            receipts,
            pause,
            child_grant,
            child_receipt,
        }
    })
}

/// The payload map of a signed object or of an encoded payload, as a generic value.
pub(super) fn payload_map(payload: &[u8]) -> Vec<(Value, Value)> {
    match Value::decode(payload, Limits::OBJECT).expect("payload") {
        Value::Map(entries) => entries,
        other => panic!("not a map: {other:?}"),
    }
}

/// Re-encodes a map.
pub(super) fn encode_map(entries: Vec<(Value, Value)>) -> Vec<u8> {
    Value::Map(entries).encode()
}

/// Replaces the value of `key` in a payload map.
pub(super) fn with_value(payload: &[u8], key: u64, value: Value) -> Vec<u8> {
    let entries = payload_map(payload)
        .into_iter()
        .map(|(k, v)| {
            if k == Value::Unsigned(key) {
                (k, value.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    encode_map(entries)
}

/// Removes `key` from a payload map.
pub(super) fn without(payload: &[u8], key: u64) -> Vec<u8> {
    let entries = payload_map(payload)
        .into_iter()
        .filter(|(k, _)| *k != Value::Unsigned(key))
        .collect();
    encode_map(entries)
}

/// Adds `key` with `value` to a payload map, in its place in key order (the map stays sorted).
pub(super) fn with_added(payload: &[u8], key: u64, value: Value) -> Vec<u8> {
    let mut entries = payload_map(payload);
    let at = entries
        .iter()
        .position(|(k, _)| matches!(k, Value::Unsigned(k) if *k > key))
        .unwrap_or(entries.len());
    entries.insert(at, (Value::Unsigned(key), value));
    encode_map(entries)
}

/// Adds an unknown key at the end of a payload map.
pub(super) fn with_extra(payload: &[u8], key: u64) -> Vec<u8> {
    let mut entries = payload_map(payload);
    entries.push((Value::Unsigned(key), Value::Unsigned(0)));
    encode_map(entries)
}

/// An entry of every kind, from the pool.
pub(super) fn sample_entries() -> Vec<LogEntry> {
    let p = pool();
    let s = scenario();
    vec![
        LogEntry::grant_issued(p.grant.clone()).expect("grant entry"),
        LogEntry::receipt(p.receipts[0].clone()).expect("receipt entry"),
        LogEntry::statement_about_grant(p.pause.clone(), &p.grant).expect("statement entry"),
        LogEntry::Denial(
            crate::log::Denial::attributed(
                crate::Digest::of(b"some request"),
                Some(crate::ids::RequestId(s.next_uuid())),
                None,
                Some(s.parent),
                ["expired", "paused"],
                s.now,
            )
            .expect("denial"),
        ),
        LogEntry::grant_issued(p.child_grant.clone()).expect("child grant entry"),
        LogEntry::receipt(p.child_receipt.clone()).expect("child receipt entry"),
    ]
}
