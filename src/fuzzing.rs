//! Fuzzing entry points: plain functions over `&[u8]`, shared by the `fuzz/` targets and by
//! `tests/fuzz_replay.rs`, which replays the committed seeds and past crash inputs.
//!
//! Each function accepts any input and returns normally; it panics only when an invariant of
//! the library is broken (an `assert!` below), which is what the fuzzer reports as a crash.
//! Not part of the public API.

use crate::cbor::{Encoder, Limits, Value};
use crate::cose::{self, Envelope, ObjectKind};
use crate::decision::{Basis, Decision, Verifier};
use crate::digest::Digest;
use crate::directory::{Directory, PartyId};
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::ids::{BasisId, RequestId};
use crate::keys::SigningKey;
use crate::ledger::InMemoryLedger;
use crate::log::{
    MerkleTree, ProofError, leaf_hash, node_hash, verify_consistency, verify_inclusion,
};
use crate::request::Request;
use crate::signed::{SignedPayload, Unverified, Verified};
use crate::statement::Statement;
use crate::terms::AccessView;
use crate::terms::{AccessPattern, DataRange, Scope};
use crate::testing::{self, Scenario};
use crate::time::Timestamp;
use crate::vocab::{Category, Purpose};

// ---------------------------------------------------------------------------------------------
// decode_object

/// Decodes `data` as every wire object kind; whatever decodes must re-encode to exactly the
/// same bytes, and must also be accepted by the generic strict decoder.
pub fn decode_object(data: &[u8]) {
    decode_object_reach(data);
}

/// Runs [`decode_object`]'s checks on `data`, then on the *shaped* input derived from it (see
/// [`shaped_object`]); whether any decoder accepted either, so that an assertion on what it
/// accepted was reached. Raw bytes almost never decode; the shaped input mostly does.
pub fn decode_object_reach(data: &[u8]) -> bool {
    let raw = decode_checks(data);
    let shaped = decode_checks(&shaped_object(data));
    raw || shaped
}

/// A valid payload of the canteen scenario (grant, habilitation, statement or request, chosen
/// by the first byte) with one item changed as the next eight bytes say (see `change_one`),
/// re-encoded deterministically, and signed as its kind with [`envelope_key`] when the ninth
/// byte is odd. The decoders thus see well-formed, deterministic bytes and judge the fields.
pub fn shaped_object(data: &[u8]) -> Vec<u8> {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let kind = usize::from(byte(0) % 4);
    let mut choice = [0u8; 8];
    for (i, c) in choice.iter_mut().enumerate() {
        *c = byte(1 + i);
    }
    let payload = TEMPLATES.with(|t| t.payloads[kind].clone());
    let Ok(Value::Map(mut entries)) = Value::decode(&payload, Limits::OBJECT) else {
        unreachable!("a payload is a map")
    };
    let choice = u64::from_be_bytes(choice);
    let at = (choice >> 40) as usize % entries.len();
    change_one(&mut entries[at].1, choice);
    let payload = Value::Map(entries).encode();
    if byte(9) % 2 == 1 {
        let kinds = [
            ObjectKind::Grant,
            ObjectKind::Habilitation,
            ObjectKind::Statement,
            ObjectKind::Request,
        ];
        TEMPLATES.with(|t| cose::sign(kinds[kind], &t.key, &payload))
    } else {
        payload
    }
}

/// Valid payloads of the four kinds and the key [`shaped_object`] and [`shaped_envelope`] use.
struct Templates {
    payloads: [Vec<u8>; 4],
    key: SigningKey,
}

impl Templates {
    fn new() -> Self {
        let s = Scenario::canteen();
        let grant = s.sign_grant(&s.grant().build(&s.ceilings).expect("the canteen grant"));
        let payload = |bytes: &[u8]| {
            Envelope::parse(bytes)
                .expect("a signed object")
                .payload()
                .to_vec()
        };
        let statement = s.statement(&grant, crate::statement::Action::Pause, s.parent);
        Templates {
            payloads: [
                payload(&grant),
                s.habilitation().to_payload_bytes(),
                payload(&statement),
                s.request(&grant).to_payload_bytes(),
            ],
            key: envelope_key(),
        }
    }
}

