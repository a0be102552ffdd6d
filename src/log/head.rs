//! Signed tree heads and the fork and rollback monitor.

use crate::Digest;
use crate::cbor::{DecodeError, Decoder, Encoder};
use crate::cose::{Envelope, ObjectKind};
use crate::directory::{PartyId, Trust};
use crate::keys::{KeyId, VerifyingKey};
use crate::labels::tree_head;
use crate::signed::{ObjectError, ParseError, SignedPayload, Verified};
use crate::time::Timestamp;
use crate::wire::{self, FORMAT_VERSION};

use super::error::LogError;
use super::hash::{empty_root, leaf_hash};
use super::proof::{ConsistencyProof, InclusionProof, ProofError, verify_consistency};

/// A tree head's claims, signed by the log operator: the log, its size and root, and when.
///
/// Wire form: a map with keys `0` version (2), `1` log id (the operator's party id), `2` tree
/// size, `3` root hash, `4` timestamp ([`crate::labels::tree_head`]). The root of an empty tree
/// must be [`empty_root`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// The log, named by its operator's party id; the operator signs the head.
    pub log_id: PartyId,
    /// Number of entries in the tree.
    pub tree_size: u64,
    /// RFC 9162 root hash of the tree.
    pub root_hash: Digest,
    /// When the head was signed.
    pub timestamp: Timestamp,
}

impl SignedPayload for TreeHead {
    const KIND: ObjectKind = ObjectKind::TreeHead;

    fn encode(&self, e: &mut Encoder) {
        e.map(5);
        e.uint(tree_head::VERSION).uint(FORMAT_VERSION);
        e.uint(tree_head::LOG_ID).bytes(self.log_id.as_bytes());
        e.uint(tree_head::TREE_SIZE).uint(self.tree_size);
        e.uint(tree_head::ROOT_HASH).bytes(&self.root_hash.0);
        e.uint(tree_head::TIMESTAMP).uint(self.timestamp.0);
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, DecodeError> {
        let mut m = d.map_reader("tree head")?;
        m.version(tree_head::VERSION, FORMAT_VERSION)?;
        let head = TreeHead {
            log_id: m.required(tree_head::LOG_ID, "log id", wire::party_id)?,
            tree_size: m.required(tree_head::TREE_SIZE, "tree size", Decoder::uint)?,
            root_hash: m.required(tree_head::ROOT_HASH, "root hash", wire::digest)?,
            timestamp: m.required(tree_head::TIMESTAMP, "timestamp", wire::timestamp)?,
        };
        m.finish()?;
        if head.tree_size == 0 && head.root_hash != empty_root() {
            return Err(DecodeError::InvalidValue {
                field: "root hash",
                reason: "the root of an empty tree is SHA-256 of nothing",
            });
        }
        Ok(head)
    }

    fn signer(&self) -> PartyId {
        self.log_id
    }

    fn issued_at(&self) -> Timestamp {
        self.timestamp
    }
}

/// A tree head whose signature has been checked: only [`SignedTreeHead::verify`] and
/// [`SignedTreeHead::verify_with_directory`] make one. It keeps the signed bytes, so that two
/// contradicting heads can be shown to anyone as evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTreeHead {
    head: TreeHead,
    kid: KeyId,
    /// Whether the directory vouched that `kid` may sign for the log id at the head's time
    /// (else the caller named the key).
    by_directory: bool,
    bytes: Vec<u8>,
}

