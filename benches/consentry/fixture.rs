//! The benchmark grant and the "grant check", shared by the main benchmarks and the peer
//! comparison (`benches/peers` includes this file).
//!
//! The grant carries 5 UUIDs (id, subject, expressed by, consumer, provider), 3 category codes,
//! a purpose code, 3 timestamps (issued at, not before, expires at), an access pattern, a data
//! range and a retention. Its access pattern allows a billion uses every 30 days, so that a
//! decision benchmark keeps allowing; the provider's ceiling is republished to match.
#![allow(dead_code)]

use consentry::ceiling::PurposeCeiling;
use consentry::crypto::{self, CryptoProvider};
use consentry::decision::Basis;
use consentry::directory::Role;
use consentry::grant::Grant;
use consentry::ids::BasisId;
use consentry::ledger::{Ledger, Observation, Status};
use consentry::request::Request;
use consentry::signed::{SignedPayload, Unverified, Verified};
use consentry::terms::{AccessPattern, AccessView, DataRange};
use consentry::testing::{self, Scenario};
use consentry::vocab::{Category, Purpose};
use consentry::{Digest, Timestamp};

/// Seconds in a day.
pub const DAY: u64 = 86_400;

/// The access pattern of the benchmark grant: effectively unlimited.
pub const HIGH_QUOTA: AccessPattern = match AccessPattern::periodic(1_000_000_000, 30 * DAY) {
    Ok(pattern) => pattern,
    Err(_) => panic!("a valid pattern"),
};

/// The purpose, code only.
pub fn purpose() -> Purpose {
    Purpose::new("education:tarification_cantine").expect("valid purpose code")
}

/// The three categories, sorted.
pub fn categories() -> Vec<Category> {
    let mut c = vec![
        testing::rfr(),
        testing::household(),
        Category::new("dgfip:nombre_parts").expect("valid category code"),
    ];
    c.sort();
    c
}

/// The canteen scenario, with DGFiP's ceiling for the purpose opened to the three categories
/// and the high quota.
pub fn scenario() -> Scenario {
    let mut s = Scenario::canteen();
    s.ceilings.publish(PurposeCeiling {
        publisher: s.dgfip,
        purpose: purpose(),
        categories: categories(),
        max_validity_secs: 366 * DAY,
        max_access: HIGH_QUOTA,
        max_retention_secs: 400 * DAY,
        max_data_range_secs: 366 * DAY,
        derived_only: Vec::new(),
    });
    s
}

/// The benchmark grant: the parent to the city hall, three categories at DGFiP.
pub fn grant(s: &Scenario) -> Grant {
    Grant::builder(BasisId(s.next_uuid()), s.parent, s.mairie, purpose())
        .cover(s.dgfip, categories())
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(365 * DAY))
        .access(HIGH_QUOTA)
        .data_range(DataRange::year(2025).expect("valid year"))
        .retention_secs(365 * DAY)
        .build(&s.ceilings)
        .expect("the benchmark grant is within the ceilings")
}

/// The length of the grant's `Sig_structure`: the message the reference signs and verifies.
pub fn sig_structure_len(grant_bytes: &[u8]) -> usize {
    let env = consentry::cose::Envelope::parse(grant_bytes).expect("a COSE_Sign1 grant");
    consentry::cose::sig_structure(env.protected(), env.payload()).len()
}

/// Why a grant check failed (the first failing rule).
pub type Refusal = &'static str;

/// The **grant check**: everything the verifier does with a *signed* grant bytes and an
/// already-authenticated request, except checking the request's signature and writing to the
/// ledger:
///
/// 1. parse the COSE_Sign1 envelope and the grant payload strictly, look the kid up in the
///    directory, verify the Ed25519 signature over the received bytes, apply the directory's key
///    rule and hash the grant bytes (`Unverified::<Grant>::parse(bytes)?.verify(directory)`);
/// 2. every consent rule of `Verifier::decide` for a grant signed by its subject: request bound
///    to the grant by id and SHA-256, signer and consumer entitled (directory roles), consumer,
///    subject, provider, categories, purpose and data range match, validity window, ledger
///    status (not paused or revoked), purpose ceilings, request freshness, request id unseen,
///    and the period's quota (a ledger read).
///
/// It is written against the public API, rule for rule as `Verifier::decide` evaluates them
/// (`src/decision/verifier.rs`), because the library has no entry point that skips the request
/// signature. The decision benchmarks measure the library's own path.
pub fn check_grant<L: Ledger>(
    s: &Scenario,
    ledger: &L,
    bytes: &[u8],
    r: &Request,
    now: Timestamp,
) -> Result<Verified<Grant>, Refusal> {
    check_grant_with(&crypto::RING, s, ledger, bytes, r, now)
}

