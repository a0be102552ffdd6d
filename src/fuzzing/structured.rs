//! `structured`: grants and requests built from fuzz-chosen terms, decided, and checked
//! against an independent oracle written again from the specification.

use crate::danger::UncheckedGrant;
use crate::decision::{Basis, Decision};
use crate::derivation::{DerivationCode, DerivationTerm};
use crate::digest::Digest;
use crate::directory::PartyId;
use crate::grant::Grant;
use crate::ids::{BasisId, RequestId};
use crate::request::Request;
use crate::signed::SignedPayload;
use crate::terms::{AccessPattern, AccessView, DataRange, Scope};
use crate::testing::{self, Scenario};
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};

use super::decide::{decide_fresh_with, with_fixture};

/// Reads choices from fuzz bytes; past the end every choice is the first option. Ids are fixed,
/// so that an input always builds the same objects.
struct Choices<'a> {
    data: &'a [u8],
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[usize::from(self.byte()) % options.len()]
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A non-empty sorted subset of `pool` (which is sorted), from one bitmask byte.
    fn sorted_subset<T: Clone + Ord>(&mut self, pool: &[T]) -> Vec<T> {
        let mut out = self.subset(pool);
        out.sort();
        out
    }

    fn subset<T: Clone>(&mut self, pool: &[T]) -> Vec<T> {
        let mask = self.byte();
        let out: Vec<T> = (0..pool.len())
            .filter(|i| mask >> i & 1 == 1)
            .map(|i| pool[i].clone())
            .collect();
        if out.is_empty() {
            pool[..1].to_vec()
        } else {
            out
        }
    }
}

const DAY: u64 = 86_400;
const DAY_I: i64 = 86_400;

fn code(c: &str) -> Category {
    Category::new(c).unwrap_or_else(|e| panic!("{e}"))
}

