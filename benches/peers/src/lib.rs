//! consentry's grant check side by side with general-purpose token formats carrying the same
//! claims, each peer at its current version: biscuit-auth 6, jsonwebtoken 12 (EdDSA, with its
//! aws-lc-rs or its RustCrypto backend, one per process) and coset 0.4 (COSE_Sign1) with ring.
//! consentry is measured with both of its crypto providers (ring, the default, and aws-lc-rs).
//!
//! Every token carries the claims of the consentry benchmark grant: 5 UUIDs (id, subject,
//! expressed by, consumer, provider), 3 category codes, a purpose code, 3 timestamps (issued
//! at, not before, expires at), the access pattern, the data range and the retention; every
//! token names its signing key (consentry and COSE: a 16-byte kid; JWT: `kid` in the header;
//! biscuit: no key id, the root key is given).
//!
//! Each check does the same work: decode, verify the one Ed25519 signature (the key looked up
//! by kid where the format has one), then check the claims against the same request: basis id,
//! consumer, subject, provider, each requested category covered, purpose, requested data range
//! inside the granted one, and `not_before <= now < expires_at`.
//!
//! Run with `cargo bench --manifest-path benches/peers/Cargo.toml`; the sizes are printed first.
//! This library builds the four tokens and their checks; `benches/peers_*.rs` time them with
//! criterion and `benches/paired_*.rs` as paired ratios, one binary per jsonwebtoken backend,
//! and `benches/instructions.rs` counts their instructions under callgrind.

#[path = "../../consentry/fixture.rs"]
pub mod fixture;

use biscuit_auth::macros::{authorizer, biscuit};
use biscuit_auth::{AuthorizerLimits, Biscuit, KeyPair, PrivateKey};
use consentry::crypto::{AWS_LC_RS, CryptoProvider, RING};
use consentry::grant::Grant;
use consentry::request::Request;
use consentry::signed::{Unverified, Verified};
use consentry::terms::AccessView;
use coset::{CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use fixture::{Fixture, RawReference};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The JWT claims (registered names where they exist).
#[derive(Serialize, Deserialize)]
pub(crate) struct JwtClaims {
    jti: String,
    sub: String,
    /// Who expressed the consent (and signed).
    iss: String,
    aud: String,
    /// Provider.
    prv: String,
    /// Categories at the provider.
    cat: Vec<String>,
    /// Purpose code.
    pur: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    /// Access pattern: [1, max uses, period].
    acc: (u8, u32, u64),
    /// Data range: [from, until).
    drg: (u64, u64),
    /// Retention in seconds.
    ret: u64,
}

/// The request, in each format's native representation.
pub(crate) struct Expect {
    r: Request,
    id: String,
    consumer: String,
    subject: String,
    provider: String,
    categories: Vec<String>,
    purpose: String,
    now: u64,
}

fn uuid_str(b: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*b).hyphenated().to_string()
}

fn time(t: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(t)
}

/// The claim checks shared by the consentry and the JWT paths (string form).
fn check_jwt_claims(c: &JwtClaims, e: &Expect) -> bool {
    c.jti == e.id
        && c.aud == e.consumer
        && c.sub == e.subject
        && c.prv == e.provider
        && e.categories.iter().all(|x| c.cat.contains(x))
        && c.pur == e.purpose
        && c.drg.0 <= e.r.data_range().from().secs()
        && e.r.data_range().until().secs() <= c.drg.1
        && c.nbf <= e.now
        && e.now < c.exp
}

/// consentry's claim checks (the subset the peers perform).
fn check_consentry_claims(g: &Verified<Grant>, e: &Expect) -> bool {
    let c = g.claims();
    let r = &e.r;
    let covered = c.scope().categories_at(&r.provider());
    r.basis() == c.id()
        && r.consumer() == c.consumer()
        && r.subject() == c.subject()
        && !covered.is_empty()
        && r.categories()
            .iter()
            .all(|x| covered.binary_search(x).is_ok())
        && r.purpose() == c.purpose()
        && c.data_range().contains(&r.data_range())
        && c.not_before().secs() <= e.now
        && e.now < c.expires_at().secs()
}

