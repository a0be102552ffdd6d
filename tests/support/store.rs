//! What the tests of the durable stores share: grants, requests and a verifier logging its
//! receipts on any store, the history a store is filled with, and small readers. Included by
//! `tests/store_sqlite.rs` and `tests/store_postgres.rs`.

use consentry::decision::{Basis, Decision, Reason, Receipts, Verifier};
use consentry::directory::PartyId;
use consentry::grant::Grant;
use consentry::ids::{BasisId, BasisKey, RequestId};
use consentry::ledger::{Ledger, LedgerError, Status};
use consentry::log::{LogEntry, LogStore};
use consentry::notify::{Carried, Notices, Notifier, NotifyingLedger, Queued};
use consentry::signed::Verified;
use consentry::statement::Action;
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{Scenario, TWICE_A_MONTH, canteen_purpose, key_for, party_for, rfr};

use consentry::{Digest, SigningKey, Timestamp};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

pub const DAY: u64 = 86_400;

/// Receipt ids unique across processes: (tag, counter).
pub fn receipt_ids(tag: u64) -> impl Fn() -> Uuid + Sync {
    let next = AtomicU64::new(1);
    move || Uuid::from_u64_pair(tag, next.fetch_add(1, Ordering::Relaxed))
}

/// The scenario's provider's verifier on `store`, logging receipts, denials and statements.
pub fn verifier<'a, L: Ledger + ?Sized>(
    s: &'a Scenario,
    store: &'a L,
    ids: &'a (dyn Fn() -> Uuid + Sync),
) -> Verifier<'a, L> {
    Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, store).with_receipts(Receipts {
        key: s.key(s.dgfip),
        ids,
    })
}

/// The log operator's key and party.
pub fn operator() -> (SigningKey, PartyId) {
    (key_for("log-operator"), party_for("log-operator"))
}