/// The terms the oracle checks, chosen from small pools.
struct Case {
    grant: Grant,
    /// The categories the grant covers at `s.dgfip`, as drawn (the oracle does not ask the
    /// grant's scope).
    covered_at_dgfip: Vec<Category>,
    grant_signer: PartyId,
    request: Request,
    /// The grant's derivation, as drawn: its category, derivation code and number of bounds.
    derivation: Option<(Category, &'static str, usize)>,
    /// Whether the tax administration's ceiling releases the income only as its bracket.
    derived_only: bool,
    request_signer: PartyId,
}

#[allow(
    clippy::too_many_lines,
    reason = "the choices are drawn in one fixed order, which the corpus depends on"
)]
fn build_case(s: &Scenario, data: &[u8]) -> Option<Case> {
    let mut c = Choices { data };
    // In choice order: the all-zero choice (an empty subset mask) takes the first, the one
    // DGFiP's ceiling allows, so that the all-zero input is a valid case. Subsets are sorted
    // after the choice, as the format requires.
    let categories = [
        testing::rfr(),
        testing::household(),
        testing::quotient_familial(),
        code("dgfip:autre"),
    ];
    let purposes = [
        testing::canteen_purpose(),
        Purpose::new("education:transport_scolaire").ok()?,
        Purpose::new("social:aide_sociale").ok()?,
    ];
    let now = s.now.0;
    let subject = c.pick(&[s.parent, s.child, s.mairie]);
    // The chain of representation: none, one party (the subject's own is none), or two, the
    // canteen's FranceConnect-then-parent chain among them, in both orders.
    let chains: [&[PartyId]; 8] = [
        &[],
        &[],
        &[s.parent],
        &[s.franceconnect],
        &[s.mairie],
        &[s.child],
        &[s.franceconnect, s.parent],
        &[s.parent, s.franceconnect],
    ];
    let chain = chains[usize::from(c.byte()) % chains.len()];
    let expressed_by = chain.first().copied().unwrap_or(subject);
    let consumer = c.pick(&[s.mairie, s.mairie, s.other_consumer, s.dgfip]);
    let mut scope = Scope::new();
    let mut covered_at_dgfip = Vec::new();
    for provider in [s.dgfip, s.cnaf, s.mairie] {
        if provider == s.dgfip || c.flag() {
            let subset = c.sorted_subset(&categories);
            if provider == s.dgfip {
                covered_at_dgfip.clone_from(&subset);
            }
            scope.add(provider, subset);
        }
    }
    let purpose = c.pick(&[0, 0, 1, 2]);
    let issued_at = now
        .checked_add_signed(c.pick(&[0i64, -DAY_I, -300 * DAY_I, 60, -1]))
        .unwrap_or(now);
    let not_before = now
        .checked_add_signed(c.pick(&[0i64, -30 * DAY_I, 1, -1, 10 * DAY_I]))
        .unwrap_or(now);
    let validity = c.pick(&[365 * DAY, 366 * DAY, 367 * DAY, 1, 30 * DAY, 2]);
    let access = match c.byte() % 4 {
        0 => AccessPattern::one_time(),
        _ => AccessPattern::periodic(
            c.pick(&[1, 2, 3]),
            c.pick(&[30 * DAY, 29 * DAY, 31 * DAY, DAY, 60 * DAY]),
        )
        .ok()?,
    };
    let (y24, y25) = (DataRange::year(2024).ok()?, DataRange::year(2025).ok()?);
    let years = [
        y25,
        y24,
        DataRange::new(y24.from(), y25.until()).ok()?,
        DataRange::new(y25.from().plus_secs(DAY), y25.until()).ok()?,
        DataRange::new(y25.from(), y25.until().plus_secs(2 * DAY)).ok()?,
    ];
    let grant_range = c.pick(&years);
    let retention = c.pick(&[365 * DAY, 400 * DAY, 401 * DAY, 0]);
    let mut builder = Grant::builder(
        BasisId(uuid::Uuid::from_bytes([0x61; 16])),
        subject,
        consumer,
        purposes[purpose].clone(),
    )
    .issued_at(Timestamp(issued_at))
    .valid(Timestamp(not_before), Timestamp(not_before + validity))
    .access(access)
    .data_range(grant_range)
    .retention_secs(retention);
    for e in scope.entries() {
        builder = builder.cover(e.provider, e.categories.iter().cloned());
    }
    if c.flag() {
        builder = builder.allow_onward_transfer();
    }
    // One party through `expressed_by` (the subject's own: no chain), more through `chain`; a
    // chain naming the subject is refused by the builder and describes no case.
    builder = match chain {
        [one] => builder.expressed_by(*one),
        more => builder.chain(more.iter().copied()),
    };
    let grant = builder.clone().build_without_ceiling_check().ok()?;
    let grant_signer = c.pick(&[
        expressed_by,
        expressed_by,
        expressed_by,
        s.parent,
        s.authority,
    ]);

    let request = Request::builder(
        RequestId(uuid::Uuid::from_bytes([0x72; 16])),
        c.pick(&[consumer, consumer, s.mairie, s.other_consumer, s.cnaf]),
        c.pick(&[s.dgfip, s.dgfip, s.cnaf]),
        c.pick(&[subject, subject, s.parent, s.child]),
    )
    .basis_id(c.pick(&[
        grant.id(),
        grant.id(),
        BasisId(uuid::Uuid::from_bytes([0x62; 16])),
    ]))
    .basis_digest(Digest([0; 32])) // set once the grant is signed
    .categories(c.sorted_subset(&categories))
    .purpose(purposes[c.pick(&[purpose, purpose, 0, 1])].clone())
    .data_range(c.pick(&years))
    .issued_at(Timestamp(
        now.checked_add_signed(c.pick(&[0i64, -300, -301, 120, 121, -60]))
            .unwrap_or(now),
    ))
    .build()
    .ok()?;
    let request_signer = c.pick(&[
        request.consumer(),
        request.consumer(),
        request.consumer(),
        s.mairie,
    ]);
    let mut case = Case {
        grant,
        covered_at_dgfip,
        grant_signer,
        request,
        request_signer,
        derivation: None,
        derived_only: false,
    };
    if c.flag() {
        // A wrong digest on request.
        case.request = case
            .request
            .to_builder()
            .basis_digest(Digest([1; 32]))
            .build()
            .ok()?;
    }
    // Minimization, drawn last so that the earlier choices keep their bytes: one derivation in
    // the grant (none; the income's bracket with four bounds, or with nine, beyond the
    // vocabulary's eight; the income's bracket code on the household; the allowance fund's
    // bracket on the income), and whether DGFiP's ceiling releases the income only as its
    // bracket. A derivation of a category the grant does not cover describes no grant: kept
    // without it.
    let income: &'static [u64] = &[10_000, 20_000, 30_000, 45_000];
    let nine: &'static [u64] = &[1, 2, 3, 4, 5, 6, 7, 8, 9];
    let derivations: [Option<(Category, &'static str, &'static [u64])>; 5] = [
        None,
        Some((testing::rfr(), testing::RFR_BRACKET, income)),
        Some((testing::rfr(), testing::RFR_BRACKET, nine)),
        Some((testing::household(), testing::RFR_BRACKET, &[1, 2])),
        Some((testing::rfr(), testing::QF_BRACKET, &[500, 1_000])),
    ];
    if let Some((category, code, bounds)) = derivations[usize::from(c.byte()) % 5].clone() {
        let term = DerivationTerm::new(
            category.clone(),
            DerivationCode::new(code).ok()?,
            bounds.to_vec(),
        )
        .ok()?;
        if let Ok(grant) = builder.derive(term).build_without_ceiling_check() {
            case.grant = grant;
            case.derivation = Some((category, code, bounds.len()));
        }
    }
    case.derived_only = c.flag();
    Some(case)
}