/// Reads the fields of the COSE payload (the same integer-keyed CBOR map as consentry's) with
/// ciborium's generic `Value`, and checks them.
fn check_cose_claims(payload: &[u8], e: &Expect) -> bool {
    use ciborium::Value;
    let Ok(Value::Map(m)) = ciborium::de::from_reader::<Value, _>(payload) else {
        return false;
    };
    let get = |k: u64| {
        m.iter()
            .find(|(key, _)| key.as_integer() == Some(k.into()))
            .map(|(_, v)| v)
    };
    let bytes = |k| get(k).and_then(Value::as_bytes).map(Vec::as_slice);
    let uint = |v: &Value| v.as_integer().and_then(|i| u64::try_from(i).ok());
    let r = &e.r;
    let scope_ok = get(5).and_then(Value::as_array).is_some_and(|entries| {
        entries.iter().any(|entry| {
            let Some([p, cats]) = entry.as_array().map(Vec::as_slice) else {
                return false;
            };
            p.as_bytes().map(Vec::as_slice) == Some(r.provider().as_bytes().as_slice())
                && cats.as_array().is_some_and(|cats| {
                    e.categories
                        .iter()
                        .all(|x| cats.iter().any(|c| c.as_text() == Some(x.as_str())))
                })
        })
    });
    let range_ok = get(12).and_then(Value::as_array).is_some_and(|a| {
        matches!(a.as_slice(), [f, u]
            if uint(f).is_some_and(|f| f <= r.data_range().from().secs())
                && uint(u).is_some_and(|u| r.data_range().until().secs() <= u))
    });
    bytes(1) == Some(r.basis().0.as_bytes().as_slice())
        && bytes(4) == Some(r.consumer().as_bytes().as_slice())
        && bytes(2) == Some(r.subject().as_bytes().as_slice())
        && scope_ok
        && get(6).and_then(Value::as_text) == Some(e.purpose.as_str())
        && range_ok
        && get(9).and_then(uint).is_some_and(|t| t <= e.now)
        && get(10).and_then(uint).is_some_and(|t| e.now < t)
}

/// jsonwebtoken 12's crypto backends. The crate picks one per process
/// (`jsonwebtoken::crypto::CryptoProvider::install_default`), so each bench binary installs one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtBackend {
    /// `jsonwebtoken::crypto::aws_lc` (the `aws_lc_rs` feature).
    AwsLcRs,
    /// `jsonwebtoken::crypto::rust_crypto` (the `rust_crypto` feature: ed25519-dalek).
    RustCrypto,
}

impl JwtBackend {
    /// Both, in the order the bench binaries are named.
    pub const ALL: [JwtBackend; 2] = [JwtBackend::AwsLcRs, JwtBackend::RustCrypto];

    /// The backend's name, as in the bench binaries' names.
    pub fn name(self) -> &'static str {
        match self {
            JwtBackend::AwsLcRs => "aws_lc_rs",
            JwtBackend::RustCrypto => "rust_crypto",
        }
    }

    /// The backend with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Installs it as this process's jsonwebtoken backend (once per process).
    pub fn install(self) {
        let provider = match self {
            JwtBackend::AwsLcRs => &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
            JwtBackend::RustCrypto => &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        };
        provider
            .install_default()
            .expect("one jsonwebtoken backend per process");
    }
}

/// The four tokens with what their checks need.
pub struct Peers {
    /// The consentry fixture (scenario, signed grant, request).
    pub f: Fixture,
    /// Raw ring references on the grant's exact `Sig_structure`.
    pub reference: RawReference,
    expect: Expect,
    /// The JWT (compact serialization).
    pub jwt: String,
    jwt_keys: HashMap<String, DecodingKey>,
    validation: Validation,
    /// The biscuit token (serialized).
    pub biscuit: Vec<u8>,
    root_public: biscuit_auth::PublicKey,
    q_bytes: [Vec<u8>; 4],
    q_strings: [String; 4],
    q_times: [SystemTime; 3],
    /// The COSE_Sign1 message made with coset.
    pub cose: Vec<u8>,
    cose_keys: HashMap<Vec<u8>, Vec<u8>>,
    /// The grant signer's key as aws-lc-rs decodes it once (its `ParsedPublicKey`).
    aws_parsed: aws_lc_rs::signature::ParsedPublicKey,
    /// The jsonwebtoken backend installed in this process.
    pub backend: JwtBackend,
}