/// A grant of the parent's to the city hall, with this access pattern and id.
pub fn grant_with(s: &Scenario, id: Uuid, access: AccessPattern) -> Vec<u8> {
    let grant = Grant::builder(BasisId(id), s.parent, s.mairie, canteen_purpose())
        .cover(s.dgfip, [rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(access)
        .data_range(DataRange::year(2025).expect("a year"))
        .retention_secs(365 * DAY)
        .build(&s.ceilings)
        .expect("within the ceilings");
    s.sign_grant(&grant)
}

/// A grant with a random id (unique across processes and runs, so that tests sharing one
/// database never meet each other's bases).
pub fn grant(s: &Scenario, access: AccessPattern) -> Vec<u8> {
    grant_with(s, Uuid::from_u128(random_u128()), access)
}

/// 128 bits unique per call: time, a counter and the process id, hashed.
pub fn random_u128() -> u128 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = Digest::of_parts(&[
        &t.to_be_bytes(),
        &n.to_be_bytes(),
        &std::process::id().to_be_bytes(),
    ]);
    u128::from_be_bytes(mixed.as_bytes()[..16].try_into().expect("16 bytes"))
}

/// Where a ledger keeps the state of this grant.
pub fn key_of(s: &Scenario, grant: &[u8]) -> BasisKey {
    Verified::<Grant>::parse_and_verify(grant, &s.directory)
        .expect("a valid grant")
        .ledger_key()
}

/// A fresh request on `basis` with a random id, signed.
pub fn request(s: &Scenario, basis: &[u8]) -> Vec<u8> {
    let mut r = s.request(basis);
    r = r
        .to_builder()
        .id(RequestId(Uuid::from_u128(random_u128())))
        .build()
        .expect("valid request");
    s.sign_request(&r)
}

/// Decides `request` on the signed `basis`, now.
pub fn decide<L: Ledger + ?Sized>(
    v: &Verifier<'_, L>,
    s: &Scenario,
    request: &[u8],
    basis: &[u8],
) -> Decision {
    v.decide(request, Basis::Signed(basis), s.now)
}

/// The only reason of a denial must be `ledger_unavailable`, with a storage error of this
/// kind; returns its message.
pub fn only_unavailable(d: &Decision, corrupt: bool) -> String {
    match d.reasons() {
        [Reason::LedgerUnavailable { error }] => match (error, corrupt) {
            (LedgerError::Corrupt(m), true) | (LedgerError::Unavailable(m), false) => m.clone(),
            (other, _) => panic!("ledger_unavailable with the wrong error: {other:?}"),
        },
        other => panic!("expected only ledger_unavailable, got {other:?}"),
    }
}

/// Fills a store: three allows, a pause, a denial on the paused grant; returns the log size.
pub fn some_history<L: Ledger + LogStore + ?Sized>(s: &Scenario, store: &L) -> u64 {
    let ids = receipt_ids(1);
    let v = verifier(s, store, &ids);
    for _ in 0..3 {
        let g = grant(s, AccessPattern::one_time());
        assert!(decide(&v, s, &request(s, &g), &g).is_allow());
    }
    let g = grant(s, AccessPattern::MONTHLY);
    assert_eq!(
        v.apply_statement(
            &s.statement(&g, Action::Pause, s.parent),
            Basis::Signed(&g),
            s.now
        ),
        Ok(Status::Paused { since: s.now })
    );
    assert_eq!(
        decide(&v, s, &request(s, &g), &g).reasons(),
        [Reason::Paused { since: s.now }]
    );
    store.log_size().expect("size")
}

/// The receipts in `entries`: (basis id, receipt bytes).
pub fn receipts_in(entries: &[Vec<u8>]) -> Vec<(BasisId, Vec<u8>)> {
    entries
        .iter()
        .filter_map(|e| match LogEntry::from_bytes(e).expect("an entry") {
            LogEntry::Receipt(r) => Some((r.claims().basis(), r.bytes().to_vec())),
            _ => None,
        })
        .collect()
}

/// Lower-case hexadecimal, for the lines a child process prints.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads [`hex`] back; `None` on anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// Deletion statements through a store: one transfer decided and logged by the verifier, its
/// consumer's deletion logged ([`log_deletion`]) and found again in the store's log and the
/// subject's history; a second deletion, one signed by another consumer and one about a
/// receipt never logged are refused with their codes and append nothing; the overdue report
/// over the store's log is computed and checks. Returns the deletion entry's index.
pub fn deletions_through<L: Ledger + LogStore>(s: &Scenario, store: &L) -> u64 {
    use consentry::deletion::Deletion;
    use consentry::log::{OverdueReport, log_deletion, verify_overdue};
    use consentry::signed::SignedPayload;

    let ids = receipt_ids(7);
    let v = verifier(s, store, &ids);
    let g = grant(s, AccessPattern::one_time());
    assert!(decide(&v, s, &request(s, &g), &g).is_allow());
    let size = store.log_size().expect("size");
    let receipt_entry = store.log_entry(size - 1).expect("the receipt");
    let LogEntry::Receipt(receipt) = LogEntry::from_bytes(&receipt_entry).expect("an entry") else {
        panic!("the allow's receipt is the last entry");
    };
    let deletion = Deletion::for_receipt(&receipt, s.now, s.now);
    let bytes = deletion.sign(s.key(s.mairie));
    log_deletion(store, &bytes, &s.directory).expect("the consumer's deletion is logged");
    assert_eq!(store.log_size(), Ok(size + 1));
    let logged =
        LogEntry::from_bytes(&store.log_entry(size).expect("the deletion")).expect("entry");
    assert!(matches!(&logged, LogEntry::Deletion(d) if d.bytes() == bytes));
    // The parent's history in this fresh store: the receipt, then its deletion.
    let history = store.access_history(s.parent, size + 1).expect("history");
    assert_eq!(
        history.items.iter().map(|i| i.index()).collect::<Vec<_>>(),
        [size - 1, size]
    );

    // Refusals: nothing is appended.
    let again = log_deletion(store, &bytes, &s.directory).expect_err("a second deletion");
    assert_eq!(again.code(), "deletion/already_deleted");
    let by_other = Deletion {
        consumer: s.other_consumer,
        ..deletion.clone()
    }
    .sign(s.key(s.other_consumer));
    let refused = log_deletion(store, &by_other, &s.directory).expect_err("another consumer");
    assert_eq!(refused.code(), "deletion/wrong_signer");
    let never = Deletion {
        receipt: Uuid::from_u128(random_u128()),
        receipt_digest: Digest::of(b"a receipt never logged"),
        ..deletion.clone()
    }
    .sign(s.key(s.mairie));
    let refused = log_deletion(store, &never, &s.directory).expect_err("an unknown receipt");
    assert_eq!(refused.code(), "deletion/unknown_receipt");
    assert_eq!(
        store.log_size(),
        Ok(size + 1),
        "no refused deletion is logged"
    );

    // The overdue query over the store's log: the deleted receipt is not listed, even after
    // its retention.
    let (key, op) = operator();
    let at = receipt.claims().retain_until().plus_secs(1);
    let head = store.sign_head(&key, op, at).expect("head");
    let report =
        OverdueReport::from_store(store, &head, op, &key.verifying_key(), at, &s.directory)
            .expect("report");
    let entries: Vec<Vec<u8>> = (0..size + 1)
        .map(|i| store.log_entry(i).expect("entry"))
        .collect();
    let confirmed =
        verify_overdue(&report, &entries, op, &key.verifying_key(), &s.directory).expect("checks");
    assert!(confirmed.iter().all(|o| o.index != size - 1));
    size
}

/// The two-provider canteen grant (DGFiP and CNAF), for notifications.
pub fn notified_grant(s: &Scenario) -> Vec<u8> {
    let grant = s
        .grant()
        .cover(s.cnaf, [consentry::testing::quotient_familial()])
        .build(&s.ceilings)
        .expect("within the ceilings");
    s.sign_grant(&grant)
}

/// A store's outbox across reopening (`open` opens the same store again): a statement applied
/// with notifications queues them with it (a refused one queues nothing), they are found again
/// after reopening, acknowledging removes them up to a number, and numbering goes on after the
/// last number given, acknowledged or not.
pub fn outbox_survives_reopen<L: NotifyingLedger>(s: &Scenario, open: impl Fn() -> L) {
    let grant = notified_grant(s);
    let notifier = Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    };
    let mut both = [s.cnaf, s.mairie];
    both.sort();
    let streams = |queued: &[Queued]| -> Vec<(PartyId, PartyId, u64)> {
        queued
            .iter()
            .map(|q| (q.emitter, q.recipient, q.seq))
            .collect()
    };
    let pause = s.statement(&grant, Action::Pause, s.parent);
    let first = {
        let store = open();
        let v = Verifier::new(s.dgfip, &s.directory, &s.ceilings, &store);
        let (status, queued) = v
            .apply_statement_notifying(&pause, &grant, s.now, &notifier)
            .expect("applied");
        assert_eq!(status, Status::Paused { since: s.now });
        assert_eq!(
            streams(&queued),
            both.iter().map(|r| (s.dgfip, *r, 1)).collect::<Vec<_>>()
        );
        // The same pause again is refused as such, and queues nothing.
        assert_eq!(
            v.apply_statement_notifying(&pause, &grant, s.now, &notifier)
                .map_err(|e| e.code()),
            Err("duplicate_statement")
        );
        assert_eq!(store.pending(10), Ok(queued.clone()));
        queued
    };
    {
        let store = open();
        assert_eq!(store.pending(10), Ok(first.clone()));
        assert_eq!(store.pending(1), Ok(first[..1].to_vec()));
        assert_eq!(store.acknowledge(s.dgfip, s.mairie, 1), Ok(1));
        assert_eq!(store.acknowledge(s.dgfip, s.mairie, 1), Ok(0));
    }
    let store = open();
    let left: Vec<Queued> = first
        .iter()
        .filter(|q| q.recipient != s.mairie)
        .cloned()
        .collect();
    assert_eq!(store.pending(10), Ok(left.clone()));
    assert_eq!(store.last_seq(s.dgfip, s.mairie), Ok(1));
    assert_eq!(
        store.last_seq(s.mairie, s.dgfip),
        Ok(0),
        "a stream never used"
    );
    let v = Verifier::new(s.dgfip, &s.directory, &s.ceilings, &store);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    let (_, second) = v
        .apply_statement_notifying(&resume, &grant, s.now, &notifier)
        .expect("applied");
    assert_eq!(
        streams(&second),
        both.iter().map(|r| (s.dgfip, *r, 2)).collect::<Vec<_>>()
    );
    // A notification queued on its own (a directory update's) takes the next numbers too.
    let notices = Notices {
        carried: Carried::DirectoryUpdate(vec![0xd2]),
        recipients: vec![s.mairie],
        issued_at: s.now,
    };
    let third = store.enqueue(&notifier, &notices).expect("queued");
    assert_eq!(streams(&third), [(s.dgfip, s.mairie, 3)]);
    assert_eq!(store.last_seq(s.dgfip, s.mairie), Ok(3));
    let mut all = left;
    all.extend(second);
    all.extend(third);
    assert_eq!(store.pending(10), Ok(all));
}

