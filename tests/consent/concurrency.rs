//! The commit point under contention: every commit-time refusal forced deterministically by a
//! ledger that lets a competitor act between a decision's read and its commit, then real
//! threads started together on a barrier, many rounds, with the invariants asserted.

use super::common::{default_grant, signed};
use consentry::Digest;
use consentry::Timestamp;
use consentry::decision::{Basis, Decision, Reason, Verifier};
use consentry::ids::BasisKey;
use consentry::ledger::{
    CommitError, DecisionRecord, InMemoryLedger, Ledger, LedgerError, LifecycleRefusal,
    Observation, Snapshot, StatementRecord, Status, UseRecord, UseRefusal,
};
use consentry::statement::Action;
use consentry::terms::AccessPattern;
use consentry::testing::{Scenario, TWICE_A_MONTH};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Instant;

const THREADS: usize = 8;

// ------------------------------------------------------------ forced interleavings

/// The scenario's ledger, with one competing action run between the next decision's read
/// (`observe`) and its commit (`record_use`): the commit-time race, made deterministic.
struct Interleaved<'a> {
    inner: &'a InMemoryLedger,
    competitor: Mutex<Option<Box<dyn FnOnce() + Send + 'a>>>,
}

impl<'a> Interleaved<'a> {
    fn new(inner: &'a InMemoryLedger, competitor: impl FnOnce() + Send + 'a) -> Self {
        Interleaved {
            inner,
            competitor: Mutex::new(Some(Box::new(competitor))),
        }
    }
}

impl Ledger for Interleaved<'_> {
    fn observe(&self, o: &Observation) -> Result<Snapshot, LedgerError> {
        self.inner.observe(o)
    }
    fn record_use(&self, r: &UseRecord<'_>) -> Result<(), CommitError<Vec<UseRefusal>>> {
        let competitor = self.competitor.lock().unwrap().take();
        if let Some(competitor) = competitor {
            competitor();
        }
        self.inner.record_use(r)
    }
    fn record_statement(
        &self,
        r: &StatementRecord<'_>,
    ) -> Result<Status, CommitError<LifecycleRefusal>> {
        self.inner.record_statement(r)
    }
    fn record_existence(
        &self,
        b: BasisKey,
        d: Digest,
        at: Timestamp,
    ) -> Result<Timestamp, LedgerError> {
        self.inner.record_existence(b, d, at)
    }
    fn record_decision(&self, r: DecisionRecord, e: Option<&[u8]>) -> Result<(), LedgerError> {
        self.inner.record_decision(r, e)
    }
}

/// A verifier of the scenario's provider on its ledger, from parts that may cross threads (the
/// scenario itself may not).
fn verifier(s: &Scenario) -> Verifier<'_, InMemoryLedger> {
    Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &s.ledger)
}

/// Decides `request` on `basis` while `competitor` acts between the read and the commit.
fn decide_racing(
    s: &Scenario,
    request: &[u8],
    basis: &[u8],
    competitor: impl FnOnce() + Send,
) -> Decision {
    let ledger = Interleaved::new(&s.ledger, competitor);
    Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &ledger).decide(
        request,
        Basis::Signed(basis),
        s.now,
    )
}

#[test]
fn commit_refuses_a_one_time_grant_used_meanwhile() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(AccessPattern::one_time()));
    let (mine, theirs) = (
        s.sign_request(&s.request(&grant)),
        s.sign_request(&s.request(&grant)),
    );
    let (competitor, now) = (verifier(&s), s.now);
    let d = decide_racing(&s, &mine, &grant, || {
        assert!(
            competitor
                .decide(&theirs, Basis::Signed(&grant), now)
                .is_allow()
        );
    });
    assert_eq!(d.reasons(), [Reason::OneTimeUsed]);
}

#[test]
fn commit_refuses_a_period_used_up_meanwhile() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let (mine, theirs) = (
        s.sign_request(&s.request(&grant)),
        s.sign_request(&s.request(&grant)),
    );
    let (competitor, now) = (verifier(&s), s.now);
    let d = decide_racing(&s, &mine, &grant, || {
        assert!(
            competitor
                .decide(&theirs, Basis::Signed(&grant), now)
                .is_allow()
        );
    });
    assert_eq!(
        d.reasons(),
        [Reason::FrequencyExhausted {
            next_allowed: s.now.plus_secs(30 * 86_400)
        }]
    );
}

