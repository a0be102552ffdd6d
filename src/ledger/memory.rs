use super::{
    BasisState, CommitError, DecisionRecord, DeletionRecord, Ledger, LedgerError, LifecycleRefusal,
    Observation, Snapshot, StatementRecord, Status, UseRecord, UseRefusal,
};
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::ids::{BasisKey, ReplayKey};
use crate::keys::SigningKey;
use crate::log::{
    ConsistencyProof, InclusionProof, LogEntry, LogError, LogStore, ProofError, TransferLog,
};
use crate::notify::{Notices, Notifier, NotifyingLedger, Outbox, OutboxState, Queued};
use crate::time::Timestamp;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What the ledger keeps about every basis it has met, packed to 37 bytes with no padding (the
/// per-basis cost that bounds its memory): the first bytes seen under its key and when, and its
/// usage in the latest period. The rarer lifecycle state lives in [`State::lifecycle`].
#[derive(Clone, Copy, Debug, Default)]
struct Record {
    /// Whether `sighted` and `first_seen` are set.
    has_sighting: bool,
    /// The first 16 bytes of the digest of the first signed bytes seen under this key. Other
    /// bytes under the same key are kept by full digest in [`State::other_sightings`]. Sixteen
    /// bytes suffice: bytes sharing the prefix of bytes already seen would be a second preimage
    /// of SHA-256 truncated to 128 bits.
    sighted: [u8; 16],
    first_seen: [u8; 8],
    usage_start: [u8; 8],
    /// Zero when the basis was never used (a recorded period always has at least one use).
    usage_count: [u8; 4],
}

impl Record {
    fn usage(&self) -> Option<(Timestamp, u32)> {
        let n = u32::from_be_bytes(self.usage_count);
        (n > 0).then(|| (Timestamp(u64::from_be_bytes(self.usage_start)), n))
    }
}

/// Records in chunks of fixed capacity: no reallocation slack, and an index (`u32`) is all the
/// key table holds.
#[derive(Debug, Default)]
struct Records(Vec<Vec<Record>>);

const CHUNK: usize = 1 << 16;

impl Records {
    fn push(&mut self, record: Record) -> Option<u32> {
        let index = self.len()?;
        match self.0.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(record),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(record);
                self.0.push(chunk);
            }
        }
        Some(index)
    }

    fn len(&self) -> Option<u32> {
        let full = self.0.len().saturating_sub(1) * CHUNK;
        u32::try_from(full + self.0.last().map_or(0, Vec::len)).ok()
    }

    fn get(&self, index: u32) -> Option<&Record> {
        let i = index as usize;
        self.0.get(i / CHUNK)?.get(i % CHUNK)
    }

    fn get_mut(&mut self, index: u32) -> Option<&mut Record> {
        let i = index as usize;
        self.0.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }
}

#[derive(Debug, Default)]
struct State {
    /// Each basis key's record index, as 4 bytes so that a table slot is 37 bytes.
    bases: HashMap<BasisKey, [u8; 4]>,
    records: Records,
    /// Status and pause issue time of the bases ever paused or revoked, by record index.
    lifecycle: HashMap<u32, (Status, Option<Timestamp>)>,
    /// First sightings of signed bytes other than the first seen under their basis key.
    other_sightings: HashMap<Digest, Timestamp>,
    /// Digests of the statements applied (a statement's digest names it, whatever its basis).
    statements: HashSet<Digest>,
    seen: HashMap<ReplayKey, Timestamp>,
    /// (`forget_after`, key), to prune `seen` in time order: a min-heap, cheaper to push to
    /// than an ordered set (a key is pushed once while `seen` holds it: a replay is refused).
    expiry: BinaryHeap<Reverse<(Timestamp, ReplayKey)>>,
    decisions: Vec<DecisionRecord>,
    log: TransferLog,
    latest_head: Option<Vec<u8>>,
    /// Notifications queued with the statements that caused them.
    outbox: OutboxState,
}

fn prefix(digest: &Digest) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&digest.as_bytes()[..16]);
    out
}

impl State {
    fn prune(&mut self, now: Timestamp) {
        while let Some(&Reverse((t, key))) = self.expiry.peek() {
            if t >= now {
                break;
            }
            self.expiry.pop();
            self.seen.remove(&key);
        }
    }

    fn index(&self, key: &BasisKey) -> Option<u32> {
        self.bases.get(key).map(|i| u32::from_be_bytes(*i))
    }

    /// The record index of `key`, made if there is none.
    fn index_or_insert(&mut self, key: BasisKey) -> Result<u32, LedgerError> {
        if let Some(i) = self.index(&key) {
            return Ok(i);
        }
        let i = self.records.push(Record::default()).ok_or_else(|| {
            LedgerError::Unavailable("the in-memory ledger holds 2^32 bases".into())
        })?;
        self.bases.insert(key, i.to_be_bytes());
        Ok(i)
    }

