//! What every family of cases shares: the clock, the cast, hex, grant builders and signing,
//! and the helpers that rewrite CBOR payloads and protected headers item by item.

use consentry::Limits;
use consentry::danger;
use consentry::danger::UncheckedGrant;

use consentry::ceiling::{DerivedOnly, PurposeCeiling};
use consentry::cose::{self, Envelope};
use consentry::danger::cbor::{Encoder, Value};
use consentry::derivation::DerivationTerm;
use consentry::directory::{Directory, PartyId, Representation};
use consentry::grant::{Grant, GrantBuilder};
use consentry::ids::BasisId;
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{self, Scenario};
use consentry::vocab::Purpose;
use consentry::{Digest, SigningKey, Timestamp};

pub const DAY: u64 = 86_400;
/// Every cast key is valid from 2025-01-01.
pub const START: Timestamp = Timestamp::from_secs(1_735_689_600);
/// The scenario's clock: 2025-09-01.
pub const NOW: Timestamp = Timestamp::from_secs(1_756_684_800);
/// 2025-06-01: the parent's key rotation, the end of the ended mandate.
pub const ROTATION: Timestamp = Timestamp::from_secs(1_748_736_000);

/// The cast: (seed name, role in the story). Seeds are `SHA-256("consentry-testing:" || name)`.
pub const CAST: [&str; 8] = [
    "parent",
    "child",
    "dgfip",
    "cnaf",
    "mairie",
    "other",
    "franceconnect",
    "authority",
];

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The directory with `edit` applied to a copy of its parties and representations.
pub fn rebuild(
    base: &Directory,
    edit: impl FnOnce(&mut Vec<consentry::directory::Party>, &mut Vec<Representation>),
) -> Directory {
    let mut parties = base.parties().to_vec();
    let mut reps = base.representations().to_vec();
    edit(&mut parties, &mut reps);
    let mut dir = Directory::new();
    for p in parties {
        dir.add_party(p).unwrap_or_else(|e| panic!("{e}"));
    }
    for r in reps {
        dir.add_representation(r).unwrap_or_else(|e| panic!("{e}"));
    }
    dir
}

pub fn seed_of(name: &str) -> [u8; 32] {
    *Digest::of_parts(&[b"consentry-testing:", name.as_bytes()]).as_bytes()
}

/// The canteen grant's terms for any subject (as [`Scenario::grant`] for the parent).
pub fn grant_for(s: &Scenario, subject: PartyId) -> GrantBuilder {
    grant_with_purpose(s, subject, testing::canteen_purpose())
}

/// The canteen grant's terms for another purpose.
pub fn grant_with_purpose(s: &Scenario, subject: PartyId, purpose: Purpose) -> GrantBuilder {
    Grant::builder(BasisId(s.next_uuid()), subject, s.mairie, purpose)
        .cover(s.dgfip, [testing::rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(year(2025))
        .retention_secs(365 * DAY)
}

/// The scholarship purpose: DGFiP releases the reference tax income for it only as a bracket.
pub fn scholarship() -> Purpose {
    Purpose::new("education:bourse_college").unwrap_or_else(|_| unreachable!())
}

/// DGFiP's ceiling for the scholarship purpose: the reference tax income, only as
/// `dgfip:tranche_rfr`.
pub fn scholarship_ceiling(s: &Scenario) -> PurposeCeiling {
    PurposeCeiling {
        derived_only: vec![DerivedOnly {
            category: testing::rfr(),
            derivations: vec![testing::rfr_bracket().code().clone()],
        }],
        ..testing::kit_ceiling(s.dgfip, scholarship(), [testing::rfr()])
    }
}

/// The reference tax income as its bracket: 15 000, 30 000 and 45 000 euros.
pub fn rfr_bracket_term() -> DerivationTerm {
    testing::derived(
        testing::rfr(),
        testing::RFR_BRACKET,
        &[15_000, 30_000, 45_000],
    )
}

pub fn year(y: u32) -> DataRange {
    DataRange::year(y).unwrap_or_else(|_| unreachable!())
}

pub fn build(s: &Scenario, b: GrantBuilder) -> Vec<u8> {
    let g = b.build(&s.ceilings).unwrap_or_else(|e| panic!("{e}"));
    s.sign_grant(&g)
}

pub fn build_unchecked(s: &Scenario, b: GrantBuilder) -> Vec<u8> {
    let g = b
        .build_without_ceiling_check()
        .unwrap_or_else(|e| panic!("{e}"));
    s.sign_grant(&g)
}

pub fn payload_of(bytes: &[u8]) -> Vec<u8> {
    Envelope::parse(bytes)
        .map(|e| e.payload().to_vec())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A payload map's entries: (key, encoded value).
pub fn entries(payload: &[u8]) -> Vec<(u64, Vec<u8>)> {
    match Value::decode(payload, Limits::OBJECT) {
        Ok(Value::Map(m)) => m
            .into_iter()
            .map(|(k, v)| match k {
                Value::Unsigned(k) => (k, v.encode()),
                other => panic!("not a payload key: {other:?}"),
            })
            .collect(),
        other => panic!("not a payload map: {other:?}"),
    }
}

/// A map written from entries exactly as given (any order, repeats allowed).
pub fn map_of(entries: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(entries.len());
    for (k, v) in entries {
        e.uint(*k).raw(v);
    }
    e.into_bytes()
}

/// `payload` with the value of `key` replaced by `value` (encoded), or inserted in order.
pub fn with(payload: &[u8], key: u64, value: Vec<u8>) -> Vec<u8> {
    let mut m = entries(payload);
    match m.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => {
            let at = m.iter().position(|(k, _)| *k > key).unwrap_or(m.len());
            m.insert(at, (key, value));
        }
    }
    map_of(&m)
}

pub fn without(payload: &[u8], key: u64) -> Vec<u8> {
    let m: Vec<_> = entries(payload)
        .into_iter()
        .filter(|(k, _)| *k != key)
        .collect();
    map_of(&m)
}

pub fn enc(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut e = Encoder::new();
    f(&mut e);
    e.into_bytes()
}

/// A COSE_Sign1 with the given protected header bytes, validly signed by `key`.
pub fn signed_with(key: &SigningKey, protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let sig = danger::sign_raw(key, &cose::sig_structure(protected, payload));
    danger::assemble(protected, &[0xa0], payload, &sig)
}

/// A protected header from (label, encoded value) pairs, in the order given.
pub fn protected(params: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(params.len());
    for (label, v) in params {
        e.int(*label).raw(v);
    }
    e.into_bytes()
}

pub fn alg(v: i64) -> (i64, Vec<u8>) {
    (
        1,
        enc(|e| {
            e.int(v);
        }),
    )
}
pub fn ct(kind: u64) -> (i64, Vec<u8>) {
    (
        3,
        enc(|e| {
            e.uint(kind);
        }),
    )
}
pub fn kid(key: &SigningKey) -> (i64, Vec<u8>) {
    (
        4,
        enc(|e| {
            e.bytes(key.key_id().as_bytes());
        }),
    )
}

/// An unsigned integer, encoded.
pub fn uint(v: u64) -> Vec<u8> {
    enc(|e| {
        e.uint(v);
    })
}
