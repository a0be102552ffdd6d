use super::{
    Authorization, ChainLink, ConsentExpression, Decision, LinkFault, Reason, Refusal, Subject,
};
use crate::ceiling::{CeilingExcess, CeilingTerms, Ceilings};
use crate::cose::{Envelope, EnvelopeError, ObjectKind};
use crate::crypto::{self, CryptoProvider};
use crate::digest::Digest;
use crate::directory::{PartyId, RepresentationKind, Role, Trust};
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::ids::{BasisId, BasisKey, RequestId};
use crate::keys::{KeyId, SigningKey};
use crate::ledger::{
    CommitError, DecisionRecord, Ledger, Observation, Snapshot, Status, UsageWindow, UseRecord,
    UseRefusal,
};
use crate::log::{Denial, LogEntry, LoggedObject, Receipt};
use crate::request::Request;
use crate::signed::{ParseError, SignedPayload, Unverified, Verified, VerifyError};
use crate::terms::{AccessPattern, AccessView, Scope};
use crate::time::Timestamp;
use crate::vocab::Purpose;
use std::borrow::Cow;
use std::fmt;
use uuid::Uuid;

/// Time tolerances of the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How far in the future the issue time of a request, a basis or a statement may be (clock
    /// skew between its signer and the provider), in seconds. Default 120.
    pub max_skew_secs: u64,
    /// How old a request (or a lifecycle statement) may be, in seconds. Request ids are
    /// remembered for this long plus `max_skew_secs`. Default 300.
    pub max_request_age_secs: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_skew_secs: 120,
            max_request_age_secs: 300,
        }
    }
}

/// The legal basis presented with a request.
#[derive(Clone, Copy, Debug)]
pub enum Basis<'a> {
    /// Signed bytes of a grant or a habilitation, to parse and verify.
    Signed(&'a [u8]),
    /// A grant verified earlier (from a cache): its signature is not checked again, but the
    /// directory's key rule is, so a key reported compromised since still counts.
    Grant(&'a Verified<Grant>),
    /// A habilitation verified earlier.
    Habilitation(&'a Verified<Habilitation>),
}

/// What a verifier needs to sign the receipt of each *allow* and keep the transfer log in its
/// ledger: the provider's signing key and a source of fresh receipt ids (random version 4
/// UUIDs in a service; the core draws no randomness itself).
///
/// With it, the receipt is signed before the commit point and its log entry is appended by
/// the same ledger transaction that records the use ([`UseRecord::log_entry`]); denials and
/// applied statements are logged the same way. The allow carries the signed receipt
/// ([`Authorization::receipt`]).
#[derive(Clone, Copy)]
pub struct Receipts<'a> {
    /// The provider's signing key; its public half is in the directory under the provider.
    pub key: &'a SigningKey,
    /// Fresh receipt ids, never repeated.
    pub ids: &'a (dyn Fn() -> Uuid + Sync),
}

impl fmt::Debug for Receipts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receipts")
            .field("key", &self.key.verifying_key().key_id())
            .finish_non_exhaustive()
    }
}

/// A provider's verifier: its identity, what it trusts, and where it keeps state.
///
/// See the crate documentation and `docs/model.md` for a complete example.
#[derive(Debug)]
pub struct Verifier<'a, L: Ledger + ?Sized> {
    provider: PartyId,
    pub(crate) directory: &'a dyn Trust,
    /// Checks the signatures (ring unless [`Verifier::with_provider`] says otherwise).
    pub(super) crypto: &'a CryptoProvider,
    ceilings: &'a Ceilings,
    pub(super) ledger: &'a L,
    pub(super) policy: Policy,
    pub(super) receipts: Option<Receipts<'a>>,
}