impl Peers {
    /// Installs jsonwebtoken's `backend` in this process, builds the tokens and checks that
    /// every check allows.
    pub fn new(backend: JwtBackend) -> Self {
        backend.install();
        let f = Fixture::new();
        let reference = RawReference::of(&f);
        let s = &f.s;
        let g = &f.grant;
        let (max_uses, period) = match g.access().view() {
            AccessView::Periodic {
                max_uses,
                period_secs,
            } => (max_uses, period_secs),
            _ => unreachable!("the benchmark grant is periodic"),
        };
        let cats: Vec<String> = g.scope().entries()[0]
            .categories
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let expect = Expect {
            r: f.request.clone(),
            id: uuid_str(g.id().0.as_bytes()),
            consumer: uuid_str(g.consumer().as_bytes()),
            subject: uuid_str(g.subject().as_bytes()),
            provider: uuid_str(s.dgfip.as_bytes()),
            categories: f
                .request
                .categories()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            purpose: g.purpose().code().to_owned(),
            now: s.now.secs(),
        };
        assert_eq!(expect.categories, cats);

        // --- A key for the JWT and COSE tokens.
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key generation");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("valid pkcs8");
        let public = pair.public_key().as_ref().to_vec();

        // --- JWT (EdDSA): kid is the hex of the same 16-byte key id as consentry's.
        let kid = s.key(s.parent).key_id().to_hex();
        let jwt_claims = JwtClaims {
            jti: expect.id.clone(),
            sub: expect.subject.clone(),
            iss: uuid_str(g.expressed_by().as_bytes()),
            aud: expect.consumer.clone(),
            prv: expect.provider.clone(),
            cat: cats.clone(),
            pur: expect.purpose.clone(),
            iat: g.issued_at().secs(),
            nbf: g.not_before().secs(),
            exp: g.expires_at().secs(),
            acc: (1, max_uses, period),
            drg: (g.data_range().from().secs(), g.data_range().until().secs()),
            ret: g.retention_secs(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        let jwt = jsonwebtoken::encode(
            &header,
            &jwt_claims,
            &EncodingKey::from_ed_der(pkcs8.as_ref()),
        )
        .expect("JWT encoding");
        let mut jwt_keys = HashMap::new();
        jwt_keys.insert(kid.clone(), DecodingKey::from_ed_der(&public));
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Time and audience are checked with the claims below, against the scenario's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();

        // --- Biscuit: one authority block with the claims as facts, signed with a root key.
        let root = KeyPair::from(
            &PrivateKey::from_bytes(&[42; 32], biscuit_auth::Algorithm::Ed25519).expect("key"),
        );
        let (id_b, sub_b, xby_b, con_b, prv_b) = (
            g.id().0.as_bytes().to_vec(),
            g.subject().as_bytes().to_vec(),
            g.expressed_by().as_bytes().to_vec(),
            g.consumer().as_bytes().to_vec(),
            s.dgfip.as_bytes().to_vec(),
        );
        let (c0, c1, c2) = (cats[0].clone(), cats[1].clone(), cats[2].clone());
        let purpose = expect.purpose.clone();
        let (iat, nbf, exp) = (
            time(g.issued_at().secs()),
            time(g.not_before().secs()),
            time(g.expires_at().secs()),
        );
        let (drf, dru) = (
            time(g.data_range().from().secs()),
            time(g.data_range().until().secs()),
        );
        let (max_uses, period, ret) = (
            i64::from(max_uses),
            period as i64,
            g.retention_secs() as i64,
        );
        let token = biscuit!(
            r#"
            id({id_b});
            subject({sub_b});
            expressed_by({xby_b});
            consumer({con_b});
            provider({prv_b});
            category({c0});
            category({c1});
            category({c2});
            purpose({purpose});
            issued_at({iat});
            not_before({nbf});
            expires_at({exp});
            access(1, {max_uses}, {period});
            data_range({drf}, {dru});
            retention({ret});
            "#
        )
        .build(&root)
        .expect("biscuit");
        let biscuit_bytes = token.to_vec().expect("serialize");
        let root_public = root.public();
        let (q_id, q_con, q_sub, q_prv) = (
            expect.r.basis().0.as_bytes().to_vec(),
            expect.r.consumer().as_bytes().to_vec(),
            expect.r.subject().as_bytes().to_vec(),
            expect.r.provider().as_bytes().to_vec(),
        );
        let (q0, q1, q2) = (
            expect.categories[0].clone(),
            expect.categories[1].clone(),
            expect.categories[2].clone(),
        );
        let q_pur = expect.purpose.clone();
        let (q_from, q_until, now) = (
            time(expect.r.data_range().from().secs()),
            time(expect.r.data_range().until().secs()),
            time(expect.now),
        );

        // --- coset + ring: the same payload bytes as consentry's, protected header {alg, kid}
        // (coset cannot carry consentry's private-use content type 65001).
        let cose_kid = s.key(s.parent).key_id().as_bytes().to_vec();
        let cose_bytes = CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::EdDSA)
                    .key_id(cose_kid.clone())
                    .build(),
            )
            .payload(f.payload())
            .create_signature(b"", |m| pair.sign(m).as_ref().to_vec())
            .build()
            .to_tagged_vec()
            .expect("COSE encoding");
        let mut cose_keys: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        cose_keys.insert(cose_kid.clone(), public.clone());
        let peers = Peers {
            jwt,
            jwt_keys,
            validation,
            biscuit: biscuit_bytes,
            root_public,
            q_bytes: [q_id, q_con, q_sub, q_prv],
            q_strings: [q0, q1, q2, q_pur],
            q_times: [q_from, q_until, now],
            cose: cose_bytes,
            cose_keys,
            expect,
            aws_parsed: aws_lc_rs::signature::ParsedPublicKey::new(
                &aws_lc_rs::signature::ED25519,
                &reference.public,
            )
            .expect("a valid key"),
            reference,
            f,
            backend,
        };
        assert!(peers.consentry_check(), "the consentry grant check allows");
        assert!(peers.consentry_check_aws_lc_rs(), "with aws-lc-rs too");
        assert!(
            peers.consentry_claims_with(&AWS_LC_RS),
            "with aws-lc-rs too"
        );
        assert!(peers.raw_verify_aws_lc_rs(), "raw aws-lc-rs verifies");
        assert!(
            peers.raw_verify_aws_lc_rs_parsed(),
            "raw aws-lc-rs verifies"
        );
        assert!(peers.consentry_claims(), "the consentry claim check allows");
        assert!(peers.jwt_check(), "the JWT check allows");
        assert!(peers.biscuit_check(), "the biscuit check allows");
        assert!(peers.cose_check(), "the COSE check allows");
        peers
    }

