//! Generates the public test vectors of format version 2.
//!
//! ```text
//! cargo run --example vectors -- tests/vectors
//! ```
//!
//! Everything is deterministic: keys come from fixed seeds, ids from a counter and time from a
//! fixed clock ([`Scenario::canteen`]), and Ed25519 signatures are deterministic, so running the
//! generator twice writes the same bytes. The generator checks every expected outcome it writes
//! against the outcome it meant to produce and stops if they differ. See
//! `tests/vectors/README.md` for the layout and `docs/format.md` for the error codes.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::{fs, io};

use consentry::cbor::{DecodeError, Encoder, Limits, Value};
use consentry::cose::{self, Envelope, EnvelopeError, ObjectKind};
use consentry::decision::{Basis, Decision, StatementRefusal, Verifier};
use consentry::directory::RepresentationKind;
use consentry::directory::{Directory, KeyRefusal, PartyId, PartyKey, Representation};
use consentry::grant::{Grant, GrantBuilder};
use consentry::habilitation::Habilitation;
use consentry::ids::BasisId;
use consentry::ledger::{InMemoryLedger, LifecycleRefusal};
use consentry::request::Request;
use consentry::signed::{ObjectError, ParseError, SignedPayload, Verified, VerifyError};
use consentry::statement::{Action, Statement};
use consentry::terms::{AccessPattern, DataRange};
use consentry::testing::{self, Scenario, key_for, party_for};
use consentry::vocab::Purpose;
use consentry::{Digest, SigningKey, Timestamp};
use serde::Serialize;
use serde_json::{Value as Json, json};

#[path = "vectors/log.rs"]
pub mod log;

const DAY: u64 = 86_400;
/// Every cast key is valid from 2025-01-01.
const START: Timestamp = Timestamp::from_secs(1_735_689_600);
/// The scenario's clock: 2025-09-01.
const NOW: Timestamp = Timestamp::from_secs(1_756_684_800);
/// 2025-06-01: the parent's key rotation, the end of the ended mandate.
const ROTATION: Timestamp = Timestamp::from_secs(1_748_736_000);

/// The cast: (seed name, role in the story). Seeds are `SHA-256("consentry-testing:" || name)`.
const CAST: [&str; 8] = [
    "parent",
    "child",
    "dgfip",
    "cnaf",
    "mairie",
    "other",
    "franceconnect",
    "authority",
];

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/vectors".to_owned());
    match generate(Path::new(&out)) {
        Ok(summary) => println!("{summary}"),
        Err(e) => {
            eprintln!("cannot write the vectors to {out}: {e}");
            std::process::exit(1);
        }
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The vector code of a strict-decoding refusal (see `docs/format.md`, "Error codes").
pub fn decode_code(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Truncated { .. } => "cbor/truncated",
        DecodeError::NonShortest { .. } => "cbor/non_shortest",
        DecodeError::Indefinite { .. } => "cbor/indefinite",
        DecodeError::Malformed { .. } => "cbor/malformed",
        DecodeError::DuplicateKey { .. } => "cbor/duplicate_key",
        DecodeError::UnsortedKeys { .. } => "cbor/unsorted_keys",
        DecodeError::UnknownKey { .. } => "cbor/unknown_key",
        DecodeError::MissingKey { .. } => "cbor/missing_key",
        DecodeError::WrongType { .. } => "cbor/wrong_type",
        DecodeError::UnexpectedTag { .. } => "cbor/unexpected_tag",
        DecodeError::Unsupported { .. } => "cbor/unsupported_simple",
        DecodeError::InvalidUtf8 { .. } => "cbor/invalid_utf8",
        DecodeError::TrailingBytes { .. } => "cbor/trailing_bytes",
        DecodeError::TooDeep { .. } => "cbor/too_deep",
        DecodeError::TooLarge { .. } => "cbor/too_large",
        DecodeError::TooLong { .. } => "cbor/too_long",
        DecodeError::OutOfRange { .. } => "cbor/out_of_range",
        DecodeError::InvalidValue { .. } => "value/invalid",
        DecodeError::UnsupportedVersion { .. } => "payload/unsupported_version",
        _ => "unclassified",
    }
}

/// The vector code of an envelope refusal.
pub fn envelope_code(e: &EnvelopeError) -> &'static str {
    match e {
        EnvelopeError::Malformed(d) => decode_code(d),
        EnvelopeError::WrongTag { .. } => "envelope/wrong_tag",
        EnvelopeError::WrongArity { .. } => "envelope/wrong_arity",
        EnvelopeError::UnsupportedAlgorithm { .. } => "envelope/unsupported_algorithm",
        EnvelopeError::MissingParameter("alg") => "envelope/missing_alg",
        EnvelopeError::MissingParameter("content type") => "envelope/missing_content_type",
        EnvelopeError::MissingParameter(_) => "envelope/missing_kid",
        EnvelopeError::UnexpectedParameter { .. } => "envelope/unexpected_parameter",
        EnvelopeError::UnprotectedHeaderNotEmpty => "envelope/unprotected_not_empty",
        EnvelopeError::UnknownContentType { .. } => "envelope/unknown_content_type",
        EnvelopeError::WrongKind { .. } => "envelope/wrong_kind",
        EnvelopeError::DetachedPayload => "envelope/detached_payload",
        EnvelopeError::SignatureLength { .. } => "envelope/signature_length",
        _ => "unclassified",
    }
}

/// The layer (`envelope`, `payload`, `signature`) and vector code of an object refusal.
pub fn object_error(e: &ObjectError) -> (&'static str, &'static str) {
    match e {
        ObjectError::Parse(ParseError::Envelope(e)) => ("envelope", envelope_code(e)),
        ObjectError::Parse(ParseError::Payload(e)) => ("payload", decode_code(e)),
        ObjectError::Verify(VerifyError::UnknownKey(_)) => ("signature", "signature/unknown_key"),
        ObjectError::Verify(VerifyError::BadSignature) => ("signature", "signature/invalid"),
        ObjectError::Verify(VerifyError::Key(k)) => (
            "signature",
            match k {
                KeyRefusal::UnknownKey { .. } => "signature/unknown_key",
                KeyRefusal::NotSignersKey { .. } => "signature/not_signers_key",
                KeyRefusal::NotYetValid { .. } => "signature/key_not_yet_valid",
                KeyRefusal::Expired { .. } => "signature/key_expired",
                KeyRefusal::Compromised { .. } => "signature/key_compromised",
                _ => "unclassified",
            },
        ),
        _ => ("unclassified", "unclassified"),
    }
}

/// The vector code of a refused lifecycle statement.
pub fn statement_code(r: &StatementRefusal) -> String {
    match r {
        StatementRefusal::Object(reason) => format!("statement/{}", reason.code()),
        StatementRefusal::BasisMismatch => "statement/basis_mismatch".into(),
        StatementRefusal::BasisHashMismatch => "statement/basis_hash_mismatch".into(),
        StatementRefusal::NotEntitled { .. } => "statement/not_entitled".into(),
        StatementRefusal::FromFuture { .. } => "statement/from_future".into(),
        StatementRefusal::Ledger(LifecycleRefusal::AlreadyRevoked { .. }) => {
            "statement/already_revoked".into()
        }
        StatementRefusal::Ledger(LifecycleRefusal::Duplicate) => "statement/duplicate".into(),
        StatementRefusal::Ledger(LifecycleRefusal::ResumePredatesPause { .. }) => {
            "statement/resume_predates_pause".into()
        }
        StatementRefusal::TooOld { .. } => "statement/too_old".into(),
        StatementRefusal::LedgerUnavailable(_) => "statement/ledger_unavailable".into(),
        _ => "unclassified".into(),
    }
}

/// What a valid object decodes to.
pub struct ValidObject {
    /// The payload's JSON form.
    pub claims: Json,
    /// SHA-256 of the exact signed bytes.
    pub digest: Digest,
    /// Whether re-encoding the decoded payload gives the signed payload bytes back.
    pub round_trips: bool,
}

fn check<T: SignedPayload + Serialize>(
    bytes: &[u8],
    dir: &Directory,
) -> Result<ValidObject, ObjectError> {
    let v = Verified::<T>::parse_and_verify(bytes, dir)?;
    let payload = Envelope::parse(bytes)
        .map(|e| e.payload().to_vec())
        .unwrap_or_default();
    Ok(ValidObject {
        claims: serde_json::to_value(v.claims()).unwrap_or(Json::Null),
        digest: v.digest(),
        round_trips: v.claims().to_payload_bytes() == payload,
    })
}

/// Parses and verifies `bytes` as an object of `kind` against `dir`.
pub fn check_object(
    kind: ObjectKind,
    bytes: &[u8],
    dir: &Directory,
) -> Result<ValidObject, (&'static str, &'static str)> {
    let out = match kind {
        ObjectKind::Grant => check::<Grant>(bytes, dir),
        ObjectKind::Habilitation => check::<Habilitation>(bytes, dir),
        ObjectKind::Statement => check::<Statement>(bytes, dir),
        ObjectKind::Request => check::<Request>(bytes, dir),
        other => panic!("no payload is defined for a {other}"),
    };
    out.map_err(|e| object_error(&e))
}

/// The JSON form of a decision as the vectors state it.
pub fn decision_json(d: &Decision) -> Json {
    match d {
        Decision::Allow(a) => json!({
            "decision": "allow",
            "authorization": serde_json::to_value(a).unwrap_or(Json::Null),
        }),
        Decision::Deny { .. } => json!({"decision": "deny", "reasons": d.codes()}),
    }
}

/// One earlier step of a decision case.
enum Step {
    Decide {
        request: Vec<u8>,
        basis: Vec<u8>,
        now: Timestamp,
    },
    Statement {
        statement: Vec<u8>,
        basis: Vec<u8>,
        now: Timestamp,
    },
}

/// A decision case before it is run.
struct DecisionCase {
    name: &'static str,
    description: &'static str,
    directory: &'static str,
    provider: PartyId,
    history: Vec<Step>,
    request: Vec<u8>,
    basis: Vec<u8>,
    now: Timestamp,
}

/// What the generator meant a case to give.
enum Want<'a> {
    Allow,
    Deny(&'a [&'a str]),
}

struct Gen {
    ceilings: consentry::ceiling::Ceilings,
    dirs: BTreeMap<&'static str, (Directory, &'static str)>,
    files: BTreeMap<String, Vec<u8>>,
    objects: Vec<Json>,
    decisions: Vec<Json>,
    log: Json,
}

impl Gen {
    fn dir(&self, name: &str) -> &Directory {
        &self.dirs[name].0
    }

    fn file(&mut self, path: String, bytes: Vec<u8>) -> String {
        assert!(
            self.files.insert(path.clone(), bytes).is_none(),
            "{path} written twice"
        );
        path
    }

    fn valid(&mut self, name: &str, description: &str, kind: ObjectKind, bytes: Vec<u8>) {
        self.valid_in(name, description, kind, "canteen", bytes);
    }