thread_local! {
    static TEMPLATES: Templates = Templates::new();
}

/// Changes one item inside `v` as `choice` says, mostly keeping it valid: an integer gets a
/// nearby value (rarely any), a byte string a flipped bit (rarely a byte more or less), a text
/// string another character of the codes' alphabet (rarely one outside it), a boolean the other
/// value; in an array or a map, one element (rarely, in an array, one dropped or repeated).
pub fn change_one(v: &mut Value, choice: u64) {
    let pick = |n: usize| (choice >> 8) as usize % n.max(1);
    let how = choice % 16;
    let bit = (choice >> 4) % 8;
    match v {
        Value::Unsigned(n) => {
            *n = match how {
                0 => choice >> 16,
                1 => n.wrapping_add(1),
                2 => n.saturating_sub(1),
                _ => *n ^ 1 << bit,
            }
        }
        Value::Negative(n) => *n ^= 1 << bit,
        Value::Bytes(b) => match how {
            0 => b.push(choice as u8),
            1 => {
                b.pop();
            }
            _ if b.is_empty() => b.push(0),
            _ => {
                let i = pick(b.len());
                b[i] ^= 1 << bit;
            }
        },
        Value::Text(t) => {
            let mut chars: Vec<char> = t.chars().collect();
            let i = pick(chars.len()).max(1);
            let c = match how {
                0 => char::from(b"Z :"[bit as usize % 3]),
                _ => char::from(b"abcxyz0189_"[(choice >> 4) as usize % 11]),
            };
            if how == 1 {
                chars.pop();
            } else if i < chars.len() && chars[i] != ':' {
                chars[i] = c;
            } else {
                chars.push(c);
            }
            *t = chars.into_iter().collect();
        }
        Value::Bool(b) => *b = !*b,
        Value::Array(items) if !items.is_empty() => {
            let i = pick(items.len());
            match how {
                0 => {
                    items.remove(i);
                }
                1 => items.insert(i, items[i].clone()),
                _ => change_one(&mut items[i], choice.rotate_right(11)),
            }
        }
        Value::Map(entries) if !entries.is_empty() => {
            let i = pick(entries.len());
            change_one(&mut entries[i].1, choice.rotate_right(11));
        }
        Value::Tag(_, inner) => change_one(inner, choice.rotate_right(11)),
        _ => {}
    }
}

/// [`decode_object`]'s checks on one input; whether any decoder accepted it.
fn decode_checks(data: &[u8]) -> bool {
    let mut accepted = false;
    accepted |= signed_roundtrip::<Grant>(data);
    accepted |= signed_roundtrip::<Habilitation>(data);
    accepted |= signed_roundtrip::<Statement>(data);
    accepted |= signed_roundtrip::<Request>(data);
    accepted |= payload_roundtrip::<Grant>(data);
    accepted |= payload_roundtrip::<Habilitation>(data);
    accepted |= payload_roundtrip::<Statement>(data);
    accepted |= payload_roundtrip::<Request>(data);

    if let Ok(env) = Envelope::parse(data) {
        accepted = true;
        let again = cose::assemble(env.protected(), &[0xa0], env.payload(), sig_of(data));
        assert_eq!(again, data, "envelope re-assembly differs from its input");
        assert!(Value::decode(data, Limits::OBJECT).is_ok());
        for kind in ObjectKind::ALL {
            assert_eq!(Envelope::parse_kind(data, kind).is_ok(), kind == env.kind());
        }
    }

    if let Ok(dir) = Directory::from_cbor(data) {
        accepted = true;
        assert_eq!(
            dir.to_cbor(),
            data,
            "directory re-encoding differs from its input"
        );
        assert!(Value::decode(data, Limits::DIRECTORY).is_ok());
    }

    for limits in [Limits::OBJECT, Limits::DIRECTORY] {
        if let Ok(v) = Value::decode(data, limits) {
            accepted = true;
            assert_eq!(
                v.encode(),
                data,
                "generic value re-encoding differs from its input"
            );
        }
    }
    accepted
}