impl SignedTreeHead {
    /// Parses the head of the log `log_id` and checks its signature with that log operator's
    /// key. Needs nothing else: neither the log nor a directory. A head naming another log is
    /// refused ([`LogError::WrongLog`]): the key vouches for one log only.
    ///
    /// ```
    /// use consentry::log::{LogError, SignedTreeHead, TransferLog};
    /// use consentry::testing::{key_for, party_for};
    /// use consentry::Timestamp;
    ///
    /// let (key, operator) = (key_for("log-operator"), party_for("log-operator"));
    /// let log = TransferLog::new();
    /// let bytes = log.sign_head(&key, operator, Timestamp::from_secs(1));
    /// let head = SignedTreeHead::verify(&bytes, operator, &key.verifying_key())?;
    /// assert_eq!(head.tree_size(), 0);
    ///
    /// let other = key_for("someone else").verifying_key();
    /// assert!(matches!(
    ///     SignedTreeHead::verify(&bytes, operator, &other),
    ///     Err(LogError::WrongKey { .. })
    /// ));
    /// assert!(matches!(
    ///     SignedTreeHead::verify(&bytes, party_for("another log"), &key.verifying_key()),
    ///     Err(LogError::WrongLog { .. })
    /// ));
    /// # Ok::<(), LogError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedHead`] if the bytes are not a well-formed signed tree head,
    /// [`LogError::WrongLog`] if it is of another log than `log_id`, [`LogError::WrongKey`] if it
    /// names another key than `operator_key`, [`LogError::BadSignature`] if the signature does not
    /// verify.
    pub fn verify(
        bytes: &[u8],
        log_id: PartyId,
        operator_key: &VerifyingKey,
    ) -> Result<Self, LogError> {
        let envelope = Envelope::parse_kind(bytes, TreeHead::KIND)
            .map_err(|e| LogError::MalformedHead(e.into()))?;
        let head = TreeHead::from_payload_bytes(envelope.payload())
            .map_err(|e| LogError::MalformedHead(ParseError::Payload(e)))?;
        if head.log_id != log_id {
            return Err(LogError::WrongLog {
                expected: log_id,
                found: head.log_id,
            });
        }
        let expected = operator_key.key_id();
        if envelope.kid() != expected {
            return Err(LogError::WrongKey {
                expected,
                found: envelope.kid(),
            });
        }
        envelope
            .verify(operator_key)
            .map_err(|_| LogError::BadSignature)?;
        Ok(SignedTreeHead {
            head,
            kid: expected,
            by_directory: false,
            bytes: bytes.to_vec(),
        })
    }