/// [`check_grant`] with another crypto provider (`Unverified::verify_with`).
pub fn check_grant_with<L: Ledger>(
    provider: &CryptoProvider,
    s: &Scenario,
    ledger: &L,
    bytes: &[u8],
    r: &Request,
    now: Timestamp,
) -> Result<Verified<Grant>, Refusal> {
    let g = Unverified::<Grant>::parse(bytes)
        .map_err(|_| "malformed")?
        .verify_with(provider, &s.directory)
        .map_err(|_| "not validly signed")?;
    check_rules(s, ledger, &g, r, now)?;
    Ok(g)
}

/// Step 2 of [`check_grant`] alone.
pub fn check_rules<L: Ledger>(
    s: &Scenario,
    ledger: &L,
    g: &Verified<Grant>,
    r: &Request,
    now: Timestamp,
) -> Result<(), Refusal> {
    let c = g.claims();
    let has = |p, role| s.directory.party(&p).is_some_and(|p| p.has_role(role));
    let provider = s.verifier_provider;
    ok(r.basis() == c.id(), "basis_mismatch")?;
    ok(r.basis_digest() == g.digest(), "basis_hash_mismatch")?;
    if c.expressed_by() == c.subject() {
        ok(has(c.subject(), Role::Subject), "signer_not_entitled")?;
    } else {
        ok(
            s.directory
                .representation(c.expressed_by(), c.subject(), c.issued_at())
                .is_some(),
            "representation_not_valid",
        )?;
    }
    ok(has(r.consumer(), Role::Consumer), "signer_not_entitled")?;
    ok(r.consumer() == c.consumer(), "consumer_mismatch")?;
    ok(r.subject() == c.subject(), "subject_mismatch")?;
    ok(r.provider() == provider, "wrong_provider")?;
    let covered = c.scope().categories_at(&r.provider());
    ok(!covered.is_empty(), "provider_not_covered")?;
    ok(
        r.categories()
            .iter()
            .all(|cat| covered.binary_search(cat).is_ok()),
        "categories_not_covered",
    )?;
    ok(r.purpose() == c.purpose(), "purpose_mismatch")?;
    ok(
        c.data_range().contains(&r.data_range()),
        "data_range_outside",
    )?;
    ok(now >= c.not_before(), "not_yet_valid")?;
    ok(now < c.expires_at(), "expired")?;
    let window_start = match c.access().view() {
        AccessView::Periodic { period_secs, .. } => {
            let elapsed = now.secs().saturating_sub(c.not_before().secs());
            Some(
                c.not_before()
                    .plus_secs(elapsed / period_secs * period_secs),
            )
        }
        _ => Some(c.not_before()),
    };
    // The one ledger read of a decision.
    let snapshot = ledger
        .observe(&Observation {
            basis: g.ledger_key(),
            basis_digest: g.digest(),
            request: Some(consentry::danger::replay_key(r.consumer(), r.id())),
            window_start,
            at: now,
        })
        .map_err(|_| "ledger_unavailable")?;
    ok(snapshot.status == Status::Active, "paused_or_revoked")?;
    ok(
        s.ceilings.excesses(&c.ceiling_terms()).is_empty(),
        "beyond_ceiling",
    )?;
    ok(r.issued_at() <= now.plus_secs(120), "request_from_future")?;
    ok(now <= r.issued_at().plus_secs(300), "request_too_old")?;
    ok(!snapshot.replayed, "replayed_request")?;
    let max_uses = match c.access().view() {
        AccessView::Periodic { max_uses, .. } => max_uses,
        _ => 1,
    };
    ok(snapshot.uses < max_uses, "frequency_exhausted")?;
    Ok(())
}

fn ok(condition: bool, code: Refusal) -> Result<(), Refusal> {
    if condition { Ok(()) } else { Err(code) }
}

