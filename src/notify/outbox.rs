//! The outbox: notifications numbered, signed and kept until delivered.

use super::{Notices, Notifier};
use crate::directory::PartyId;
use crate::ledger::{CommitError, Ledger, LedgerError, LifecycleRefusal, StatementRecord, Status};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// A notification waiting in an outbox: its stream, its number and its signed bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    /// Who signed it.
    pub emitter: PartyId,
    /// Who it is for.
    pub recipient: PartyId,
    /// Its number in the (emitter, recipient) stream.
    pub seq: u64,
    /// The signed notification, to deliver as is (and again, the same bytes, if unsure it
    /// arrived).
    pub bytes: Vec<u8>,
}

/// Where notifications wait until the service has delivered them.
///
/// Each (emitter, recipient) stream is numbered from 1 without gaps, and its counter survives
/// whatever the outbox keeps it in (a durable store's counters survive reopening): a number is
/// never given twice, even to a notification already acknowledged. The service drains it in
/// queue order — [`Outbox::pending`], deliver, [`Outbox::acknowledge`] — and may deliver a
/// notification more than once: the recipient ignores an exact redelivery.
pub trait Outbox: Send + Sync {
    /// Numbers, signs (with `notifier`) and queues one notification per recipient of `notices`,
    /// in their order; returns them. All or none.
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if the store failed (nothing is queued), or a stream's
    /// counter is exhausted; [`LedgerError::Corrupt`] if a stored counter does not decode.
    fn enqueue(
        &self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError>;

    /// Up to `limit` queued notifications, oldest first (within a stream, in number order).
    ///
    /// # Errors
    ///
    /// A [`LedgerError`] if the store failed.
    fn pending(&self, limit: usize) -> Result<Vec<Queued>, LedgerError>;

    /// Removes the notifications of the (emitter, recipient) stream numbered up to `up_to`:
    /// delivered. Returns how many were removed.
    ///
    /// # Errors
    ///
    /// A [`LedgerError`] if the store failed (nothing is removed).
    fn acknowledge(
        &self,
        emitter: PartyId,
        recipient: PartyId,
        up_to: u64,
    ) -> Result<usize, LedgerError>;

    /// The last number given in the (emitter, recipient) stream (0 if none).
    ///
    /// # Errors
    ///
    /// A [`LedgerError`] if the store failed.
    fn last_seq(&self, emitter: PartyId, recipient: PartyId) -> Result<u64, LedgerError>;
}

/// A ledger that also keeps an outbox, and applies a statement and queues its notifications in
/// one transaction: the notifications exist exactly when the statement was applied.
pub trait NotifyingLedger: Ledger + Outbox {
    /// As [`Ledger::record_statement`], and on success queues `notices` as
    /// [`Outbox::enqueue`] does, in the same transaction.
    ///
    /// # Errors
    ///
    /// As [`Ledger::record_statement`]; a storage failure of either leaves neither.
    fn record_statement_notifying(
        &self,
        record: &StatementRecord<'_>,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<(Status, Vec<Queued>), CommitError<LifecycleRefusal>>;
}

/// Numbers and signs one notification per recipient of `notices`, each the next of its stream
/// after the number `last` gives: what every outbox queues.
pub(crate) fn number(
    notifier: &Notifier<'_>,
    notices: &Notices,
    mut last: impl FnMut(PartyId, PartyId) -> Result<u64, LedgerError>,
) -> Result<Vec<Queued>, LedgerError> {
    notices
        .recipients
        .iter()
        .map(|&recipient| {
            let seq = last(notifier.emitter, recipient)?
                .checked_add(1)
                .ok_or_else(|| LedgerError::Unavailable("a notification stream is full".into()))?;
            Ok(Queued {
                emitter: notifier.emitter,
                recipient,
                seq,
                bytes: notifier.sign(recipient, seq, notices.issued_at, &notices.carried),
            })
        })
        .collect()
}

/// An outbox's state, pure: the counters of every stream and the queue. The in-memory outbox
/// and ledger keep one behind their lock.
#[derive(Clone, Debug, Default)]
pub struct OutboxState {
    counters: BTreeMap<(PartyId, PartyId), u64>,
    queue: VecDeque<Queued>,
}

impl OutboxState {
    /// An empty outbox.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// As [`Outbox::enqueue`].
    ///
    /// # Errors
    ///
    /// [`LedgerError::Unavailable`] if a stream's counter is exhausted (nothing is queued).
    pub fn enqueue(
        &mut self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError> {
        let queued = self.prepare(notifier, notices)?;
        self.commit(&queued);
        Ok(queued)
    }

    /// The notifications [`OutboxState::enqueue`] would queue, numbered and signed, without
    /// queuing them: for a ledger that queues them only once the rest of its change is sure.
    ///
    /// # Errors
    ///
    /// As [`OutboxState::enqueue`].
    pub fn prepare(
        &self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError> {
        number(notifier, notices, |emitter, recipient| {
            Ok(self.last_seq(emitter, recipient))
        })
    }

    /// Queues notifications made by [`OutboxState::prepare`] on this state, unchanged since.
    pub fn commit(&mut self, queued: &[Queued]) {
        for q in queued {
            self.counters.insert((q.emitter, q.recipient), q.seq);
            self.queue.push_back(q.clone());
        }
    }

    /// As [`Outbox::pending`].
    #[must_use]
    pub fn pending(&self, limit: usize) -> Vec<Queued> {
        self.queue.iter().take(limit).cloned().collect()
    }

    /// As [`Outbox::acknowledge`].
    pub fn acknowledge(&mut self, emitter: PartyId, recipient: PartyId, up_to: u64) -> usize {
        let before = self.queue.len();
        self.queue
            .retain(|q| !(q.emitter == emitter && q.recipient == recipient && q.seq <= up_to));
        before - self.queue.len()
    }

    /// As [`Outbox::last_seq`].
    #[must_use]
    pub fn last_seq(&self, emitter: PartyId, recipient: PartyId) -> u64 {
        self.counters
            .get(&(emitter, recipient))
            .copied()
            .unwrap_or(0)
    }
}

/// An [`Outbox`] in memory, for tests and for a service that keeps its outbox elsewhere (its
/// counters are lost with it: use a durable store's outbox in production).
///
/// ```
/// use consentry::notify::{Carried, InMemoryOutbox, Notices, Notifier, Outbox};
/// use consentry::{PartyId, SigningKey, Timestamp};
///
/// let key = SigningKey::from_seed(&[7; 32]);
/// let notifier = Notifier { emitter: PartyId::from_bytes([1; 16]), key: &key };
/// let recipient = PartyId::from_bytes([2; 16]);
/// let notices = Notices {
///     carried: Carried::DirectoryUpdate(vec![0xd2]),
///     recipients: vec![recipient],
///     issued_at: Timestamp::from_secs(1_750_000_000),
/// };
/// let outbox = InMemoryOutbox::new();
/// let queued = outbox.enqueue(&notifier, &notices).unwrap();
/// assert_eq!(queued[0].seq, 1);
/// assert_eq!(outbox.pending(10).unwrap(), queued);
/// assert_eq!(outbox.acknowledge(notifier.emitter, recipient, 1), Ok(1));
/// assert!(outbox.pending(10).unwrap().is_empty());
/// assert_eq!(outbox.enqueue(&notifier, &notices).unwrap()[0].seq, 2);
/// ```
#[derive(Debug, Default)]
pub struct InMemoryOutbox {
    state: Mutex<OutboxState>,
}

impl InMemoryOutbox {
    /// An empty outbox.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxState> {
        // Every change is made after its checks, by plain inserts: a poisoned lock is safe.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Outbox for InMemoryOutbox {
    fn enqueue(
        &self,
        notifier: &Notifier<'_>,
        notices: &Notices,
    ) -> Result<Vec<Queued>, LedgerError> {
        self.lock().enqueue(notifier, notices)
    }

    fn pending(&self, limit: usize) -> Result<Vec<Queued>, LedgerError> {
        Ok(self.lock().pending(limit))
    }

    fn acknowledge(
        &self,
        emitter: PartyId,
        recipient: PartyId,
        up_to: u64,
    ) -> Result<usize, LedgerError> {
        Ok(self.lock().acknowledge(emitter, recipient, up_to))
    }

    fn last_seq(&self, emitter: PartyId, recipient: PartyId) -> Result<u64, LedgerError> {
        Ok(self.lock().last_seq(emitter, recipient))
    }
}