    fn valid_in(
        &mut self,
        name: &str,
        description: &str,
        kind: ObjectKind,
        directory: &str,
        bytes: Vec<u8>,
    ) {
        let v = check_object(kind, &bytes, self.dir(directory))
            .unwrap_or_else(|e| panic!("{name}: expected valid, got {e:?}"));
        let kid = Envelope::parse(&bytes).map(|e| e.kid().to_hex()).ok();
        let file = self.file(format!("objects/{name}.cbor"), bytes);
        self.objects.push(json!({
            "name": name,
            "description": description,
            "kind": kind,
            "directory": directory,
            "file": file,
            "expected": {
                "outcome": "valid",
                "kid": kid,
                "digest": v.digest.to_hex(),
                "payload_round_trips": v.round_trips,
                "claims": v.claims,
            },
        }));
    }

    /// An invalid object; `cddl` says whether the schema alone refuses it.
    #[allow(clippy::too_many_arguments)]
    fn invalid(
        &mut self,
        name: &str,
        description: &str,
        kind: ObjectKind,
        directory: &str,
        bytes: Vec<u8>,
        want: &str,
        cddl: bool,
    ) {
        let (layer, code) = match check_object(kind, &bytes, self.dir(directory)) {
            Ok(_) => panic!("{name}: expected {want}, got valid"),
            Err(e) => e,
        };
        assert_eq!(code, want, "{name}");
        let file = self.file(format!("objects/{name}.cbor"), bytes);
        self.objects.push(json!({
            "name": name,
            "description": description,
            "kind": kind,
            "directory": directory,
            "file": file,
            "expected": {"outcome": "invalid", "layer": layer, "error": code},
            "cddl_rejects": cddl,
        }));
    }

    fn decision(&mut self, case: DecisionCase, want: Want<'_>) {
        let name = case.name;
        let dir = &self.dirs[case.directory].0;
        let ledger = InMemoryLedger::new();
        let verifier = Verifier::new(case.provider, dir, &self.ceilings, &ledger);
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut put = |role: &str, bytes: &[u8]| -> String {
            if let Some((path, _)) = files.iter().find(|(_, b)| b == bytes) {
                return path.clone();
            }
            let path = format!("decisions/{name}/{role}.cbor");
            files.push((path.clone(), bytes.to_vec()));
            path
        };
        let basis_file = put("basis", &case.basis);
        let mut history = Vec::new();
        for (i, step) in case.history.iter().enumerate() {
            let n = i + 1;
            history.push(match step {
                Step::Decide {
                    request,
                    basis,
                    now,
                } => {
                    let d = verifier.decide(request, Basis::Signed(basis), *now);
                    json!({
                        "step": "decide",
                        "request": put(&format!("step{n}-request"), request),
                        "basis": put(&format!("step{n}-basis"), basis),
                        "now": now,
                        "expected": decision_json(&d),
                    })
                }
                Step::Statement {
                    statement,
                    basis,
                    now,
                } => {
                    let outcome =
                        match verifier.apply_statement(statement, Basis::Signed(basis), *now) {
                            Ok(status) => json!({"outcome": "applied", "status": status}),
                            Err(r) => json!({"outcome": "refused", "error": statement_code(&r)}),
                        };
                    json!({
                        "step": "statement",
                        "statement": put(&format!("step{n}-statement"), statement),
                        "basis": put(&format!("step{n}-basis"), basis),
                        "now": now,
                        "expected": outcome,
                    })
                }
            });
        }
        let request_file = put("request", &case.request);
        let d = verifier.decide(&case.request, Basis::Signed(&case.basis), case.now);
        match want {
            Want::Allow => assert!(d.is_allow(), "{name}: expected allow, got {:?}", d.codes()),
            Want::Deny(codes) => assert_eq!(d.codes(), codes, "{name}"),
        }
        let expected = decision_json(&d);
        for (path, bytes) in files {
            self.file(path, bytes);
        }
        self.decisions.push(json!({
            "name": name,
            "description": case.description,
            "directory": case.directory,
            "provider": case.provider,
            "history": history,
            "basis": basis_file,
            "request": request_file,
            "now": case.now,
            "expected": expected,
        }));
    }
}

/// The directory with `edit` applied to a copy of its parties and representations.
fn rebuild(
    base: &Directory,
    edit: impl FnOnce(&mut Vec<consentry::directory::Party>, &mut Vec<Representation>),
) -> Directory {
    let mut parties = base.parties().to_vec();
    let mut reps = base.representations().to_vec();
    edit(&mut parties, &mut reps);
    let mut dir = Directory::new();
    for p in parties {
        dir.add_party(p).unwrap_or_else(|e| panic!("{e}"));
    }
    for r in reps {
        dir.add_representation(r).unwrap_or_else(|e| panic!("{e}"));
    }
    dir
}

fn seed_of(name: &str) -> [u8; 32] {
    *Digest::of_parts(&[b"consentry-testing:", name.as_bytes()]).as_bytes()
}

/// The canteen grant's terms for any subject (as [`Scenario::grant`] for the parent).
fn grant_for(s: &Scenario, subject: PartyId) -> GrantBuilder {
    Grant::builder(
        BasisId(s.next_uuid()),
        subject,
        s.mairie,
        testing::canteen_purpose(),
    )
    .cover(s.dgfip, [testing::rfr()])
    .issued_at(s.now)
    .valid(s.now, s.now.plus_secs(365 * DAY))
    .access(AccessPattern::MONTHLY)
    .data_range(year(2025))
    .retention_secs(365 * DAY)
}

fn year(y: u32) -> DataRange {
    DataRange::year(y).unwrap_or_else(|_| unreachable!())
}

fn build(s: &Scenario, b: GrantBuilder) -> Vec<u8> {
    let g = b.build(&s.ceilings).unwrap_or_else(|e| panic!("{e}"));
    s.sign_grant(&g)
}

fn build_unchecked(s: &Scenario, b: GrantBuilder) -> Vec<u8> {
    let g = b
        .build_without_ceiling_check()
        .unwrap_or_else(|e| panic!("{e}"));
    s.sign_grant(&g)
}

fn payload_of(bytes: &[u8]) -> Vec<u8> {
    Envelope::parse(bytes)
        .map(|e| e.payload().to_vec())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A payload map's entries: (key, encoded value).
fn entries(payload: &[u8]) -> Vec<(u64, Vec<u8>)> {
    match Value::decode(payload, Limits::OBJECT) {
        Ok(Value::Map(m)) => m
            .into_iter()
            .map(|(k, v)| match k {
                Value::Unsigned(k) => (k, v.encode()),
                other => panic!("not a payload key: {other:?}"),
            })
            .collect(),
        other => panic!("not a payload map: {other:?}"),
    }
}

/// A map written from entries exactly as given (any order, repeats allowed).
fn map_of(entries: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(entries.len());
    for (k, v) in entries {
        e.uint(*k).raw(v);
    }
    e.into_bytes()
}

/// `payload` with the value of `key` replaced by `value` (encoded), or inserted in order.
fn with(payload: &[u8], key: u64, value: Vec<u8>) -> Vec<u8> {
    let mut m = entries(payload);
    match m.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => {
            let at = m.iter().position(|(k, _)| *k > key).unwrap_or(m.len());
            m.insert(at, (key, value));
        }
    }
    map_of(&m)
}

fn without(payload: &[u8], key: u64) -> Vec<u8> {
    let m: Vec<_> = entries(payload)
        .into_iter()
        .filter(|(k, _)| *k != key)
        .collect();
    map_of(&m)
}

fn enc(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut e = Encoder::new();
    f(&mut e);
    e.into_bytes()
}

/// A COSE_Sign1 with the given protected header bytes, validly signed by `key`.
fn signed_with(key: &SigningKey, protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let sig = key.sign(&cose::sig_structure(protected, payload));
    cose::assemble(protected, &[0xa0], payload, &sig)
}

/// A protected header from (label, encoded value) pairs, in the order given.
fn protected(params: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(params.len());
    for (label, v) in params {
        e.int(*label).raw(v);
    }
    e.into_bytes()
}

fn alg(v: i64) -> (i64, Vec<u8>) {
    (
        1,
        enc(|e| {
            e.int(v);
        }),
    )
}
fn ct(kind: u64) -> (i64, Vec<u8>) {
    (
        3,
        enc(|e| {
            e.uint(kind);
        }),
    )
}
fn kid(key: &SigningKey) -> (i64, Vec<u8>) {
    (
        4,
        enc(|e| {
            e.bytes(key.key_id().as_bytes());
        }),
    )
}

