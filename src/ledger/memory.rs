use super::{
    CommitError, DecisionRecord, Ledger, LedgerError, LifecycleRefusal, Observation, Snapshot,
    StatementRecord, Status, UsageWindow, UseRecord, UseRefusal,
};
use crate::digest::Digest;
use crate::ids::{BasisKey, ReplayKey};
use crate::statement::Action;
use crate::time::Timestamp;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

/// Per-basis state.
#[derive(Debug, Default)]
struct BasisState {
    status: Option<Status>,
    /// (window start, uses in that window): only the latest window is kept, and the
    /// windows before it count as used up.
    usage: Option<(Timestamp, u32)>,
    /// Issue time of the latest pause applied while paused: no resume issued before it may
    /// lift the pause.
    pause_issued_at: Option<Timestamp>,
}

#[derive(Debug, Default)]
struct State {
    bases: HashMap<BasisKey, BasisState>,
    /// Digests of the statements applied (a statement's digest names it, whatever its basis).
    statements: HashSet<Digest>,
    /// First sighting of each basis's exact bytes.
    first_seen: HashMap<Digest, Timestamp>,
    seen: HashMap<ReplayKey, Timestamp>,
    /// (forget_after, key), to prune `seen` in time order.
    expiry: BTreeSet<(Timestamp, ReplayKey)>,
    decisions: Vec<DecisionRecord>,
}

impl State {
    fn prune(&mut self, now: Timestamp) {
        while let Some(&(t, key)) = self.expiry.first() {
            if t >= now {
                break;
            }
            self.expiry.pop_first();
            self.seen.remove(&key);
        }
    }

    fn status(&self, basis: &BasisKey) -> Status {
        self.bases
            .get(basis)
            .and_then(|b| b.status)
            .unwrap_or(Status::Active)
    }

    fn usage(&self, basis: &BasisKey, window_start: Timestamp) -> u32 {
        match self.bases.get(basis).and_then(|b| b.usage) {
            Some((start, n)) if start == window_start => n,
            // Only the latest window is kept: an earlier one (a decision whose clock lags
            // behind one already recorded) had its count forgotten, so it counts as used up
            // rather than as unused, which would let both windows exceed their quota.
            Some((start, _)) if window_start < start => u32::MAX,
            _ => 0,
        }
    }
}

/// A ledger in memory, exact under concurrency (one lock around all state), with memory
/// bounded by the number of bases plus the requests seen within the freshness window plus the
/// decisions not yet drained with [`InMemoryLedger::take_decisions`]. It never fails.
///
/// ```
/// use consentry::ledger::{InMemoryLedger, Ledger};
/// let ledger = InMemoryLedger::new();
/// assert_eq!(ledger.remembered_requests(), 0);
/// ```
#[derive(Debug, Default)]
pub struct InMemoryLedger {
    state: Mutex<State>,
}

impl InMemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated (every update is
        // made after all its checks, by plain inserts and assignments), so a poisoned lock is
        // safe to reuse.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes and returns the decisions kept so far (to be written to the log).
    pub fn take_decisions(&self) -> Vec<DecisionRecord> {
        std::mem::take(&mut self.lock().decisions)
    }

    /// Number of request ids currently remembered.
    pub fn remembered_requests(&self) -> usize {
        self.lock().seen.len()
    }

    /// The lifecycle state of a basis.
    pub fn status(&self, basis: &BasisKey) -> Status {
        self.lock().status(basis)
    }

    /// When these exact basis bytes were first seen, if ever.
    pub fn first_seen(&self, basis_digest: &Digest) -> Option<Timestamp> {
        self.lock().first_seen.get(basis_digest).copied()
    }
}

impl Ledger for InMemoryLedger {
    fn observe(&self, o: &Observation) -> Result<Snapshot, LedgerError> {
        let mut s = self.lock();
        let first_seen = *s.first_seen.entry(o.basis_digest).or_insert(o.at);
        Ok(Snapshot {
            status: s.status(&o.basis),
            uses: o.window_start.map_or(0, |w| s.usage(&o.basis, w)),
            replayed: o.request.is_some_and(|r| s.seen.contains_key(&r)),
            first_seen,
        })
    }

    fn record_use(&self, r: &UseRecord) -> Result<(), CommitError<Vec<UseRefusal>>> {
        let mut s = self.lock();
        s.prune(r.at);
        let mut refusals = Vec::new();
        match s.status(&r.basis) {
            Status::Active => {}
            Status::Paused { since } => refusals.push(UseRefusal::Paused { since }),
            Status::Revoked { at } => refusals.push(UseRefusal::Revoked { at }),
        }
        if s.seen.contains_key(&r.request) {
            refusals.push(UseRefusal::Replayed);
        }
        if let Some(UsageWindow {
            start, max_uses, ..
        }) = r.window
        {
            if s.usage(&r.basis, start) >= max_uses {
                refusals.push(UseRefusal::QuotaExhausted);
            }
        }
        if !refusals.is_empty() {
            return Err(CommitError::Refused(refusals));
        }
        s.seen.insert(r.request, r.forget_after);
        s.expiry.insert((r.forget_after, r.request));
        if let Some(w) = r.window {
            let n = s.usage(&r.basis, w.start);
            s.bases.entry(r.basis).or_default().usage = Some((w.start, n + 1));
        }
        Ok(())
    }

