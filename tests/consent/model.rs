//! Model-based test: random sequences of operations run against the library and against a
//! small reference model written here from the rules (see the verifier's documentation), which
//! predicts every decision including the exact reasons, and every statement's outcome.
//!
//! The number of sequences is `CONSENTRY_MODEL_CASES` (default 1000).

use consentry::ceiling::{CeilingExcess, DerivedOnly, PurposeCeiling};
use consentry::danger::UncheckedGrant;
use consentry::decision::{Basis, Receipts, Verifier};
use consentry::decision::{Decision, LinkFault, Reason, StatementRefusal, Subject};
use consentry::derivation::{Derivation, DerivationCode, DerivationKind};
use consentry::directory::{KeyRefusal, PartyId, RepresentationKind, Role};
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::ids::{BasisId, RequestId};
use consentry::ledger::{InMemoryLedger, Ledger, LifecycleRefusal, Status};
use consentry::log::{EntryKind, LogEntry, LogStore};
use consentry::request::Request;
use consentry::signed::{SignedPayload, Verified};
use consentry::statement::{Action, Statement};
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{
    Scenario, canteen_purpose, derived as derived_term, household, kit_ceiling, quotient_familial,
    rfr,
};
use consentry::vocab::{Category, Purpose};
use consentry::{Digest, KeyId, Timestamp};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeSet, HashMap, HashSet};

const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;
/// The default policy's tolerances, restated.
const SKEW: u64 = 120;
const MAX_AGE: u64 = 300;
/// The derivation DGFiP's ceiling requires here for the household composition, and the bounds
/// the model's grants fix.
const HOUSEHOLD_BRACKET: &str = "dgfip:parts_foyer";
const HOUSEHOLD_BOUNDS: [u64; 3] = [1, 2, 4];