/// The last 64 bytes: the signature of a parsed envelope (its last item, a 64-byte string).
fn sig_of(data: &[u8]) -> &[u8] {
    &data[data.len().saturating_sub(64)..]
}

fn signed_roundtrip<T: SignedPayload>(data: &[u8]) -> bool {
    let parsed = Unverified::<T>::parse(data);
    if let Ok(obj) = &parsed {
        let env = Envelope::parse_kind(data, T::KIND).unwrap_or_else(|e| {
            panic!("parsed as {} but its envelope does not parse: {e}", T::KIND)
        });
        assert_eq!(
            obj.claims().to_payload_bytes(),
            env.payload(),
            "{} payload re-encoding differs from the signed payload",
            T::KIND
        );
    }
    parsed.is_ok()
}

fn payload_roundtrip<T: SignedPayload>(data: &[u8]) -> bool {
    let decoded = T::from_payload_bytes(data);
    if let Ok(p) = &decoded {
        assert_eq!(
            p.to_payload_bytes(),
            data,
            "{} payload re-encoding differs from its input",
            T::KIND
        );
        assert!(
            Value::decode(data, Limits::OBJECT).is_ok(),
            "a {} payload the generic decoder refuses",
            T::KIND
        );
    }
    decoded.is_ok()
}

// ---------------------------------------------------------------------------------------------
// envelope_verify

/// The key [`envelope_verify`] checks signatures with (the city hall's key of
/// [`Scenario::canteen`]).
pub fn envelope_key() -> SigningKey {
    testing::key_for("mairie")
}

/// Parses `data` as an envelope and verifies it with [`envelope_key`]: verification is
/// deterministic, re-assembling the parts gives the input, and an envelope that verifies with
/// the canonical protected header is exactly what signing its payload gives (no malleability).
/// Then verifies it as each object kind against the canteen directory.
pub fn envelope_verify(data: &[u8]) {
    envelope_verify_reach(data);
}

/// Runs [`envelope_verify`]'s checks on `data`, then on the *shaped* envelope derived from it
/// (see [`shaped_envelope`]); whether either parsed, so that verification and its assertions
/// were reached. Raw bytes almost never parse; the shaped envelope mostly does.
pub fn envelope_verify_reach(data: &[u8]) -> bool {
    let raw = envelope_checks(data);
    let shaped = envelope_checks(&shaped_envelope(data));
    raw || shaped
}

/// A payload of [`shaped_object`] signed with [`envelope_key`] under a protected header whose
/// three parameters are written in the order the tenth byte picks (of the six), then, when the
/// eleventh byte is a multiple of four, with one bit flipped where the next two bytes say.
pub fn shaped_envelope(data: &[u8]) -> Vec<u8> {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut shaped = shaped_object(data);
    if let Ok(env) = Envelope::parse(&shaped) {
        shaped = env.payload().to_vec();
    }
    let kind = [
        ObjectKind::Grant,
        ObjectKind::Habilitation,
        ObjectKind::Statement,
        ObjectKind::Request,
    ][usize::from(byte(0) % 4)];
    TEMPLATES.with(|t| {
        let kid = t.key.key_id();
        let mut params: [Vec<u8>; 3] = [
            Encoder::new()
                .int(1)
                .int(cose::ALG_EDDSA)
                .as_bytes()
                .to_vec(),
            Encoder::new()
                .int(3)
                .uint(kind.content_type())
                .as_bytes()
                .to_vec(),
            Encoder::new().int(4).bytes(&kid.0).as_bytes().to_vec(),
        ];
        let order = usize::from(byte(10) % 6);
        params.swap(0, order % 3);
        if order >= 3 {
            params.swap(1, 2);
        }
        let mut protected = vec![0xa3];
        for p in &params {
            protected.extend(p);
        }
        let signature = t.key.sign(&cose::sig_structure(&protected, &shaped));
        let mut out = cose::assemble(&protected, &[0xa0], &shaped, &signature);
        if byte(11) % 4 == 0 {
            let at = usize::from(u16::from_be_bytes([byte(12), byte(13)]));
            let len = out.len();
            out[at % len] ^= 1 << (byte(13) % 8);
        }
        out
    })
}

