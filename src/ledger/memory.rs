use super::{DecisionRecord, Ledger, LifecycleRefusal, Status, UsageWindow, UseRecord, UseRefusal};
use crate::digest::Digest;
use crate::ids::{BasisId, RequestId};
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
    latest_statement: Option<Timestamp>,
    statements: HashSet<Digest>,
}

#[derive(Debug, Default)]
struct State {
    bases: HashMap<BasisId, BasisState>,
    seen: HashMap<RequestId, Timestamp>,
    /// (forget_after, id), to prune `seen` in time order.
    expiry: BTreeSet<(Timestamp, RequestId)>,
    decisions: Vec<DecisionRecord>,
}

impl State {
    fn prune(&mut self, now: Timestamp) {
        while let Some(&(t, id)) = self.expiry.first() {
            if t >= now {
                break;
            }
            self.expiry.pop_first();
            self.seen.remove(&id);
        }
    }

    fn status(&self, basis: &BasisId) -> Status {
        self.bases
            .get(basis)
            .and_then(|b| b.status)
            .unwrap_or(Status::Active)
    }

    fn usage(&self, basis: &BasisId, window_start: Timestamp) -> u32 {
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
/// decisions not yet drained with [`InMemoryLedger::take_decisions`].
///
/// ```
/// use consentry::ledger::{InMemoryLedger, Ledger, Status};
/// use consentry::ids::BasisId;
/// let ledger = InMemoryLedger::new();
/// assert_eq!(ledger.status(&BasisId::from_bytes([1; 16])), Status::Active);
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
        // a single insert or counter change), so a poisoned lock is safe to reuse.
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
}

impl Ledger for InMemoryLedger {
    fn status(&self, basis: &BasisId) -> Status {
        self.lock().status(basis)
    }

    fn usage(&self, basis: &BasisId, window_start: Timestamp) -> u32 {
        self.lock().usage(basis, window_start)
    }

    fn seen(&self, request: &RequestId) -> bool {
        self.lock().seen.contains_key(request)
    }

    fn record_use(&self, r: &UseRecord) -> Result<(), Vec<UseRefusal>> {
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
            return Err(refusals);
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
        basis: BasisId,
        action: Action,
        statement: Digest,
        issued_at: Timestamp,
        at: Timestamp,
    ) -> Result<Status, LifecycleRefusal> {
        let mut s = self.lock();
        let b = s.bases.entry(basis).or_default();
        if let Some(Status::Revoked { at }) = b.status {
            return Err(LifecycleRefusal::AlreadyRevoked { at });
        }
        if b.statements.contains(&statement) {
            return Err(LifecycleRefusal::Duplicate);
        }
        if let Some(latest) = b.latest_statement.filter(|l| issued_at < *l) {
            return Err(LifecycleRefusal::OutOfOrder { latest });
        }
        let status = match (action, b.status.unwrap_or(Status::Active)) {
            (Action::Revoke, _) => Status::Revoked { at },
            (Action::Pause, Status::Paused { since }) => Status::Paused { since },
            (Action::Pause, _) => Status::Paused { since: at },
            (Action::Resume, _) => Status::Active,
        };
        b.status = Some(status);
        b.latest_statement = Some(issued_at);
        b.statements.insert(statement);
        Ok(status)
    }

    fn record_decision(&self, record: DecisionRecord) {
        self.lock().decisions.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn use_of(request: u8, at: u64) -> UseRecord {
        UseRecord {
            basis: BasisId::from_bytes([1; 16]),
            request: RequestId::from_bytes([request; 16]),
            forget_after: Timestamp(at + 300),
            window: None,
            at: Timestamp(at),
        }
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
            Err(vec![UseRefusal::Replayed])
        );
        // At 1300 + 1 second the first id (forget after 1300) is pruned, the second is kept.
        ledger.record_use(&use_of(3, 1301)).expect("third use");
        assert_eq!(ledger.remembered_requests(), 2);
        assert!(!ledger.seen(&RequestId::from_bytes([1; 16])));
        assert!(ledger.seen(&RequestId::from_bytes([2; 16])));
    }
}