    /// consentry's full grant check (every rule, see the fixture).
    #[inline(never)]
    pub fn consentry_check(&self) -> bool {
        self.f.check().is_ok()
    }

    /// consentry's full grant check with the aws-lc-rs provider.
    #[inline(never)]
    pub fn consentry_check_aws_lc_rs(&self) -> bool {
        self.f.check_with(&AWS_LC_RS).is_ok()
    }

    /// consentry: parse, verify, and the same claim checks as the peers.
    #[inline(never)]
    pub fn consentry_claims(&self) -> bool {
        self.consentry_claims_with(&RING)
    }

    /// [`Peers::consentry_claims`] with a crypto provider.
    #[inline(never)]
    pub fn consentry_claims_with(&self, provider: &CryptoProvider) -> bool {
        Unverified::<Grant>::parse(&self.f.grant_bytes)
            .ok()
            .and_then(|u| u.verify_with(provider, &self.f.s.directory).ok())
            .is_some_and(|g| check_consentry_claims(&g, &self.expect))
    }

    /// One raw aws-lc-rs verification of the grant's `Sig_structure`, the key decoded for the
    /// call (`ED25519.verify_sig` on its 32 bytes).
    #[inline(never)]
    pub fn raw_verify_aws_lc_rs(&self) -> bool {
        use aws_lc_rs::signature::VerificationAlgorithm;
        aws_lc_rs::signature::ED25519
            .verify_sig(
                &self.reference.public,
                &self.reference.message,
                &self.reference.signature,
            )
            .is_ok()
    }