fn config() -> ProptestConfig {
    let cases = std::env::var("CONSENTRY_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    ProptestConfig::with_cases(cases)
}

// ---------------------------------------------------------------- operations

/// Who expresses a grant, relative to its subject.
#[derive(Clone, Copy, Debug)]
enum Expresser {
    /// The subject themself.
    Subject,
    /// FranceConnect for the parent (mandate), the parent for the child (legal representative).
    Representative,
    /// Someone with no representation: the other city hall for the parent, FranceConnect for
    /// the child.
    Stranger,
    /// A chain of two links: FranceConnect under the parent's mandate, then the parent, for
    /// the child; for the parent, FranceConnect then the child, neither link backed.
    Chain,
}

#[derive(Clone, Copy, Debug)]
enum Mutation {
    None,
    WrongConsumer,
    ExtraCategory,
    WrongSubject,
    WrongPurpose,
    OutsideRange,
    Stale(u64),
    FromFuture(u64),
    ReplayId(Index),
}

#[derive(Clone, Copy, Debug)]
enum Who {
    /// The grant's subject (the habilitation's signer).
    Subject,
    /// The subject's representative (FranceConnect for a habilitation).
    Representative,
    /// The consumer.
    Consumer,
}

#[derive(Clone, Debug)]
enum Op {
    Grant {
        for_child: bool,
        expresser: Expresser,
        /// Bitmask over the four grantable categories (two beyond DGFiP's ceiling).
        categories: u8,
        access: Option<(u32, u64)>,
        starts_later: bool,
        validity_days: u64,
        retention_days: u64,
        wide_range: bool,
        /// Whether the grant releases the household composition (if it covers it) only as
        /// [`HOUSEHOLD_BRACKET`], which DGFiP's ceiling here requires.
        derive_household: bool,
    },
    Habilitation {
        by_authority: bool,
    },
    Request {
        basis: Index,
        mutation: Mutation,
        /// Presented as a basis verified earlier (from a cache), not as bytes.
        cached: bool,
    },
    Statement {
        basis: Index,
        action: Action,
        by: Who,
        /// Seconds the statement's issue time lies after now (negative: before).
        offset: i64,
    },
    Compromise {
        who: usize,
    },
    Advance {
        secs: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let expresser = prop_oneof![
        4 => Just(Expresser::Subject),
        3 => Just(Expresser::Representative),
        1 => Just(Expresser::Stranger),
        1 => Just(Expresser::Chain),
    ];
    let access = prop_oneof![
        1 => Just(None),
        6 => (
            prop_oneof![4 => Just(1u32), 3 => Just(2u32), 1 => Just(3u32)],
            prop_oneof![6 => Just(30 * DAY), 2 => Just(90 * DAY), 1 => Just(DAY)],
        )
            .prop_map(Some),
    ];
    let grant = (
        any::<bool>(),
        expresser,
        prop_oneof![8 => Just(1u8), 4 => Just(3u8), 1 => 1u8..16],
        access,
        prop::bool::weighted(0.1),
        prop_oneof![2 => Just(30u64), 10 => Just(365), 1 => Just(400)],
        prop_oneof![10 => Just(365u64), 3 => Just(30), 1 => Just(500)],
        prop::bool::weighted(0.08),
        prop::bool::weighted(0.7),
    )
        .prop_map(
            |(
                for_child,
                expresser,
                categories,
                access,
                starts_later,
                validity_days,
                retention_days,
                wide_range,
                derive_household,
            )| Op::Grant {
                for_child,
                expresser,
                categories,
                access,
                starts_later,
                validity_days,
                retention_days,
                wide_range,
                derive_household,
            },
        );
    let mutation = prop_oneof![
        12 => Just(Mutation::None),
        1 => Just(Mutation::WrongConsumer),
        1 => Just(Mutation::ExtraCategory),
        1 => Just(Mutation::WrongSubject),
        1 => Just(Mutation::WrongPurpose),
        1 => Just(Mutation::OutsideRange),
        1 => (MAX_AGE + 1..MAX_AGE + 4 * HOUR).prop_map(Mutation::Stale),
        1 => (SKEW + 1..SKEW + HOUR).prop_map(Mutation::FromFuture),
        2 => any::<Index>().prop_map(Mutation::ReplayId),
    ];
    let action = prop_oneof![
        3 => Just(Action::Pause),
        3 => Just(Action::Resume),
        1 => Just(Action::Revoke),
    ];
    let who = prop_oneof![
        3 => Just(Who::Subject),
        2 => Just(Who::Representative),
        1 => Just(Who::Consumer),
    ];
    let advance = prop_oneof![
        2 => 1u64..=300,
        3 => HOUR..=2 * DAY,
        3 => DAY..=40 * DAY,
        1 => 30 * DAY..=120 * DAY,
    ];
    prop_oneof![
        12 => grant,
        3 => prop::bool::weighted(0.8).prop_map(|by_authority| Op::Habilitation { by_authority }),
        30 => (any::<Index>(), mutation, prop::bool::weighted(0.3))
            .prop_map(|(basis, mutation, cached)| Op::Request { basis, mutation, cached }),
        9 => (any::<Index>(), action, who, prop_oneof![
            6 => Just(0i64),
            3 => -(MAX_AGE as i64 + 100)..=-1i64,
            1 => 1i64..=SKEW as i64 + 100,
        ])
            .prop_map(|(basis, action, by, offset)| Op::Statement { basis, action, by, offset }),
        1 => (0usize..5).prop_map(|who| Op::Compromise { who }),
        12 => advance.prop_map(|secs| Op::Advance { secs }),
    ]
}

// ---------------------------------------------------------------- the reference model

/// What the model knows about a basis it saw issued.
#[derive(Clone, Debug)]
struct MBasis {
    bytes: Vec<u8>,
    id: BasisId,
    signer: PartyId,
    issued_at: Timestamp,
    /// `Some` for a grant.
    grant: Option<MGrant>,
    categories: Vec<Category>,
    /// The categories the basis releases only as a derivation (the household composition as
    /// [`HOUSEHOLD_BRACKET`] with [`HOUSEHOLD_BOUNDS`], or nothing).
    derived: Vec<Category>,
    not_before: Timestamp,
    expires_at: Timestamp,
    retention: u64,
    validity: u64,
}

#[derive(Clone, Debug)]
struct MGrant {
    subject: PartyId,
    /// The chain of representation, signer first (empty: the subject signed).
    chain: Vec<PartyId>,
    access: Option<(u32, u64)>,
    data_range: DataRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MStatus {
    Active,
    Paused(Timestamp),
    Revoked(Timestamp),
}

#[derive(Default)]
struct MLifecycle {
    status: Option<MStatus>,
    /// Issue time of the latest pause applied while paused.
    pause_issued_at: Option<Timestamp>,
    applied: HashSet<(u8, PartyId, Timestamp)>,
}

/// The reference model: the cast's static facts restated, plus its own state.
struct Model {
    now: Timestamp,
    parent: PartyId,
    child: PartyId,
    mairie: PartyId,
    other: PartyId,
    franceconnect: PartyId,
    authority: PartyId,
    dgfip: PartyId,
    kids: HashMap<PartyId, KeyId>,
    compromised: HashMap<PartyId, Timestamp>,
    lifecycle: HashMap<BasisId, MLifecycle>,
    uses: HashMap<(BasisId, Timestamp), u32>,
    /// Request ids remembered per consumer, with the time after which they may be forgotten.
    seen: HashMap<(PartyId, RequestId), Timestamp>,
    /// When each basis was first verified by a decision or a statement.
    first_seen: HashMap<BasisId, Timestamp>,
}

/// A request as the model sees it.
struct MRequest {
    id: RequestId,
    consumer: PartyId,
    subject: PartyId,
    categories: Vec<Category>,
    purpose: Purpose,
    data_range: DataRange,
    issued_at: Timestamp,
}

impl Model {
    fn roles(&self, p: PartyId) -> &'static [Role] {
        if p == self.parent || p == self.child {
            &[Role::Subject]
        } else if p == self.mairie || p == self.other {
            &[Role::Consumer]
        } else if p == self.franceconnect {
            &[Role::ConsentManager]
        } else if p == self.authority {
            &[Role::Authority]
        } else {
            &[Role::Provider]
        }
    }

    fn has(&self, p: PartyId, role: Role) -> bool {
        self.roles(p).contains(&role)
    }

    /// The cast's representations, valid from 2025-01-01 with no end.
    fn representation(&self, rep: PartyId, subject: PartyId) -> Option<RepresentationKind> {
        if rep == self.franceconnect && subject == self.parent {
            Some(RepresentationKind::Mandate)
        } else if rep == self.parent && subject == self.child {
            Some(RepresentationKind::Parent)
        } else {
            None
        }
    }

    /// The links of a chain ending at `subject`, each with the representation backing it or
    /// why none does: a mandate may only be the first link.
    fn links(
        &self,
        chain: &[PartyId],
        subject: PartyId,
    ) -> Vec<(PartyId, PartyId, Result<RepresentationKind, LinkFault>)> {
        let mut out = Vec::new();
        for (i, &rep) in chain.iter().enumerate() {
            let of = chain.get(i + 1).copied().unwrap_or(subject);
            let backing = match self.representation(rep, of) {
                Some(RepresentationKind::Mandate) if i > 0 => Err(LinkFault::MandateNotFirst),
                Some(kind) => Ok(kind),
                None => Err(LinkFault::NotHeld),
            };
            out.push((rep, of, backing));
        }
        out
    }

    /// The key rule for a party's only key, for an object issued at `at`.
    fn key_reason(&self, object: Subject, signer: PartyId, at: Timestamp) -> Option<Reason> {
        let compromised_at = *self.compromised.get(&signer)?;
        (at >= compromised_at).then(|| Reason::KeyNotValid {
            object,
            refusal: KeyRefusal::Compromised {
                kid: self.kids[&signer],
                compromised_at,
                issued_at: at,
            },
        })
    }

    /// Records the first sighting of a basis whose signature counts, and returns it.
    fn sight(&mut self, b: &MBasis) -> Timestamp {
        *self.first_seen.entry(b.id).or_insert(self.now)
    }

    /// The first-sighting rule: a basis first seen at or after its signer's key was reported
    /// compromised does not count (it may have been backdated with the stolen key).
    fn first_seen_reason(&self, b: &MBasis, first_seen: Timestamp) -> Option<Reason> {
        let compromised_at = *self.compromised.get(&b.signer)?;
        (compromised_at <= first_seen).then_some(Reason::FirstSeenAfterCompromise {
            first_seen,
            compromised_at,
        })
    }

    fn status(&self, id: BasisId) -> MStatus {
        self.lifecycle
            .get(&id)
            .and_then(|l| l.status)
            .unwrap_or(MStatus::Active)
    }

    /// DGFiP's canteen ceiling, restated: two categories, 366 days of validity and data, two
    /// uses per 30 days, 400 days of retention. (The household composition only as its bracket
    /// is judged per request, not as an excess.)
    fn excesses(&self, b: &MBasis) -> Vec<CeilingExcess> {
        let provider = self.dgfip;
        let allowed = [rfr(), household()];
        let mut out = Vec::new();
        let extra: Vec<Category> = b
            .categories
            .iter()
            .filter(|c| !allowed.contains(c))
            .cloned()
            .collect();
        if !extra.is_empty() {
            out.push(CeilingExcess::Categories {
                provider,
                categories: extra,
            });
        }
        if b.validity > 366 * DAY {
            out.push(CeilingExcess::Validity {
                provider,
                max_secs: 366 * DAY,
            });
        }
        if let Some(g) = &b.grant {
            // At most 2 uses, and no more than 2 per 30 days on average.
            if let Some((n, p)) = g.access {
                if n > 2 || u128::from(n) * u128::from(30 * DAY) > 2 * u128::from(p) {
                    out.push(CeilingExcess::Frequency { provider });
                }
            }
        }
        if b.retention > 400 * DAY {
            out.push(CeilingExcess::Retention {
                provider,
                max_secs: 400 * DAY,
            });
        }
        if let Some(g) = &b.grant {
            if g.data_range.len_secs() > 366 * DAY {
                out.push(CeilingExcess::DataRange {
                    provider,
                    max_secs: 366 * DAY,
                });
            }
        }
        out
    }

    /// The period containing now: its start, end and quota.
    fn window(&self, b: &MBasis, g: &MGrant) -> (Timestamp, Timestamp, u32) {
        match g.access {
            None => (b.not_before, b.expires_at, 1),
            Some((n, p)) => {
                let k = if self.now < b.not_before {
                    0
                } else {
                    (self.now.secs() - b.not_before.secs()) / p
                };
                let start = Timestamp::from_secs(b.not_before.secs() + k * p);
                (start, Timestamp::from_secs(start.secs() + p), n)
            }
        }
    }

    /// The decision the rules call for; on allow, updates the model's state.
    fn decide(
        &mut self,
        r: &MRequest,
        b: &MBasis,
    ) -> Result<Vec<(PartyId, PartyId, RepresentationKind)>, Vec<Reason>> {
        // Stage 2 (stage 1 always passes here): both signatures' keys. A basis whose
        // signature counts is sighted, whatever the request.
        let basis_key = self.key_reason(Subject::Basis, b.signer, b.issued_at);
        let first_seen = basis_key.is_none().then(|| self.sight(b));
        let stage2: Vec<Reason> = [
            self.key_reason(Subject::Request, r.consumer, r.issued_at),
            basis_key,
        ]
        .into_iter()
        .flatten()
        .collect();
        if !stage2.is_empty() {
            return Err(stage2);
        }
        let first_seen = first_seen.unwrap_or(self.now);
        let mut out = Vec::new();
        let mut chain = Vec::new();
        match &b.grant {
            Some(g) if g.chain.is_empty() => {
                if !self.has(g.subject, Role::Subject) {
                    out.push(Reason::SignerNotEntitled {
                        object: Subject::Basis,
                        signer: b.signer,
                        required: Role::Subject,
                    });
                }
            }
            Some(g) => {
                for (i, (rep, of, backing)) in
                    self.links(&g.chain, g.subject).into_iter().enumerate()
                {
                    match backing {
                        Err(fault) => out.push(Reason::RepresentationNotValid {
                            link: u8::try_from(i).unwrap(),
                            representative: rep,
                            represented: of,
                            fault,
                        }),
                        Ok(kind) => {
                            if kind == RepresentationKind::Mandate
                                && !self.has(rep, Role::ConsentManager)
                            {
                                out.push(Reason::SignerNotEntitled {
                                    object: Subject::Basis,
                                    signer: rep,
                                    required: Role::ConsentManager,
                                });
                            }
                            chain.push((rep, of, kind));
                        }
                    }
                }
            }
            None => {
                if !self.has(b.signer, Role::Authority) {
                    out.push(Reason::SignerNotEntitled {
                        object: Subject::Basis,
                        signer: b.signer,
                        required: Role::Authority,
                    });
                }
            }
        }
        if !self.has(r.consumer, Role::Consumer) {
            out.push(Reason::SignerNotEntitled {
                object: Subject::Request,
                signer: r.consumer,
                required: Role::Consumer,
            });
        }
        out.extend(self.first_seen_reason(b, first_seen));
        if r.consumer != self.mairie {
            out.push(Reason::ConsumerMismatch {
                requested: r.consumer,
                granted: self.mairie,
            });
        }
        if let Some(g) = &b.grant {
            if g.subject != r.subject {
                out.push(Reason::SubjectMismatch {
                    requested: r.subject,
                    granted: g.subject,
                });
            }
        }
        let missing: Vec<Category> = r
            .categories
            .iter()
            .filter(|c| !b.categories.contains(c))
            .cloned()
            .collect();
        if !missing.is_empty() {
            out.push(Reason::CategoriesNotCovered {
                categories: missing,
            });
        }
        // DGFiP releases the household composition for the canteen only as its bracket: asked
        // for under a basis that covers it raw, it is refused.
        let raw: Vec<Category> = r
            .categories
            .iter()
            .filter(|c| **c == household() && b.categories.contains(c) && !b.derived.contains(c))
            .cloned()
            .collect();
        if !raw.is_empty() {
            out.push(Reason::RawWhereDerivedOnly { categories: raw });
        }
        if r.purpose != canteen_purpose() {
            out.push(Reason::PurposeMismatch {
                requested: r.purpose.clone(),
                granted: canteen_purpose(),
            });
        }
        if let Some(g) = &b.grant {
            if !(g.data_range.from() <= r.data_range.from()
                && r.data_range.until() <= g.data_range.until())
            {
                out.push(Reason::DataRangeOutside {
                    requested: r.data_range,
                    granted: g.data_range,
                });
            }
        }
        if self.now < b.not_before {
            out.push(Reason::NotYetValid {
                not_before: b.not_before,
            });
        }
        if self.now >= b.expires_at {
            out.push(Reason::Expired {
                expires_at: b.expires_at,
            });
        }
        match self.status(b.id) {
            MStatus::Active => {}
            MStatus::Paused(since) => out.push(Reason::Paused { since }),
            MStatus::Revoked(at) => out.push(Reason::Revoked { at }),
        }
        let excesses = self.excesses(b);
        if !excesses.is_empty() {
            out.push(Reason::BeyondCeiling { excesses });
        }
        if r.issued_at.secs() > self.now.secs() + SKEW {
            out.push(Reason::RequestFromFuture {
                issued_at: r.issued_at,
            });
        }
        if self.now.secs() > r.issued_at.secs() + MAX_AGE {
            out.push(Reason::RequestTooOld {
                issued_at: r.issued_at,
            });
        }
        if self.seen.contains_key(&(r.consumer, r.id)) {
            out.push(Reason::ReplayedRequest { id: r.id });
        }
        let window = b.grant.as_ref().map(|g| (self.window(b, g), g.access));
        if let Some(((start, end, max), access)) = window {
            if self.uses.get(&(b.id, start)).copied().unwrap_or(0) >= max {
                out.push(match access {
                    None => Reason::OneTimeUsed,
                    Some(_) => Reason::FrequencyExhausted { next_allowed: end },
                });
            }
        }
        if !out.is_empty() {
            return Err(out);
        }
        // Allowed: the id is remembered until its freshness window closes plus the skew
        // tolerance. The in-memory ledger forgets expired ids when it next commits a use,
        // which the model mirrors (the ledger contract allows forgetting at any time after).
        let now = self.now;
        self.seen.retain(|_, forget_after| *forget_after >= now);
        self.seen.insert(
            (r.consumer, r.id),
            Timestamp::from_secs(r.issued_at.secs() + MAX_AGE + SKEW),
        );
        if let Some(((start, _, _), _)) = window {
            *self.uses.entry((b.id, start)).or_default() += 1;
        }
        Ok(chain)
    }

    fn may_state(&self, b: &MBasis, signer: PartyId) -> bool {
        match &b.grant {
            None => signer == b.signer && self.has(signer, Role::Authority),
            Some(g) if signer == g.subject => self.has(signer, Role::Subject),
            Some(g) => {
                let may = |kind| match kind {
                    RepresentationKind::Mandate => self.has(signer, Role::ConsentManager),
                    RepresentationKind::Parent | RepresentationKind::Guardian => true,
                    other => panic!("a representation the model does not know: {other:?}"),
                };
                // Directly, or from its place in the grant's chain through every later link.
                if let Some(kind) = self.representation(signer, g.subject) {
                    return may(kind);
                }
                let Some(from) = g.chain.iter().position(|p| *p == signer) else {
                    return false;
                };
                self.links(&g.chain, g.subject)
                    .into_iter()
                    .skip(from)
                    .all(|(_, _, backing)| backing.is_ok_and(may))
            }
        }
    }

    fn statement(
        &mut self,
        b: &MBasis,
        action: Action,
        by: PartyId,
        issued_at: Timestamp,
    ) -> Result<Status, StatementRefusal> {
        if let Some(r) = self.key_reason(Subject::Basis, b.signer, b.issued_at) {
            return Err(StatementRefusal::Object(r));
        }
        self.sight(b);
        if let Some(r) = self.key_reason(Subject::Statement, by, issued_at) {
            return Err(StatementRefusal::Object(r));
        }
        if issued_at.secs() > self.now.secs() + SKEW {
            return Err(StatementRefusal::FromFuture { issued_at });
        }
        if self.now.secs() > issued_at.secs() + MAX_AGE {
            return Err(StatementRefusal::TooOld { issued_at });
        }
        if !self.may_state(b, by) {
            return Err(StatementRefusal::NotEntitled { signer: by });
        }
        let now = self.now;
        let l = self.lifecycle.entry(b.id).or_default();
        if let Some(MStatus::Revoked(at)) = l.status {
            return Err(LifecycleRefusal::AlreadyRevoked { at }.into());
        }
        let code = match action {
            Action::Pause => 0,
            Action::Resume => 1,
            Action::Revoke => 2,
            other => panic!("an action the model does not know: {other:?}"),
        };
        if l.applied.contains(&(code, by, issued_at)) {
            return Err(LifecycleRefusal::Duplicate.into());
        }
        let current = l.status.unwrap_or(MStatus::Active);
        if let (Action::Resume, MStatus::Paused(_), Some(pause_issued_at)) =
            (action, current, l.pause_issued_at)
        {
            if issued_at < pause_issued_at {
                return Err(LifecycleRefusal::ResumePredatesPause { pause_issued_at }.into());
            }
        }
        let (next, pause_issued_at) = match (action, current) {
            (Action::Revoke, _) => (MStatus::Revoked(now), None),
            (Action::Pause, MStatus::Paused(since)) => (
                MStatus::Paused(since),
                Some(l.pause_issued_at.map_or(issued_at, |p| p.max(issued_at))),
            ),
            (Action::Pause, _) => (MStatus::Paused(now), Some(issued_at)),
            (Action::Resume, _) => (MStatus::Active, None),
            (other, _) => panic!("an action the model does not know: {other:?}"),
        };
        l.applied.insert((code, by, issued_at));
        l.status = Some(next);
        l.pause_issued_at = pause_issued_at;
        Ok(match next {
            MStatus::Active => Status::Active,
            MStatus::Paused(since) => Status::Paused { since },
            MStatus::Revoked(at) => Status::Revoked { at },
        })
    }
}

// ---------------------------------------------------------------- running both

/// A basis as a service caches it once verified.
enum Cached {
    Grant(Verified<Grant>),
    Habilitation(Verified<Habilitation>),
}

/// Categories a grant may cover at DGFiP (the last two are beyond its canteen ceiling), and
/// one more no grant covers.
fn universe() -> [Category; 5] {
    [
        rfr(),
        household(),
        quotient_familial(),
        Category::new("dgfip:situation_patrimoniale").unwrap(),
        Category::new("dgfip:adresse_fiscale").unwrap(),
    ]
}

/// Runs `ops` against the library on `ledger` (empty) and against the model. The verifier signs
/// receipts, so the ledger's transfer log is checked too: after every decision and statement,
/// the log grew by exactly its entry — the allow's own receipt, the denial, the statement
/// applied — and by nothing for a statement refused.
fn run_on<L: Ledger + LogStore + ?Sized>(ops: &[Op], ledger: &L) -> Result<(), TestCaseError> {
    let mut s = Scenario::canteen();
    // Here DGFiP releases the household composition for the canteen only as its bracket.
    let bracket = Derivation::new(
        DerivationCode::new(HOUSEHOLD_BRACKET).unwrap(),
        household(),
        DerivationKind::Bracket { max_bounds: 4 },
    )
    .unwrap();
    s.ceilings.define(bracket).unwrap();
    s.ceilings.publish(PurposeCeiling {
        derived_only: vec![DerivedOnly {
            category: household(),
            derivations: vec![DerivationCode::new(HOUSEHOLD_BRACKET).unwrap()],
        }],
        ..kit_ceiling(s.dgfip, canteen_purpose(), [rfr(), household()])
    });
    let ids = super::common::receipt_ids();
    let provider_key = consentry::testing::key_for("dgfip");
    prop_assert_eq!(s.key(s.verifier_provider).key_id(), provider_key.key_id());
    let receipts = Receipts {
        key: &provider_key,
        ids: &ids,
    };
    fn verifier<'a, L: Ledger + ?Sized>(
        s: &'a Scenario,
        ledger: &'a L,
        receipts: Receipts<'a>,
    ) -> Verifier<'a, L> {
        Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, ledger)
            .with_receipts(receipts)
    }
    let last_entry = || -> Result<Option<LogEntry>, TestCaseError> {
        let size = ledger
            .log_size()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        if size == 0 {
            return Ok(None);
        }
        let bytes = ledger
            .log_entry(size - 1)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        Ok(Some(
            LogEntry::from_bytes(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?,
        ))
    };
    let cast = [
        s.parent,
        s.franceconnect,
        s.mairie,
        s.authority,
        s.other_consumer,
    ];
    let mut m = Model {
        now: s.now,
        parent: s.parent,
        child: s.child,
        mairie: s.mairie,
        other: s.other_consumer,
        franceconnect: s.franceconnect,
        authority: s.authority,
        dgfip: s.dgfip,
        kids: [
            s.parent,
            s.child,
            s.mairie,
            s.other_consumer,
            s.franceconnect,
            s.authority,
        ]
        .into_iter()
        .map(|p| (p, s.key(p).key_id()))
        .collect(),
        compromised: HashMap::new(),
        lifecycle: HashMap::new(),
        uses: HashMap::new(),
        seen: HashMap::new(),
        first_seen: HashMap::new(),
    };
    let mut bases: Vec<MBasis> = Vec::new();
    // Each basis verified when it was issued, if it verified then: the cache a service keeps.
    let mut caches: Vec<Option<Cached>> = Vec::new();
    let mut request_ids: Vec<RequestId> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Grant {
                for_child,
                expresser,
                categories,
                access,
                starts_later,
                validity_days,
                retention_days,
                wide_range,
                derive_household,
            } => {
                let subject = if *for_child { s.child } else { s.parent };
                let chain = match (expresser, for_child) {
                    (Expresser::Subject, _) => vec![],
                    (Expresser::Representative, false) => vec![s.franceconnect],
                    (Expresser::Representative, true) => vec![s.parent],
                    (Expresser::Stranger, false) => vec![s.other_consumer],
                    (Expresser::Stranger, true) => vec![s.franceconnect],
                    (Expresser::Chain, false) => vec![s.franceconnect, s.child],
                    (Expresser::Chain, true) => vec![s.franceconnect, s.parent],
                };
                let expressed_by = chain.first().copied().unwrap_or(subject);
                let cats: Vec<Category> = universe()[..4]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| categories & (1 << i) != 0)
                    .map(|(_, c)| c.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let not_before = if *starts_later {
                    s.now.plus_secs(2 * DAY)
                } else {
                    s.now
                };
                let expires_at = not_before.plus_secs(validity_days * DAY);
                let data_range = if *wide_range {
                    DataRange::new(
                        Timestamp::from_date(2024, 1, 1).unwrap(),
                        Timestamp::from_date(2026, 1, 1).unwrap(),
                    )
                    .unwrap()
                } else {
                    DataRange::year(2025).unwrap()
                };
                let pattern = match access {
                    None => AccessPattern::one_time(),
                    Some((max_uses, period_secs)) => {
                        AccessPattern::periodic(*max_uses, *period_secs).unwrap()
                    }
                };
                let id = BasisId(s.next_uuid());
                let derived: Vec<Category> = if *derive_household && cats.contains(&household()) {
                    vec![household()]
                } else {
                    vec![]
                };
                let mut builder = Grant::builder(id, subject, s.mairie, canteen_purpose())
                    .chain(chain.clone())
                    .cover(s.dgfip, cats.clone())
                    .issued_at(s.now)
                    .valid(not_before, expires_at)
                    .access(pattern)
                    .data_range(data_range)
                    .retention_secs(retention_days * DAY);
                if !derived.is_empty() {
                    builder = builder.derive(derived_term(
                        household(),
                        HOUSEHOLD_BRACKET,
                        &HOUSEHOLD_BOUNDS,
                    ));
                }
                let grant = builder.build_without_ceiling_check().unwrap();
                bases.push(MBasis {
                    bytes: s.sign_grant(&grant),
                    id,
                    signer: expressed_by,
                    issued_at: s.now,
                    grant: Some(MGrant {
                        subject,
                        chain,
                        access: *access,
                        data_range,
                    }),
                    categories: cats,
                    derived,
                    not_before,
                    expires_at,
                    retention: retention_days * DAY,
                    validity: validity_days * DAY,
                });
                let bytes = &bases[bases.len() - 1].bytes;
                caches.push(s.verifier().verify_grant(bytes).ok().map(Cached::Grant));
            }
            Op::Habilitation { by_authority } => {
                let signer = if *by_authority {
                    s.authority
                } else {
                    s.franceconnect
                };
                let id = BasisId(s.next_uuid());
                let h = Habilitation::builder(id, signer, s.mairie, canteen_purpose())
                    .legal_reference("CRPA art. L114-8")
                    .cover(s.dgfip, [rfr()])
                    .issued_at(s.now)
                    .valid(s.now, s.now.plus_secs(365 * DAY))
                    .retention_secs(365 * DAY)
                    .build(&s.ceilings)
                    .unwrap();
                bases.push(MBasis {
                    bytes: h.sign(s.key(signer)),
                    id,
                    signer,
                    issued_at: s.now,
                    grant: None,
                    categories: vec![rfr()],
                    derived: vec![],
                    not_before: s.now,
                    expires_at: s.now.plus_secs(365 * DAY),
                    retention: 365 * DAY,
                    validity: 365 * DAY,
                });
                let bytes = &bases[bases.len() - 1].bytes;
                caches.push(
                    s.verifier()
                        .verify_habilitation(bytes)
                        .ok()
                        .map(Cached::Habilitation),
                );
            }
            Op::Request {
                basis,
                mutation,
                cached,
            } => {
                if bases.is_empty() {
                    continue;
                }
                let i = basis.index(bases.len());
                let b = bases[i].clone();
                // The request the basis calls for, built from the model's own knowledge.
                let subject = b.grant.as_ref().map_or(s.parent, |g| g.subject);
                let mut categories = b.categories.clone();
                let mut rb = Request::builder(RequestId(s.next_uuid()), s.mairie, s.dgfip, subject)
                    .basis_id(b.id)
                    .basis_digest(Digest::of(&b.bytes))
                    .purpose(canteen_purpose())
                    .data_range(
                        b.grant
                            .as_ref()
                            .map_or(DataRange::year(2025).unwrap(), |g| g.data_range),
                    )
                    .issued_at(s.now);
                match mutation {
                    Mutation::None => {}
                    Mutation::WrongConsumer => rb = rb.consumer(s.other_consumer),
                    Mutation::ExtraCategory => {
                        let extra = universe()
                            .into_iter()
                            .find(|c| !b.categories.contains(c))
                            .unwrap();
                        categories.push(extra);
                    }
                    Mutation::WrongSubject => {
                        rb = rb.subject(if subject == s.parent {
                            s.child
                        } else {
                            s.parent
                        })
                    }
                    Mutation::WrongPurpose => {
                        rb = rb.purpose(Purpose::new("social:aide_logement").unwrap())
                    }
                    Mutation::OutsideRange => rb = rb.data_range(DataRange::year(2023).unwrap()),
                    Mutation::Stale(secs) => rb = rb.issued_at(s.now.minus_secs(*secs)),
                    Mutation::FromFuture(secs) => rb = rb.issued_at(s.now.plus_secs(*secs)),
                    Mutation::ReplayId(i) => {
                        if !request_ids.is_empty() {
                            rb = rb.id(request_ids[i.index(request_ids.len())]);
                        }
                    }
                }
                let r = rb.categories(categories).build().unwrap();
                request_ids.push(r.id());
                let mr = MRequest {
                    id: r.id(),
                    consumer: r.consumer(),
                    subject: r.subject(),
                    categories: r.categories().to_vec(),
                    purpose: r.purpose().clone(),
                    data_range: r.data_range(),
                    issued_at: r.issued_at(),
                };
                let signed_request = s.sign_request(&r);
                let size_before = ledger.log_size().unwrap_or(u64::MAX);
                let basis = match (&caches[i], cached) {
                    (Some(Cached::Grant(g)), true) => Basis::Grant(g),
                    (Some(Cached::Habilitation(h)), true) => Basis::Habilitation(h),
                    _ => Basis::Signed(&b.bytes),
                };
                let decision = verifier(&s, ledger, receipts).decide(&signed_request, basis, s.now);
                // The log grew by exactly this decision's entry.
                prop_assert_eq!(ledger.log_size().ok(), Some(size_before + 1));
                match (&decision, last_entry()?) {
                    (Decision::Allow(a), Some(LogEntry::Receipt(r))) => {
                        prop_assert_eq!(Some(r.bytes()), a.receipt());
                    }
                    (Decision::Deny(refusal), Some(LogEntry::Denial(d))) => {
                        // Each code once, in the decision's order.
                        let mut codes: Vec<&str> = Vec::new();
                        for code in refusal.reasons().iter().map(Reason::code) {
                            if !codes.contains(&code) {
                                codes.push(code);
                            }
                        }
                        prop_assert_eq!(d.reasons(), &codes[..]);
                    }
                    (d, e) => prop_assert!(false, "decision {:?} logged as {:?}", d, e),
                }
                let expected = m.decide(&mr, &b);
                match (&decision, &expected) {
                    (Decision::Allow(a), Ok(rep)) => {
                        prop_assert_eq!(a.categories(), &mr.categories[..]);
                        // Exactly the categories the basis derives go derived, with the
                        // grant's derivation and bounds.
                        let sent: Vec<(Category, &str, Vec<u64>)> = a
                            .derivations()
                            .iter()
                            .map(|t| {
                                (
                                    t.category().clone(),
                                    t.derivation().as_str(),
                                    t.parameters().to_vec(),
                                )
                            })
                            .collect();
                        let want: Vec<(Category, &str, Vec<u64>)> = mr
                            .categories
                            .iter()
                            .filter(|c| b.derived.contains(c))
                            .map(|c| (c.clone(), HOUSEHOLD_BRACKET, HOUSEHOLD_BOUNDS.to_vec()))
                            .collect();
                        prop_assert_eq!(sent, want);
                        prop_assert!(
                            !mr.categories.contains(&household())
                                || b.derived.contains(&household())
                        );
                        prop_assert_eq!(a.data_range(), mr.data_range);
                        prop_assert_eq!(a.retain_until(), m.now.plus_secs(b.retention));
                        prop_assert_eq!(a.basis(), b.id);
                        match &b.grant {
                            Some(g) => {
                                let c = a.consent().unwrap();
                                prop_assert_eq!(c.expressed_by, b.signer);
                                prop_assert_eq!(c.subject, g.subject);
                                let chain: Vec<_> = c
                                    .chain
                                    .iter()
                                    .map(|l| (l.representative, l.represented, l.kind))
                                    .collect();
                                prop_assert_eq!(&chain, rep);
                                prop_assert!(a.legal_reference().is_none());
                            }
                            None => {
                                prop_assert!(a.consent().is_none());
                                prop_assert_eq!(a.legal_reference(), Some("CRPA art. L114-8"));
                            }
                        }
                    }
                    (Decision::Deny(refusal), Err(want)) => {
                        prop_assert_eq!(refusal.reasons(), &want[..], "step {}: {:?}", step, op);
                    }
                    _ => prop_assert!(
                        false,
                        "step {}: {:?}: library {:?}, model {:?}",
                        step,
                        op,
                        decision.codes(),
                        expected
                            .as_ref()
                            .map_err(|r| r.iter().map(Reason::code).collect::<Vec<_>>())
                    ),
                }
            }
            Op::Statement {
                basis,
                action,
                by,
                offset,
            } => {
                if bases.is_empty() {
                    continue;
                }
                let b = bases[basis.index(bases.len())].clone();
                let signer = match (by, &b.grant) {
                    (Who::Subject, Some(g)) => g.subject,
                    (Who::Subject, None) => b.signer,
                    (Who::Representative, Some(g)) if g.subject == s.child => s.parent,
                    (Who::Representative, _) => s.franceconnect,
                    (Who::Consumer, _) => s.mairie,
                };
                let issued_at = Timestamp::from_secs(s.now.secs().saturating_add_signed(*offset));
                let bytes = Statement {
                    basis: b.id,
                    basis_digest: Digest::of(&b.bytes),
                    action: *action,
                    issued_by: signer,
                    issued_at,
                }
                .sign(s.key(signer));
                let size_before = ledger.log_size().unwrap_or(u64::MAX);
                let got = verifier(&s, ledger, receipts).apply_statement(
                    &bytes,
                    Basis::Signed(&b.bytes),
                    s.now,
                );
                let want = m.statement(&b, *action, signer, issued_at);
                prop_assert_eq!(&got, &want, "step {}: {:?}", step, op);
                // Logged exactly when applied.
                let logged = ledger.log_size().ok().map(|n| n - size_before);
                prop_assert_eq!(logged, Some(u64::from(got.is_ok())));
                if got.is_ok() {
                    let entry = last_entry()?;
                    prop_assert_eq!(
                        entry.as_ref().map(LogEntry::kind),
                        Some(EntryKind::Statement)
                    );
                    prop_assert_eq!(
                        entry.and_then(|e| e.signed_bytes().map(<[u8]>::to_vec)),
                        Some(bytes.clone())
                    );
                }
            }
            Op::Compromise { who } => {
                let p = cast[*who];
                let kid = s.key(p).key_id();
                s.directory.report_compromise(&kid, s.now).unwrap();
                let at = m.compromised.entry(p).or_insert(m.now);
                *at = (*at).min(m.now);
            }
            Op::Advance { secs } => {
                s.now = s.now.plus_secs(*secs);
                m.now = m.now.plus_secs(*secs);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn library_agrees_with_the_reference_model(ops in prop::collection::vec(op(), 1..=30)) {
        run_on(&ops, &InMemoryLedger::new())?;
    }
}

/// The same sequences on the SQLite store, one fresh file per case: fewer cases
/// (`CONSENTRY_MODEL_CASES` / 10, at least 20), as every write reaches the disk.
#[cfg(feature = "sqlite")]
mod sqlite {
    use super::{op, run_on};
    use consentry::store::sqlite::SqliteStore;
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn config() -> ProptestConfig {
        let cases: u32 = std::env::var("CONSENTRY_MODEL_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        ProptestConfig::with_cases((cases / 10).max(20))
    }

    static CASE: AtomicU64 = AtomicU64::new(0);

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn sqlite_store_agrees_with_the_reference_model(
            ops in prop::collection::vec(op(), 1..=30)
        ) {
            let path = std::env::temp_dir().join(format!(
                "consentry-model-{}-{}.db",
                std::process::id(),
                CASE.fetch_add(1, Ordering::Relaxed)
            ));
            let store = SqliteStore::open(&path)
                .map_err(|e| TestCaseError::fail(format!("open: {e}")))?;
            let result = run_on(&ops, &store);
            drop(store);
            for end in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{end}", path.display()));
            }
            result?;
        }
    }
}