#[test]
fn commit_refuses_a_basis_paused_meanwhile() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mine = s.sign_request(&s.request(&grant));
    let pause = s.statement(&grant, Action::Pause, s.parent);
    let (competitor, now) = (verifier(&s), s.now);
    let d = decide_racing(&s, &mine, &grant, || {
        assert!(
            competitor
                .apply_statement(&pause, Basis::Signed(&grant), now)
                .is_ok()
        );
    });
    assert_eq!(d.reasons(), [Reason::Paused { since: s.now }]);
}

#[test]
fn commit_refuses_a_basis_revoked_meanwhile() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let mine = s.sign_request(&s.request(&grant));
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    let (competitor, now) = (verifier(&s), s.now);
    let d = decide_racing(&s, &mine, &grant, || {
        assert!(
            competitor
                .apply_statement(&revoke, Basis::Signed(&grant), now)
                .is_ok()
        );
    });
    assert_eq!(d.reasons(), [Reason::Revoked { at: s.now }]);
}

#[test]
fn commit_refuses_a_request_id_used_meanwhile() {
    let s = Scenario::canteen();
    // A habilitation has no quota: only the request id is contended.
    let h = consentry::signed::SignedPayload::sign(&s.habilitation(), s.key(s.authority));
    let request = s.sign_request(&s.request(&h));
    let (competitor, now) = (verifier(&s), s.now);
    let d = decide_racing(&s, &request, &h, || {
        assert!(
            competitor
                .decide(&request, Basis::Signed(&h), now)
                .is_allow()
        );
    });
    let id = s.ledger.take_decisions()[0]
        .request()
        .expect("a verified request");
    assert_eq!(d.reasons(), [Reason::ReplayedRequest { id }]);
}

/// With receipts on both sides, the decision that loses the race at the commit point leaves
/// no receipt in the log: one receipt (the winner's), then the loser's denial.
#[test]
fn a_receipt_refused_at_the_commit_point_is_never_logged() {
    use consentry::decision::Receipts;
    use consentry::log::{EntryKind, LogEntry, LogStore};
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(AccessPattern::one_time()));
    let (mine, theirs) = (
        s.sign_request(&s.request(&grant)),
        s.sign_request(&s.request(&grant)),
    );
    let key = consentry::testing::key_for("dgfip");
    let ids = super::common::receipt_ids();
    let receipts = Receipts {
        key: &key,
        ids: &ids,
    };
    let competitor = verifier(&s).with_receipts(receipts);
    let ledger = Interleaved::new(&s.ledger, || {
        assert!(
            competitor
                .decide(&theirs, Basis::Signed(&grant), s.now)
                .is_allow()
        );
    });
    let d = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &ledger)
        .with_receipts(receipts)
        .decide(&mine, Basis::Signed(&grant), s.now);
    assert_eq!(d.reasons(), [Reason::OneTimeUsed]);
    let kinds: Vec<_> = (0..s.ledger.log_size().expect("size"))
        .map(|i| {
            LogEntry::from_bytes(&s.ledger.log_entry(i).expect("entry"))
                .expect("decodes")
                .kind()
        })
        .collect();
    assert_eq!(kinds, [EntryKind::Receipt, EntryKind::Denial]);
}

// ------------------------------------------------------------ real threads