/// The rules, written again from the specification, for the canteen scenario at a fresh ledger.
fn oracle_allows(s: &Scenario, case: &Case, grant_bytes: &[u8]) -> bool {
    let (g, r) = (&case.grant, &case.request);
    let now = s.now;
    let key_start = Timestamp(1_735_689_600);
    let subjects = [s.parent, s.child];
    let consumers = [s.mairie, s.other_consumer];
    // Signatures: each object signed by the key of the party it names, valid at its issue time.
    let signer = g.chain().first().copied().unwrap_or(g.subject());
    let signed_ok = case.grant_signer == signer
        && g.issued_at() >= key_start
        && case.request_signer == r.consumer()
        && r.issued_at() >= key_start;
    // Who may express consent for whom: each link of the chain (each party acting for the
    // next, the last for the subject) is one of the canteen's two representations, the
    // mandate only as the first link.
    let pairs = oracle_links(g.chain(), g.subject());
    let expressed_ok = if pairs.is_empty() {
        subjects.contains(&g.subject())
    } else {
        pairs.iter().enumerate().all(|(i, pair)| {
            (*pair == (s.franceconnect, s.parent) && i == 0) || *pair == (s.parent, s.child)
        })
    };
    let covered = &case.covered_at_dgfip;
    let terms_ok = r.basis() == g.id()
        && r.basis_digest() == Digest::of(grant_bytes)
        && consumers.contains(&r.consumer())
        && r.consumer() == g.consumer()
        && r.subject() == g.subject()
        && r.provider() == s.dgfip
        && !covered.is_empty()
        && r.categories().iter().all(|c| covered.contains(c))
        && r.purpose().code() == g.purpose().code()
        && g.data_range().from() <= r.data_range().from()
        && r.data_range().until() <= g.data_range().until()
        && g.not_before() <= now
        && now < g.expires_at();
    // DGFiP's ceiling for canteen pricing.
    let ceiling_ok = g.purpose().code() == testing::canteen_purpose().code()
        && covered
            .iter()
            .all(|c| *c == testing::rfr() || *c == testing::household())
        && g.expires_at().0 - g.not_before().0 <= 366 * DAY
        && match g.access().view() {
            AccessView::OneTime => true,
            AccessView::Periodic {
                max_uses,
                period_secs,
            } => {
                max_uses <= 2
                    && u128::from(max_uses) * u128::from(30 * DAY) <= 2 * u128::from(period_secs)
            }
        }
        && g.retention_secs() <= 400 * DAY
        && g.data_range().until().0 - g.data_range().from().0 <= 366 * DAY;
    let fresh_ok = r.issued_at().0 <= now.0 + 120 && now.0 <= r.issued_at().0 + 300;
    signed_ok && expressed_ok && terms_ok && ceiling_ok && fresh_ok
}

