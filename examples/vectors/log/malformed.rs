//! Malformed entries, refused by [`LogEntry::from_bytes`].

use consentry::cose::ObjectKind;
use consentry::danger;
use consentry::danger::cbor::Encoder;
use consentry::log::EntryKind;
use consentry::testing::Scenario;

use super::super::common::{enc, payload_of, with, without};
use super::collect::LogGen;
use super::story::Logged;

pub fn entry_of(items: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    enc(items)
}

/// The entry array itself: its kind, its arity, its length, its encoding.
pub fn framing(g: &mut LogGen<'_>, logged: &[Logged], s: &Scenario) {
    let statement = logged
        .iter()
        .find(|l| l.entry.kind() == EntryKind::Statement)
        .and_then(|l| l.entry.signed_bytes())
        .unwrap_or_else(|| unreachable!())
        .to_vec();
    let receipt_entry = logged[1].entry.to_bytes();
    let receipt_bytes: &[u8] = logged[1]
        .entry
        .signed_bytes()
        .unwrap_or_else(|| unreachable!());
    g.malformed(
        "unknown-kind",
        "an entry of kind 5, which no version-2 entry has",
        entry_of(|e| {
            e.array(2).uint(5).bytes(receipt_bytes);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "receipt-as-deletion",
        "a receipt's bytes in a deletion entry (kind 4)",
        entry_of(|e| {
            e.array(2).uint(4).bytes(receipt_bytes);
        }),
        "log/malformed_object",
        true,
    );
    g.malformed(
        "kind-as-text",
        "an entry whose kind is the text \"receipt\"",
        entry_of(|e| {
            e.array(2).text("receipt").bytes(receipt_bytes);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "not-an-array",
        "a receipt's COSE bytes alone, not wrapped in an entry",
        receipt_bytes.to_vec(),
        "log/malformed_entry",
        false,
    );
    let mut oversize = vec![0x82, 0x00, 0x5a, 0x00, 0x01, 0x00, 0x01];
    oversize.extend_from_slice(receipt_bytes);
    g.malformed(
        "oversize-length",
        "a receipt entry whose byte string announces 65 537 bytes, more than the input holds",
        oversize,
        "log/malformed_entry",
        true,
    );
    let mut huge = vec![0x82, 0x00, 0x5a];
    let len = consentry::log::MAX_ENTRY_SIZE as u32;
    huge.extend_from_slice(&len.to_be_bytes());
    huge.resize(huge.len() + len as usize, 0);
    g.malformed(
        "too-large",
        "an entry of more than MAX_ENTRY_SIZE (66 560) bytes, refused before reading",
        huge,
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "receipt-entry-extra-item",
        "a receipt entry with a third item",
        entry_of(|e| {
            e.array(3).uint(0).bytes(receipt_bytes).bytes(&[0; 16]);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "statement-entry-four-items",
        "a statement entry with four items",
        entry_of(|e| {
            e.array(4)
                .uint(2)
                .bytes(&statement)
                .bytes(s.parent.as_bytes())
                .bytes(s.parent.as_bytes());
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "statement-subject-short",
        "a statement entry whose subject is 15 bytes",
        entry_of(|e| {
            e.array(3)
                .uint(2)
                .bytes(&statement)
                .bytes(&s.parent.as_bytes()[..15]);
        }),
        "log/malformed_entry",
        true,
    );
    let mut trailing = receipt_entry.clone();
    trailing.push(0x00);
    g.malformed(
        "trailing-byte",
        "a valid receipt entry followed by one byte",
        trailing,
        "log/malformed_entry",
        false,
    );
    let mut long_kind = vec![0x82, 0x18, 0x00];
    long_kind.extend_from_slice(&receipt_entry[2..]);
    g.malformed(
        "kind-not-shortest",
        "a receipt entry whose kind 0 is written on two bytes",
        long_kind,
        "log/malformed_entry",
        false,
    );
}

/// Well-framed entries with refused contents: a grant as a receipt, a bad basis kind, bad denials.
pub fn contents(g: &mut LogGen<'_>, logged: &[Logged], s: &Scenario, grant: &[u8]) {
    let denial_bytes = logged
        .iter()
        .map(|l| l.entry.to_bytes())
        .find(|b| b[1] == 0x03)
        .unwrap_or_else(|| unreachable!());
    let receipt_bytes: &[u8] = logged[1]
        .entry
        .signed_bytes()
        .unwrap_or_else(|| unreachable!());
    g.malformed(
        "grant-logged-as-receipt",
        "a grant's bytes in an entry of kind 0 (receipt)",
        entry_of(|e| {
            e.array(2).uint(0).bytes(grant);
        }),
        "log/malformed_object",
        true,
    );
    let bad_receipt = danger::sign(
        ObjectKind::Receipt,
        s.key(s.dgfip),
        &with(
            &payload_of(receipt_bytes),
            5,
            enc(|e| {
                e.uint(2);
            }),
        ),
    );
    g.malformed(
        "receipt-bad-basis-kind",
        "a receipt entry whose receipt (validly signed) has basis kind 2",
        entry_of(|e| {
            e.array(2).uint(0).bytes(&bad_receipt);
        }),
        "log/malformed_object",
        true,
    );
    // A denial whose reason is not a reason code.
    let denial_payload = &denial_bytes[2..];
    let bad_reason = with(
        denial_payload,
        5,
        enc(|e| {
            e.array(1).text("Paused");
        }),
    );
    g.malformed(
        "denial-bad-reason-code",
        "a denial whose reason code has an upper-case letter",
        entry_of(|e| {
            e.array(2).uint(3).raw(&bad_reason);
        }),
        "log/invalid_denial",
        false,
    );
    let no_reason = with(
        denial_payload,
        5,
        enc(|e| {
            e.array(0);
        }),
    );
    g.malformed(
        "denial-no-reason",
        "a denial without reason codes",
        entry_of(|e| {
            e.array(2).uint(3).raw(&no_reason);
        }),
        "log/malformed_entry",
        true,
    );
    let extra_key = with(
        denial_payload,
        7,
        enc(|e| {
            e.uint(0);
        }),
    );
    g.malformed(
        "denial-unknown-key",
        "a denial with a key 7",
        entry_of(|e| {
            e.array(2).uint(3).raw(&extra_key);
        }),
        "log/malformed_entry",
        true,
    );
    g.malformed(
        "denial-missing-time",
        "a denial without its time (key 6)",
        entry_of(|e| {
            e.array(2).uint(3).raw(&without(denial_payload, 6));
        }),
        "log/malformed_entry",
        true,
    );
}