/// Decides every request of `batches` (one batch per thread) concurrently against the
/// scenario's ledger, every thread released at once by a barrier; returns the number of
/// allows.
fn hammer(s: &Scenario, basis: &[u8], batches: &[Vec<Vec<u8>>], label: &str) -> usize {
    let allows = AtomicUsize::new(0);
    let barrier = Barrier::new(batches.len());
    let (provider, directory, ceilings, ledger, now) = (
        s.verifier_provider,
        &s.directory,
        &s.ceilings,
        &s.ledger,
        s.now,
    );
    let start = Instant::now();
    std::thread::scope(|scope| {
        for batch in batches {
            let (allows, barrier) = (&allows, &barrier);
            scope.spawn(move || {
                let verifier = Verifier::new(provider, directory, ceilings, ledger);
                barrier.wait();
                for req in batch {
                    if verifier.decide(req, Basis::Signed(basis), now).is_allow() {
                        allows.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let allows = allows.into_inner();
    let requests: usize = batches.iter().map(Vec::len).sum();
    eprintln!(
        "{label}: {} threads, {requests} requests, {allows} allows, {:?}",
        batches.len(),
        start.elapsed()
    );
    allows
}

/// Rounds of each thread test: each round is a new grant and new requests.
const ROUNDS: usize = 25;

#[test]
fn one_time_grant_is_used_once() {
    for round in 0..ROUNDS {
        let s = Scenario::canteen();
        let grant = signed(&s, s.grant().access(AccessPattern::one_time()));
        let batches: Vec<Vec<Vec<u8>>> = (0..THREADS)
            .map(|_| vec![s.sign_request(&s.request(&grant))])
            .collect();
        assert_eq!(
            hammer(&s, &grant, &batches, "one-time grant"),
            1,
            "round {round}"
        );
        let records = s.ledger.take_decisions();
        assert_eq!(records.len(), THREADS);
        assert_eq!(records.iter().filter(|r| r.allowed()).count(), 1);
        for r in records.iter().filter(|r| !r.allowed()) {
            assert_eq!(r.reasons(), ["one_time_used"], "round {round}");
        }
    }
}

#[test]
fn periodic_quota_holds_under_contention() {
    for round in 0..ROUNDS {
        let s = Scenario::canteen();
        let grant = signed(
            &s,
            s.grant()
                .access(AccessPattern::periodic(2, 30 * 86_400).unwrap()),
        );
        let batches: Vec<Vec<Vec<u8>>> = (0..THREADS)
            .map(|_| (0..4).map(|_| s.sign_request(&s.request(&grant))).collect())
            .collect();
        assert_eq!(
            hammer(&s, &grant, &batches, "periodic grant, 2 uses"),
            2,
            "round {round}"
        );
        let records = s.ledger.take_decisions();
        assert_eq!(records.len(), THREADS * 4);
        for r in records.iter().filter(|r| !r.allowed()) {
            assert_eq!(r.reasons(), ["frequency_exhausted"], "round {round}");
        }
    }
}

#[test]
fn same_request_id_allowed_once() {
    for round in 0..ROUNDS {
        let s = Scenario::canteen();
        // A habilitation has no quota, so only replay detection stands between the threads.
        let h = s.habilitation();
        let basis = consentry::signed::SignedPayload::sign(&h, s.key(s.authority));
        let req = s.sign_request(&s.request(&basis));
        let batches: Vec<Vec<Vec<u8>>> = (0..THREADS).map(|_| vec![req.clone()]).collect();
        assert_eq!(
            hammer(&s, &basis, &batches, "same request id"),
            1,
            "round {round}"
        );
        for r in s.ledger.take_decisions().iter().filter(|r| !r.allowed()) {
            assert_eq!(r.reasons(), ["replayed_request"], "round {round}");
        }
    }
}

/// Decisions and a revocation race: at most the quota is allowed, every denial is for the
/// revocation or the quota (or both), and once the revocation is applied nothing is allowed.
#[test]
fn a_revocation_racing_decisions_ends_them() {
    for round in 0..ROUNDS {
        let s = Scenario::canteen();
        let grant = signed(
            &s,
            s.grant()
                .access(AccessPattern::periodic(2, 30 * 86_400).unwrap()),
        );
        let revoke = s.statement(&grant, Action::Revoke, s.parent);
        let requests: Vec<Vec<u8>> = (0..THREADS - 1)
            .map(|_| s.sign_request(&s.request(&grant)))
            .collect();
        let barrier = Barrier::new(THREADS);
        let (v, now) = (verifier(&s), s.now);
        let revoked = std::thread::scope(|scope| {
            for req in &requests {
                let (v, grant, barrier) = (&v, &grant, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    v.decide(req, Basis::Signed(grant), now)
                });
            }
            barrier.wait();
            v.apply_statement(&revoke, Basis::Signed(&grant), now)
        });
        assert_eq!(revoked, Ok(Status::Revoked { at: s.now }), "round {round}");
        let records = s.ledger.take_decisions();
        assert!(records.iter().filter(|r| r.allowed()).count() <= 2);
        for r in records.iter().filter(|r| !r.allowed()) {
            assert!(
                matches!(
                    r.reasons(),
                    ["revoked"] | ["frequency_exhausted"] | ["revoked", "frequency_exhausted"]
                ),
                "round {round}: {:?}",
                r.reasons()
            );
        }
        assert_eq!(
            s.decide(&s.sign_request(&s.request(&grant)), &grant)
                .codes()
                .first(),
            Some(&"revoked")
        );
    }
}

// ------------------------------------------------------------ batches

/// A queue mixing allows and denials: four fresh grants used once each, a request presented
/// with a fifth grant it does not name, a malformed request, and a second request on the first
/// grant (its month's use taken).
fn queue(s: &Scenario) -> Vec<(Vec<u8>, Vec<u8>)> {
    let grants: Vec<Vec<u8>> = (0..5).map(|_| default_grant(s)).collect();
    let mut queue: Vec<(Vec<u8>, Vec<u8>)> = grants[..4]
        .iter()
        .map(|g| (s.sign_request(&s.request(g)), g.clone()))
        .collect();
    queue.push((s.sign_request(&s.request(&grants[1])), grants[4].clone()));
    queue.push((b"not a request".to_vec(), grants[4].clone()));
    queue.push((s.sign_request(&s.request(&grants[0])), grants[0].clone()));
    queue
}

fn as_queue(items: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], Basis<'_>)> {
    items
        .iter()
        .map(|(r, g)| (&r[..], Basis::Signed(g)))
        .collect()
}

#[test]
fn a_batch_gives_the_decisions_of_decide_in_queue_order() {
    // Two identical casts: one decides one by one, the other in a batch on three threads.
    let (one, batch) = (Scenario::canteen(), Scenario::canteen());
    let (q1, q2) = (queue(&one), queue(&batch));
    assert_eq!(q1, q2, "the kit is deterministic");
    let sequential: Vec<Decision> = q1.iter().map(|(r, g)| one.decide(r, g)).collect();
    let three = std::num::NonZeroUsize::new(3).unwrap();
    let batched = batch
        .verifier()
        .decide_batch(&as_queue(&q2), batch.now, three);
    // The last request competes with the first for one monthly use: whichever thread commits
    // first wins, so only the other six are compared exactly.
    assert_eq!(batched[1..6], sequential[1..6]);
    assert_eq!(
        sequential.iter().map(Decision::codes).collect::<Vec<_>>(),
        [
            vec![],
            vec![],
            vec![],
            vec![],
            vec!["basis_mismatch", "basis_hash_mismatch"],
            vec!["malformed"],
            vec!["frequency_exhausted"],
        ]
    );
    let first_and_last = [&batched[0], &batched[6]];
    assert_eq!(first_and_last.iter().filter(|d| d.is_allow()).count(), 1);
    assert!(
        first_and_last
            .iter()
            .all(|d| d.is_allow() || d.codes() == ["frequency_exhausted"])
    );
    // Every decision was recorded, as `decide` records it.
    assert_eq!(batch.ledger.take_decisions().len(), 7);
}

#[test]
fn a_batch_on_one_grant_allows_exactly_its_quota() {
    let threads = std::num::NonZeroUsize::new(THREADS).unwrap();
    for round in 0..20 {
        let s = Scenario::canteen();
        // At most twice in 30 days: the canteen ceiling's own pattern.
        let grant = signed(&s, s.grant().access(TWICE_A_MONTH));
        let requests: Vec<Vec<u8>> = (0..32)
            .map(|_| s.sign_request(&s.request(&grant)))
            .collect();
        let queue: Vec<(&[u8], Basis<'_>)> = requests
            .iter()
            .map(|r| (&r[..], Basis::Signed(&grant)))
            .collect();
        let decisions = s.verifier().decide_batch(&queue, s.now, threads);
        assert_eq!(decisions.len(), 32);
        assert_eq!(
            decisions.iter().filter(|d| d.is_allow()).count(),
            2,
            "round {round}"
        );
        assert!(
            decisions
                .iter()
                .all(|d| d.is_allow() || d.codes() == ["frequency_exhausted"]),
            "round {round}"
        );
        // In queue order: each allow is the request at its position.
        for (d, r) in decisions.iter().zip(&requests) {
            if let Some(a) = d.allowed() {
                assert_eq!(a.request_digest(), Digest::of(r));
            }
        }
    }
}