/// [`envelope_verify`]'s checks on one input; whether it parsed as an envelope.
fn envelope_checks(data: &[u8]) -> bool {
    thread_local! {
        static KEY: SigningKey = envelope_key();
    }
    let parsed = KEY.with(|key| envelope_verify_with(key, data));
    with_fixture(|f| {
        verified_consistently::<Grant>(data, &f.scenario.directory);
        verified_consistently::<Habilitation>(data, &f.scenario.directory);
        verified_consistently::<Statement>(data, &f.scenario.directory);
        verified_consistently::<Request>(data, &f.scenario.directory);
    });
    parsed
}

fn envelope_verify_with(key: &SigningKey, data: &[u8]) -> bool {
    let public = key.verifying_key();
    let parsed = Envelope::parse(data);
    if let Ok(env) = &parsed {
        let first = env.verify(&public);
        assert_eq!(
            first,
            env.verify(&public),
            "verification is not deterministic"
        );
        let again = cose::assemble(env.protected(), &[0xa0], env.payload(), sig_of(data));
        assert_eq!(again, data, "envelope re-assembly differs from its input");
        if let Ok(payload) = first {
            assert_eq!(payload, env.payload());
            assert_eq!(
                env.kid(),
                key.key_id(),
                "verified under a key it does not name"
            );
            if env.protected() == cose::protected_header(env.kind(), &env.kid()) {
                assert_eq!(
                    cose::sign(env.kind(), key, payload),
                    data,
                    "a verifying envelope that signing would not produce"
                );
            }
        }
    }
    parsed.is_ok()
}

fn verified_consistently<T: SignedPayload + PartialEq + std::fmt::Debug>(
    data: &[u8],
    directory: &Directory,
) {
    let once = Verified::<T>::parse_and_verify(data, directory);
    let twice = Verified::<T>::parse_and_verify(data, directory);
    assert_eq!(once, twice, "verification is not deterministic");
    if let Ok(v) = once {
        assert_eq!(v.digest(), Digest::of(data));
        assert_eq!(v.encoded_len(), data.len());
        let env = Envelope::parse_kind(data, T::KIND).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.claims().to_payload_bytes(), env.payload());
    }
}

// ---------------------------------------------------------------------------------------------
// decide

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
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// Builds the fixture (deterministic: every call gives the same bytes).
    pub fn new() -> Self {
        let scenario = Scenario::canteen();
        let built = scenario.grant().build(&scenario.ceilings);
        let grant = scenario.sign_grant(&built.unwrap_or_else(|e| panic!("{e}")));
        let grant_request = scenario.sign_request(&scenario.request(&grant));
        let habilitation = scenario
            .habilitation()
            .sign(scenario.key(scenario.authority));
        let habilitation_request = scenario.sign_request(&scenario.request(&habilitation));
        Fixture {
            scenario,
            grant,
            grant_request,
            habilitation,
            habilitation_request,
        }
    }

    /// The valid pairs: each is allowed on a fresh ledger, and nothing else is.
    pub fn valid_pairs(&self) -> [(&[u8], &[u8]); 2] {
        [
            (&self.grant_request, &self.grant),
            (&self.habilitation_request, &self.habilitation),
        ]
    }

    /// Encodes a (request, basis) pair as a [`decide`] input.
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

fn decide_fresh(s: &Scenario, request: &[u8], basis: Basis<'_>) -> (Decision, InMemoryLedger) {
    let ledger = InMemoryLedger::new();
    let verifier = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &ledger);
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

// ---------------------------------------------------------------------------------------------
// merkle_proofs

/// Leaves of the fixed tree [`merkle_proofs`] checks proofs against.
pub const MERKLE_LEAVES: u64 = 37;