/// First sightings proven by existence evidence (`Ledger::record_existence`) are kept across
/// reopening, the earliest of them.
pub fn existence_survives_reopen<L: Ledger>(s: &Scenario, open: impl Fn() -> L) {
    let g = grant(s, AccessPattern::one_time());
    let (key, digest) = (key_of(s, &g), Digest::of(&g));
    let (early, late) = (s.now.plus_secs(100), s.now.plus_secs(700));
    {
        let store = open();
        assert_eq!(store.record_existence(key, digest, late), Ok(late));
        assert_eq!(store.record_existence(key, digest, early), Ok(early));
    }
    let store = open();
    assert_eq!(store.record_existence(key, digest, late), Ok(early));
}

/// A statement whose notification cannot be numbered leaves nothing: no log entry, no
/// notification, no state. `set_last` sets the counter of the stream from the provider to the
/// CNAF. At `i64::MAX` the stream is full (`ledger_unavailable`: SQLite finds it after the
/// statement's own writes, inside its savepoint); below zero it is corrupt (`ledger_corrupt`).
/// The same pause without notifications then applies.
pub fn a_stream_that_cannot_number_leaves_nothing<L: NotifyingLedger + LogStore>(
    s: &Scenario,
    store: &L,
    set_last: impl Fn(PartyId, PartyId, i64),
) {
    let grant = notified_grant(s);
    let ids = receipt_ids(4);
    let v = verifier(s, store, &ids);
    let notifier = Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    };
    let size = store.log_size().expect("size");
    let pause = s.statement(&grant, Action::Pause, s.parent);
    for (last, code, message) in [
        (
            i64::MAX,
            "ledger_unavailable",
            "notification stream is full",
        ),
        (-1, "ledger_corrupt", "a negative notification counter (-1)"),
    ] {
        set_last(s.dgfip, s.cnaf, last);
        let refused = v
            .apply_statement_notifying(&pause, &grant, s.now, &notifier)
            .expect_err("a stream that cannot number");
        assert_eq!(refused.code(), code, "{refused}");
        assert!(refused.to_string().contains(message), "{refused}");
        assert_eq!(store.log_size(), Ok(size));
        assert_eq!(store.pending(10), Ok(vec![]));
    }
    assert_eq!(
        v.apply_statement(&pause, Basis::Signed(&grant), s.now),
        Ok(Status::Paused { since: s.now })
    );
    assert_eq!(store.log_size(), Ok(size + 1));
}