/// The minimization rules, written again for the tax administration's ceiling: the vocabulary
/// defines the income's bracket (`dgfip:tranche_rfr`, at most eight bounds) and the allowance
/// fund's (`cnaf:tranche_qf`, of the quotient familial), and the ceiling, when it releases the
/// income only derived, accepts the income's bracket.
fn oracle_minimization(case: &Case) -> bool {
    let covered = &case.covered_at_dgfip;
    let income = testing::rfr();
    // A derivation of a category DGFiP releases must be one the vocabulary defines for it.
    let defined = match &case.derivation {
        None => true,
        Some((category, code, bounds)) => {
            !covered.contains(category)
                || (*category == income && *code == testing::RFR_BRACKET && *bounds <= 8)
                || (*category == testing::quotient_familial()
                    && *code == testing::QF_BRACKET
                    && *bounds <= 8)
        }
    };
    // The income asked for raw where the ceiling releases it only derived.
    let income_derived = matches!(&case.derivation, Some((c, ..)) if *c == income);
    let raw_income_asked = case.derived_only
        && covered.contains(&income)
        && case.request.categories().contains(&income)
        && !income_derived;
    defined && !raw_income_asked
}

/// The links of a chain, restated: each party acts for the next, the last for `subject`.
fn oracle_links(chain: &[PartyId], subject: PartyId) -> Vec<(PartyId, PartyId)> {
    let mut represented: Vec<PartyId> = chain.iter().skip(1).copied().collect();
    represented.push(subject);
    chain.iter().copied().zip(represented).collect()
}

/// Builds a grant and a request from fuzz-chosen terms, signs them with the scenario keys,
/// decides, and checks the decision against an independent oracle: allowed exactly when every
/// rule holds, and then the authorization says what was asked.
pub fn structured(data: &[u8]) {
    let _ = structured_outcome(data);
}

/// [`structured`], telling whether the case was built (`None` if the input did not describe
/// one) and allowed: for measuring how often the oracle's allow side is reached.
#[must_use]
pub fn structured_outcome(data: &[u8]) -> Option<bool> {
    with_fixture(|f| {
        let s = &f.scenario;
        let mut case = build_case(s, data)?;
        let grant_bytes = case.grant.sign(s.key(case.grant_signer));
        if case.request.basis_digest() == Digest([0; 32]) {
            case.request = case
                .request
                .to_builder()
                .basis_digest(Digest::of(&grant_bytes))
                .build()
                .ok()?;
        }
        let request_bytes = case.request.sign(s.key(case.request_signer));
        let ceilings = if case.derived_only {
            &f.derived_only_ceilings
        } else {
            &s.ceilings
        };
        let (decision, _) =
            decide_fresh_with(s, ceilings, &request_bytes, Basis::Signed(&grant_bytes));
        let expected = oracle_allows(s, &case, &grant_bytes) && oracle_minimization(&case);
        assert_eq!(
            decision.is_allow(),
            expected,
            "oracle says {expected}, verifier says {:?}",
            decision.codes()
        );
        if let Decision::Allow(a) = &decision {
            let (g, r) = (&case.grant, &case.request);
            assert_eq!(a.categories(), r.categories());
            assert_eq!(a.consumer(), g.consumer());
            assert_eq!(a.subject(), g.subject());
            assert_eq!(a.data_range(), r.data_range());
            assert_eq!(a.basis(), g.id());
            assert_eq!(a.basis_digest(), Digest::of(&grant_bytes));
            assert_eq!(a.onward_transfer(), g.onward_transfer());
            assert_eq!(a.retain_until(), s.now.plus_secs(g.retention_secs()));
            let consent = a.consent().expect("a grant's consent");
            let links: Vec<(PartyId, PartyId)> = consent
                .chain
                .iter()
                .map(|l| (l.representative, l.represented))
                .collect();
            assert_eq!(links, oracle_links(g.chain(), g.subject()));
            // The income, if asked for under a derivation of it, only as that derivation.
            let derived = case
                .derivation
                .as_ref()
                .filter(|(category, ..)| r.categories().contains(category));
            match (derived, a.derivation(&testing::rfr())) {
                (Some((category, code, bounds)), Some(term)) => {
                    assert_eq!(
                        (
                            term.category(),
                            term.derivation().as_str(),
                            term.parameters().len()
                        ),
                        (category, *code, *bounds)
                    );
                }
                (None, None) => {}
                (drawn, sent) => {
                    panic!("the authorization's derivation {sent:?}, the grant's {drawn:?}")
                }
            }
        }
        Some(decision.is_allow())
    })
}
