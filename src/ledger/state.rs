//! The state a ledger keeps per basis and the rules of its commit point, written once and
//! shared by every store: a store reads the state, asks it, and writes back what it returns,
//! all within one transaction.

use super::{LedgerError, LifecycleRefusal, StatementRecord, Status, UsageWindow, UseRefusal};
use crate::statement::Action;
use crate::time::Timestamp;

/// What a ledger keeps about one basis (under its [`BasisKey`](crate::ids::BasisKey)):
/// lifecycle status, usage in the latest period, and the issue time of the pause in force.
///
/// The commit-point rules are its methods, so that every store applies the same ones:
///
/// ```
/// use consentry::ledger::{BasisState, Status, UsageWindow, UseRefusal};
/// use consentry::Timestamp;
///
/// let one_time = Some(UsageWindow { start: Timestamp::from_secs(0), end: Timestamp::from_secs(100), max_uses: 1 });
/// let fresh = BasisState::default();
/// let used = fresh.check_use(false, one_time).expect("first use");
/// assert_eq!(used.uses(Timestamp::from_secs(0)), 1);
/// assert_eq!(used.check_use(false, one_time), Err(vec![UseRefusal::QuotaExhausted]));
/// // Stored as 31 bytes, read back exactly; anything else is refused as corrupt.
/// assert_eq!(BasisState::from_bytes(&used.to_bytes()), Ok(used));
/// assert!(BasisState::from_bytes(&[9; 31]).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasisState {
    status: Status,
    /// (window start, uses in that window): only the latest window is kept, and the windows
    /// before it count as used up.
    usage: Option<(Timestamp, u32)>,
    /// Issue time of the latest pause applied while paused: no resume issued before it may
    /// lift the pause.
    pause_issued_at: Option<Timestamp>,
}

impl Default for BasisState {
    /// A basis never used nor stated about: active, unused.
    fn default() -> Self {
        BasisState {
            status: Status::Active,
            usage: None,
            pause_issued_at: None,
        }
    }
}

/// Length of [`BasisState::to_bytes`].
pub const BASIS_STATE_LEN: usize = 31;

impl BasisState {
    /// A state from its parts (for stores that keep them apart).
    pub(crate) fn from_parts(
        status: Status,
        usage: Option<(Timestamp, u32)>,
        pause_issued_at: Option<Timestamp>,
    ) -> Self {
        BasisState {
            status,
            usage,
            pause_issued_at,
        }
    }

    /// The state's parts: status, usage in the latest period, pause issue time.
    pub(crate) fn parts(&self) -> (Status, Option<(Timestamp, u32)>, Option<Timestamp>) {
        (self.status, self.usage, self.pause_issued_at)
    }

    /// The lifecycle status ([`Status::Active`] for a basis never stated about).
    #[must_use]
    pub fn status(&self) -> Status {
        self.status
    }

    /// Uses recorded in the period starting at `window_start`. Only the latest period is kept:
    /// an earlier one (a decision whose clock lags behind one already recorded) had its count
    /// forgotten, so it counts as used up (`u32::MAX`) rather than as unused, which would let
    /// both periods exceed their quota.
    #[must_use]
    pub fn uses(&self, window_start: Timestamp) -> u32 {
        match self.usage {
            Some((start, n)) if start == window_start => n,
            Some((start, _)) if window_start < start => u32::MAX,
            _ => 0,
        }
    }

    /// The commit-point rule of an *allow*: given whether the request id was already seen,
    /// either the state with the use counted, or every reason the use is refused.
    ///
    /// # Errors
    ///
    /// Every [`UseRefusal`] that applies, in this order: [`UseRefusal::Paused`] or
    /// [`UseRefusal::Revoked`] unless the basis is active, [`UseRefusal::Replayed`] if `replayed`,
    /// [`UseRefusal::QuotaExhausted`] if the window's uses are all taken.
    pub fn check_use(
        &self,
        replayed: bool,
        window: Option<UsageWindow>,
    ) -> Result<BasisState, Vec<UseRefusal>> {
        let mut refusals = Vec::new();
        match self.status() {
            Status::Active => {}
            Status::Paused { since } => refusals.push(UseRefusal::Paused { since }),
            Status::Revoked { at } => refusals.push(UseRefusal::Revoked { at }),
        }
        if replayed {
            refusals.push(UseRefusal::Replayed);
        }
        if window.is_some_and(|w| self.uses(w.start) >= w.max_uses) {
            refusals.push(UseRefusal::QuotaExhausted);
        }
        if !refusals.is_empty() {
            return Err(refusals);
        }
        let mut next = *self;
        if let Some(w) = window {
            next.usage = Some((w.start, self.uses(w.start) + 1));
        }
        Ok(next)
    }

    /// The rule of a lifecycle statement: given whether this very statement (by digest) was
    /// already applied, either the new state or why it is not applied. A revocation is final;
    /// a resume issued before the pause in force is refused.
    ///
    /// # Errors
    ///
    /// [`LifecycleRefusal::AlreadyRevoked`] if the basis is revoked,
    /// [`LifecycleRefusal::Duplicate`] if `already_applied`,
    /// [`LifecycleRefusal::ResumePredatesPause`] for a resume issued before the pause in force.
    pub fn apply(
        &self,
        record: &StatementRecord<'_>,
        already_applied: bool,
    ) -> Result<BasisState, LifecycleRefusal> {
        let current = self.status();
        if let Status::Revoked { at } = current {
            return Err(LifecycleRefusal::AlreadyRevoked { at });
        }
        if already_applied {
            return Err(LifecycleRefusal::Duplicate);
        }
        let (status, pause_issued_at) = match (record.action, current) {
            (Action::Revoke, _) => (Status::Revoked { at: record.at }, None),
            (Action::Pause, Status::Paused { since }) => (
                Status::Paused { since },
                self.pause_issued_at.max(Some(record.issued_at)),
            ),
            // Active (a revoked basis returned above).
            (Action::Pause, _) => (Status::Paused { since: record.at }, Some(record.issued_at)),
            (Action::Resume, _) => match self.pause_issued_at {
                Some(pause_issued_at) if record.issued_at < pause_issued_at => {
                    return Err(LifecycleRefusal::ResumePredatesPause { pause_issued_at });
                }
                _ => (Status::Active, None),
            },
        };
        Ok(BasisState {
            status,
            usage: self.usage,
            pause_issued_at,
        })
    }