    fn basis(&self, key: &BasisKey) -> BasisState {
        self.index(key)
            .map_or_else(BasisState::default, |i| self.basis_at(i))
    }

    /// The state of the basis whose record is at `i`.
    fn basis_at(&self, i: u32) -> BasisState {
        let (status, pause) = self
            .lifecycle
            .get(&i)
            .copied()
            .unwrap_or((Status::Active, None));
        let usage = self.records.get(i).and_then(Record::usage);
        BasisState::from_parts(status, usage, pause)
    }

    fn set_basis(&mut self, key: BasisKey, state: BasisState) -> Result<(), LedgerError> {
        let i = self.index_or_insert(key)?;
        self.set_basis_at(i, state);
        Ok(())
    }

    /// Sets the state of the basis whose record is at `i`.
    fn set_basis_at(&mut self, i: u32, state: BasisState) {
        let (status, usage, pause) = state.parts();
        if let (Some(r), Some((start, n))) = (self.records.get_mut(i), usage) {
            r.usage_start = start.0.to_be_bytes();
            r.usage_count = n.to_be_bytes();
        }
        if status == Status::Active && pause.is_none() {
            self.lifecycle.remove(&i);
        } else {
            self.lifecycle.insert(i, (status, pause));
        }
    }

    /// The first sighting of `digest` under `key`, made `at` if there is none, or moved back
    /// to `at` if `earlier` and it is later.
    fn sight(
        &mut self,
        key: BasisKey,
        digest: &Digest,
        at: Timestamp,
        earlier: bool,
    ) -> Result<Timestamp, LedgerError> {
        let i = self.index_or_insert(key)?;
        self.sight_at(i, digest, at, earlier)
    }

