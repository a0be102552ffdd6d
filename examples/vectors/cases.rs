//! The collector of cases: [`Gen`] checks each case against the outcome it was meant to have,
//! and keeps its files and its index entry.

use std::collections::BTreeMap;

use consentry::Timestamp;
use consentry::cose::{Envelope, ObjectKind};
use consentry::decision::{Basis, Verifier};
use consentry::directory::{Directory, PartyId};
use consentry::ledger::InMemoryLedger;
use serde_json::{Value as Json, json};

use super::codes::{check_object, decision_json};
use super::common::NOW;

/// One earlier step of a decision case.
pub enum Step {
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
pub struct DecisionCase {
    pub name: &'static str,
    pub description: &'static str,
    pub directory: &'static str,
    pub provider: PartyId,
    pub history: Vec<Step>,
    pub request: Vec<u8>,
    pub basis: Vec<u8>,
    pub now: Timestamp,
}

/// What the generator meant a case to give.
pub enum Want<'a> {
    Allow,
    Deny(&'a [&'a str]),
}

pub struct Gen {
    pub ceilings: consentry::ceiling::Ceilings,
    pub dirs: BTreeMap<&'static str, (Directory, &'static str)>,
    pub files: BTreeMap<String, Vec<u8>>,
    pub objects: Vec<Json>,
    pub decisions: Vec<Json>,
    pub log: Json,
    pub registry: Json,
    /// The notifications' index entry (`notifications.rs`).
    pub notifications: Json,
    pub records: Vec<Json>,
}

impl Gen {
    pub fn dir(&self, name: &str) -> &Directory {
        &self.dirs[name].0
    }

    pub fn file(&mut self, path: String, bytes: Vec<u8>) -> String {
        assert!(
            self.files.insert(path.clone(), bytes).is_none(),
            "{path} written twice"
        );
        path
    }

    pub fn valid(&mut self, name: &str, description: &str, kind: ObjectKind, bytes: Vec<u8>) {
        self.valid_in(name, description, kind, "canteen", bytes);
    }

    pub fn valid_in(
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
    pub fn invalid(
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

    pub fn decision(&mut self, case: DecisionCase, want: Want<'_>) {
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
                            Err(r) => json!({"outcome": "refused", "error": format!("statement/{}", r.code())}),
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

/// A decision case at the canteen directory, decided by `provider` at [`NOW`], with no history.
pub fn case(
    provider: PartyId,
    name: &'static str,
    description: &'static str,
    request: Vec<u8>,
    basis: Vec<u8>,
) -> DecisionCase {
    DecisionCase {
        name,
        description,
        directory: "canteen",
        provider,
        history: Vec::new(),
        request,
        basis,
        now: NOW,
    }
}