    /// A fixed 31-byte encoding for stores: status (tag, time), usage (flag, period start,
    /// count), pause issue time (flag, time); integers big-endian, absent values zero.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; BASIS_STATE_LEN] {
        let mut out = [0u8; BASIS_STATE_LEN];
        let (tag, time) = match self.status {
            Status::Active => (0, 0),
            Status::Paused { since } => (1, since.0),
            Status::Revoked { at } => (2, at.0),
        };
        out[0] = tag;
        out[1..9].copy_from_slice(&time.to_be_bytes());
        if let Some((start, n)) = self.usage {
            out[9] = 1;
            out[10..18].copy_from_slice(&start.0.to_be_bytes());
            out[18..22].copy_from_slice(&n.to_be_bytes());
        }
        if let Some(t) = self.pause_issued_at {
            out[22] = 1;
            out[23..31].copy_from_slice(&t.0.to_be_bytes());
        }
        out
    }

    /// Reads [`BasisState::to_bytes`] back, refusing any other bytes as corrupt (a wrong
    /// length, an unknown tag or flag, or a value where the encoding has zeros).
    ///
    /// # Errors
    ///
    /// [`LedgerError::Corrupt`] for any bytes [`BasisState::to_bytes`] does not write.
    pub fn from_bytes(bytes: &[u8]) -> Result<BasisState, LedgerError> {
        let corrupt = |what: &str| LedgerError::Corrupt(format!("basis state: {what}"));
        let b: &[u8; BASIS_STATE_LEN] = bytes
            .try_into()
            .map_err(|_| corrupt(&format!("{} bytes, not {BASIS_STATE_LEN}", bytes.len())))?;
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(a)
        };
        let time = u64_at(1);
        let status = match b[0] {
            0 if time != 0 => return Err(corrupt("a time on an active status")),
            0 => Status::Active,
            1 => Status::Paused {
                since: Timestamp(time),
            },
            2 => Status::Revoked {
                at: Timestamp(time),
            },
            _ => return Err(corrupt("unknown status tag")),
        };
        let usage = match b[9] {
            0 if b[10..22].iter().any(|&x| x != 0) => return Err(corrupt("usage without flag")),
            0 => None,
            1 => Some((
                Timestamp(u64_at(10)),
                u32::from_be_bytes([b[18], b[19], b[20], b[21]]),
            )),
            _ => return Err(corrupt("unknown usage flag")),
        };
        let pause_issued_at = match b[22] {
            0 if u64_at(23) != 0 => return Err(corrupt("pause time without flag")),
            0 => None,
            1 => Some(Timestamp(u64_at(23))),
            _ => return Err(corrupt("unknown pause flag")),
        };
        Ok(BasisState {
            status,
            usage,
            pause_issued_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn state() -> impl Strategy<Value = BasisState> {
        let status = prop_oneof![
            Just(Status::Active),
            any::<u64>().prop_map(|t| Status::Paused {
                since: Timestamp(t)
            }),
            any::<u64>().prop_map(|t| Status::Revoked { at: Timestamp(t) }),
        ];
        (
            status,
            proptest::option::of((any::<u64>(), any::<u32>())),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(|(status, usage, pause)| BasisState {
                status,
                usage: usage.map(|(s, n)| (Timestamp(s), n)),
                pause_issued_at: pause.map(Timestamp),
            })
    }

    proptest! {
        /// Every state round-trips through its bytes.
        #[test]
        fn bytes_round_trip(s in state()) {
            prop_assert_eq!(BasisState::from_bytes(&s.to_bytes()), Ok(s));
        }

        /// Any one byte changed is either refused as corrupt or read as another valid state
        /// that encodes to the changed bytes: never a silent misreading of the encoding.
        #[test]
        fn changed_bytes_never_misread(s in state(), i in 0..BASIS_STATE_LEN, x in 1u8..) {
            let mut bytes = s.to_bytes();
            bytes[i] ^= x;
            match BasisState::from_bytes(&bytes) {
                Ok(read) => prop_assert_eq!(read.to_bytes(), bytes),
                Err(e) => prop_assert_eq!(e.code(), "ledger_corrupt"),
            }
        }
    }

    #[test]
    fn wrong_lengths_and_tags_are_corrupt() {
        for bytes in [&[][..], &[0; 30], &[0; 32]] {
            assert!(matches!(
                BasisState::from_bytes(bytes),
                Err(LedgerError::Corrupt(_))
            ));
        }
        for (i, x) in [(0, 3), (9, 2), (22, 2), (1, 1), (10, 1), (23, 1)] {
            let mut bytes = [0; BASIS_STATE_LEN];
            bytes[i] = x;
            assert!(
                matches!(BasisState::from_bytes(&bytes), Err(LedgerError::Corrupt(_))),
                "byte {i} = {x}"
            );
        }
    }
}