    /// [`State::sight`] for the basis whose record is at `i`.
    fn sight_at(
        &mut self,
        i: u32,
        digest: &Digest,
        at: Timestamp,
        earlier: bool,
    ) -> Result<Timestamp, LedgerError> {
        let r = self
            .records
            .get_mut(i)
            .ok_or_else(|| LedgerError::Corrupt("a basis index without its record".into()))?;
        let kept = if !r.has_sighting {
            r.has_sighting = true;
            r.sighted = prefix(digest);
            r.first_seen = at.0.to_be_bytes();
            return Ok(at);
        } else if r.sighted == prefix(digest) {
            &mut r.first_seen
        } else {
            let t = self.other_sightings.entry(*digest).or_insert(at);
            if earlier {
                *t = (*t).min(at);
            }
            return Ok(*t);
        };
        let mut t = Timestamp(u64::from_be_bytes(*kept));
        if earlier && at < t {
            t = at;
            *kept = t.0.to_be_bytes();
        }
        Ok(t)
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
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated (every update is
        // made after all its checks, by plain inserts and assignments), so a poisoned lock is
        // safe to reuse.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// When these exact bytes of the basis `basis` were first seen, if ever.
    pub fn first_seen(&self, basis: &BasisKey, basis_digest: &Digest) -> Option<Timestamp> {
        let s = self.lock();
        let r = s.records.get(s.index(basis)?)?;
        if r.has_sighting && r.sighted == prefix(basis_digest) {
            Some(Timestamp(u64::from_be_bytes(r.first_seen)))
        } else {
            s.other_sightings.get(basis_digest).copied()
        }
    }

    /// A copy of the transfer log the verifier appended to.
    pub fn transfer_log(&self) -> TransferLog {
        self.lock().log.clone()
    }
}

impl Ledger for InMemoryLedger {
    fn observe(&self, o: &Observation) -> Result<Snapshot, LedgerError> {
        let mut s = self.lock();
        // One lookup of the basis for the sighting and the state.
        let i = s.index_or_insert(o.basis)?;
        let first_seen = s.sight_at(i, &o.basis_digest, o.at, false)?;
        let basis = s.basis_at(i);
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
        let index = s.index(&r.basis);
        let next = index
            .map_or_else(BasisState::default, |i| s.basis_at(i))
            .check_use(s.seen.contains_key(&r.request), r.window)
            .map_err(CommitError::Refused)?;
        // Made before anything changes, so that a ledger full of bases changes nothing.
        let i = match index {
            Some(i) => i,
            None => s.index_or_insert(r.basis)?,
        };
        s.append(r.log_entry)?;
        s.seen.insert(r.request, r.forget_after);
        s.expiry.push(Reverse((r.forget_after, r.request)));
        s.set_basis_at(i, next);
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
        s.index_or_insert(r.basis)?;
        s.append(r.log_entry)?;
        s.set_basis(r.basis, next)?;
        s.statements.insert(r.statement);
        Ok(next.status())
    }

    fn record_existence(
        &self,
        basis: BasisKey,
        basis_digest: Digest,
        at: Timestamp,
    ) -> Result<Timestamp, LedgerError> {
        self.lock().sight(basis, &basis_digest, at, true)
    }

    fn record_deletion(
        &self,
        record: &DeletionRecord<'_>,
    ) -> Result<(), crate::deletion::DeletionError> {
        let entry = crate::log::deletion_record_entry(record)?;
        let mut s = self.lock();
        s.log.deletions().check(record.deletion)?;
        s.log.append(&entry);
        Ok(())
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

/// The ledger's outbox: notifications queued with the statements that caused them
/// ([`NotifyingLedger`]), or by themselves ([`Outbox::enqueue`]).
impl Outbox for InMemoryLedger {
    fn enqueue(
        &self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError> {
        self.lock().outbox.enqueue(notifier, notices)
    }

    fn pending(&self, limit: usize) -> Result<Vec<Queued>, LedgerError> {
        Ok(self.lock().outbox.pending(limit))
    }

    fn acknowledge(
        &self,
        emitter: PartyId,
        recipient: PartyId,
        up_to: u64,
    ) -> Result<usize, LedgerError> {
        Ok(self.lock().outbox.acknowledge(emitter, recipient, up_to))
    }

    fn last_seq(&self, emitter: PartyId, recipient: PartyId) -> Result<u64, LedgerError> {
        Ok(self.lock().outbox.last_seq(emitter, recipient))
    }
}

impl NotifyingLedger for InMemoryLedger {
    fn record_statement_notifying(
        &self,
        r: &StatementRecord<'_>,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<(Status, Vec<Queued>), CommitError<LifecycleRefusal>> {
        let mut s = self.lock();
        let next = s
            .basis(&r.basis)
            .apply(r, s.statements.contains(&r.statement))
            .map_err(CommitError::Refused)?;
        // Numbered and signed first: a full stream changes nothing.
        let queued = s.outbox.prepare(notifier, notices)?;
        s.index_or_insert(r.basis)?;
        s.append(r.log_entry)?;
        s.set_basis(r.basis, next)?;
        s.statements.insert(r.statement);
        s.outbox.commit(&queued);
        Ok((next.status(), queued))
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

    /// Records live in chunks of `CHUNK`: the record past a chunk's end starts the next chunk,
    /// and every index stays readable (a chunk overfilled would hide the records after it).
    #[test]
    fn records_cross_chunk_boundaries() {
        let mut records = Records::default();
        for n in 0..=CHUNK + 1 {
            let record = Record {
                usage_count: u32::try_from(n).unwrap().to_be_bytes(),
                ..Record::default()
            };
            assert_eq!(records.push(record), u32::try_from(n).ok());
        }
        assert_eq!(records.len(), u32::try_from(CHUNK + 2).ok());
        assert!(records.0.iter().all(|chunk| chunk.len() <= CHUNK));
        for n in [0, CHUNK - 1, CHUNK, CHUNK + 1] {
            let index = u32::try_from(n).unwrap();
            let record = records.get(index).expect("readable");
            assert_eq!(u32::from_be_bytes(record.usage_count), index);
        }
        assert!(records.get(u32::try_from(CHUNK + 2).unwrap()).is_none());
    }

    /// A basis the ledger holds (sighted, paused…) but never used has no usage period: its
    /// state is the default one, as a store reads it back.
    #[test]
    fn a_basis_never_used_has_no_usage_period() {
        let mut state = State::default();
        state.index_or_insert(basis()).expect("room");
        assert_eq!(state.basis(&basis()), crate::ledger::BasisState::default());
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
            ledger.record_existence(basis(), digest, Timestamp(700)),
            Ok(Timestamp(500))
        );
        assert_eq!(
            ledger.record_existence(basis(), digest, Timestamp(100)),
            Ok(Timestamp(100))
        );
        assert_eq!(observe(1000), Ok(Timestamp(100)));
    }

    /// Other signed bytes under the same key (a re-encoded or re-signed basis) have a first
    /// sighting of their own: they never inherit the earlier one of the bytes first seen.
    #[test]
    fn other_bytes_under_a_key_are_sighted_apart() {
        let ledger = InMemoryLedger::new();
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        let observe = |digest, at| {
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
        assert_eq!(observe(a, 100), Ok(Timestamp(100)));
        assert_eq!(observe(b, 500), Ok(Timestamp(500)));
        assert_eq!(observe(a, 900), Ok(Timestamp(100)));
        assert_eq!(
            ledger.record_existence(basis(), b, Timestamp(300)),
            Ok(Timestamp(300))
        );
        assert_eq!(
            ledger.record_existence(basis(), b, Timestamp(400)),
            Ok(Timestamp(300))
        );
        assert_eq!(ledger.first_seen(&basis(), &b), Some(Timestamp(300)));
        assert_eq!(ledger.first_seen(&basis(), &a), Some(Timestamp(100)));
        assert_eq!(ledger.first_seen(&basis(), &Digest::of(b"c")), None);
    }
}