/// A verified basis, owned or borrowed.
pub(super) enum Held<'a> {
    Grant(Cow<'a, Verified<Grant>>),
    Habilitation(Cow<'a, Verified<Habilitation>>),
}

/// The parts of a basis the rules look at.
pub(super) struct View<'b> {
    pub(super) id: BasisId,
    pub(super) key: BasisKey,
    pub(super) digest: Digest,
    kid: KeyId,
    pub(super) issued_at: Timestamp,
    kind: ObjectKind,
    consumer: PartyId,
    scope: &'b Scope,
    purpose: &'b Purpose,
    not_before: Timestamp,
    expires_at: Timestamp,
    retention_secs: u64,
    terms: CeilingTerms<'b>,
    signer: PartyId,
    pub(super) grant: Option<&'b Grant>,
    legal_reference: Option<&'b str>,
}

impl Held<'_> {
    pub(super) fn view(&self) -> View<'_> {
        match self {
            Held::Grant(g) => {
                let c = g.claims();
                View {
                    id: c.id(),
                    key: g.ledger_key(),
                    digest: g.digest(),
                    kid: g.kid(),
                    issued_at: c.issued_at(),
                    kind: ObjectKind::Grant,
                    consumer: c.consumer(),
                    scope: c.scope(),
                    purpose: c.purpose(),
                    not_before: c.not_before(),
                    expires_at: c.expires_at(),
                    retention_secs: c.retention_secs(),
                    terms: c.ceiling_terms(),
                    signer: c.expressed_by(),
                    grant: Some(c),
                    legal_reference: None,
                }
            }
            Held::Habilitation(h) => {
                let c = h.claims();
                View {
                    id: c.id(),
                    key: h.ledger_key(),
                    digest: h.digest(),
                    kid: h.kid(),
                    issued_at: c.issued_at(),
                    kind: ObjectKind::Habilitation,
                    consumer: c.consumer(),
                    scope: c.scope(),
                    purpose: c.purpose(),
                    not_before: c.not_before(),
                    expires_at: c.expires_at(),
                    retention_secs: c.retention_secs(),
                    terms: c.ceiling_terms(),
                    signer: c.authority(),
                    grant: None,
                    legal_reference: Some(c.legal_reference()),
                }
            }
        }
    }
}

fn parse_reason(object: Subject, error: ParseError) -> Reason {
    match error {
        ParseError::Envelope(EnvelopeError::WrongKind { found, .. }) => {
            Reason::WrongKind { object, found }
        }
        error => Reason::Malformed { object, error },
    }
}

fn verify_reason(object: Subject, error: VerifyError) -> Reason {
    match error {
        VerifyError::UnknownKey(kid) => Reason::UnknownKey { object, kid },
        VerifyError::BadSignature => Reason::BadSignature { object },
        VerifyError::Key(refusal) => Reason::KeyNotValid { object, refusal },
    }
}

/// Parses and verifies one object, mapping failures to reasons.
pub(super) fn verified<T: SignedPayload>(
    bytes: &[u8],
    object: Subject,
    directory: &dyn Trust,
    crypto: &CryptoProvider,
) -> Result<Verified<T>, Reason> {
    checked(Unverified::<T>::parse(bytes), object, directory, crypto)
}

/// Verifies one parsed object, mapping failures to reasons.
fn checked<T: SignedPayload>(
    parsed: Result<Unverified<'_, T>, ParseError>,
    object: Subject,
    directory: &dyn Trust,
    crypto: &CryptoProvider,
) -> Result<Verified<T>, Reason> {
    parsed
        .map_err(|e| parse_reason(object, e))?
        .verify_with(crypto, directory)
        .map_err(|e| verify_reason(object, e))
}

impl<'a, L: Ledger + ?Sized> Verifier<'a, L> {
    /// The verifier of `provider`, with the default [`Policy`] and the default crypto provider
    /// ([`RING`](crate::crypto::RING)).
    pub fn new(
        provider: PartyId,
        directory: &'a dyn Trust,
        ceilings: &'a Ceilings,
        ledger: &'a L,
    ) -> Self {
        Verifier {
            provider,
            directory,
            crypto: &crypto::RING,
            ceilings,
            ledger,
            policy: Policy::default(),
            receipts: None,
        }
    }