    fn record_statement(
        &self,
        r: &StatementRecord,
    ) -> Result<Status, CommitError<LifecycleRefusal>> {
        let mut s = self.lock();
        let current = s.status(&r.basis);
        if let Status::Revoked { at } = current {
            return Err(CommitError::Refused(LifecycleRefusal::AlreadyRevoked {
                at,
            }));
        }
        if s.statements.contains(&r.statement) {
            return Err(CommitError::Refused(LifecycleRefusal::Duplicate));
        }
        let b = s.bases.entry(r.basis).or_default();
        let (status, pause_issued_at) = match (r.action, current) {
            (Action::Revoke, _) => (Status::Revoked { at: r.at }, None),
            (Action::Pause, Status::Paused { since }) => (
                Status::Paused { since },
                b.pause_issued_at.max(Some(r.issued_at)),
            ),
            // Active (a revoked basis returned above).
            (Action::Pause, _) => (Status::Paused { since: r.at }, Some(r.issued_at)),
            (Action::Resume, _) => match b.pause_issued_at {
                Some(pause_issued_at) if r.issued_at < pause_issued_at => {
                    return Err(CommitError::Refused(
                        LifecycleRefusal::ResumePredatesPause { pause_issued_at },
                    ));
                }
                _ => (Status::Active, None),
            },
        };
        b.status = Some(status);
        b.pause_issued_at = pause_issued_at;
        s.statements.insert(r.statement);
        Ok(status)
    }

    fn record_existence(
        &self,
        basis_digest: Digest,
        at: Timestamp,
    ) -> Result<Timestamp, LedgerError> {
        let mut s = self.lock();
        let first = s.first_seen.entry(basis_digest).or_insert(at);
        *first = (*first).min(at);
        Ok(*first)
    }

    fn record_decision(&self, record: DecisionRecord) -> Result<(), LedgerError> {
        self.lock().decisions.push(record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::PartyId;
    use crate::ids::{BasisId, BasisKind, RequestId};

    fn basis() -> BasisKey {
        BasisKey::new(
            BasisKind::Grant,
            PartyId::from_bytes([7; 16]),
            BasisId::from_bytes([1; 16]),
        )
    }

    fn use_of(request: u8, at: u64) -> UseRecord {
        UseRecord {
            basis: basis(),
            request: ReplayKey::new(
                PartyId::from_bytes([9; 16]),
                RequestId::from_bytes([request; 16]),
            ),
            forget_after: Timestamp(at + 300),
            window: None,
            at: Timestamp(at),
        }
    }

    fn seen(ledger: &InMemoryLedger, request: u8) -> bool {
        let o = Observation {
            basis: basis(),
            basis_digest: Digest::of(b"basis"),
            request: Some(use_of(request, 0).request),
            window_start: None,
            at: Timestamp(0),
        };
        ledger.observe(&o).map(|s| s.replayed) == Ok(true)
    }

    /// Request ids are remembered until their `forget_after`, then pruned by the next use, so
    /// that memory follows the freshness window and not the history.
    #[test]
    fn request_ids_are_remembered_until_they_expire() {
        let ledger = InMemoryLedger::new();
        assert_eq!(ledger.remembered_requests(), 0);
        ledger.record_use(&use_of(1, 1000)).expect("first use");
        ledger.record_use(&use_of(2, 1200)).expect("second use");
        assert_eq!(ledger.remembered_requests(), 2);
        assert_eq!(
            ledger.record_use(&use_of(1, 1300)),
            Err(CommitError::Refused(vec![UseRefusal::Replayed]))
        );
        // At 1300 + 1 second the first id (forget after 1300) is pruned, the second is kept.
        ledger.record_use(&use_of(3, 1301)).expect("third use");
        assert_eq!(ledger.remembered_requests(), 2);
        assert!(!seen(&ledger, 1));
        assert!(seen(&ledger, 2));
    }

    /// The first sighting is recorded by the first observation and kept; evidence of an earlier
    /// existence moves it back, never forward.
    #[test]
    fn first_sightings_only_move_back() {
        let ledger = InMemoryLedger::new();
        let digest = Digest::of(b"basis");
        let observe = |at| {
            ledger
                .observe(&Observation {
                    basis: basis(),
                    basis_digest: digest,
                    request: None,
                    window_start: None,
                    at: Timestamp(at),
                })
                .map(|s| s.first_seen)
        };
        assert_eq!(observe(500), Ok(Timestamp(500)));
        assert_eq!(observe(900), Ok(Timestamp(500)));
        assert_eq!(
            ledger.record_existence(digest, Timestamp(700)),
            Ok(Timestamp(500))
        );
        assert_eq!(
            ledger.record_existence(digest, Timestamp(100)),
            Ok(Timestamp(100))
        );
        assert_eq!(observe(1000), Ok(Timestamp(100)));
    }
}