    /// Parses the head and checks it against a directory: the signature, and that the key may
    /// sign for the log id (the operator's party) at the head's timestamp.
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedHead`] if the bytes are not a well-formed signed tree head,
    /// [`LogError::HeadKey`] with the [`VerifyError`](crate::signed::VerifyError) if the signature
    /// or the key rule fails.
    pub fn verify_with_directory(bytes: &[u8], trust: &dyn Trust) -> Result<Self, LogError> {
        let verified =
            Verified::<TreeHead>::parse_and_verify(bytes, trust).map_err(|e| match e {
                ObjectError::Parse(e) => LogError::MalformedHead(e),
                ObjectError::Verify(e) => LogError::HeadKey(e),
            })?;
        Ok(SignedTreeHead {
            head: *verified.claims(),
            kid: verified.kid(),
            by_directory: true,
            bytes: bytes.to_vec(),
        })
    }

    /// The authenticated claims.
    #[must_use]
    pub fn head(&self) -> &TreeHead {
        &self.head
    }
    /// The log (its operator's party id).
    #[must_use]
    pub fn log_id(&self) -> PartyId {
        self.head.log_id
    }
    /// Number of entries.
    #[must_use]
    pub fn tree_size(&self) -> u64 {
        self.head.tree_size
    }
    /// Root hash.
    #[must_use]
    pub fn root_hash(&self) -> Digest {
        self.head.root_hash
    }
    /// When it was signed.
    #[must_use]
    pub fn timestamp(&self) -> Timestamp {
        self.head.timestamp
    }
    /// The key that signed it.
    #[must_use]
    pub fn kid(&self) -> KeyId {
        self.kid
    }
    /// The exact signed bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks that the entry with these exact bytes is in this tree at the proof's index.
    /// The proof must be for this head's size.
    ///
    /// # Errors
    ///
    /// [`LogError::InclusionProofMismatch`] if the proof is for another tree size,
    /// [`LogError::Proof`] if it does not lead from the entry to this head's root (see
    /// [`verify_inclusion`](crate::log::verify_inclusion)).
    pub fn verify_inclusion(
        &self,
        entry_bytes: &[u8],
        proof: &InclusionProof,
    ) -> Result<(), LogError> {
        if proof.tree_size != self.tree_size() {
            return Err(LogError::InclusionProofMismatch {
                expected_index: proof.leaf_index,
                expected_size: self.tree_size(),
                found_index: proof.leaf_index,
                found_size: proof.tree_size,
            });
        }
        proof.verify(&leaf_hash(entry_bytes), &self.root_hash())?;
        Ok(())
    }
}

/// Checks that two signed heads of one log can both be true: the smaller tree is a prefix of
/// the larger one. The heads may be given in either order; `proof` is the consistency proof
/// from the smaller size to the larger one, needed only when the sizes differ (and the smaller
/// tree is not empty).
///
/// Two heads are only evidence against each other if the same authority vouches for both
/// keys: the same key, or keys a directory shows belong to the log's operator (a rotation).
///
/// # Errors
///
/// [`LogError::WrongLog`] for heads of two logs; [`LogError::WrongKey`] for heads
/// signed with two keys not both vouched for by a directory; [`LogError::Fork`] for equal sizes
/// with different roots, or a proof that does not link the two roots;
/// [`LogError::TimeRegression`] when the larger tree is dated before the smaller one;
/// [`LogError::ConsistencyProofRequired`], [`LogError::ConsistencyProofMismatch`] and
/// [`LogError::Proof`] for a missing, misdirected or malformed proof.
pub fn compare_heads(
    a: &SignedTreeHead,
    b: &SignedTreeHead,
    proof: Option<&ConsistencyProof>,
) -> Result<(), LogError> {
    same_authority(a, b)?;
    let (old, new) = if a.tree_size() <= b.tree_size() {
        (a, b)
    } else {
        (b, a)
    };
    let fork = || LogError::Fork {
        old_size: old.tree_size(),
        old_root: old.root_hash(),
        new_size: new.tree_size(),
        new_root: new.root_hash(),
    };
    if old.tree_size() == new.tree_size() {
        return if old.root_hash() == new.root_hash() {
            Ok(())
        } else {
            Err(fork())
        };
    }
    if new.timestamp() < old.timestamp() {
        return Err(LogError::TimeRegression {
            seen: old.timestamp(),
            offered: new.timestamp(),
        });
    }
    if old.tree_size() == 0 {
        return Ok(());
    }
    let proof = proof.ok_or(LogError::ConsistencyProofRequired {
        old_size: old.tree_size(),
        new_size: new.tree_size(),
    })?;
    if proof.old_size != old.tree_size() || proof.new_size != new.tree_size() {
        return Err(LogError::ConsistencyProofMismatch {
            expected_old: old.tree_size(),
            expected_new: new.tree_size(),
            found_old: proof.old_size,
            found_new: proof.new_size,
        });
    }
    match verify_consistency(
        old.tree_size(),
        new.tree_size(),
        &proof.path,
        &old.root_hash(),
        &new.root_hash(),
    ) {
        Ok(()) => Ok(()),
        Err(ProofError::RootMismatch) => Err(fork()),
        Err(e) => Err(LogError::Proof(e)),
    }
}

/// Refuses two heads that do not name the same log, or that were signed by two keys not both
/// vouched for by a directory: only then is one evidence against the other.
fn same_authority(a: &SignedTreeHead, b: &SignedTreeHead) -> Result<(), LogError> {
    if a.log_id() != b.log_id() {
        return Err(LogError::WrongLog {
            expected: a.log_id(),
            found: b.log_id(),
        });
    }
    if a.kid() != b.kid() && !(a.by_directory && b.by_directory) {
        return Err(LogError::WrongKey {
            expected: a.kid(),
            found: b.kid(),
        });
    }
    Ok(())
}

/// Follows one log's signed heads and refuses any head that contradicts the latest one seen:
/// a smaller tree ([`LogError::Rollback`]), the same size with another root or a larger tree
/// that does not extend it ([`LogError::Fork`]), another log ([`LogError::WrongLog`]).
///
/// A citizen's or auditor's client keeps one monitor per log, and feeds it every head it
/// receives, from the log or from others (gossip): a log that shows different histories to
/// different people is caught as soon as one monitor sees heads from two of them.
///
/// ```
/// use consentry::log::{HeadMonitor, LogEntry, LogError, SignedTreeHead, TransferLog, Denial};
/// use consentry::testing::{key_for, party_for};
/// use consentry::{Digest, Timestamp};
///
/// let (key, operator) = (key_for("log-operator"), party_for("log-operator"));
/// let public = key.verifying_key();
/// let denial = |n: u8| LogEntry::Denial(
///     Denial::new(Digest::of(&[n]), None, None, ["malformed"], Timestamp::from_secs(1)).unwrap());
///
/// let mut log = TransferLog::new();
/// log.append(&denial(1));
/// let first = SignedTreeHead::verify(&log.sign_head(&key, operator, Timestamp::from_secs(10)), operator, &public)?;
/// log.append(&denial(2));
/// let second = SignedTreeHead::verify(&log.sign_head(&key, operator, Timestamp::from_secs(20)), operator, &public)?;
///
/// let mut monitor = HeadMonitor::new();
/// monitor.observe(first.clone(), None)?;
/// monitor.observe(second, Some(&log.consistency_proof(1, 2)?))?;
/// // Going back to the smaller head is a rollback.
/// assert!(matches!(monitor.observe(first, None), Err(LogError::Rollback { .. })));
/// # Ok::<(), LogError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct HeadMonitor {
    latest: Option<SignedTreeHead>,
}