struct MerkleFixture {
    tree: MerkleTree,
    /// Every hash that occurs in a genuine proof, and the roots, sorted, without repetition.
    pool: Vec<Digest>,
}

impl MerkleFixture {
    fn new() -> Self {
        let mut tree = MerkleTree::new();
        for i in 0..MERKLE_LEAVES {
            tree.append(format!("leaf {i}").as_bytes());
        }
        let mut pool = vec![Digest([0; 32])];
        for size in 0..=MERKLE_LEAVES {
            pool.extend(tree.root_at(size));
            for i in 0..size {
                pool.extend(
                    tree.inclusion_proof(i, size)
                        .map(|p| p.path)
                        .unwrap_or_default(),
                );
            }
            for old in 0..=size {
                pool.extend(
                    tree.consistency_proof(old, size)
                        .map(|p| p.path)
                        .unwrap_or_default(),
                );
            }
        }
        pool.extend(tree.leaf_hashes().iter().copied());
        pool.sort();
        pool.dedup();
        MerkleFixture { tree, pool }
    }

    fn root(&self, size: u64) -> Digest {
        self.tree.root_at(size).unwrap_or(Digest([0; 32]))
    }
}

thread_local! {
    static MERKLE: MerkleFixture = MerkleFixture::new();
}

/// Index into the hash pool of [`merkle_proofs`] of `hash`, for building inputs.
pub fn merkle_pool_index(hash: &Digest) -> Option<u16> {
    MERKLE.with(|m| {
        m.pool
            .binary_search(hash)
            .ok()
            .and_then(|i| u16::try_from(i).ok())
    })
}

/// The genuine inclusion proof of `index` in the fixed tree at `size` leaves.
pub fn merkle_inclusion(index: u64, size: u64) -> Vec<Digest> {
    MERKLE.with(|m| {
        m.tree
            .inclusion_proof(index, size)
            .map(|p| p.path)
            .unwrap_or_default()
    })
}

/// The genuine consistency proof between `old` and `new` leaves of the fixed tree.
pub fn merkle_consistency(old: u64, new: u64) -> Vec<Digest> {
    MERKLE.with(|m| {
        m.tree
            .consistency_proof(old, new)
            .map(|p| p.path)
            .unwrap_or_default()
    })
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(s) = data.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    u64::from_be_bytes(b)
}

fn digest_at(data: &[u8], at: usize) -> Digest {
    let mut b = [0u8; 32];
    if let Some(s) = data.get(at..at + 32) {
        b.copy_from_slice(s);
    }
    Digest(b)
}

fn raw_path(data: &[u8]) -> Vec<Digest> {
    data.chunks_exact(32).map(|c| digest_at(c, 0)).collect()
}

/// Checks Merkle proof verification. The first byte selects a mode, `mode % 4`:
/// - `0`: inclusion in the fixed tree: size, index, then path hashes as big-endian `u16`
///   indices into a pool of genuine hashes; accepted exactly when the path is the genuine one;
/// - `1`: consistency in the fixed tree: both sizes, then the path as in mode 0; same oracle;
/// - `2`: raw inclusion: index, size (`u64`), leaf hash, root, path (32-byte hashes);
/// - `3`: raw consistency: both sizes (`u64`), both roots, path.
///
/// and how the rest is read, `(mode >> 2) % 4`: `0` literally, as above; otherwise *shaped*, so
/// that the input reaches the proof's hash chain instead of stopping at the argument checks: in
/// the fixed tree the size is taken in `1..=37`, the index below the size, the new size of a
/// consistency proof at or above the old one, and the path is the genuine proof with its first
/// hashes replaced by the input's; in the raw modes the index is taken below the size, the old
/// size at or below the new one, and the path is the input's hashes repeated or cut to the
/// length the sizes call for. The committed seeds use the literal reading.
///
/// In every mode the result must agree with a literal transcription of RFC 9162 §2.1.3.2 and
/// §2.1.4.2.
pub fn merkle_proofs(data: &[u8]) {
    merkle_check(data);
}