/// Request ids are remembered until their time even where it crosses 2^63 seconds, the sign bit
/// of the database's integers: a request decided 100 s before that edge (remembered until 320 s
/// after it) is still refused as a replay after a use 90 s before the edge pruned what expired.
/// Returns the codes of the same request decided again 321 s after the edge, after a use then
/// (too old, and forgotten or not as the store keeps such times).
pub fn request_ids_are_kept_across_the_sign_bit<L: Ledger + ?Sized>(
    mut s: Scenario,
    store: &L,
) -> Vec<&'static str> {
    let edge = 1_u64 << 63;
    let at = |secs: i64| Timestamp::from_secs(edge.checked_add_signed(secs).expect("a time"));
    let ids = receipt_ids(6);
    s.now = at(-100);
    let g = grant(&s, TWICE_A_MONTH);
    let first = request(&s, &g);
    assert!(decide(&verifier(&s, store, &ids), &s, &first, &g).is_allow());
    s.now = at(-90);
    let other = grant(&s, AccessPattern::one_time());
    assert!(decide(&verifier(&s, store, &ids), &s, &request(&s, &other), &other).is_allow());
    s.now = at(-80);
    assert_eq!(
        decide(&verifier(&s, store, &ids), &s, &first, &g).codes(),
        ["replayed_request"]
    );
    s.now = at(321);
    let later = grant(&s, AccessPattern::one_time());
    assert!(decide(&verifier(&s, store, &ids), &s, &request(&s, &later), &later).is_allow());
    decide(&verifier(&s, store, &ids), &s, &first, &g).codes()
}

/// A subject's entries in the tree of size `n` are those with an index below `n`: never the
/// entry at `n`, which that tree does not hold, and none past the log's end. Every entry of
/// `some_history` is about the parent (read from the entries themselves), none about the child.
pub fn indices_stop_below_the_tree_size<L: Ledger + LogStore + ?Sized>(s: &Scenario, store: &L) {
    let size = some_history(s, store);
    for i in 0..size {
        let entry = LogEntry::from_bytes(&store.log_entry(i).expect("an entry")).expect("decoded");
        assert_eq!(entry.subject(), Some(s.parent), "entry {i}");
    }
    for n in 0..=size + 2 {
        assert_eq!(
            store.indices_about(&s.parent, n),
            Ok((0..n.min(size)).collect::<Vec<_>>()),
            "tree size {n}"
        );
        assert_eq!(store.indices_about(&s.child, n), Ok(Vec::new()));
    }
}