/// Writes every vector under `out` and returns a one-line summary.
pub fn generate(out: &Path) -> io::Result<String> {
    let (g, s) = build_all();
    for sub in ["objects", "decisions", "directories", "log"] {
        let p = out.join(sub);
        if p.exists() {
            fs::remove_dir_all(&p)?;
        }
    }
    for (path, bytes) in &g.files {
        let p = out.join(path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(p, bytes)?;
    }
    let grant = &g.files["objects/grant-by-parent.cbor"];
    fs::write(out.join("grant-by-parent.annotated.txt"), annotate(grant))?;
    let index = index(&g, &s);
    fs::write(
        out.join("index.json"),
        serde_json::to_string_pretty(&index).unwrap_or_default() + "\n",
    )?;
    Ok(format!(
        "wrote {} object cases, {} decision cases and {} log entries ({} files) to {}",
        g.objects.len(),
        g.decisions.len(),
        g.log["entries"].as_array().map_or(0, Vec::len),
        g.files.len() + 1,
        out.display()
    ))
}

fn index(g: &Gen, s: &Scenario) -> Json {
    let mut parties = Vec::new();
    for name in CAST {
        let id = party_for(name);
        let party = s.directory.party(&id).unwrap_or_else(|| unreachable!());
        let key = key_for(name);
        parties.push(json!({
            "name": name,
            "display_name": party.name,
            "id": id,
            "roles": party.roles,
            "seed": hex(&seed_of(name)),
            "public_key": key.verifying_key().to_hex(),
            "kid": key.key_id().to_hex(),
        }));
    }
    let extra_keys: Vec<Json> = [
        (
            "parent-2",
            "the parent's second key (directory canteen-rotated)",
        ),
        ("stranger", "a key no directory holds"),
    ]
    .into_iter()
    .map(|(name, note)| {
        let key = key_for(name);
        json!({
            "name": name,
            "note": note,
            "seed": hex(&seed_of(name)),
            "public_key": key.verifying_key().to_hex(),
            "kid": key.key_id().to_hex(),
        })
    })
    .collect();
    let directories: serde_json::Map<String, Json> = g
        .dirs
        .iter()
        .map(|(name, (dir, description))| {
            let json: Json = serde_json::from_str(&dir.to_json()).unwrap_or(Json::Null);
            (
                (*name).to_owned(),
                json!({
                    "description": description,
                    "file": format!("directories/{name}.cbor"),
                    "cbor": hex(&dir.to_cbor()),
                    "json": json,
                }),
            )
        })
        .collect();
    let mut ceilings: Vec<_> = s.ceilings.iter().collect();
    ceilings.sort_by(|a, b| (a.publisher, a.purpose.code()).cmp(&(b.publisher, b.purpose.code())));
    let valid = g
        .objects
        .iter()
        .filter(|o| o["expected"]["outcome"] == "valid")
        .count();
    let allow = g
        .decisions
        .iter()
        .filter(|d| d["expected"]["decision"] == "allow")
        .count();
    let mut codes: Vec<String> = g
        .decisions
        .iter()
        .flat_map(|d| {
            d["expected"]["reasons"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    json!({
        "format_version": consentry::FORMAT_VERSION,
        "description": "consentry format version 2 test vectors, generated by `cargo run --example vectors -- tests/vectors`; see README.md beside this file and docs/format.md",
        "clock": {"keys_valid_from": START, "now": NOW, "rotation": ROTATION},
        "policy": {"max_skew_secs": 120, "max_request_age_secs": 300},
        "content_types": ObjectKind::ALL.iter().map(|k| json!({"kind": k, "content_type": k.content_type()})).collect::<Vec<_>>(),
        "parties": parties,
        "extra_keys": extra_keys,
        "directories": directories,
        "ceilings": ceilings,
        "counts": {
            "objects_valid": valid,
            "objects_invalid": g.objects.len() - valid,
            "decisions_allow": allow,
            "decisions_deny": g.decisions.len() - allow,
            "reason_codes_covered": codes,
        },
        "objects": g.objects,
        "decisions": g.decisions,
        "log": g.log,
    })
}

fn build_all() -> (Gen, Scenario) {
    let mut s = Scenario::canteen();
    let base = s.directory.clone();
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "canteen",
        (
            base.clone(),
            "the canteen cast: every key valid from 2025-01-01; FranceConnect holds the parent's mandate; the parent is the child's legal representative",
        ),
    );
    let parent = s.parent;
    dirs.insert(
        "canteen-rotated",
        (
            rebuild(&base, |parties, _| {
                for p in parties.iter_mut().filter(|p| p.id == parent) {
                    p.keys[0].valid_until = Some(ROTATION);
                    p.keys
                        .push(PartyKey::new(key_for("parent-2").verifying_key(), ROTATION));
                }
            }),
            "canteen, with the parent's first key valid until 2025-06-01 and a second key (seed name parent-2) valid from then",
        ),
    );
    let mut compromised = base.clone();
    compromised
        .report_compromise(&key_for("mairie").key_id(), NOW.minus_secs(DAY))
        .unwrap_or_else(|e| panic!("{e}"));
    dirs.insert(
        "canteen-compromised",
        (
            compromised,
            "canteen, with the city hall's key reported compromised at 2025-08-31",
        ),
    );
    let mut parent_compromised = base.clone();
    parent_compromised
        .report_compromise(&key_for("parent").key_id(), NOW.minus_secs(DAY))
        .unwrap_or_else(|e| panic!("{e}"));
    dirs.insert(
        "canteen-parent-compromised",
        (
            parent_compromised,
            "canteen, with the parent's key reported compromised at 2025-08-31",
        ),
    );
    let fc = s.franceconnect;
    dirs.insert(
        "canteen-mandate-ended",
        (
            rebuild(&base, |_, reps| {
                for r in reps.iter_mut().filter(|r| r.representative == fc) {
                    r.valid_until = Some(ROTATION);
                }
            }),
            "canteen, with FranceConnect's mandate for the parent ended on 2025-06-01",
        ),
    );
    let (other, parent_id) = (s.other_consumer, s.parent);
    dirs.insert(
        "canteen-extra-mandate",
        (
            rebuild(&base, |_, reps| {
                reps.push(Representation {
                    representative: other,
                    subject: parent_id,
                    kind: RepresentationKind::Mandate,
                    valid_from: START,
                    valid_until: None,
                });
            }),
            "canteen, with a mandate from the parent to Mairie de Villeurbanne, which is not a consent manager",
        ),
    );
    let mut g = Gen {
        ceilings: s.ceilings.clone(),
        dirs,
        files: BTreeMap::new(),
        objects: Vec::new(),
        decisions: Vec::new(),
        log: Json::Null,
    };
    for (name, (dir, _)) in &g.dirs {
        g.files
            .insert(format!("directories/{name}.cbor"), dir.to_cbor());
    }
    objects(&mut g, &s);
    decisions(&mut g, &mut s);
    g.log = log::log_vectors(&mut g.files);
    (g, s)
}

fn objects(g: &mut Gen, s: &Scenario) {
    use ObjectKind::{Grant as G, Habilitation as H, Request as R, Statement as S};
    let pk = key_for("parent");
    // Valid objects.
    let grant = build(s, s.grant());
    let fc_grant = build(s, s.grant().expressed_by(s.franceconnect));
    let child_grant = build(s, grant_for(s, s.child).expressed_by(s.parent));
    let one_time = build(s, s.grant().access(AccessPattern::one_time()));
    let onward = {
        let b = Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.mairie,
            Purpose::new("education:tarification_cantine").unwrap_or_else(|_| unreachable!()),
        )
        .cover(s.dgfip, [testing::household(), testing::rfr()])
        .cover(s.cnaf, [testing::quotient_familial()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(90 * DAY))
        .access(AccessPattern::periodic(2, 30 * DAY).unwrap())
        .data_range(year(2024))
        .retention_secs(30 * DAY)
        .allow_onward_transfer();
        build(s, b)
    };
    let hab = s.habilitation().sign(s.key(s.authority));
    let request = s.sign_request(&s.request(&grant));
    let hab_request = s.sign_request(&s.request(&hab));
    let pause = s.statement(&grant, Action::Pause, s.parent);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    let fc_pause = s.statement(&grant, Action::Pause, s.franceconnect);
    let hab_revoke = s.statement(&hab, Action::Revoke, s.authority);
    let grant_payload = payload_of(&grant);
    let reordered = signed_with(
        &pk,
        &protected(&[kid(&pk), ct(65_001), alg(-8)]),
        &grant_payload,
    );
    let rotated_grant = {
        let gr = s
            .grant()
            .build(&s.ceilings)
            .unwrap_or_else(|e| panic!("{e}"));
        gr.sign(&key_for("parent-2"))
    };
    let other_request = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .categories(vec![testing::household(), testing::rfr()])
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .data_range(
                DataRange::new(
                    Timestamp::from_secs(1_735_689_600),
                    Timestamp::from_secs(1_751_328_000),
                )
                .unwrap_or_else(|_| unreachable!()),
            )
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    let statement_payload = payload_of(&pause);
    let request_payload = payload_of(&request);
    let hab_payload = payload_of(&hab);
    let mk = key_for("mairie");

    g.valid(
        "grant-by-parent",
        "the parent's canteen grant to the city hall: reference tax income at DGFiP, monthly, tax year 2025, kept one year",
        G,
        grant.clone(),
    );
    g.valid(
        "grant-by-franceconnect",
        "the same grant expressed and signed by FranceConnect under the parent's mandate",
        G,
        fc_grant,
    );
    g.valid(
        "grant-for-child-by-parent",
        "a grant about the child, expressed and signed by the parent as legal representative",
        G,
        child_grant,
    );
    g.valid(
        "grant-one-time",
        "a one-time grant: access pattern [0]",
        G,
        one_time,
    );
    g.valid(
        "grant-onward-transfer-two-providers",
        "a grant without purpose text (key 7 absent), two providers in scope, two categories at DGFiP, periodic 2 per 30 days, onward transfer allowed (key 14 = true)",
        G,
        onward,
    );
    g.valid(
        "grant-header-reordered",
        "the parent's grant payload under a protected header written {4: kid, 3: content type, 1: alg}: accepted, parameter order is not checked",
        G,
        reordered,
    );
    g.valid_in(
        "grant-by-rotated-key",
        "a grant signed with the parent's second key, valid from 2025-06-01",
        G,
        "canteen-rotated",
        rotated_grant,
    );
    g.valid(
        "habilitation",
        "the ministry's habilitation for the city hall: family quotient at CNAF and reference tax income at DGFiP",
        H,
        hab.clone(),
    );
    g.valid(
        "request-under-grant",
        "the city hall's request to DGFiP under grant-by-parent",
        R,
        request.clone(),
    );
    g.valid(
        "request-under-habilitation",
        "the city hall's request to DGFiP under the habilitation",
        R,
        hab_request,
    );
    g.valid(
        "request-two-categories",
        "a request for two categories (sorted) and half of tax year 2025",
        R,
        other_request,
    );
    g.valid(
        "statement-pause",
        "the parent pauses grant-by-parent",
        S,
        pause.clone(),
    );
    g.valid(
        "statement-resume",
        "the parent resumes grant-by-parent",
        S,
        resume,
    );
    g.valid(
        "statement-revoke",
        "the parent revokes grant-by-parent",
        S,
        revoke,
    );
    g.valid(
        "statement-pause-by-franceconnect",
        "FranceConnect pauses grant-by-parent (entitlement is a decision rule, not an object rule)",
        S,
        fc_pause,
    );
    g.valid(
        "statement-revoke-habilitation",
        "the ministry revokes its habilitation",
        S,
        hab_revoke,
    );

    // Envelope refusals.
    let inner = &grant[1..];
    g.invalid(
        "envelope-wrong-tag",
        "tag 98 (COSE_Sign) instead of 18",
        G,
        "canteen",
        enc(|e| {
            e.tag(98).raw(inner);
        }),
        "envelope/wrong_tag",
        true,
    );
    g.invalid(
        "envelope-untagged",
        "the COSE_Sign1 array without its tag",
        G,
        "canteen",
        inner.to_vec(),
        "envelope/wrong_tag",
        true,
    );
    let prot = cose::protected_header(G, &pk.key_id());
    let sig = pk.sign(&cose::sig_structure(&prot, &grant_payload));
    g.invalid(
        "envelope-wrong-arity",
        "an array of 3 items (no signature)",
        G,
        "canteen",
        enc(|e| {
            e.tag(18).array(3).bytes(&prot).map(0).bytes(&grant_payload);
        }),
        "envelope/wrong_arity",
        true,
    );
    g.invalid(
        "envelope-unsupported-algorithm",
        "alg -7 (ES256) in the protected header",
        G,
        "canteen",
        signed_with(
            &pk,
            &protected(&[alg(-7), ct(65_001), kid(&pk)]),
            &grant_payload,
        ),
        "envelope/unsupported_algorithm",
        true,
    );
    g.invalid(
        "envelope-missing-alg",
        "protected header without alg",
        G,
        "canteen",
        signed_with(&pk, &protected(&[ct(65_001), kid(&pk)]), &grant_payload),
        "envelope/missing_alg",
        true,
    );
    g.invalid(
        "envelope-missing-content-type",
        "protected header without content type",
        G,
        "canteen",
        signed_with(&pk, &protected(&[alg(-8), kid(&pk)]), &grant_payload),
        "envelope/missing_content_type",
        true,
    );
    g.invalid(
        "envelope-missing-kid",
        "protected header without kid",
        G,
        "canteen",
        signed_with(&pk, &protected(&[alg(-8), ct(65_001)]), &grant_payload),
        "envelope/missing_kid",
        true,
    );
    g.invalid(
        "envelope-unexpected-parameter",
        "protected header with a fourth parameter (33, x5chain)",
        G,
        "canteen",
        signed_with(
            &pk,
            &protected(&[
                alg(-8),
                ct(65_001),
                kid(&pk),
                (
                    33,
                    enc(|e| {
                        e.bytes(&[1, 2, 3]);
                    }),
                ),
            ]),
            &grant_payload,
        ),
        "envelope/unexpected_parameter",
        true,
    );
    g.invalid(
        "envelope-duplicate-parameter",
        "protected header with alg twice",
        G,
        "canteen",
        signed_with(
            &pk,
            &protected(&[alg(-8), alg(-8), ct(65_001), kid(&pk)]),
            &grant_payload,
        ),
        "cbor/duplicate_key",
        false,
    );
    g.invalid(
        "envelope-unprotected-not-empty",
        "the kid repeated in the unprotected header",
        G,
        "canteen",
        cose::assemble(
            &prot,
            &enc(|e| {
                e.map(1).uint(4).bytes(pk.key_id().as_bytes());
            }),
            &grant_payload,
            &sig,
        ),
        "envelope/unprotected_not_empty",
        true,
    );
    g.invalid(
        "envelope-unknown-content-type",
        "content type 65010",
        G,
        "canteen",
        signed_with(
            &pk,
            &protected(&[alg(-8), ct(65_010), kid(&pk)]),
            &grant_payload,
        ),
        "envelope/unknown_content_type",
        true,
    );
    g.invalid(
        "envelope-wrong-kind",
        "a valid request presented where a grant is expected",
        G,
        "canteen",
        request.clone(),
        "envelope/wrong_kind",
        false,
    );
    g.invalid(
        "envelope-wrong-kind-content-type",
        "a grant payload validly signed under the request content type, read as a grant",
        G,
        "canteen",
        cose::sign(R, &pk, &grant_payload),
        "envelope/wrong_kind",
        true,
    );
    g.invalid(
        "envelope-detached-payload",
        "payload null (detached), signature over the real payload",
        G,
        "canteen",
        enc(|e| {
            e.tag(18).array(4).bytes(&prot).map(0).null().bytes(&sig);
        }),
        "envelope/detached_payload",
        true,
    );
    g.invalid(
        "envelope-signature-length",
        "a 63-byte signature",
        G,
        "canteen",
        cose::assemble(&prot, &[0xa0], &grant_payload, &sig[..63]),
        "envelope/signature_length",
        true,
    );
    let mut nonshortest = prot.clone();
    // a3 01 27 …: alg -8 written on two bytes (38 07).
    nonshortest.splice(2..3, [0x38, 0x07]);
    g.invalid(
        "envelope-non-shortest-alg",
        "alg -8 written 38 07 instead of 27 (validly signed over these header bytes)",
        G,
        "canteen",
        signed_with(&pk, &nonshortest, &grant_payload),
        "cbor/non_shortest",
        false,
    );
    g.invalid(
        "envelope-kid-length",
        "a 15-byte kid",
        G,
        "canteen",
        signed_with(
            &pk,
            &protected(&[
                alg(-8),
                ct(65_001),
                (
                    4,
                    enc(|e| {
                        e.bytes(&pk.key_id().as_bytes()[..15]);
                    }),
                ),
            ]),
            &grant_payload,
        ),
        "value/invalid",
        true,
    );
    g.invalid(
        "envelope-alg-out-of-range",
        "alg -2^64, outside the integer range",
        G,
        "canteen",
        signed_with(
            &pk,
            &protected(&[
                (
                    1,
                    enc(|e| {
                        e.negative(u64::MAX);
                    }),
                ),
                ct(65_001),
                kid(&pk),
            ]),
            &grant_payload,
        ),
        "cbor/out_of_range",
        true,
    );
    let mut trailing = grant.clone();
    trailing.push(0x00);
    g.invalid(
        "envelope-trailing-bytes",
        "a valid grant followed by one 00 byte",
        G,
        "canteen",
        trailing,
        "cbor/trailing_bytes",
        false,
    );
    g.invalid(
        "envelope-indefinite-array",
        "the COSE_Sign1 array written with indefinite length (9f … ff)",
        G,
        "canteen",
        enc(|e| {
            e.tag(18)
                .raw(&[0x9f])
                .bytes(&prot)
                .map(0)
                .bytes(&grant_payload)
                .bytes(&sig)
                .raw(&[0xff]);
        }),
        "cbor/indefinite",
        false,
    );
    g.invalid(
        "envelope-truncated-header",
        "cut inside the payload's length: d2 84, the protected header, a0, then 59 01",
        G,
        "canteen",
        {
            assert_eq!(grant[29], 0xa0);
            [&grant[..30], &[0x59, 0x01][..]].concat()
        },
        "cbor/truncated",
        true,
    );
    g.invalid(
        "envelope-truncated-signature",
        "the last 10 bytes cut: the signature's length claims more than the input holds",
        G,
        "canteen",
        grant[..grant.len() - 10].to_vec(),
        "cbor/too_long",
        true,
    );
    g.invalid(
        "envelope-too-large",
        "a 70 000-byte payload: the object exceeds 65 536 bytes",
        G,
        "canteen",
        cose::sign(G, &pk, &vec![0u8; 70_000]),
        "cbor/too_large",
        true,
    );
    g.invalid(
        "envelope-protected-not-wrapped",
        "the protected header map written directly instead of inside a byte string",
        G,
        "canteen",
        enc(|e| {
            e.tag(18)
                .array(4)
                .raw(&prot)
                .map(0)
                .bytes(&grant_payload)
                .bytes(&sig);
        }),
        "cbor/wrong_type",
        true,
    );

    // Payload refusals: each payload is validly signed, so the payload decoder is reached.
    let p = &grant_payload;
    let sg = |payload: &[u8]| cose::sign(G, &pk, payload);
    let uint = |v: u64| {
        enc(|e| {
            e.uint(v);
        })
    };
    g.invalid(
        "payload-unsupported-version",
        "grant with version 1, the previous format (readers accept exactly one version)",
        G,
        "canteen",
        sg(&with(p, 0, uint(1))),
        "payload/unsupported_version",
        true,
    );
    g.invalid(
        "payload-future-version",
        "grant with version 3",
        G,
        "canteen",
        sg(&with(p, 0, uint(3))),
        "payload/unsupported_version",
        true,
    );
    g.invalid(
        "payload-non-shortest-version",
        "version 2 written 18 02",
        G,
        "canteen",
        sg(&with(p, 0, vec![0x18, 0x02])),
        "cbor/non_shortest",
        false,
    );
    let mut indefinite = vec![0xbf];
    for (k, v) in entries(p) {
        indefinite.extend(uint(k));
        indefinite.extend(v);
    }
    indefinite.push(0xff);
    g.invalid(
        "payload-indefinite-map",
        "the grant map written with indefinite length (bf … ff)",
        G,
        "canteen",
        sg(&indefinite),
        "cbor/indefinite",
        false,
    );
    let mut swapped = entries(p);
    swapped.swap(7, 8);
    g.invalid(
        "payload-unsorted-keys",
        "keys 7 (purpose text) and 8 (issued at) swapped: key 7 is read after key 8",
        G,
        "canteen",
        sg(&map_of(&swapped)),
        "cbor/unsorted_keys",
        false,
    );
    let mut swapped = entries(p);
    swapped.swap(1, 2);
    g.invalid(
        "payload-unsorted-keys-early",
        "keys 2 (subject) and 1 (id) swapped: the key-order check before reading reports key 1 as out of order",
        G,
        "canteen",
        sg(&map_of(&swapped)),
        "cbor/unsorted_keys",
        false,
    );
    let mut dup = entries(p);
    dup.insert(2, dup[1].clone());
    g.invalid(
        "payload-duplicate-key",
        "key 1 (id) written twice",
        G,
        "canteen",
        sg(&map_of(&dup)),
        "cbor/duplicate_key",
        false,
    );
    g.invalid(
        "payload-unknown-key",
        "an extra key 15 in a grant",
        G,
        "canteen",
        sg(&with(p, 15, uint(0))),
        "cbor/unknown_key",
        true,
    );
    g.invalid(
        "payload-unknown-key-request",
        "an extra key 11 in a request",
        R,
        "canteen",
        cose::sign(R, &mk, &with(&request_payload, 11, uint(0))),
        "cbor/unknown_key",
        true,
    );
    g.invalid(
        "payload-missing-key",
        "a grant without key 13 (retention)",
        G,
        "canteen",
        sg(&without(p, 13)),
        "cbor/missing_key",
        true,
    );
    g.invalid(
        "payload-missing-version",
        "a grant without key 0 (version)",
        G,
        "canteen",
        sg(&without(p, 0)),
        "cbor/missing_key",
        true,
    );
    let mut ptrail = p.clone();
    ptrail.push(0x00);
    g.invalid(
        "payload-trailing-bytes",
        "the grant payload followed by one 00 byte",
        G,
        "canteen",
        sg(&ptrail),
        "cbor/trailing_bytes",
        false,
    );
    g.invalid(
        "payload-wrong-type-subject",
        "subject (key 2) as a text string",
        G,
        "canteen",
        sg(&with(
            p,
            2,
            enc(|e| {
                e.text("parent");
            }),
        )),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-float-time",
        "issued at (key 8) as a float",
        G,
        "canteen",
        sg(&with(
            p,
            8,
            [&[0xfb][..], &1_756_684_800f64.to_be_bytes()].concat(),
        )),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-tagged-time",
        "issued at (key 8) wrapped in tag 1 (epoch time)",
        G,
        "canteen",
        sg(&with(
            p,
            8,
            enc(|e| {
                e.tag(1).uint(NOW.secs());
            }),
        )),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-text-key",
        "a text map key \"0\" for the version",
        G,
        "canteen",
        sg(&{
            let mut m = entries(p);
            m.remove(0);
            let mut b = enc(|e| {
                e.map(m.len() + 1).text("0").uint(1);
            });
            for (k, v) in m {
                b.extend(uint(k));
                b.extend(v);
            }
            b
        }),
        "cbor/wrong_type",
        true,
    );
    g.invalid(
        "payload-wrong-type-array",
        "a grant payload that is an array",
        G,
        "canteen",
        sg(&enc(|e| {
            e.array(1).uint(1);
        })),
        "cbor/wrong_type",
        true,
    );
    let bad_utf8 = {
        let mut b = vec![0x60 + 11];
        b.extend_from_slice(b"education:");
        b.push(0xff);
        b
    };
    g.invalid(
        "payload-invalid-utf8",
        "purpose code (key 6) with an ff byte",
        G,
        "canteen",
        sg(&with(p, 6, bad_utf8)),
        "cbor/invalid_utf8",
        true,
    );
    g.invalid(
        "payload-too-long-scope",
        "a scope array claiming 300 entries (limit 256 items per collection)",
        G,
        "canteen",
        sg(&with(p, 5, vec![0x99, 0x01, 0x2c])),
        "cbor/too_long",
        true,
    );
    let big_scope = enc(|e| {
        e.array(65);
        for i in 0..65u8 {
            let mut id = [0u8; 16];
            id[15] = i;
            e.array(2).bytes(&id).array(1).text("dgfip:x");
        }
    });
    g.invalid(
        "value-scope-too-many-providers",
        "a scope with 65 providers (at most 64)",
        G,
        "canteen",
        sg(&with(p, 5, big_scope)),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-onward-transfer-false",
        "onward transfer (key 14) written as false: the key is written only when true",
        G,
        "canteen",
        sg(&with(
            p,
            14,
            enc(|e| {
                e.bool(false);
            }),
        )),
        "value/invalid",
        true,
    );
    let dgfip = s.dgfip;
    g.invalid(
        "value-categories-unsorted",
        "categories of a scope entry out of order",
        G,
        "canteen",
        sg(&with(
            p,
            5,
            enc(|e| {
                e.array(1)
                    .array(2)
                    .bytes(dgfip.as_bytes())
                    .array(2)
                    .text("dgfip:revenu_fiscal_reference")
                    .text("dgfip:composition_foyer");
            }),
        )),
        "value/invalid",
        false,
    );
    g.invalid(
        "value-empty-data-range",
        "data range [from, from]",
        G,
        "canteen",
        sg(&with(
            p,
            12,
            enc(|e| {
                e.array(2).uint(NOW.secs()).uint(NOW.secs());
            }),
        )),
        "value/invalid",
        false,
    );
    g.invalid(
        "value-access-pattern",
        "access pattern [2]",
        G,
        "canteen",
        sg(&with(
            p,
            11,
            enc(|e| {
                e.array(1).uint(2);
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-access-zero-uses",
        "access pattern [1, 0, 2592000]: at least one use per period",
        G,
        "canteen",
        sg(&with(
            p,
            11,
            enc(|e| {
                e.array(3).uint(1).uint(0).uint(30 * DAY);
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-category-syntax",
        "category DGFIP:rfr (upper case)",
        G,
        "canteen",
        sg(&with(
            p,
            5,
            enc(|e| {
                e.array(1)
                    .array(2)
                    .bytes(dgfip.as_bytes())
                    .array(1)
                    .text("DGFIP:rfr");
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-id-length",
        "a 15-byte grant id",
        G,
        "canteen",
        sg(&with(
            p,
            1,
            enc(|e| {
                e.bytes(&[7; 15]);
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-empty-window",
        "expires at (key 10) equal to not before (key 9)",
        G,
        "canteen",
        sg(&with(p, 10, uint(NOW.secs()))),
        "value/invalid",
        false,
    );
    g.invalid(
        "value-empty-purpose-text",
        "purpose text (key 7) empty",
        G,
        "canteen",
        sg(&with(
            p,
            7,
            enc(|e| {
                e.text("");
            }),
        )),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-purpose-text-too-long",
        "purpose text of 513 bytes",
        G,
        "canteen",
        sg(&with(
            p,
            7,
            enc(|e| {
                e.text(&"x".repeat(513));
            }),
        )),
        "value/invalid",
        true,
    );
    let ak = key_for("authority");
    g.invalid(
        "value-empty-legal-reference",
        "a habilitation whose legal reference (key 7) is empty",
        H,
        "canteen",
        cose::sign(
            H,
            &ak,
            &with(
                &hab_payload,
                7,
                enc(|e| {
                    e.text("");
                }),
            ),
        ),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-statement-action",
        "a statement with action 3",
        S,
        "canteen",
        cose::sign(S, &pk, &with(&statement_payload, 3, uint(3))),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-request-no-category",
        "a request with an empty category list",
        R,
        "canteen",
        cose::sign(
            R,
            &mk,
            &with(
                &request_payload,
                7,
                enc(|e| {
                    e.array(0);
                }),
            ),
        ),
        "value/invalid",
        true,
    );
    g.invalid(
        "value-statement-hash-length",
        "a statement whose basis hash (key 2) is 31 bytes",
        S,
        "canteen",
        cose::sign(
            S,
            &pk,
            &with(
                &statement_payload,
                2,
                enc(|e| {
                    e.bytes(&[1; 31]);
                }),
            ),
        ),
        "value/invalid",
        true,
    );

    // Signature and key refusals.
    let mut flipped = grant.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    g.invalid(
        "signature-flipped-bit",
        "the grant with the last bit of its signature flipped",
        G,
        "canteen",
        flipped,
        "signature/invalid",
        false,
    );
    g.invalid(
        "signature-payload-altered",
        "the grant's payload with retention changed, the signature left as it was",
        G,
        "canteen",
        cose::assemble(&prot, &[0xa0], &with(p, 13, uint(400 * DAY)), &sig),
        "signature/invalid",
        false,
    );
    g.invalid(
        "signature-kid-substituted",
        "the parent's signature under a protected header naming the city hall's kid",
        G,
        "canteen",
        cose::assemble(
            &cose::protected_header(G, &mk.key_id()),
            &[0xa0],
            &grant_payload,
            &sig,
        ),
        "signature/invalid",
        false,
    );
    g.invalid(
        "signature-unknown-key",
        "the grant signed with a key no party holds",
        G,
        "canteen",
        cose::sign(G, &key_for("stranger"), &grant_payload),
        "signature/unknown_key",
        false,
    );
    g.invalid(
        "signature-not-signers-key",
        "the parent's grant signed with the city hall's key",
        G,
        "canteen",
        cose::sign(G, &mk, &grant_payload),
        "signature/not_signers_key",
        false,
    );
    let early = s
        .grant()
        .issued_at(Timestamp::from_secs(1_733_011_200)) // 2024-12-01
        .build(&s.ceilings)
        .unwrap_or_else(|e| panic!("{e}"));
    g.invalid(
        "signature-key-not-yet-valid",
        "a grant issued 2024-12-01, before the parent's key is valid",
        G,
        "canteen",
        s.sign_grant(&early),
        "signature/key_not_yet_valid",
        false,
    );
    g.invalid(
        "signature-key-expired",
        "a grant issued 2025-09-01 with the parent's first key, valid until 2025-06-01",
        G,
        "canteen-rotated",
        grant.clone(),
        "signature/key_expired",
        false,
    );
    g.invalid(
        "signature-key-compromised",
        "a request issued 2025-09-01 with the city hall's key, reported compromised 2025-08-31",
        R,
        "canteen-compromised",
        request,
        "signature/key_compromised",
        false,
    );
}

fn decisions(g: &mut Gen, s: &mut Scenario) {
    s.now = NOW;
    s.verifier_provider = s.dgfip;
    let mut cases: Vec<(DecisionCase, Vec<&'static str>)> = Vec::new();
    let allow: Vec<&'static str> = Vec::new();
    macro_rules! case {
        ($name:expr, $desc:expr, $request:expr, $basis:expr) => {
            DecisionCase {
                name: $name,
                description: $desc,
                directory: "canteen",
                provider: s.dgfip,
                history: Vec::new(),
                request: $request,
                basis: $basis,
                now: NOW,
            }
        };
    }

    // Allows.
    let grant = build(s, s.grant());
    let req = s.sign_request(&s.request(&grant));
    cases.push((
        case!(
            "allow-grant-by-subject",
            "the parent's own grant; the city hall asks DGFiP for the reference tax income",
            req.clone(),
            grant.clone()
        ),
        allow.clone(),
    ));
    let fc_grant = build(s, s.grant().expressed_by(s.franceconnect));
    cases.push((
        case!(
            "allow-grant-by-mandate",
            "the grant expressed by FranceConnect under the parent's mandate",
            s.sign_request(&s.request(&fc_grant)),
            fc_grant.clone()
        ),
        allow.clone(),
    ));
    let child_grant = build(s, grant_for(s, s.child).expressed_by(s.parent));
    cases.push((
        case!(
            "allow-grant-by-legal-representative",
            "a grant about the child expressed by the parent, her legal representative",
            s.sign_request(&s.request(&child_grant)),
            child_grant.clone()
        ),
        allow.clone(),
    ));
    let hab = s.habilitation().sign(s.key(s.authority));
    cases.push((
        case!(
            "allow-habilitation",
            "the ministry's habilitation; the city hall asks DGFiP",
            s.sign_request(&s.request(&hab)),
            hab.clone()
        ),
        allow.clone(),
    ));
    s.verifier_provider = s.cnaf;
    let hab_cnaf_req = s.sign_request(&s.request(&hab));
    s.verifier_provider = s.dgfip;
    let mut c = case!(
        "allow-habilitation-at-cnaf",
        "the habilitation; the city hall asks CNAF for the family quotient, decided by CNAF",
        hab_cnaf_req,
        hab.clone()
    );
    c.provider = s.cnaf;
    cases.push((c, allow.clone()));
    let hab_child = {
        let mut r = s.request(&hab);
        r = r
            .to_builder()
            .subject(s.child)
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "allow-habilitation-any-subject",
            "a habilitation names no subject: a request about the child is allowed",
            hab_child,
            hab.clone()
        ),
        allow.clone(),
    ));
    let one_time = build(s, s.grant().access(AccessPattern::one_time()));
    let one_time_req = s.sign_request(&s.request(&one_time));
    cases.push((
        case!(
            "allow-one-time-first-use",
            "a one-time grant, first use",
            one_time_req.clone(),
            one_time.clone()
        ),
        allow.clone(),
    ));
    let twice = build(
        s,
        s.grant()
            .access(AccessPattern::periodic(2, 30 * DAY).unwrap()),
    );
    let twice_first = s.sign_request(&s.request(&twice));
    let twice_second = s.sign_request(&s.request(&twice));
    let mut c = case!(
        "allow-periodic-second-use",
        "a grant of 2 uses per 30 days, second use in the same period",
        twice_second,
        twice.clone()
    );
    c.history.push(Step::Decide {
        request: twice_first.clone(),
        basis: twice.clone(),
        now: NOW,
    });
    cases.push((c, allow.clone()));
    let monthly = build(s, s.grant());
    let monthly_first = s.sign_request(&s.request(&monthly));
    let monthly_again = s.sign_request(&s.request(&monthly));
    s.now = NOW.plus_secs(30 * DAY);
    let monthly_next = s.sign_request(&s.request(&monthly));
    s.now = NOW;
    let mut c = case!(
        "allow-next-period",
        "a monthly grant used on 2025-09-01, used again 30 days later (a new period)",
        monthly_next,
        monthly.clone()
    );
    c.history.push(Step::Decide {
        request: monthly_first.clone(),
        basis: monthly.clone(),
        now: NOW,
    });
    c.now = NOW.plus_secs(30 * DAY);
    cases.push((c, allow.clone()));
    let paused_grant = build(s, s.grant());
    let pause = s.statement(&paused_grant, Action::Pause, s.parent);
    s.now = NOW.plus_secs(60);
    let resume = s.statement(&paused_grant, Action::Resume, s.parent);
    let after_resume = s.sign_request(&s.request(&paused_grant));
    s.now = NOW;
    let mut c = case!(
        "allow-after-resume",
        "paused by the parent, resumed a minute later, then asked",
        after_resume,
        paused_grant.clone()
    );
    c.history.push(Step::Statement {
        statement: pause.clone(),
        basis: paused_grant.clone(),
        now: NOW,
    });
    c.history.push(Step::Statement {
        statement: resume,
        basis: paused_grant.clone(),
        now: NOW.plus_secs(60),
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, allow.clone()));
    let wide = build(
        s,
        s.grant()
            .cover(s.dgfip, [testing::household()])
            .allow_onward_transfer(),
    );
    let subset = {
        let mut r = s.request(&wide);
        r = r
            .to_builder()
            .categories(vec![testing::household()])
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .data_range(
                DataRange::new(
                    Timestamp::from_secs(1_735_689_600),
                    Timestamp::from_secs(1_751_328_000),
                )
                .unwrap_or_else(|_| unreachable!()),
            )
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "allow-subset-and-narrower-range",
            "a grant for two categories with onward transfer; the request asks one, for the first half of 2025",
            subset,
            wide
        ),
        allow.clone(),
    ));
    let edge_future = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(120))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "allow-request-at-skew-limit",
            "a request issued 120 s in the future (the skew tolerance)",
            edge_future,
            grant.clone()
        ),
        allow.clone(),
    ));
    let edge_old = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .issued_at(NOW.minus_secs(300))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "allow-request-at-age-limit",
            "a request issued 300 s before now (the freshness limit)",
            edge_old,
            grant.clone()
        ),
        allow.clone(),
    ));
    let march = Timestamp::from_secs(1_740_787_200); // 2025-03-01
    s.now = march;
    let old_key_grant = build(s, s.grant());
    s.now = NOW;
    let mut c = case!(
        "allow-grant-signed-before-rotation",
        "a grant signed 2025-03-01 with the parent's first key, still honoured after the key's window closed",
        s.sign_request(&s.request(&old_key_grant)),
        old_key_grant
    );
    c.directory = "canteen-rotated";
    cases.push((c, allow.clone()));
    let new_key_grant = s
        .grant()
        .build(&s.ceilings)
        .unwrap_or_else(|e| panic!("{e}"))
        .sign(&key_for("parent-2"));
    let mut c = case!(
        "allow-grant-signed-with-new-key",
        "a grant signed with the parent's second key",
        s.sign_request(&s.request(&new_key_grant)),
        new_key_grant
    );
    c.directory = "canteen-rotated";
    cases.push((c, allow.clone()));
    let refused_revoke = s.statement(&grant, Action::Revoke, s.mairie);
    let mut c = case!(
        "allow-after-unentitled-revoke",
        "the city hall tries to revoke the parent's grant (refused: not entitled), then asks",
        req.clone(),
        grant.clone()
    );
    c.history.push(Step::Statement {
        statement: refused_revoke,
        basis: grant.clone(),
        now: NOW,
    });
    cases.push((c, allow.clone()));

    // Stage 1 and 2 denials.
    cases.push((
        case!(
            "deny-malformed-request",
            "the request truncated to 40 bytes",
            req[..40].to_vec(),
            grant.clone()
        ),
        vec!["malformed"],
    ));
    cases.push((
        case!(
            "deny-malformed-basis",
            "the grant with a trailing byte",
            req.clone(),
            [grant.clone(), vec![0]].concat()
        ),
        vec!["malformed"],
    ));
    cases.push((
        case!(
            "deny-malformed-both",
            "both objects malformed: the request's reason first",
            req[..40].to_vec(),
            grant[..40].to_vec()
        ),
        vec!["malformed", "malformed"],
    ));
    cases.push((
        case!(
            "deny-wrong-kind-basis",
            "the request presented as its own basis",
            req.clone(),
            req.clone()
        ),
        vec!["wrong_kind"],
    ));
    cases.push((
        case!(
            "deny-wrong-kind-request",
            "a pause statement presented as the request",
            pause.clone(),
            paused_grant.clone()
        ),
        vec!["wrong_kind"],
    ));
    let stranger_req = s.request(&grant).sign(&key_for("stranger"));
    cases.push((
        case!(
            "deny-unknown-key",
            "the request signed with a key no party holds",
            stranger_req.clone(),
            grant.clone()
        ),
        vec!["unknown_key"],
    ));
    let mut bad_sig_req = req.clone();
    let last = bad_sig_req.len() - 1;
    bad_sig_req[last] ^= 0x80;
    cases.push((
        case!(
            "deny-bad-signature",
            "the request's signature altered",
            bad_sig_req.clone(),
            grant.clone()
        ),
        vec!["bad_signature"],
    ));
    let mut bad_sig_grant = grant.clone();
    let last = bad_sig_grant.len() - 1;
    bad_sig_grant[last] ^= 0x80;
    cases.push((
        case!(
            "deny-unknown-key-and-bad-basis-signature",
            "request signed by an unknown key, grant signature altered: request first",
            stranger_req,
            bad_sig_grant
        ),
        vec!["unknown_key", "bad_signature"],
    ));
    cases.push((
        case!(
            "deny-malformed-basis-before-bad-signature",
            "request signature altered, grant malformed: the malformed stage comes first",
            bad_sig_req,
            grant[..40].to_vec()
        ),
        vec!["malformed", "bad_signature"],
    ));
    let not_signers = s.request(&grant).sign(s.key(s.other_consumer));
    cases.push((
        case!(
            "deny-key-not-signers",
            "the request names the city hall but is signed with Villeurbanne's key",
            not_signers,
            grant.clone()
        ),
        vec!["key_not_valid"],
    ));
    let mut c = case!(
        "deny-key-compromised",
        "the city hall's key was reported compromised the day before the request",
        req.clone(),
        grant.clone()
    );
    c.directory = "canteen-compromised";
    cases.push((c, vec!["key_not_valid"]));
    let mut c = case!(
        "deny-key-expired-basis",
        "a grant signed 2025-09-01 with the parent's first key, valid until 2025-06-01",
        req.clone(),
        grant.clone()
    );
    c.directory = "canteen-rotated";
    cases.push((c, vec!["key_not_valid"]));
    let early = s.sign_grant(
        &s.grant()
            .issued_at(Timestamp::from_secs(1_733_011_200))
            .build(&s.ceilings)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    cases.push((
        case!(
            "deny-key-not-yet-valid-basis",
            "a grant issued 2024-12-01, before the parent's key was valid",
            s.sign_request(&s.request(&early)),
            early
        ),
        vec!["key_not_valid"],
    ));

    // Stage 3 denials.
    let other_basis = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .basis_id(BasisId(s.next_uuid()))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-basis-mismatch",
            "the request names another basis id (with the right hash)",
            other_basis,
            grant.clone()
        ),
        vec!["basis_mismatch"],
    ));
    let bad_hash = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .basis_digest(Digest::of(b"another grant"))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-basis-hash-mismatch",
            "the request's basis hash is not the SHA-256 of the grant's bytes",
            bad_hash,
            grant.clone()
        ),
        vec!["basis_hash_mismatch"],
    ));
    let fc_consumer_grant = build(
        s,
        Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.franceconnect,
            testing::canteen_purpose(),
        )
        .cover(s.dgfip, [testing::rfr()])
        .issued_at(NOW)
        .valid(NOW, NOW.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(year(2025))
        .retention_secs(365 * DAY),
    );
    cases.push((
        case!(
            "deny-consumer-without-role",
            "a grant to FranceConnect, which is not a consumer; FranceConnect asks",
            s.sign_request(&s.request(&fc_consumer_grant)),
            fc_consumer_grant
        ),
        vec!["signer_not_entitled"],
    ));
    let mairie_subject = build(s, grant_for(s, s.mairie));
    cases.push((
        case!(
            "deny-subject-without-role",
            "a grant whose subject (and signer) is the city hall, which is not a subject",
            s.sign_request(&s.request(&mairie_subject)),
            mairie_subject
        ),
        vec!["signer_not_entitled"],
    ));
    let fake_hab = {
        let h = s.habilitation();
        let h = Habilitation::new(
            h.id(),
            s.mairie,
            s.mairie,
            h.scope().clone(),
            h.purpose().clone(),
            h.legal_reference(),
            h.issued_at(),
            (h.not_before(), h.expires_at()),
            h.retention_secs(),
        )
        .unwrap_or_else(|| unreachable!());
        h.sign(s.key(s.mairie))
    };
    cases.push((
        case!(
            "deny-habilitation-not-by-authority",
            "a habilitation issued by the city hall for itself",
            s.sign_request(&s.request(&fake_hab)),
            fake_hab
        ),
        vec!["signer_not_entitled"],
    ));
    let other_mandate = build(s, s.grant().expressed_by(s.other_consumer));
    let other_mandate_req = s.sign_request(&s.request(&other_mandate));
    let mut c = case!(
        "deny-mandate-to-non-consent-manager",
        "a grant expressed by Villeurbanne under a mandate, but Villeurbanne is not a consent manager",
        other_mandate_req.clone(),
        other_mandate.clone()
    );
    c.directory = "canteen-extra-mandate";
    cases.push((c, vec!["signer_not_entitled"]));
    cases.push((
        case!(
            "deny-no-representation",
            "a grant for the parent expressed by Villeurbanne, which does not represent her",
            other_mandate_req,
            other_mandate
        ),
        vec!["representation_not_valid"],
    ));
    let mut c = case!(
        "deny-mandate-ended",
        "a grant expressed by FranceConnect on 2025-09-01; its mandate ended 2025-06-01",
        s.sign_request(&s.request(&fc_grant)),
        fc_grant.clone()
    );
    c.directory = "canteen-mandate-ended";
    cases.push((c, vec!["representation_not_valid"]));
    let other_consumer_req = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .consumer(s.other_consumer)
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-consumer-mismatch",
            "Villeurbanne asks under the city hall's grant",
            other_consumer_req,
            grant.clone()
        ),
        vec!["consumer_mismatch"],
    ));
    let child_req = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .subject(s.child)
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-subject-mismatch",
            "a request about the child under the parent's grant",
            child_req,
            grant.clone()
        ),
        vec!["subject_mismatch"],
    ));
    let two_providers = build(s, s.grant().cover(s.cnaf, [testing::quotient_familial()]));
    let to_cnaf = |s: &Scenario, basis: &[u8]| {
        let mut r = s.request(basis);
        r = r
            .to_builder()
            .provider(s.cnaf)
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .categories(vec![testing::quotient_familial()])
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-wrong-provider",
            "a grant covering DGFiP and CNAF; the request is addressed to CNAF but presented to DGFiP",
            to_cnaf(s, &two_providers),
            two_providers
        ),
        vec!["wrong_provider"],
    ));
    cases.push((
        case!(
            "deny-wrong-provider-not-covered",
            "a grant covering DGFiP only; a request addressed to CNAF presented to DGFiP",
            to_cnaf(s, &grant),
            grant.clone()
        ),
        vec!["wrong_provider", "provider_not_covered"],
    ));
    let mut c = case!(
        "deny-provider-not-covered",
        "a grant covering DGFiP only; CNAF decides on a request addressed to it",
        to_cnaf(s, &grant),
        grant.clone()
    );
    c.provider = s.cnaf;
    cases.push((c, vec!["provider_not_covered"]));
    let household_req = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .categories(vec![testing::household(), testing::rfr()])
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-categories-not-covered",
            "the request adds the household composition to the reference tax income",
            household_req,
            grant.clone()
        ),
        vec!["categories_not_covered"],
    ));
    let purpose_req = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .purpose(
                Purpose::new("education:transport_scolaire").unwrap_or_else(|_| unreachable!()),
            )
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-purpose-mismatch",
            "the request claims school transport instead of canteen pricing",
            purpose_req,
            grant.clone()
        ),
        vec!["purpose_mismatch"],
    ));
    let range_req = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .data_range(year(2024))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-data-range-outside",
            "the request asks for tax year 2024 under a grant for 2025",
            range_req,
            grant.clone()
        ),
        vec!["data_range_outside"],
    ));
    let later = build(
        s,
        s.grant()
            .valid(NOW.plus_secs(7 * DAY), NOW.plus_secs(300 * DAY)),
    );
    cases.push((
        case!(
            "deny-not-yet-valid",
            "a grant valid from 2025-09-08, asked on 2025-09-01",
            s.sign_request(&s.request(&later)),
            later
        ),
        vec!["not_yet_valid"],
    ));
    s.now = NOW.plus_secs(366 * DAY);
    let late_req = s.sign_request(&s.request(&grant));
    s.now = NOW;
    let mut c = case!(
        "deny-expired",
        "the grant asked 366 days after it was issued (valid 365 days)",
        late_req,
        grant.clone()
    );
    c.now = NOW.plus_secs(366 * DAY);
    cases.push((c, vec!["expired"]));
    let mut c = case!(
        "deny-paused",
        "the parent paused the grant",
        s.sign_request(&s.request(&paused_grant)),
        paused_grant.clone()
    );
    c.history.push(Step::Statement {
        statement: pause.clone(),
        basis: paused_grant.clone(),
        now: NOW,
    });
    cases.push((c, vec!["paused"]));
    let fc_pause = s.statement(&grant, Action::Pause, s.franceconnect);
    let mut c = case!(
        "deny-paused-by-consent-manager",
        "FranceConnect paused the parent's grant under its mandate",
        req.clone(),
        grant.clone()
    );
    c.history.push(Step::Statement {
        statement: fc_pause,
        basis: grant.clone(),
        now: NOW,
    });
    cases.push((c, vec!["paused"]));
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    s.now = NOW.plus_secs(10);
    let late_resume = s.statement(&grant, Action::Resume, s.parent);
    let after_revoke = s.sign_request(&s.request(&grant));
    s.now = NOW;
    let mut c = case!(
        "deny-revoked-resume-refused",
        "the parent revoked the grant; a later resume is refused (revocation is final)",
        after_revoke,
        grant.clone()
    );
    c.history.push(Step::Statement {
        statement: revoke.clone(),
        basis: grant.clone(),
        now: NOW,
    });
    c.history.push(Step::Statement {
        statement: late_resume,
        basis: grant.clone(),
        now: NOW.plus_secs(10),
    });
    c.now = NOW.plus_secs(10);
    cases.push((c, vec!["revoked"]));
    let hab_revoke = s.statement(&hab, Action::Revoke, s.authority);
    let mut c = case!(
        "deny-habilitation-revoked",
        "the ministry revoked its habilitation",
        s.sign_request(&s.request(&hab)),
        hab.clone()
    );
    c.history.push(Step::Statement {
        statement: hab_revoke,
        basis: hab.clone(),
        now: NOW,
    });
    cases.push((c, vec!["revoked"]));
    let weekly = build_unchecked(
        s,
        s.grant()
            .access(AccessPattern::periodic(1, 7 * DAY).unwrap()),
    );
    cases.push((
        case!(
            "deny-beyond-ceiling-frequency",
            "a weekly grant: more frequent than DGFiP's ceiling (2 per 30 days)",
            s.sign_request(&s.request(&weekly)),
            weekly
        ),
        vec!["beyond_ceiling"],
    ));
    let unopened = build_unchecked(
        s,
        Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.mairie,
            Purpose::new("sport:tarification_piscine").unwrap_or_else(|_| unreachable!()),
        )
        .cover(s.dgfip, [testing::rfr()])
        .issued_at(NOW)
        .valid(NOW, NOW.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(year(2025))
        .retention_secs(365 * DAY),
    );
    cases.push((
        case!(
            "deny-beyond-ceiling-purpose-not-opened",
            "a grant for a purpose DGFiP published no ceiling for",
            s.sign_request(&s.request(&unopened)),
            unopened
        ),
        vec!["beyond_ceiling"],
    ));
    let future = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(121))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-request-from-future",
            "a request issued 121 s in the future",
            future,
            grant.clone()
        ),
        vec!["request_from_future"],
    ));
    let old = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .issued_at(NOW.minus_secs(301))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-request-too-old",
            "a request issued 301 s before now",
            old,
            grant.clone()
        ),
        vec!["request_too_old"],
    ));
    let mut c = case!(
        "deny-replayed-request",
        "a grant of 2 uses per 30 days; the same request presented twice",
        twice_first.clone(),
        twice.clone()
    );
    c.history.push(Step::Decide {
        request: twice_first,
        basis: twice,
        now: NOW,
    });
    c.now = NOW.plus_secs(30);
    cases.push((c, vec!["replayed_request"]));
    let mut c = case!(
        "deny-replayed-and-exhausted",
        "a monthly grant; the same request presented twice",
        monthly_first.clone(),
        monthly.clone()
    );
    c.history.push(Step::Decide {
        request: monthly_first.clone(),
        basis: monthly.clone(),
        now: NOW,
    });
    cases.push((c, vec!["replayed_request", "frequency_exhausted"]));
    let second_one_time = s.sign_request(&s.request(&one_time));
    let mut c = case!(
        "deny-one-time-used",
        "a one-time grant already used",
        second_one_time,
        one_time.clone()
    );
    c.history.push(Step::Decide {
        request: one_time_req,
        basis: one_time,
        now: NOW,
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, vec!["one_time_used"]));
    let mut c = case!(
        "deny-frequency-exhausted",
        "a monthly grant asked twice in the same period, with fresh request ids",
        monthly_again,
        monthly.clone()
    );
    c.history.push(Step::Decide {
        request: monthly_first,
        basis: monthly,
        now: NOW,
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, vec!["frequency_exhausted"]));
    let everything = {
        let mut r = s.request(&grant);
        r = r
            .to_builder()
            .basis_id(BasisId(s.next_uuid()))
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .basis_digest(Digest::of(b"another grant"))
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .consumer(s.other_consumer)
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .subject(s.child)
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .provider(s.cnaf)
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .categories(vec![testing::quotient_familial()])
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .purpose(
                Purpose::new("education:transport_scolaire").unwrap_or_else(|_| unreachable!()),
            )
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .data_range(year(2024))
            .build()
            .expect("valid request");
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(3600))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    cases.push((
        case!(
            "deny-many-reasons",
            "a validly signed request wrong in every claim: every failed rule, in rule order",
            everything,
            grant.clone()
        ),
        vec![
            "basis_mismatch",
            "basis_hash_mismatch",
            "consumer_mismatch",
            "subject_mismatch",
            "wrong_provider",
            "provider_not_covered",
            "purpose_mismatch",
            "data_range_outside",
            "request_from_future",
        ],
    ));
    let expired_weekly = build_unchecked(
        s,
        s.grant()
            .cover(s.dgfip, [testing::household()])
            .access(AccessPattern::periodic(1, 7 * DAY).unwrap()),
    );
    let ew_revoke = s.statement(&expired_weekly, Action::Revoke, s.parent);
    s.now = NOW.plus_secs(400 * DAY);
    let ew_req = {
        let mut r = s.request(&expired_weekly);
        r = r
            .to_builder()
            .issued_at(NOW.plus_secs(400 * DAY).minus_secs(600))
            .build()
            .expect("valid request");
        s.sign_request(&r)
    };
    s.now = NOW;
    let mut c = case!(
        "deny-expired-revoked-beyond-ceiling-too-old",
        "a weekly grant, revoked, asked after it expired with a stale request",
        ew_req,
        expired_weekly.clone()
    );
    c.history.push(Step::Statement {
        statement: ew_revoke,
        basis: expired_weekly,
        now: NOW,
    });
    c.now = NOW.plus_secs(400 * DAY);
    cases.push((
        c,
        vec!["expired", "revoked", "beyond_ceiling", "request_too_old"],
    ));
    let msg = build(s, grant_for(s, s.mairie));
    let entitled_and_mismatch = {
        let mut r = s.request(&msg);
        r = r
            .to_builder()
            .consumer(s.franceconnect)
            .build()
            .expect("valid request");
        r.sign(s.key(s.franceconnect))
    };
    cases.push((
        case!(
            "deny-two-signers-not-entitled",
            "a grant signed by the city hall as its own subject, asked by FranceConnect: both signers lack their role, and the consumers differ",
            entitled_and_mismatch,
            msg
        ),
        vec![
            "signer_not_entitled",
            "signer_not_entitled",
            "consumer_mismatch",
        ],
    ));

    let unrepresented = build(
        s,
        Grant::builder(
            BasisId(s.next_uuid()),
            s.parent,
            s.franceconnect,
            testing::canteen_purpose(),
        )
        .expressed_by(s.other_consumer)
        .cover(s.dgfip, [testing::rfr()])
        .issued_at(NOW)
        .valid(NOW, NOW.plus_secs(365 * DAY))
        .access(AccessPattern::MONTHLY)
        .data_range(year(2025))
        .retention_secs(365 * DAY),
    );
    cases.push((
        case!(
            "deny-request-signer-then-representation",
            "a grant to FranceConnect expressed by Villeurbanne, which does not represent the parent; FranceConnect, not a consumer, asks: reasons follow the order of their variants, signer_not_entitled before representation_not_valid",
            s.sign_request(&s.request(&unrepresented)),
            unrepresented
        ),
        vec!["signer_not_entitled", "representation_not_valid"],
    ));

    // State integrity: time rules and first sightings.
    let future = build(
        s,
        s.grant()
            .issued_at(NOW.plus_secs(30 * DAY))
            .valid(NOW, NOW.plus_secs(365 * DAY)),
    );
    cases.push((
        case!(
            "deny-basis-from-future",
            "a grant dated 30 days ahead, beyond the 120 s clock-skew tolerance: the key and representation rules judge its issue time, so a future date is refused",
            s.sign_request(&s.request(&future)),
            future
        ),
        vec!["basis_from_future"],
    ));
    let wide = s
        .request(&hab)
        .to_builder()
        .data_range(
            DataRange::new(START, START.plus_secs(2 * 365 * DAY))
                .unwrap_or_else(|_| panic!("a valid range")),
        )
        .build()
        .unwrap_or_else(|_| panic!("a valid request"));
    cases.push((
        case!(
            "deny-habilitation-data-range-too-long",
            "under the habilitation, two years of data asked for: longer than DGFiP's 366-day ceiling for the purpose",
            s.sign_request(&wide),
            hab.clone()
        ),
        vec!["data_range_too_long"],
    ));
    let backdated = build(
        s,
        s.grant()
            .issued_at(NOW.minus_secs(10 * DAY))
            .valid(NOW.minus_secs(10 * DAY), NOW.plus_secs(300 * DAY)),
    );
    let mut c = case!(
        "deny-first-seen-after-compromise",
        "a grant dated before the parent's key was reported compromised, but first seen by this ledger after the report: it may have been backdated with the stolen key",
        s.sign_request(&s.request(&backdated)),
        backdated
    );
    c.directory = "canteen-parent-compromised";
    cases.push((c, vec!["first_seen_after_compromise"]));
    let before_end = build(
        s,
        s.grant()
            .expressed_by(s.franceconnect)
            .issued_at(ROTATION.minus_secs(30 * DAY))
            .valid(ROTATION.minus_secs(30 * DAY), NOW.plus_secs(200 * DAY)),
    );
    let mut c = case!(
        "deny-first-seen-after-representation-ended",
        "a grant FranceConnect dated within its mandate (ended 2025-06-01), first seen after the mandate ended: it may have been backdated by a former representative",
        s.sign_request(&s.request(&before_end)),
        before_end
    );
    c.directory = "canteen-mandate-ended";
    cases.push((c, vec!["first_seen_after_representation_ended"]));
    let early_resume = s.statement(&grant, Action::Resume, s.franceconnect);
    s.now = NOW.plus_secs(30);
    let pause = s.statement(&grant, Action::Pause, s.parent);
    s.now = NOW.plus_secs(60);
    let after = s.sign_request(&s.request(&grant));
    s.now = NOW;
    let mut c = case!(
        "deny-paused-resume-predates-pause",
        "FranceConnect signed a resume at 2025-09-01T00:00:00, the parent paused 30 s later; the resume, applied after the pause, is refused (statement/resume_predates_pause)",
        after,
        grant.clone()
    );
    c.history.push(Step::Statement {
        statement: pause,
        basis: grant.clone(),
        now: NOW.plus_secs(30),
    });
    c.history.push(Step::Statement {
        statement: early_resume,
        basis: grant.clone(),
        now: NOW.plus_secs(60),
    });
    c.now = NOW.plus_secs(60);
    cases.push((c, vec!["paused"]));
    let stale_revoke = s.statement(&grant, Action::Revoke, s.parent);
    let mut c = case!(
        "allow-stale-revocation-refused",
        "a revocation signed at 2025-09-01T00:00:00 and presented 301 s later, past the freshness window, is refused (statement/too_old); the grant stays in force",
        {
            s.now = NOW.plus_secs(301);
            let r = s.sign_request(&s.request(&grant));
            s.now = NOW;
            r
        },
        grant.clone()
    );
    c.history.push(Step::Statement {
        statement: stale_revoke,
        basis: grant.clone(),
        now: NOW.plus_secs(301),
    });
    c.now = NOW.plus_secs(301);
    cases.push((c, allow.clone()));

    for (c, want) in cases {
        let w = if want.is_empty() {
            Want::Allow
        } else {
            Want::Deny(&want)
        };
        g.decision(c, w);
    }
}

