use super::{Authorization, ConsentExpression, Decision, Reason, Subject};
use crate::ceiling::{CeilingTerms, Ceilings};
use crate::cose::{Envelope, EnvelopeError, ObjectKind};
use crate::digest::Digest;
use crate::directory::{Directory, PartyId, RepresentationKind, Role};
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::ids::BasisId;
use crate::ledger::{DecisionRecord, Ledger, Status, UsageWindow, UseRecord, UseRefusal};
use crate::request::Request;
use crate::signed::{ParseError, SignedPayload, Unverified, Verified, VerifyError};
use crate::terms::{AccessPattern, Scope};
use crate::time::Timestamp;
use crate::vocab::Purpose;
use std::borrow::Cow;

/// Time tolerances of the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How far in the future a request's issue time may be (clock skew between consumer and
    /// provider), in seconds. Default 120.
    pub max_skew_secs: u64,
    /// How old a request may be, in seconds; also how long request ids are remembered.
    /// Default 300.
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

/// A provider's verifier: its identity, what it trusts, and where it keeps state.
///
/// See the crate documentation and `docs/model.md` for a complete example.
#[derive(Debug)]
pub struct Verifier<'a, L: Ledger + ?Sized> {
    provider: PartyId,
    pub(super) directory: &'a Directory,
    ceilings: &'a Ceilings,
    pub(super) ledger: &'a L,
    pub(super) policy: Policy,
}

/// A verified basis, owned or borrowed.
pub(super) enum Held<'a> {
    Grant(Cow<'a, Verified<Grant>>),
    Habilitation(Cow<'a, Verified<Habilitation>>),
}

/// The parts of a basis the rules look at.
pub(super) struct View<'b> {
    pub(super) id: BasisId,
    pub(super) digest: Digest,
    kind: ObjectKind,
    consumer: PartyId,
    scope: &'b Scope,
    purpose: &'b Purpose,
    not_before: Timestamp,
    expires_at: Timestamp,
    retention_secs: u64,
    terms: CeilingTerms<'b>,
    signer: PartyId,
    grant: Option<&'b Grant>,
    legal_reference: Option<&'b str>,
}

