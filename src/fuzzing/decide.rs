//! `decide`: a (request, basis) pair decided with the canteen verifier on a fresh ledger.

use crate::ceiling::{Ceilings, DerivedOnly, PurposeCeiling};
use crate::decision::{Basis, Decision, Verifier};
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::ledger::InMemoryLedger;
use crate::signed::{SignedPayload, Verified};
use crate::testing::{self, Scenario};

/// The canteen scenario with valid (request, basis) pairs, built once per thread.
pub struct Fixture {
    /// The scenario (directory, ceilings, clock).
    pub scenario: Scenario,
    /// A signed grant from the parent to the city hall.
    pub grant: Vec<u8>,
    /// A signed request under that grant.
    pub grant_request: Vec<u8>,
    /// A signed habilitation for the city hall.
    pub habilitation: Vec<u8>,
    /// A signed request under that habilitation.
    pub habilitation_request: Vec<u8>,
    /// A signed grant about the child expressed by the consent manager through the parent: the
    /// chain `[franceconnect, parent]`.
    pub chain_grant: Vec<u8>,
    /// A signed request under that grant.
    pub chain_request: Vec<u8>,
    /// The scenario's ceilings, with the tax administration's for canteen pricing releasing the
    /// reference income only as its bracket (`dgfip:tranche_rfr`).
    pub derived_only_ceilings: Ceilings,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// Builds the fixture (deterministic: every call gives the same bytes).
    #[must_use]
    pub fn new() -> Self {
        let scenario = Scenario::canteen();
        let built = scenario.grant().build(&scenario.ceilings);
        let grant = scenario.sign_grant(&built.unwrap_or_else(|e| panic!("{e}")));
        let grant_request = scenario.sign_request(&scenario.request(&grant));
        let habilitation = scenario
            .habilitation()
            .sign(scenario.key(scenario.authority));
        let habilitation_request = scenario.sign_request(&scenario.request(&habilitation));
        let built = scenario
            .grant_for(scenario.child)
            .chain([scenario.franceconnect, scenario.parent])
            .build(&scenario.ceilings);
        let chain_grant = scenario.sign_grant(&built.unwrap_or_else(|e| panic!("{e}")));
        let chain_request = scenario.sign_request(&scenario.request(&chain_grant));
        let mut derived_only_ceilings = scenario.ceilings.clone();
        derived_only_ceilings.publish(PurposeCeiling {
            derived_only: vec![DerivedOnly {
                category: testing::rfr(),
                derivations: vec![testing::rfr_bracket().code().clone()],
            }],
            ..testing::kit_ceiling(
                scenario.dgfip,
                testing::canteen_purpose(),
                [testing::rfr(), testing::household()],
            )
        });
        Fixture {
            scenario,
            grant,
            grant_request,
            habilitation,
            habilitation_request,
            chain_grant,
            chain_request,
            derived_only_ceilings,
        }
    }

    /// The valid pairs: each is allowed on a fresh ledger, and nothing else is.
    pub fn valid_pairs(&self) -> [(&[u8], &[u8]); 3] {
        [
            (&self.grant_request, &self.grant),
            (&self.habilitation_request, &self.habilitation),
            (&self.chain_request, &self.chain_grant),
        ]
    }

    /// Encodes a (request, basis) pair as a [`decide`] input.
    #[must_use]
    pub fn decide_input(request: &[u8], basis: &[u8]) -> Vec<u8> {
        let n = u16::try_from(request.len()).unwrap_or(u16::MAX);
        let mut out = n.to_be_bytes().to_vec();
        out.extend_from_slice(request);
        out.extend_from_slice(basis);
        out
    }
}

thread_local! {
    static FIXTURE: Fixture = Fixture::new();
}

/// Runs `f` with this thread's [`Fixture`].
pub fn with_fixture<R>(f: impl FnOnce(&Fixture) -> R) -> R {
    FIXTURE.with(f)
}

pub(super) fn decide_fresh(
    s: &Scenario,
    request: &[u8],
    basis: Basis<'_>,
) -> (Decision, InMemoryLedger) {
    decide_fresh_with(s, &s.ceilings, request, basis)
}

/// [`decide_fresh`] under other ceilings than the scenario's.
pub(super) fn decide_fresh_with(
    s: &Scenario,
    ceilings: &crate::ceiling::Ceilings,
    request: &[u8],
    basis: Basis<'_>,
) -> (Decision, InMemoryLedger) {
    let ledger = InMemoryLedger::new();
    let verifier = Verifier::new(s.verifier_provider, &s.directory, ceilings, &ledger);
    let decision = verifier.decide(request, basis, s.now);
    (decision, ledger)
}

/// Splits `data` into request bytes (length in the first two bytes, big-endian) and basis
/// bytes, and decides on them with the canteen verifier on a fresh ledger. Allowed only for a
/// valid pair; deterministic; never allowed twice; the cached-basis path decides alike.
pub fn decide(data: &[u8]) {
    let (request, basis) = match data {
        [a, b, rest @ ..] => {
            rest.split_at(usize::from(u16::from_be_bytes([*a, *b])).min(rest.len()))
        }
        _ => (data, &[][..]),
    };
    with_fixture(|f| {
        let s = &f.scenario;
        let (decision, ledger) = decide_fresh(s, request, Basis::Signed(basis));
        let valid = f.valid_pairs().contains(&(request, basis));
        assert_eq!(
            decision.is_allow(),
            valid,
            "decision {:?} for a pair that is {}valid",
            decision.codes(),
            if valid { "" } else { "not " }
        );
        let (again, _) = decide_fresh(s, request, Basis::Signed(basis));
        assert_eq!(decision, again, "decision is not deterministic");
        if decision.is_allow() {
            let verifier = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &ledger);
            let replay = verifier.decide(request, Basis::Signed(basis), s.now);
            assert!(!replay.is_allow(), "the same request allowed twice");
        }
        // A cached basis must decide exactly like its signed bytes.
        if let Ok(g) = Verified::<Grant>::parse_and_verify(basis, &s.directory) {
            let (cached, _) = decide_fresh(s, request, Basis::Grant(&g));
            assert_eq!(decision, cached, "cached grant decides otherwise");
        }
        if let Ok(h) = Verified::<Habilitation>::parse_and_verify(basis, &s.directory) {
            let (cached, _) = decide_fresh(s, request, Basis::Habilitation(&h));
            assert_eq!(decision, cached, "cached habilitation decides otherwise");
        }
    });
}
