//! Trust as an input: the lookups a verifier makes, answered by a snapshot of a registry.

use super::{KeyRefusal, PartyId, PartyKey, Representation, Role};
use crate::keys::{KeyId, VerifyingKey};
use crate::time::Timestamp;
use std::fmt;

/// What a verifier asks of the federation's registry: who holds a key, whether a party held a
/// role, who may act for whom. Each call answers from one snapshot of the registry, so that a
/// decision sees one state.
///
/// [`Directory`](super::Directory) is the in-memory implementation. A service whose federation
/// keeps its registry elsewhere implements this trait over a snapshot of it, and passes that to
/// [`Verifier::new`](crate::Verifier::new) and [`Unverified::verify`](crate::Unverified::verify).
///
/// The trait only looks things up. The rules stay the library's, applied to its answers
/// ([`check_key`](#method.check_key), [`representation`](#method.representation)), so no
/// implementation can loosen them.
///
/// ```
/// use consentry::directory::{Party, PartyId, PartyKey, Representation, Role, Trust};
/// use consentry::{KeyId, Timestamp, VerifyingKey};
///
/// /// A registry that knows one party and one key, and no representation.
/// #[derive(Debug)]
/// struct OneParty {
///     id: PartyId,
///     key: PartyKey,
/// }
///
/// impl Trust for OneParty {
///     fn find_key(&self, kid: &KeyId) -> Option<(PartyId, &PartyKey)> {
///         (self.key.kid() == *kid).then_some((self.id, &self.key))
///     }
///     fn has_role(&self, party: PartyId, role: Role, _at: Timestamp) -> bool {
///         party == self.id && role == Role::Consumer
///     }
///     fn representations_between(&self, _: PartyId, _: PartyId) -> &[Representation] {
///         &[]
///     }
/// }
///
/// let key = consentry::SigningKey::from_seed(&[3; 32]);
/// let registry = OneParty {
///     id: PartyId::from_bytes([1; 16]),
///     key: PartyKey::new(key.verifying_key(), Timestamp::from_secs(100)),
/// };
/// let trust: &dyn Trust = &registry;
/// assert!(trust.check_key(&key.key_id(), registry.id, Timestamp::from_secs(150)).is_ok());
/// assert!(trust.check_key(&key.key_id(), registry.id, Timestamp::from_secs(50)).is_err());
/// ```
pub trait Trust: fmt::Debug + Sync {
    /// The party holding the key `kid`, and the key's record: its public half, its window and
    /// any reported compromise. `None` if no party holds it.
    fn find_key(&self, kid: &KeyId) -> Option<(PartyId, &PartyKey)>;

    /// Whether `party` held `role` at `at`, the issue time of the object it signed.
    fn has_role(&self, party: PartyId, role: Role, at: Timestamp) -> bool;

    /// Every representation record of `representative` for `subject`, whatever its window.
    fn representations_between(
        &self,
        representative: PartyId,
        subject: PartyId,
    ) -> &[Representation];
}

impl dyn Trust + '_ {
    /// Applies the signature rule: the key `kid` may sign for `signer` an object issued at
    /// `issued_at`. Returns the public key to verify with.
    ///
    /// # Errors
    ///
    /// [`KeyRefusal::UnknownKey`] if no party holds `kid`, [`KeyRefusal::NotSignersKey`] if
    /// another party than `signer` does, [`KeyRefusal::NotYetValid`], [`KeyRefusal::Expired`]
    /// or [`KeyRefusal::Compromised`] if `issued_at` is before the key's window, at or after its
    /// end, or at or after its reported compromise.
    pub fn check_key(
        &self,
        kid: &KeyId,
        signer: PartyId,
        issued_at: Timestamp,
    ) -> Result<&VerifyingKey, KeyRefusal> {
        let (owner, key) = self
            .find_key(kid)
            .ok_or(KeyRefusal::UnknownKey { kid: *kid })?;
        key_rule(kid, owner, key, signer, issued_at)
    }

    /// The representation under which `representative` may act for `subject` at `at`: the
    /// first record, in the registry's order, whose window holds `at`.
    #[must_use]
    pub fn representation(
        &self,
        representative: PartyId,
        subject: PartyId,
        at: Timestamp,
    ) -> Option<&Representation> {
        self.representations_between(representative, subject)
            .iter()
            .find(|r| r.holds_at(at))
    }

    /// When the representation of `representative` for `subject` holding at `at` ends: the
    /// latest end among the records holding then. `None` if one of them has no end, or if none
    /// holds.
    #[must_use]
    pub fn representation_end(
        &self,
        representative: PartyId,
        subject: PartyId,
        at: Timestamp,
    ) -> Option<Timestamp> {
        latest_end(
            self.representations_between(representative, subject)
                .iter()
                .filter(|r| r.holds_at(at)),
        )
    }

    /// The representation backing one link of a grant's chain of representation at `at`:
    /// the first record, in the registry's order, of `representative` for `represented`
    /// whose window holds `at` and whose kind may stand at that place in the chain. The first
    /// link (`first`, the signer's own) may be of any kind; a later link only a legal
    /// representation (a parent, a guardian or a legal representative), since a mandate may
    /// only be the first link. `None` if no such record holds.
    #[must_use]
    pub fn link(
        &self,
        representative: PartyId,
        represented: PartyId,
        at: Timestamp,
        first: bool,
    ) -> Option<&Representation> {
        self.representations_between(representative, represented)
            .iter()
            .find(|r| r.holds_at(at) && (first || r.kind.is_legal()))
    }

    /// When the link of [`link`](#method.link) ends: the latest end among the records that
    /// may back it at `at`. `None` if one of them has no end, or if none holds.
    #[must_use]
    pub fn link_end(
        &self,
        representative: PartyId,
        represented: PartyId,
        at: Timestamp,
        first: bool,
    ) -> Option<Timestamp> {
        latest_end(
            self.representations_between(representative, represented)
                .iter()
                .filter(|r| r.holds_at(at) && (first || r.kind.is_legal())),
        )
    }
}

/// The latest `valid until` among `records`; `None` if one has no end, or if there is none.
fn latest_end<'r>(records: impl Iterator<Item = &'r Representation>) -> Option<Timestamp> {
    let mut end: Option<Timestamp> = None;
    for r in records {
        let until = r.valid_until?;
        end = Some(end.map_or(until, |e| e.max(until)));
    }
    end
}

/// The signature rule for a key already found: `key`, held by `owner` under `kid`, may sign for
/// `signer` an object issued at `issued_at` (see `check_key`).
pub(crate) fn key_rule<'k>(
    kid: &KeyId,
    owner: PartyId,
    key: &'k PartyKey,
    signer: PartyId,
    issued_at: Timestamp,
) -> Result<&'k VerifyingKey, KeyRefusal> {
    if owner != signer {
        return Err(KeyRefusal::NotSignersKey {
            kid: *kid,
            owner,
            claimed: signer,
        });
    }
    if issued_at < key.valid_from {
        return Err(KeyRefusal::NotYetValid {
            kid: *kid,
            valid_from: key.valid_from,
            issued_at,
        });
    }
    if let Some(valid_until) = key.valid_until.filter(|end| issued_at >= *end) {
        return Err(KeyRefusal::Expired {
            kid: *kid,
            valid_until,
            issued_at,
        });
    }
    if let Some(compromised_at) = key.compromised_at.filter(|c| issued_at >= *c) {
        return Err(KeyRefusal::Compromised {
            kid: *kid,
            compromised_at,
            issued_at,
        });
    }
    Ok(&key.public)
}