    /// The same verifier, signing a receipt for each *allow* and logging receipts, denials and
    /// statements in its ledger's transfer log, each in the transaction that records it.
    #[must_use]
    pub fn with_receipts(mut self, receipts: Receipts<'a>) -> Self {
        self.receipts = Some(receipts);
        self
    }

    /// The same verifier, checking signatures and computing digests with `crypto` (chosen at
    /// run time; see [`crypto`](crate::crypto)). Every provider reaches the same decisions.
    ///
    /// ```
    /// use consentry::{crypto, Decision, Verifier};
    /// use consentry::testing::Scenario;
    /// let s = Scenario::canteen();
    /// let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    /// let request = s.sign_request(&s.request(&grant));
    /// let provider = crypto::providers().last().unwrap(); // aws-lc-rs when built with it
    /// let verifier = Verifier::new(s.dgfip, &s.directory, &s.ceilings, &s.ledger)
    ///     .with_provider(provider);
    /// let basis = consentry::Basis::Signed(&grant);
    /// assert!(matches!(verifier.decide(&request, basis, s.now), Decision::Allow(_)));
    /// ```
    #[must_use]
    pub fn with_provider(mut self, crypto: &'a CryptoProvider) -> Self {
        self.crypto = crypto;
        self
    }

    /// The crypto provider in force.
    #[must_use]
    pub fn provider(&self) -> &'a CryptoProvider {
        self.crypto
    }

    /// The same verifier with other time tolerances.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The time tolerances in force.
    #[must_use]
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Parses and verifies a grant for caching (then pass it as [`Basis::Grant`]).
    ///
    /// # Errors
    ///
    /// The [`Reason`] the basis is refused for: [`Reason::Malformed`] or [`Reason::WrongKind`] if
    /// the bytes do not parse as a grant, [`Reason::UnknownKey`], [`Reason::BadSignature`] or
    /// [`Reason::KeyNotValid`] if they do not verify against the directory.
    pub fn verify_grant(&self, bytes: &[u8]) -> Result<Verified<Grant>, Reason> {
        verified(bytes, Subject::Basis, self.directory, self.crypto)
    }

    /// Parses and verifies a habilitation for caching.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify_grant`], for a habilitation.
    pub fn verify_habilitation(&self, bytes: &[u8]) -> Result<Verified<Habilitation>, Reason> {
        verified(bytes, Subject::Basis, self.directory, self.crypto)
    }

    /// Decides on a transfer request at time `now`, records the decision in the ledger, and
    /// returns it. Never panics; for the same inputs and ledger state, always the same result.
    pub fn decide(&self, request: &[u8], basis: Basis<'_>, now: Timestamp) -> Decision {
        let (decision, record) = self.evaluate(request, basis, now);
        // An allow's receipt was logged with its use; a denial is logged with its record.
        let denial = self
            .receipts
            .and_then(|_| Denial::for_decision(&decision))
            .map(|d| LogEntry::Denial(d).to_bytes());
        match self.ledger.record_decision(record, denial.as_deref()) {
            Ok(()) => decision,
            // Fail closed: a decision the audit trail could not keep is not acted on. An allow
            // already committed its use, which stays counted: the quota errs on the safe side.
            Err(error) => {
                let mut refusal = match decision {
                    Decision::Allow(a) => Refusal {
                        reasons: Vec::new(),
                        request_digest: a.request_digest,
                        request: Some(a.request),
                        basis: Some(a.basis),
                        subject: Some(a.subject),
                        decided_at: a.decided_at,
                    },
                    Decision::Deny(refusal) => refusal,
                };
                if !refusal
                    .reasons
                    .iter()
                    .any(|r| matches!(r, Reason::LedgerUnavailable { .. }))
                {
                    refusal.reasons.push(Reason::LedgerUnavailable { error });
                }
                Decision::Deny(refusal)
            }
        }
    }

    /// The decision and the record of it, every party and id in the record taken from verified
    /// objects only.
    fn evaluate(
        &self,
        request: &[u8],
        basis: Basis<'_>,
        now: Timestamp,
    ) -> (Decision, DecisionRecord) {
        // Stages 1 and 2: each object well formed, then authenticated.
        let req = verified::<Request>(request, Subject::Request, self.directory, self.crypto);
        let held = self.hold(basis);
        let view = held.as_ref().ok().map(Held::view);
        let mut record = DecisionRecord {
            // A verified request already hashed its bytes.
            request_digest: req
                .as_ref()
                .map_or_else(|_| Digest::of(request), Verified::digest),
            request: req.as_ref().ok().map(|r| r.claims().id()),
            basis: view.as_ref().map(|v| v.id),
            subject: match (&req, &view) {
                (Ok(r), _) => Some(r.claims().subject()),
                (Err(_), Some(v)) => v.grant.map(Grant::subject),
                (Err(_), None) => None,
            },
            allowed: false,
            reasons: Vec::new(),
            at: now,
        };
        let window = view
            .as_ref()
            .and_then(|v| v.grant)
            .map(|g| usage_window(g, now));
        // The one ledger read: it also records the basis's first sighting, on any decision that
        // verified the basis, allowed or not.
        let snapshot = view.as_ref().map(|v| {
            self.ledger.observe(&Observation {
                basis: v.key,
                basis_digest: v.digest,
                request: req.as_ref().ok().map(Verified::replay_key),
                window_start: window.map(|(w, _)| w.start),
                at: now,
            })
        });
        let (req, view, snapshot) = match (req, view, snapshot) {
            (Ok(r), Some(v), Some(snapshot)) => (r, v, snapshot),
            (r, _, _) => {
                let mut reasons: Vec<Reason> = [r.err(), held.as_ref().err().cloned()]
                    .into_iter()
                    .flatten()
                    .collect();
                reasons.sort_by_key(Reason::order_key);
                return deny(reasons, record);
            }
        };
        // Stage 3: every consent rule.
        let r = req.claims();
        let mut reasons = self.rules(&req, &view, now);
        match &snapshot {
            Ok(snapshot) => {
                self.stateful_rules(&view, r.id(), snapshot, &mut reasons);
                if let Some((w, pattern)) = window.filter(|(w, _)| snapshot.uses >= w.max_uses) {
                    reasons.push(quota_reason(pattern, w));
                }
            }
            Err(error) => reasons.push(Reason::LedgerUnavailable {
                error: error.clone(),
            }),
        }
        if !reasons.is_empty() {
            reasons.sort_by_key(Reason::order_key);
            return deny(reasons, record);
        }
        // Commit point: the use (and the receipt's log entry) recorded atomically, then allowed.
        let (request_id, replay_key, issued_at) = (r.id(), req.replay_key(), r.issued_at());
        let mut authorization = self.authorization(req, &view, now);
        let entry = self.receipts.map(|k| {
            let receipt = Receipt::for_authorization(&authorization, (k.ids)(), now);
            let bytes = receipt.sign(k.key);
            authorization.receipt = Some(bytes.clone());
            LogEntry::Receipt(LoggedObject::from_parts(bytes, receipt)).to_bytes()
        });
        let use_record = UseRecord {
            basis: view.key,
            request: replay_key,
            // Remembered for the freshness window plus the skew tolerance: a verifier sharing
            // this ledger whose clock runs behind ours still finds the id.
            forget_after: issued_at
                .plus_secs(self.policy.max_request_age_secs)
                .plus_secs(self.policy.max_skew_secs),
            window: window.map(|(w, _)| w),
            at: now,
            log_entry: entry.as_deref(),
        };
        if let Err(error) = self.ledger.record_use(&use_record) {
            let reasons = match error {
                CommitError::Storage(error) => vec![Reason::LedgerUnavailable { error }],
                CommitError::Refused(refusals) => {
                    let mut reasons: Vec<Reason> = refusals
                        .into_iter()
                        .map(|u| match (u, window) {
                            (UseRefusal::Paused { since }, _) => Reason::Paused { since },
                            (UseRefusal::Revoked { at }, _) => Reason::Revoked { at },
                            (UseRefusal::QuotaExhausted, Some((w, p))) => quota_reason(p, w),
                            (_, _) => Reason::ReplayedRequest { id: request_id },
                        })
                        .collect();
                    reasons.sort_by_key(Reason::order_key);
                    reasons
                }
            };
            return deny(reasons, record);
        }
        record.allowed = true;
        (Decision::Allow(authorization), record)
    }

    pub(super) fn hold<'b>(&self, basis: Basis<'b>) -> Result<Held<'b>, Reason> {
        match basis {
            Basis::Grant(g) => {
                let c = g.claims();
                self.recheck_key(g.kid(), c.signer(), c.issued_at())?;
                Ok(Held::Grant(Cow::Borrowed(g)))
            }
            Basis::Habilitation(h) => {
                let c = h.claims();
                self.recheck_key(h.kid(), c.signer(), c.issued_at())?;
                Ok(Held::Habilitation(Cow::Borrowed(h)))
            }
            // The envelope is parsed once, for its kind and then for the object.
            Basis::Signed(bytes) => {
                let env = Envelope::parse(bytes)
                    .map_err(|e| parse_reason(Subject::Basis, ParseError::Envelope(e)))?;
                if env.kind() == ObjectKind::Habilitation {
                    self.basis_from(bytes, env)
                        .map(|h| Held::Habilitation(Cow::Owned(h)))
                } else {
                    // Any other kind is judged as a grant: its parser reports the wrong kind.
                    self.basis_from(bytes, env)
                        .map(|g| Held::Grant(Cow::Owned(g)))
                }
            }
        }
    }

    /// A basis from its bytes and their envelope, parsed and verified.
    fn basis_from<'b, T: SignedPayload>(
        &self,
        bytes: &'b [u8],
        envelope: Envelope<'b>,
    ) -> Result<Verified<T>, Reason> {
        checked(
            Unverified::from_envelope(bytes, envelope),
            Subject::Basis,
            self.directory,
            self.crypto,
        )
    }

    fn recheck_key(&self, kid: KeyId, signer: PartyId, issued_at: Timestamp) -> Result<(), Reason> {
        self.directory
            .check_key(&kid, signer, issued_at)
            .map(|_| ())
            .map_err(|refusal| Reason::KeyNotValid {
                object: Subject::Basis,
                refusal,
            })
    }

    /// A basis dated beyond the clock-skew tolerance is refused: its issue time is what the key
    /// and representation rules judge, so a future date would let a signer use a key or a
    /// mandate before it starts.
    pub(super) fn basis_from_future(&self, b: &View<'_>, now: Timestamp) -> Option<Reason> {
        (b.issued_at > now.plus_secs(self.policy.max_skew_secs)).then_some(
            Reason::BasisFromFuture {
                issued_at: b.issued_at,
            },
        )
    }

    /// The rules that need the ledger's state: lifecycle, replay, and the first-sighting rule
    /// against bases backdated past a key compromise or the end of a representation.
    fn stateful_rules(
        &self,
        b: &View<'_>,
        request: RequestId,
        snapshot: &Snapshot,
        out: &mut Vec<Reason>,
    ) {
        match snapshot.status {
            Status::Active => {}
            Status::Paused { since } => out.push(Reason::Paused { since }),
            Status::Revoked { at } => out.push(Reason::Revoked { at }),
        }
        if snapshot.replayed {
            out.push(Reason::ReplayedRequest { id: request });
        }
        let first_seen = snapshot.first_seen;
        if let Some(compromised_at) = self
            .directory
            .find_key(&b.kid)
            .and_then(|(_, key)| key.compromised_at)
            .filter(|c| *c <= first_seen)
        {
            out.push(Reason::FirstSeenAfterCompromise {
                first_seen,
                compromised_at,
            });
        }
        // Each link of the chain: the representation backing it at the grant's issue time
        // (the latest end, if several could) must not have ended by the first sighting. A link
        // no representation backs has no end here: the entitlement rule refuses it.
        for (i, (representative, represented)) in b.grant.iter().flat_map(|g| g.links()).enumerate()
        {
            let issued_at = b.issued_at;
            if let Some(ended_at) = self
                .directory
                .link_end(representative, represented, issued_at, i == 0)
                .filter(|end| *end <= first_seen)
            {
                out.push(Reason::FirstSeenAfterRepresentationEnded {
                    link: link_index(i),
                    representative,
                    represented,
                    first_seen,
                    ended_at,
                });
            }
        }
    }

    /// Each link of a grant's chain of representation, signer first, with the representation
    /// backing it at the grant's issue time, or (the link's pair and) why none does.
    fn backed_links<'g>(
        &'g self,
        g: &'g Grant,
    ) -> impl Iterator<Item = Result<ChainLink, (PartyId, PartyId, LinkFault)>> + 'g {
        let at = g.issued_at();
        g.links()
            .enumerate()
            .map(move |(i, (representative, represented))| {
                let first = i == 0;
                match self.directory.link(representative, represented, at, first) {
                    Some(r) => Ok(ChainLink {
                        representative,
                        represented,
                        kind: r.kind,
                    }),
                    // A record holds, but not one that may stand here: a mandate past the first
                    // link.
                    None if self
                        .directory
                        .representation(representative, represented, at)
                        .is_some() =>
                    {
                        Err((representative, represented, LinkFault::MandateNotFirst))
                    }
                    None => Err((representative, represented, LinkFault::NotHeld)),
                }
            })
    }

    /// Every stateless rule, in [`Reason`] order.
    #[allow(
        clippy::too_many_lines,
        reason = "the rules read top to bottom in `Reason` order; split, they would lose it"
    )]
    fn rules(&self, req: &Verified<Request>, b: &View<'_>, now: Timestamp) -> Vec<Reason> {
        let r = req.claims();
        let mut out = Vec::new();
        if r.basis() != b.id {
            out.push(Reason::BasisMismatch {
                requested: r.basis(),
                presented: b.id,
            });
        }
        if r.basis_digest() != b.digest {
            out.push(Reason::BasisHashMismatch);
        }
        self.entitlement(r, b, &mut out);
        if r.consumer() != b.consumer {
            out.push(Reason::ConsumerMismatch {
                requested: r.consumer(),
                granted: b.consumer,
            });
        }
        if let Some(g) = b.grant.filter(|g| g.subject() != r.subject()) {
            out.push(Reason::SubjectMismatch {
                requested: r.subject(),
                granted: g.subject(),
            });
        }
        if r.provider() != self.provider {
            out.push(Reason::WrongProvider {
                addressed: r.provider(),
            });
        }
        let covered = b.scope.categories_at(&r.provider());
        if covered.is_empty() {
            out.push(Reason::ProviderNotCovered {
                provider: r.provider(),
            });
        } else {
            let missing: Vec<_> = r
                .categories()
                .iter()
                .filter(|c| covered.binary_search(c).is_err())
                .cloned()
                .collect();
            if !missing.is_empty() {
                out.push(Reason::CategoriesNotCovered {
                    categories: missing,
                });
            }
        }
        // A category this provider releases for the purpose only derived is sent only as the
        // basis's derivation of it; without one, the raw value is asked for, and refused. (That
        // the basis's derivation is one the ceiling accepts is the ceiling rule's.)
        let ceiling = self.ceilings.get(&self.provider, b.purpose.code());
        if let Some(c) = ceiling {
            let raw: Vec<_> = r
                .categories()
                .iter()
                .filter(|cat| {
                    covered.binary_search(cat).is_ok()
                        && c.derived_only(cat).is_some()
                        && crate::grant::derivation_of(b.terms.derivations, cat).is_none()
                })
                .cloned()
                .collect();
            if !raw.is_empty() {
                out.push(Reason::RawWhereDerivedOnly { categories: raw });
            }
        }
        if r.purpose() != b.purpose {
            out.push(Reason::PurposeMismatch {
                requested: r.purpose().clone(),
                granted: b.purpose.clone(),
            });
        }
        if let Some(g) = b
            .grant
            .filter(|g| !g.data_range().contains(&r.data_range()))
        {
            out.push(Reason::DataRangeOutside {
                requested: r.data_range(),
                granted: g.data_range(),
            });
        }
        // A habilitation names no data range: the provider's ceiling for the purpose bounds
        // the length of the range a request may ask for, as it bounds a grant's.
        if b.grant.is_none() {
            if let Some(c) = ceiling.filter(|c| r.data_range().len_secs() > c.max_data_range_secs) {
                out.push(Reason::DataRangeTooLong {
                    requested: r.data_range(),
                    max_secs: c.max_data_range_secs,
                });
            }
        }
        if now < b.not_before {
            out.push(Reason::NotYetValid {
                not_before: b.not_before,
            });
        }
        if now >= b.expires_at {
            out.push(Reason::Expired {
                expires_at: b.expires_at,
            });
        }
        let mut excesses = Vec::new();
        self.ceilings
            .excesses_at(&b.terms, self.provider, &mut excesses);
        // A category covered raw where the ceiling releases it only derived is judged per
        // request (`RawWhereDerivedOnly` above): a basis signed before the ceiling was tightened
        // still serves its other categories, and never the raw value.
        excesses.retain(|e| !matches!(e, CeilingExcess::RawWhereDerivedOnly { .. }));
        if !excesses.is_empty() {
            out.push(Reason::BeyondCeiling { excesses });
        }
        out.extend(self.basis_from_future(b, now));
        if r.issued_at() > now.plus_secs(self.policy.max_skew_secs) {
            out.push(Reason::RequestFromFuture {
                issued_at: r.issued_at(),
            });
        }
        if now > r.issued_at().plus_secs(self.policy.max_request_age_secs) {
            out.push(Reason::RequestTooOld {
                issued_at: r.issued_at(),
            });
        }
        out
    }

    /// Whether each signer was entitled, at the issue time of what it signed: the consumer to
    /// ask, the basis's signer to sign it.
    fn entitlement(&self, r: &Request, b: &View<'_>, out: &mut Vec<Reason>) {
        let has = |p: PartyId, role, at| self.directory.has_role(p, role, at);
        if !has(r.consumer(), Role::Consumer, r.issued_at()) {
            out.push(Reason::SignerNotEntitled {
                object: Subject::Request,
                signer: r.consumer(),
                required: Role::Consumer,
            });
        }
        match b.grant {
            Some(g) if g.chain().is_empty() => {
                if !has(g.subject(), Role::Subject, b.issued_at) {
                    out.push(Reason::SignerNotEntitled {
                        object: Subject::Basis,
                        signer: g.expressed_by(),
                        required: Role::Subject,
                    });
                }
            }
            Some(g) => {
                for (i, link) in self.backed_links(g).enumerate() {
                    match link {
                        // The signer's own link under a mandate: a consent manager's.
                        Ok(l) if i == 0 && l.kind == RepresentationKind::Mandate => {
                            if !has(l.representative, Role::ConsentManager, b.issued_at) {
                                out.push(Reason::SignerNotEntitled {
                                    object: Subject::Basis,
                                    signer: l.representative,
                                    required: Role::ConsentManager,
                                });
                            }
                        }
                        Ok(_) => {}
                        Err((representative, represented, fault)) => {
                            out.push(Reason::RepresentationNotValid {
                                link: link_index(i),
                                representative,
                                represented,
                                fault,
                            });
                        }
                    }
                }
            }
            None => {
                if !has(b.signer, Role::Authority, b.issued_at) {
                    out.push(Reason::SignerNotEntitled {
                        object: Subject::Basis,
                        signer: b.signer,
                        required: Role::Authority,
                    });
                }
            }
        }
    }

    /// The authorization of an allowed request, which it takes: its categories move into it.
    fn authorization(&self, req: Verified<Request>, b: &View<'_>, now: Timestamp) -> Authorization {
        let request_digest = req.digest();
        let r = req.into_claims();
        // Allowed, so each of these is the basis's own term, which the ceiling accepted.
        let derivations = r
            .categories()
            .iter()
            .filter_map(|c| crate::grant::derivation_of(b.terms.derivations, c))
            .cloned()
            .collect();
        Authorization {
            request: r.id(),
            request_digest,
            basis: b.id,
            basis_kind: b.kind,
            basis_digest: b.digest,
            subject: r.subject(),
            consumer: r.consumer(),
            provider: r.provider(),
            data_range: r.data_range(),
            retain_until: now.plus_secs(b.retention_secs),
            // Allowed, so every link is backed.
            consent: b.grant.map(|g| ConsentExpression {
                expressed_by: g.expressed_by(),
                subject: g.subject(),
                chain: self.backed_links(g).filter_map(Result::ok).collect(),
            }),
            legal_reference: b.legal_reference.map(str::to_owned),
            purpose: b.purpose.clone(),
            derivations,
            onward_transfer: b.grant.is_some_and(Grant::onward_transfer),
            decided_at: now,
            receipt: None,
            categories: r.into_categories(),
        }
    }
}