/// Where an item sits, which names its map keys and array elements.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Plain,
    Envelope,
    Protected,
    Grant,
    Scope,
    ScopeEntry,
    Access,
    DataRange,
}

/// Writes an annotated hex dump of a signed grant: one line per CBOR item header, its
/// content bytes below it, and a comment naming the item.
struct Annotator<'a> {
    bytes: &'a [u8],
    lines: Vec<(usize, String, String)>,
}

const GRANT_KEYS: [&str; 15] = [
    "version",
    "id",
    "subject",
    "expressed by",
    "consumer",
    "scope",
    "purpose",
    "purpose text",
    "issued at",
    "not before",
    "expires at",
    "access pattern",
    "data range",
    "retention (seconds)",
    "onward transfer",
];

impl Annotator<'_> {
    fn header(&self, pos: usize) -> (u8, u64, usize) {
        let b = self.bytes[pos];
        let info = b & 0x1f;
        let (arg, len) = match info {
            0..=23 => (u64::from(info), 1),
            24..=27 => {
                let n = 1usize << (info - 24);
                let arg = self.bytes[pos + 1..pos + 1 + n]
                    .iter()
                    .fold(0u64, |a, b| (a << 8) | u64::from(*b));
                (arg, 1 + n)
            }
            _ => panic!("not definite-length CBOR"),
        };
        (b >> 5, arg, len)
    }

    fn line(&mut self, depth: usize, bytes: &[u8], comment: String) {
        self.lines.push((depth, hex_spaced(bytes), comment));
    }

    fn item(&mut self, pos: usize, depth: usize, ctx: Ctx, name: &str) -> usize {
        let (major, arg, hlen) = self.header(pos);
        let head = &self.bytes[pos..pos + hlen];
        let label = |what: String| {
            if name.is_empty() {
                what
            } else {
                format!("{name}: {what}")
            }
        };
        let mut next = pos + hlen;
        match major {
            0 => {
                let v = if ctx == Ctx::Protected && name == "content type" {
                    format!(
                        "{arg} ({})",
                        ObjectKind::from_content_type(arg).map_or("?", |k| k.name())
                    )
                } else if name.contains(" at") || name.contains("before") || ctx == Ctx::DataRange {
                    format!("{arg} ({})", date(arg))
                } else {
                    arg.to_string()
                };
                self.line(depth, head, label(v));
            }
            1 => {
                let v = -1 - i128::from(arg);
                let what = if name == "alg" && v == -8 {
                    "-8 (EdDSA)".to_owned()
                } else {
                    v.to_string()
                };
                self.line(depth, head, label(what));
            }
            2 | 3 => {
                let len = usize::try_from(arg).unwrap_or(usize::MAX);
                let content = &self.bytes[next..next + len];
                let kind = if major == 2 { "bytes" } else { "text" };
                let inner = match (ctx, name) {
                    (Ctx::Envelope, "protected") => Some(Ctx::Protected),
                    (Ctx::Envelope, "payload") => Some(Ctx::Grant),
                    _ => None,
                };
                match inner {
                    Some(inner) => {
                        self.line(depth, head, label(format!("{kind}({len}), holding:")));
                        let end = self.item(next, depth + 1, inner, "");
                        assert_eq!(end, next + len);
                    }
                    None if major == 3 => {
                        self.line(depth, head, label(format!("text({len})")));
                        let text = String::from_utf8_lossy(content);
                        for (i, chunk) in content.chunks(16).enumerate() {
                            let c = if i == 0 {
                                format!("\"{text}\"")
                            } else {
                                String::new()
                            };
                            self.line(depth + 1, chunk, c);
                        }
                    }
                    None => {
                        let note = match name {
                            "kid" | "id" => format!("bytes({len})"),
                            "signature" => format!("bytes({len}): Ed25519 signature"),
                            _ if len == 16 => format!("bytes({len}): party id"),
                            _ => format!("bytes({len})"),
                        };
                        self.line(depth, head, label(note));
                        let uuid = (len == 16 && name != "kid")
                            .then(|| uuid::Uuid::from_slice(content).map(|u| u.to_string()).ok())
                            .flatten();
                        for (i, chunk) in content.chunks(16).enumerate() {
                            let c = match (&uuid, i) {
                                (Some(u), 0) => u.clone(),
                                _ => String::new(),
                            };
                            self.line(depth + 1, chunk, c);
                        }
                    }
                }
                next += len;
            }
            4 => {
                let n = usize::try_from(arg).unwrap_or(0);
                let (what, names, child): (String, Vec<&str>, Ctx) = match ctx {
                    Ctx::Envelope => (
                        format!("array({n}): COSE_Sign1"),
                        vec!["protected", "unprotected", "payload", "signature"],
                        Ctx::Envelope,
                    ),
                    Ctx::Scope => (format!("array({n})"), vec!["entry"; n], Ctx::ScopeEntry),
                    Ctx::ScopeEntry => (
                        format!("array({n})"),
                        vec!["provider", "categories"],
                        Ctx::Plain,
                    ),
                    Ctx::Access if n == 1 => {
                        (format!("array({n}): one time"), vec!["kind"], Ctx::Plain)
                    }
                    Ctx::Access => (
                        format!("array({n}): periodic"),
                        vec!["kind", "max uses", "period (seconds)"],
                        Ctx::Plain,
                    ),
                    Ctx::DataRange => {
                        (format!("array({n})"), vec!["from", "until"], Ctx::DataRange)
                    }
                    _ if name == "categories" => {
                        (format!("array({n})"), vec!["category"; n], Ctx::Plain)
                    }
                    _ => (format!("array({n})"), vec![""; n], Ctx::Plain),
                };
                self.line(depth, head, label(what));
                for nm in names.iter().take(n) {
                    next = self.item(next, depth + 1, child, nm);
                }
            }
            5 => {
                let n = usize::try_from(arg).unwrap_or(0);
                let what = match ctx {
                    Ctx::Protected => format!("map({n}): protected header"),
                    Ctx::Grant => format!("map({n}): grant payload"),
                    _ => format!("map({n})"),
                };
                self.line(depth, head, label(what));
                for _ in 0..n {
                    let (_, key, klen) = self.header(next);
                    let key_name = match ctx {
                        Ctx::Protected => match key {
                            1 => "alg",
                            3 => "content type",
                            4 => "kid",
                            _ => "?",
                        },
                        Ctx::Grant => GRANT_KEYS.get(key as usize).copied().unwrap_or("?"),
                        _ => "",
                    };
                    let kb = &self.bytes[next..next + klen];
                    self.line(depth + 1, kb, format!("key {key}: {key_name}"));
                    next += klen;
                    let vctx = match (ctx, key_name) {
                        (Ctx::Grant, "scope") => Ctx::Scope,
                        (Ctx::Grant, "access pattern") => Ctx::Access,
                        (Ctx::Grant, "data range") => Ctx::DataRange,
                        (c, _) => c,
                    };
                    next = self.item(next, depth + 2, vctx, key_name);
                }
            }
            6 => {
                self.line(depth, head, format!("tag({arg}): COSE_Sign1"));
                next = self.item(next, depth + 1, Ctx::Envelope, "");
            }
            _ => {
                let what = match head[0] {
                    0xf4 => "false",
                    0xf5 => "true",
                    0xf6 => "null",
                    _ => "simple",
                };
                self.line(depth, head, label(what.to_owned()));
            }
        }
        next
    }
}

fn hex_spaced(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `YYYY-MM-DD` of a Unix time (days from civil, inverted).
fn date(secs: u64) -> String {
    let days = i64::try_from(secs / DAY).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The annotated hex dump of a signed grant, as `docs/format.md` shows it.
pub fn annotate(bytes: &[u8]) -> String {
    let mut a = Annotator {
        bytes,
        lines: Vec::new(),
    };
    let end = a.item(0, 0, Ctx::Plain, "");
    assert_eq!(end, bytes.len());
    let width = a
        .lines
        .iter()
        .map(|(d, h, _)| d * 2 + h.len())
        .max()
        .unwrap_or(0)
        + 2;
    let mut out = String::new();
    for (depth, hex, comment) in &a.lines {
        let left = format!("{}{}", "  ".repeat(*depth), hex);
        if comment.is_empty() {
            out.push_str(left.trim_end());
        } else {
            out.push_str(&format!("{left:width$}# {comment}"));
        }
        out.push('\n');
    }
    out
}