/// The same model-based test on the PostgreSQL store, a fresh schema per sequence, fewer
/// sequences (`CONSENTRY_PG_MODEL_CASES`, default 24). Needs `CONSENTRY_PG` (see
/// `.ci/postgres.sh`); fails without it.
#[cfg(feature = "postgres")]
#[test]
fn postgres_store_agrees_with_the_reference_model() {
    use consentry::store::postgres::{PgOptions, PgStore};
    let params = std::env::var("CONSENTRY_PG").unwrap_or_else(|_| {
        panic!(
            "CONSENTRY_PG is not set: run `bash .ci/postgres.sh`, or start PostgreSQL and set \
             CONSENTRY_PG=\"host=localhost user=consentry password=consentry dbname=consentry\""
        )
    });
    let cases = std::env::var("CONSENTRY_PG_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let counter = std::sync::atomic::AtomicU64::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    let result = runner.run(&prop::collection::vec(op(), 1..=30), |ops| {
        let schema = format!(
            "model_{}_{}",
            std::process::id(),
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let drop_schema = || {
            let mut c = postgres::Client::connect(&params, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect: {e}"));
            c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .unwrap_or_else(|e| panic!("drop schema: {e}"));
        };
        drop_schema();
        let options = PgOptions {
            schema: Some(schema.clone()),
            ..PgOptions::default()
        };
        let store =
            PgStore::connect_with(&params, 2, &options).unwrap_or_else(|e| panic!("connect: {e}"));
        let outcome = run_on(&ops, &store);
        drop(store);
        drop_schema();
        outcome
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