    /// One raw aws-lc-rs verification with the key decoded once (`ParsedPublicKey`).
    #[inline(never)]
    pub fn raw_verify_aws_lc_rs_parsed(&self) -> bool {
        self.aws_parsed
            .verify_sig(&self.reference.message, &self.reference.signature)
            .is_ok()
    }

    /// jsonwebtoken: header decoded for the kid, key looked up, decode + verify, claim checks.
    #[inline(never)]
    pub fn jwt_check(&self) -> bool {
        let token = self.jwt.as_str();
        let Ok(h) = jsonwebtoken::decode_header(token) else {
            return false;
        };
        let Some(key) = h.kid.as_ref().and_then(|k| self.jwt_keys.get(k)) else {
            return false;
        };
        jsonwebtoken::decode::<JwtClaims>(token, key, &self.validation)
            .is_ok_and(|d| check_jwt_claims(&d.claims, &self.expect))
    }

    /// biscuit-auth: parse + verify with the root key, then an authorizer with the same rules
    /// in Datalog.
    #[inline(never)]
    pub fn biscuit_check(&self) -> bool {
        let Ok(token) = Biscuit::from(&self.biscuit, self.root_public) else {
            return false;
        };
        // The authorizer takes its parameters by value.
        let [q_id, q_con, q_sub, q_prv] = self.q_bytes.clone();
        let [q0, q1, q2, q_pur] = self.q_strings.clone();
        let [q_from, q_until, now] = self.q_times;
        let built = authorizer!(
            r#"
            check if id({q_id});
            check if consumer({q_con});
            check if subject({q_sub});
            check if provider({q_prv});
            check if category({q0});
            check if category({q1});
            check if category({q2});
            check if purpose({q_pur});
            check if data_range($f, $u), $f <= {q_from}, $u >= {q_until};
            check if not_before($t), $t <= {now};
            check if expires_at($t), $t > {now};
            allow if true;
            "#
        )
        // The default 1 ms time limit is kept natively (the check takes far less) but would
        // trip under callgrind; the other limits are the defaults.
        .set_limits(AuthorizerLimits {
            max_time: Duration::from_secs(1),
            ..AuthorizerLimits::default()
        })
        .build(&token);
        built.is_ok_and(|mut a| a.authorize().is_ok())
    }

    /// coset + ring: COSE_Sign1 decode, alg and kid, ring verify, payload decoded with ciborium,
    /// claim checks.
    #[inline(never)]
    pub fn cose_check(&self) -> bool {
        let Ok(msg) = CoseSign1::from_tagged_slice(&self.cose) else {
            return false;
        };
        if msg.protected.header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
            return false;
        }
        let Some(key) = self.cose_keys.get(&msg.protected.header.key_id) else {
            return false;
        };
        let verified = msg.verify_signature(b"", |sig, data| {
            UnparsedPublicKey::new(&ED25519, key).verify(data, sig)
        });
        verified.is_ok()
            && msg
                .payload
                .as_deref()
                .is_some_and(|p| check_cose_claims(p, &self.expect))
    }

    /// The encoded sizes in bytes: consentry, coset, JWT, biscuit.
    pub fn sizes(&self) -> [(&'static str, usize); 4] {
        [
            ("consentry", self.f.grant_bytes.len()),
            ("coset", self.cose.len()),
            ("jwt", self.jwt.len()),
            ("biscuit", self.biscuit.len()),
        ]
    }
}