/// Whether `data`, given to [`merkle_proofs`], reaches the proof's hash chain: the verifier
/// accepts, or refuses only because the computed root differs (not for the index, the sizes or
/// the path's length).
pub fn merkle_proofs_reach(data: &[u8]) -> bool {
    merkle_check(data)
}

/// Whether a verification result came from the hash chain (see [`merkle_proofs_reach`]).
fn chain_reached(result: &Result<(), ProofError>) -> bool {
    matches!(result, Ok(()) | Err(ProofError::RootMismatch))
}

/// The path length the verifier asks for, read from its refusal of an empty path (0 when it
/// refuses for another reason or accepts).
fn expected_len(result: Result<(), ProofError>) -> usize {
    match result {
        Err(ProofError::WrongProofLength { expected, .. }) => expected,
        _ => 0,
    }
}

/// `given` repeated or cut to `len` hashes (zero hashes if none is given).
fn fit(given: Vec<Digest>, len: usize) -> Vec<Digest> {
    if given.is_empty() {
        return vec![Digest([0; 32]); len];
    }
    given.iter().copied().cycle().take(len).collect()
}

fn merkle_check(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    let shaped = (mode >> 2) % 4 != 0;
    MERKLE.with(|m| match mode % 4 {
        0 | 1 => {
            let (a, b) = (
                u64::from(rest.first().copied().unwrap_or(0)),
                u64::from(rest.get(1).copied().unwrap_or(0)),
            );
            let mut path: Vec<Digest> = rest
                .get(2..)
                .unwrap_or_default()
                .chunks_exact(2)
                .map(|c| m.pool[usize::from(u16::from_be_bytes([c[0], c[1]])) % m.pool.len()])
                .collect();
            let over_genuine = |given: Vec<Digest>, genuine: Vec<Digest>| {
                let mut path = genuine;
                for (p, g) in path.iter_mut().zip(given) {
                    *p = g;
                }
                path
            };
            if mode % 4 == 0 {
                let (size, index) = if shaped {
                    let size = 1 + a % MERKLE_LEAVES;
                    (size, b % size)
                } else {
                    (a % (MERKLE_LEAVES + 1), b)
                };
                if shaped {
                    path = over_genuine(path, merkle_inclusion(index, size));
                }
                let leaf = m.tree.leaf_hashes().get(index as usize).copied();
                let leaf = leaf.unwrap_or(Digest([0; 32]));
                let root = m.root(size);
                let result = verify_inclusion(&leaf, index, size, &path, &root);
                let ok = result.is_ok();
                assert_eq!(ok, reference_inclusion(&leaf, index, size, &path, &root));
                let genuine = m.tree.inclusion_proof(index, size).map(|p| p.path);
                assert_eq!(ok, genuine.as_ref() == Ok(&path), "inclusion oracle");
                chain_reached(&result)
            } else {
                let (old, new) = if shaped {
                    let old = a % (MERKLE_LEAVES + 1);
                    (old, old + b % (MERKLE_LEAVES + 1 - old))
                } else {
                    (a % (MERKLE_LEAVES + 1), b % (MERKLE_LEAVES + 1))
                };
                if shaped {
                    path = over_genuine(path, merkle_consistency(old, new));
                }
                let (r1, r2) = (m.root(old), m.root(new));
                let result = verify_consistency(old, new, &path, &r1, &r2);
                let ok = result.is_ok();
                assert_eq!(ok, reference_consistency(old, new, &path, &r1, &r2));
                let genuine = m.tree.consistency_proof(old, new).map(|p| p.path);
                assert_eq!(ok, genuine.as_ref() == Ok(&path), "consistency oracle");
                chain_reached(&result)
            }
        }
        2 => {
            let (mut index, mut size) = (u64_at(rest, 0), u64_at(rest, 8));
            let (leaf, root) = (digest_at(rest, 16), digest_at(rest, 48));
            let mut path = raw_path(rest.get(80..).unwrap_or_default());
            if shaped {
                size = size.max(1);
                index %= size;
                let len = expected_len(verify_inclusion(&leaf, index, size, &[], &root));
                path = fit(path, len);
            }
            let result = verify_inclusion(&leaf, index, size, &path, &root);
            assert_eq!(
                result.is_ok(),
                reference_inclusion(&leaf, index, size, &path, &root)
            );
            chain_reached(&result)
        }
        _ => {
            let (mut old, new) = (u64_at(rest, 0), u64_at(rest, 8));
            let (r1, r2) = (digest_at(rest, 16), digest_at(rest, 48));
            let mut path = raw_path(rest.get(80..).unwrap_or_default());
            if shaped {
                old %= new.saturating_add(1).max(1);
                let len = expected_len(verify_consistency(old, new, &[], &r1, &r2));
                path = fit(path, len);
            }
            let result = verify_consistency(old, new, &path, &r1, &r2);
            assert_eq!(
                result.is_ok(),
                reference_consistency(old, new, &path, &r1, &r2)
            );
            chain_reached(&result)
        }
    })
}