impl HeadMonitor {
    /// A monitor that has seen nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A monitor that starts from a head already trusted.
    #[must_use]
    pub fn starting_at(head: SignedTreeHead) -> Self {
        HeadMonitor { latest: Some(head) }
    }

    /// The latest (largest) head accepted.
    #[must_use]
    pub fn latest(&self) -> Option<&SignedTreeHead> {
        self.latest.as_ref()
    }

    /// Checks `head` against the latest head accepted and, if it is consistent, keeps the
    /// larger of the two (for equal sizes, the later). `proof` is the consistency proof from
    /// the latest head's size to `head`'s, needed when `head` is larger.
    ///
    /// On a refusal the monitor is unchanged; the refused head and [`HeadMonitor::latest`] are
    /// both signed by the operator, the evidence of a fork or rollback.
    ///
    /// # Errors
    ///
    /// [`LogError::Rollback`] if `head` is smaller than the latest head; otherwise the refusals of
    /// [`compare_heads`] ([`LogError::WrongLog`], [`LogError::WrongKey`], [`LogError::Fork`],
    /// [`LogError::TimeRegression`], [`LogError::ConsistencyProofRequired`],
    /// [`LogError::ConsistencyProofMismatch`], [`LogError::Proof`]).
    pub fn observe(
        &mut self,
        head: SignedTreeHead,
        proof: Option<&ConsistencyProof>,
    ) -> Result<(), LogError> {
        let Some(latest) = &self.latest else {
            self.latest = Some(head);
            return Ok(());
        };
        same_authority(latest, &head)?;
        if head.tree_size() < latest.tree_size() {
            return Err(LogError::Rollback {
                seen_size: latest.tree_size(),
                offered_size: head.tree_size(),
            });
        }
        compare_heads(latest, &head, proof)?;
        if head.tree_size() > latest.tree_size() || head.timestamp() > latest.timestamp() {
            self.latest = Some(head);
        }
        Ok(())
    }
}
