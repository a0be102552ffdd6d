//! Real threads deciding at once on one shared in-memory ledger: the atomic commit must hold.

use super::common::signed;
use consentry::decision::{Basis, Verifier};
use consentry::terms::AccessPattern;
use consentry::testing::Scenario;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const THREADS: usize = 8;

/// Decides every request of `batches` (one batch per thread) concurrently against the
/// scenario's ledger; returns the number of allows.
fn hammer(s: &Scenario, basis: &[u8], batches: &[Vec<Vec<u8>>], label: &str) -> usize {
    let allows = AtomicUsize::new(0);
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
            let allows = &allows;
            scope.spawn(move || {
                let verifier = Verifier::new(provider, directory, ceilings, ledger);
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

#[test]
fn one_time_grant_is_used_once() {
    let s = Scenario::canteen();
    let grant = signed(&s, s.grant().access(AccessPattern::OneTime));
    let batches: Vec<Vec<Vec<u8>>> = (0..THREADS)
        .map(|_| vec![s.sign_request(&s.request(&grant))])
        .collect();
    assert_eq!(hammer(&s, &grant, &batches, "one-time grant"), 1);
    let records = s.ledger.take_decisions();
    assert_eq!(records.len(), THREADS);
    assert_eq!(records.iter().filter(|r| r.allowed()).count(), 1);
    for r in records.iter().filter(|r| !r.allowed()) {
        assert_eq!(r.reasons(), ["one_time_used"]);
    }
}

#[test]
fn periodic_quota_holds_under_contention() {
    let s = Scenario::canteen();
    let grant = signed(
        &s,
        s.grant().access(AccessPattern::Periodic {
            max_uses: 2,
            period_secs: 30 * 86_400,
        }),
    );
    let batches: Vec<Vec<Vec<u8>>> = (0..THREADS)
        .map(|_| {
            (0..50)
                .map(|_| s.sign_request(&s.request(&grant)))
                .collect()
        })
        .collect();
    assert_eq!(hammer(&s, &grant, &batches, "periodic grant, 2 uses"), 2);
    let records = s.ledger.take_decisions();
    assert_eq!(records.len(), THREADS * 50);
    for r in records.iter().filter(|r| !r.allowed()) {
        assert_eq!(r.reasons(), ["frequency_exhausted"]);
    }
}

#[test]
fn same_request_id_allowed_once() {
    let s = Scenario::canteen();
    // A habilitation has no quota, so only replay detection stands between the threads.
    let h = s.habilitation();
    let basis = consentry::signed::SignedPayload::sign(&h, s.key(s.authority));
    let req = s.sign_request(&s.request(&basis));
    let batches: Vec<Vec<Vec<u8>>> = (0..THREADS).map(|_| vec![req.clone()]).collect();
    assert_eq!(hammer(&s, &basis, &batches, "same request id"), 1);
    for r in s.ledger.take_decisions().iter().filter(|r| !r.allowed()) {
        assert_eq!(r.reasons(), ["replayed_request"]);
    }
}