/// RFC 9162 §2.1.3.2, step by step.
fn reference_inclusion(
    leaf: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 §2.1.4.2, step by step, with the special cases of the library's documentation
/// (equal sizes or an empty old tree need an empty proof).
fn reference_consistency(
    size1: u64,
    size2: u64,
    path: &[Digest],
    root1: &Digest,
    root2: &Digest,
) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 || size1 == 0 {
        return path.is_empty() && (size1 == 0 || root1 == root2);
    }
    if path.is_empty() {
        return false;
    }
    let mut full = Vec::with_capacity(path.len() + 1);
    if size1.is_power_of_two() {
        full.push(*root1);
    }
    full.extend_from_slice(path);
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (full[0], full[0]);
    for c in &full[1..] {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *root1 && sr == *root2 && sn == 0
}

/// Leaf hash of the fixed tree (for seeds).
pub fn merkle_leaf(index: u64) -> Digest {
    leaf_hash(format!("leaf {index}").as_bytes())
}

// ---------------------------------------------------------------------------------------------
// structured

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
    /// The categories the grant covers at DGFiP, as drawn (the oracle does not ask the
    /// grant's scope).
    covered_at_dgfip: Vec<Category>,
    grant_signer: PartyId,
    request: Request,
    request_signer: PartyId,
}

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
    let expressed_by = c.pick(&[
        subject,
        subject,
        s.parent,
        s.franceconnect,
        s.mairie,
        s.child,
    ]);
    let consumer = c.pick(&[s.mairie, s.mairie, s.other_consumer, s.dgfip]);
    let mut scope = Scope::new();
    let mut covered_at_dgfip = Vec::new();
    for provider in [s.dgfip, s.cnaf, s.mairie] {
        if provider == s.dgfip || c.flag() {
            let subset = c.sorted_subset(&categories);
            if provider == s.dgfip {
                covered_at_dgfip = subset.clone();
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
    .expressed_by(expressed_by)
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
    let grant = builder.build_without_ceiling_check().ok()?;
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
    let signed_ok = case.grant_signer == g.expressed_by()
        && g.issued_at() >= key_start
        && case.request_signer == r.consumer()
        && r.issued_at() >= key_start;
    // Who may express consent for whom.
    let expressed_ok = if g.expressed_by() == g.subject() {
        subjects.contains(&g.subject())
    } else {
        (g.expressed_by(), g.subject()) == (s.franceconnect, s.parent)
            || (g.expressed_by(), g.subject()) == (s.parent, s.child)
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

/// Builds a grant and a request from fuzz-chosen terms, signs them with the scenario keys,
/// decides, and checks the decision against an independent oracle: allowed exactly when every
/// rule holds, and then the authorization says what was asked.
pub fn structured(data: &[u8]) {
    let _ = structured_outcome(data);
}

/// [`structured`], telling whether the case was built (`None` if the input did not describe
/// one) and allowed: for measuring how often the oracle's allow side is reached.
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
        let (decision, _) = decide_fresh(s, &request_bytes, Basis::Signed(&grant_bytes));
        let expected = oracle_allows(s, &case, &grant_bytes);
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
        }
        Some(decision.is_allow())
    })
}