/// A ready benchmark: the scenario, the signed grant, and an unsigned request for it.
pub struct Fixture {
    /// The scenario (directory, ceilings, ledger, clock).
    pub s: Scenario,
    /// The grant's claims.
    pub grant: Grant,
    /// The signed grant.
    pub grant_bytes: Vec<u8>,
    /// A request for every category of the grant (authenticated by assumption in the grant
    /// check).
    pub request: Request,
}

impl Fixture {
    /// Builds the fixture and checks that the grant check and a decision both allow.
    pub fn new() -> Self {
        let s = scenario();
        let grant = grant(&s);
        let grant_bytes = s.sign_grant(&grant);
        let request = s.request(&grant_bytes);
        let f = Fixture {
            s,
            grant,
            grant_bytes,
            request,
        };
        let _checked = f.check().expect("the grant check allows");
        let signed = f.s.sign_request(&f.fresh_request());
        let d = f.s.decide(&signed, &f.grant_bytes);
        assert!(
            d.is_allow(),
            "the benchmark decision allows: {:?}",
            d.codes()
        );
        f
    }

    /// The grant check on the fixture.
    pub fn check(&self) -> Result<Verified<Grant>, Refusal> {
        self.check_with(&crypto::RING)
    }

    /// The grant check on the fixture with another crypto provider.
    pub fn check_with(&self, provider: &CryptoProvider) -> Result<Verified<Grant>, Refusal> {
        check_grant_with(
            provider,
            &self.s,
            &self.s.ledger,
            &self.grant_bytes,
            &self.request,
            self.s.now,
        )
    }

    /// A request with a fresh id.
    pub fn fresh_request(&self) -> Request {
        self.s.request(&self.grant_bytes)
    }

    /// A decision on a freshly signed request with the grant's bytes.
    pub fn decide_signed(&self, request: &[u8]) -> bool {
        self.s
            .verifier()
            .decide(request, Basis::Signed(&self.grant_bytes), self.s.now)
            .is_allow()
    }

    /// SHA-256 of the grant bytes.
    pub fn grant_digest(&self) -> Digest {
        Digest::of(&self.grant_bytes)
    }

    /// The payload bytes of the grant (deterministic CBOR).
    pub fn payload(&self) -> Vec<u8> {
        self.grant.to_payload_bytes()
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// The raw references: the grant signer's ring key pair (the same seed as
/// `testing::key_for("parent")`), the grant's exact `Sig_structure` and its signature (Ed25519
/// is deterministic, so the same as in the grant). Verifying these exact bytes removes the
/// variable-time part of Ed25519 verification (which depends on the signature and hash) from
/// the comparison: the difference to a consentry operation is consentry's own work.
pub struct RawReference {
    /// The ring key pair.
    pub pair: ring::signature::Ed25519KeyPair,
    /// Its public key.
    pub public: Vec<u8>,
    /// The grant's `Sig_structure`.
    pub message: Vec<u8>,
    /// The grant's signature.
    pub signature: Vec<u8>,
}

impl RawReference {
    /// The references of the fixture's grant.
    pub fn of(f: &Fixture) -> Self {
        use ring::signature::KeyPair;
        let seed = *Digest::of_parts(&[b"consentry-testing:", b"parent"]).as_bytes();
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).expect("a seed");
        let env = consentry::cose::Envelope::parse(&f.grant_bytes).expect("a COSE_Sign1 grant");
        let message = consentry::cose::sig_structure(env.protected(), env.payload());
        let signature = pair.sign(&message).as_ref().to_vec();
        assert!(
            f.grant_bytes.ends_with(&signature),
            "the reference signature is the grant's"
        );
        let public = pair.public_key().as_ref().to_vec();
        RawReference {
            pair,
            public,
            message,
            signature,
        }
    }

    /// One raw verification.
    #[inline(never)]
    pub fn verify(&self) -> bool {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &self.public)
            .verify(&self.message, &self.signature)
            .is_ok()
    }

    /// One raw verification through a provider's Ed25519 object (for aws-lc-rs: its
    /// `verify_sig` on the raw key, decoded for the call).
    #[inline(never)]
    pub fn verify_with(&self, provider: &CryptoProvider) -> bool {
        let public: &[u8; 32] = self.public.as_slice().try_into().expect("32 bytes");
        provider
            .ed25519
            .verify(public, &self.message, &self.signature)
            .is_ok()
    }

    /// One raw signature.
    #[inline(never)]
    pub fn sign(&self) -> ring::signature::Signature {
        self.pair.sign(&self.message)
    }
}
