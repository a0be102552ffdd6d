use super::{
    BasisState, CommitError, DecisionRecord, Ledger, LedgerError, LifecycleRefusal, Observation,
    Snapshot, StatementRecord, Status, UseRecord, UseRefusal,
};
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::{BasisKey, ReplayKey};
use crate::keys::SigningKey;
use crate::log::{
    ConsistencyProof, InclusionProof, LogEntry, LogError, LogStore, ProofError, TransferLog,
};
use crate::time::Timestamp;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

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
    log: TransferLog,
    latest_head: Option<Vec<u8>>,
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

    fn basis(&self, key: &BasisKey) -> BasisState {
        self.bases.get(key).copied().unwrap_or_default()
    }

    /// Appends a log entry the verifier made. Its bytes come from the verifier's own encoder,
    /// so they decode; checking anyway keeps a caller's bad bytes out of the log.
    fn append(&mut self, entry: Option<&[u8]>) -> Result<(), LedgerError> {
        if let Some(bytes) = entry {
            let entry = LogEntry::from_bytes(bytes)
                .map_err(|e| LedgerError::Corrupt(format!("log entry refused: {e}")))?;
            self.log.append(&entry);
        }
        Ok(())
    }
}

/// A ledger in memory, exact under concurrency (one lock around all state), with memory
/// bounded by the number of bases plus the requests seen within the freshness window plus the
/// decisions not yet drained with [`InMemoryLedger::take_decisions`] plus its transfer log. It
/// never fails, and forgets everything when dropped: for tests, the auditor's kit and
/// single-process tools. A service uses a durable store.
///
/// ```
/// use consentry::ledger::{InMemoryLedger, Ledger};
/// use consentry::log::LogStore;
/// let ledger = InMemoryLedger::new();
/// assert_eq!(ledger.remembered_requests(), 0);
/// assert_eq!(ledger.log_size(), Ok(0));
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

    /// Removes and returns the decisions kept so far.
    pub fn take_decisions(&self) -> Vec<DecisionRecord> {
        std::mem::take(&mut self.lock().decisions)
    }

    /// Number of request ids currently remembered.
    pub fn remembered_requests(&self) -> usize {
        self.lock().seen.len()
    }

    /// The lifecycle state of a basis.
    pub fn status(&self, basis: &BasisKey) -> Status {
        self.lock().basis(basis).status()
    }

    /// When these exact basis bytes were first seen, if ever.
    pub fn first_seen(&self, basis_digest: &Digest) -> Option<Timestamp> {
        self.lock().first_seen.get(basis_digest).copied()
    }

    /// A copy of the transfer log the verifier appended to.
    pub fn transfer_log(&self) -> TransferLog {
        self.lock().log.clone()
    }
}

impl Ledger for InMemoryLedger {
    fn observe(&self, o: &Observation) -> Result<Snapshot, LedgerError> {
        let mut s = self.lock();
        let first_seen = *s.first_seen.entry(o.basis_digest).or_insert(o.at);
        let basis = s.basis(&o.basis);
        Ok(Snapshot {
            status: basis.status(),
            uses: o.window_start.map_or(0, |w| basis.uses(w)),
            replayed: o.request.is_some_and(|r| s.seen.contains_key(&r)),
            first_seen,
        })
    }

    fn record_use(&self, r: &UseRecord<'_>) -> Result<(), CommitError<Vec<UseRefusal>>> {
        let mut s = self.lock();
        s.prune(r.at);
        let next = s
            .basis(&r.basis)
            .check_use(s.seen.contains_key(&r.request), r.window)
            .map_err(CommitError::Refused)?;
        s.append(r.log_entry)?;
        s.seen.insert(r.request, r.forget_after);
        s.expiry.insert((r.forget_after, r.request));
        s.bases.insert(r.basis, next);
        Ok(())
    }

    fn record_statement(
        &self,
        r: &StatementRecord<'_>,
    ) -> Result<Status, CommitError<LifecycleRefusal>> {
        let mut s = self.lock();
        let next = s
            .basis(&r.basis)
            .apply(r, s.statements.contains(&r.statement))
            .map_err(CommitError::Refused)?;
        s.append(r.log_entry)?;
        s.bases.insert(r.basis, next);
        s.statements.insert(r.statement);
        Ok(next.status())
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

    fn record_decision(
        &self,
        record: DecisionRecord,
        log_entry: Option<&[u8]>,
    ) -> Result<(), LedgerError> {
        let mut s = self.lock();
        s.append(log_entry)?;
        s.decisions.push(record);
        Ok(())
    }
}

impl LogStore for InMemoryLedger {
    fn log_size(&self) -> Result<u64, LogError> {
        Ok(self.lock().log.len())
    }

    fn log_entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let s = self.lock();
        s.log
            .entry(index)
            .map(<[u8]>::to_vec)
            .ok_or(LogError::Proof(ProofError::IndexOutOfRange {
                index,
                size: s.log.len(),
            }))
    }

    fn log_root_at(&self, size: u64) -> Result<Digest, LogError> {
        self.lock().log.root_at(size)
    }

    fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<InclusionProof, LogError> {
        self.lock().log.inclusion_proof(index, tree_size)
    }

    fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, LogError> {
        self.lock().log.consistency_proof(old_size, new_size)
    }

    fn indices_about(&self, subject: &PartyId, tree_size: u64) -> Result<Vec<u64>, LogError> {
        let s = self.lock();
        let all = s.log.indices_about(subject);
        Ok(all[..all.partition_point(|&i| i < tree_size)].to_vec())
    }

    fn sign_head(
        &self,
        key: &SigningKey,
        operator: PartyId,
        at: Timestamp,
    ) -> Result<Vec<u8>, LogError> {
        // The log only grows in memory: every head is consistent with the ones before.
        let mut s = self.lock();
        let head = s.log.sign_head(key, operator, at);
        s.latest_head = Some(head.clone());
        Ok(head)
    }

    fn latest_head(&self) -> Result<Option<Vec<u8>>, LogError> {
        Ok(self.lock().latest_head.clone())
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

    fn use_of(request: u8, at: u64) -> UseRecord<'static> {
        UseRecord {
            basis: basis(),
            request: ReplayKey::new(
                PartyId::from_bytes([9; 16]),
                RequestId::from_bytes([request; 16]),
            ),
            forget_after: Timestamp(at + 300),
            window: None,
            at: Timestamp(at),
            log_entry: None,
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