/// A link's place in a chain as a reason states it (a chain has at most
/// [`Grant::MAX_LINKS`] links).
fn link_index(i: usize) -> u8 {
    u8::try_from(i).unwrap_or(u8::MAX)
}

fn deny(reasons: Vec<Reason>, mut record: DecisionRecord) -> (Decision, DecisionRecord) {
    record.reasons = reasons.iter().map(Reason::code).collect();
    let refusal = Refusal {
        reasons,
        request_digest: record.request_digest,
        request: record.request,
        basis: record.basis,
        subject: record.subject,
        decided_at: record.at,
    };
    (Decision::Deny(refusal), record)
}

/// The usage period containing `now`, and the grant's pattern.
fn usage_window(g: &Grant, now: Timestamp) -> (UsageWindow, AccessPattern) {
    let pattern = g.access();
    let window = match pattern.view() {
        AccessView::OneTime => UsageWindow {
            start: g.not_before(),
            end: g.expires_at(),
            max_uses: 1,
        },
        AccessView::Periodic {
            max_uses,
            period_secs,
        } => {
            let elapsed = now.0.saturating_sub(g.not_before().0);
            // `period_secs >= 1` is an invariant of `AccessPattern`; `max(1)` keeps this total.
            let period_secs = period_secs.max(1);
            let start = g
                .not_before()
                .plus_secs(elapsed / period_secs * period_secs);
            UsageWindow {
                start,
                end: start.plus_secs(period_secs),
                max_uses,
            }
        }
    };
    (window, pattern)
}

fn quota_reason(pattern: AccessPattern, w: UsageWindow) -> Reason {
    match pattern.view() {
        AccessView::OneTime => Reason::OneTimeUsed,
        AccessView::Periodic { .. } => Reason::FrequencyExhausted {
            next_allowed: w.end,
        },
    }
}