impl Held<'_> {
    pub(super) fn view(&self) -> View<'_> {
        match self {
            Held::Grant(g) => {
                let c = g.claims();
                View {
                    id: c.id(),
                    digest: g.digest(),
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
                    digest: h.digest(),
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
    directory: &Directory,
) -> Result<Verified<T>, Reason> {
    let unverified = Unverified::<T>::parse(bytes).map_err(|e| parse_reason(object, e))?;
    unverified
        .verify(directory)
        .map_err(|e| verify_reason(object, e))
}

impl<'a, L: Ledger + ?Sized> Verifier<'a, L> {
    /// The verifier of `provider`, with the default [`Policy`].
    pub fn new(
        provider: PartyId,
        directory: &'a Directory,
        ceilings: &'a Ceilings,
        ledger: &'a L,
    ) -> Self {
        Verifier {
            provider,
            directory,
            ceilings,
            ledger,
            policy: Policy::default(),
        }
    }

    /// The same verifier with other time tolerances.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The time tolerances in force.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Parses and verifies a grant for caching (then pass it as [`Basis::Grant`]).
    pub fn verify_grant(&self, bytes: &[u8]) -> Result<Verified<Grant>, Reason> {
        verified(bytes, Subject::Basis, self.directory)
    }

    /// Parses and verifies a habilitation for caching.
    pub fn verify_habilitation(&self, bytes: &[u8]) -> Result<Verified<Habilitation>, Reason> {
        verified(bytes, Subject::Basis, self.directory)
    }

    /// Decides on a transfer request at time `now`, records the decision in the ledger, and
    /// returns it. Never panics; for the same inputs and ledger state, always the same result.
    pub fn decide(&self, request: &[u8], basis: Basis<'_>, now: Timestamp) -> Decision {
        let decision = self.evaluate(request, basis, now);
        let (req, bas) = match &decision {
            Decision::Allow(a) => (Some(a.request), Some(a.basis)),
            Decision::Deny { .. } => (
                Unverified::<Request>::parse(request)
                    .ok()
                    .map(|r| r.claims().id),
                None,
            ),
        };
        self.ledger.record_decision(DecisionRecord {
            request: req,
            basis: bas,
            allowed: decision.is_allow(),
            reasons: decision.codes(),
            at: now,
        });
        decision
    }

    fn evaluate(&self, request: &[u8], basis: Basis<'_>, now: Timestamp) -> Decision {
        // Stages 1 and 2: each object well formed, then authenticated.
        let req = verified::<Request>(request, Subject::Request, self.directory);
        let held = self.hold(basis);
        let (req, held) = match (req, held) {
            (Ok(r), Ok(h)) => (r, h),
            (r, h) => {
                let mut reasons: Vec<Reason> = [r.err(), h.err()].into_iter().flatten().collect();
                reasons.sort_by_key(Reason::order_key);
                return Decision::Deny { reasons };
            }
        };
        // Stage 3: every consent rule.
        let view = held.view();
        let r = req.claims();
        let mut reasons = self.rules(&req, &view, now);
        let window = view.grant.map(|g| usage_window(g, now));
        if let Some((w, pattern)) = window {
            if self.ledger.usage(&view.id, w.start) >= w.max_uses {
                reasons.push(quota_reason(pattern, w));
            }
        }
        if !reasons.is_empty() {
            reasons.sort_by_key(Reason::order_key);
            return Decision::Deny { reasons };
        }
        // Commit point: the use is recorded atomically, then allowed.
        let record = UseRecord {
            basis: view.id,
            request: r.id,
            forget_after: r.issued_at.plus_secs(self.policy.max_request_age_secs),
            window: window.map(|(w, _)| w),
            at: now,
        };
        if let Err(refusals) = self.ledger.record_use(&record) {
            let reasons = refusals
                .into_iter()
                .map(|u| match (u, window) {
                    (UseRefusal::Paused { since }, _) => Reason::Paused { since },
                    (UseRefusal::Revoked { at }, _) => Reason::Revoked { at },
                    (UseRefusal::QuotaExhausted, Some((w, p))) => quota_reason(p, w),
                    (_, _) => Reason::ReplayedRequest { id: r.id },
                })
                .collect();
            return Decision::Deny { reasons };
        }
        Decision::Allow(self.authorization(&req, &view, now))
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
            Basis::Signed(bytes) => match Envelope::parse(bytes) {
                Ok(env) if env.kind() == ObjectKind::Habilitation => {
                    verified(bytes, Subject::Basis, self.directory)
                        .map(|h| Held::Habilitation(Cow::Owned(h)))
                }
                // Any other kind (or malformed bytes) is judged as a grant: its parser reports
                // the wrong kind, or what is malformed.
                _ => verified(bytes, Subject::Basis, self.directory)
                    .map(|g| Held::Grant(Cow::Owned(g))),
            },
        }
    }

    fn recheck_key(
        &self,
        kid: crate::keys::KeyId,
        signer: PartyId,
        issued_at: Timestamp,
    ) -> Result<(), Reason> {
        self.directory
            .check_key(&kid, signer, issued_at)
            .map(|_| ())
            .map_err(|refusal| Reason::KeyNotValid {
                object: Subject::Basis,
                refusal,
            })
    }

    /// Every stateless and lifecycle rule, in [`Reason`] order.
    fn rules(&self, req: &Verified<Request>, b: &View<'_>, now: Timestamp) -> Vec<Reason> {
        let r = req.claims();
        let mut out = Vec::new();
        if r.basis != b.id {
            out.push(Reason::BasisMismatch {
                requested: r.basis,
                presented: b.id,
            });
        }
        if r.basis_digest != b.digest {
            out.push(Reason::BasisHashMismatch);
        }
        self.entitlement(r, b, &mut out);
        if r.consumer != b.consumer {
            out.push(Reason::ConsumerMismatch {
                requested: r.consumer,
                granted: b.consumer,
            });
        }
        if let Some(g) = b.grant.filter(|g| g.subject() != r.subject) {
            out.push(Reason::SubjectMismatch {
                requested: r.subject,
                granted: g.subject(),
            });
        }
        if r.provider != self.provider {
            out.push(Reason::WrongProvider {
                addressed: r.provider,
            });
        }
        let covered = b.scope.categories_at(&r.provider);
        if covered.is_empty() {
            out.push(Reason::ProviderNotCovered {
                provider: r.provider,
            });
        } else {
            let missing: Vec<_> = r
                .categories
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
        if &r.purpose != b.purpose {
            out.push(Reason::PurposeMismatch {
                requested: r.purpose.clone(),
                granted: b.purpose.clone(),
            });
        }
        if let Some(g) = b.grant.filter(|g| !g.data_range().contains(&r.data_range)) {
            out.push(Reason::DataRangeOutside {
                requested: r.data_range,
                granted: g.data_range(),
            });
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
        match self.ledger.status(&b.id) {
            Status::Active => {}
            Status::Paused { since } => out.push(Reason::Paused { since }),
            Status::Revoked { at } => out.push(Reason::Revoked { at }),
        }
        let mut excesses = Vec::new();
        self.ceilings
            .excesses_at(&b.terms, self.provider, &mut excesses);
        if !excesses.is_empty() {
            out.push(Reason::BeyondCeiling { excesses });
        }
        if r.issued_at > now.plus_secs(self.policy.max_skew_secs) {
            out.push(Reason::RequestFromFuture {
                issued_at: r.issued_at,
            });
        }
        if now > r.issued_at.plus_secs(self.policy.max_request_age_secs) {
            out.push(Reason::RequestTooOld {
                issued_at: r.issued_at,
            });
        }
        if self.ledger.seen(&r.id) {
            out.push(Reason::ReplayedRequest { id: r.id });
        }
        out
    }

    /// Whether each signer was entitled: the consumer to ask, the basis's signer to sign it.
    fn entitlement(&self, r: &Request, b: &View<'_>, out: &mut Vec<Reason>) {
        let has = |p: PartyId, role| self.directory.party(&p).is_some_and(|p| p.has_role(role));
        if !has(r.consumer, Role::Consumer) {
            out.push(Reason::SignerNotEntitled {
                object: Subject::Request,
                signer: r.consumer,
                required: Role::Consumer,
            });
        }
        match b.grant {
            Some(g) if g.expressed_by() == g.subject() => {
                if !has(g.subject(), Role::Subject) {
                    out.push(Reason::SignerNotEntitled {
                        object: Subject::Basis,
                        signer: g.expressed_by(),
                        required: Role::Subject,
                    });
                }
            }
            Some(g) => match self.consent_representation(g) {
                None => out.push(Reason::RepresentationNotValid {
                    representative: g.expressed_by(),
                    subject: g.subject(),
                }),
                Some(RepresentationKind::Mandate)
                    if !has(g.expressed_by(), Role::ConsentManager) =>
                {
                    out.push(Reason::SignerNotEntitled {
                        object: Subject::Basis,
                        signer: g.expressed_by(),
                        required: Role::ConsentManager,
                    })
                }
                Some(_) => {}
            },
            None => {
                if !has(b.signer, Role::Authority) {
                    out.push(Reason::SignerNotEntitled {
                        object: Subject::Basis,
                        signer: b.signer,
                        required: Role::Authority,
                    });
                }
            }
        }
    }

    fn consent_representation(&self, g: &Grant) -> Option<RepresentationKind> {
        self.directory
            .representation(g.expressed_by(), g.subject(), g.issued_at())
            .map(|r| r.kind)
    }

    fn authorization(
        &self,
        req: &Verified<Request>,
        b: &View<'_>,
        now: Timestamp,
    ) -> Authorization {
        let r = req.claims();
        Authorization {
            request: r.id,
            request_digest: req.digest(),
            basis: b.id,
            basis_kind: b.kind,
            basis_digest: b.digest,
            subject: r.subject,
            consumer: r.consumer,
            provider: r.provider,
            categories: r.categories.clone(),
            data_range: r.data_range,
            retain_until: now.plus_secs(b.retention_secs),
            consent: b.grant.map(|g| ConsentExpression {
                expressed_by: g.expressed_by(),
                subject: g.subject(),
                representation: (g.expressed_by() != g.subject())
                    .then(|| self.consent_representation(g))
                    .flatten(),
            }),
            legal_reference: b.legal_reference.map(str::to_owned),
            onward_transfer: b.grant.is_some_and(Grant::onward_transfer),
            decided_at: now,
        }
    }
}

/// The usage period containing `now`, and the grant's pattern.
fn usage_window(g: &Grant, now: Timestamp) -> (UsageWindow, AccessPattern) {
    let pattern = g.access();
    let window = match pattern {
        AccessPattern::OneTime => UsageWindow {
            start: g.not_before(),
            end: g.expires_at(),
            max_uses: 1,
        },
        AccessPattern::Periodic {
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
    match pattern {
        AccessPattern::OneTime => Reason::OneTimeUsed,
        AccessPattern::Periodic { .. } => Reason::FrequencyExhausted {
            next_allowed: w.end,
        },
    }
}
