//! Consent records (ISO/IEC TS 27560 in W3C DPV, `consentry::record`): every term they use is in
//! the DPV 2.3 vocabulary copied into `tests/data/dpv/` (or in consentry's own context), the
//! record of every valid grant and habilitation vector restates that vector's claims (read
//! from `tests/vectors/index.json`, not from the library), the lifecycle gives the right
//! status, each use restates its receipt, and each refusal has its code.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::common::default_grant;
use consentry::danger::cbor::Value as Cbor;
use consentry::log::Receipt;
use consentry::record::{self, CONTEXT_IRI, Record, RecordError, RecordStatus};
use consentry::signed::{SignedPayload, Verified};
use consentry::statement::{Action, Statement};
use consentry::testing::Scenario;
use consentry::{Directory, Grant, Habilitation, Limits, Timestamp};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn lines(path: &str) -> BTreeSet<String> {
    fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The names every record may use, each from its source: DPV's terms and 27560 profiles as
/// copied, consentry's terms as its context defines them, and the few Dublin Core, RDF and
/// XML Schema terms the mapping in `docs/records.md` names.
struct Vocabulary {
    dpv: BTreeSet<String>,
    profiles: BTreeSet<String>,
    consentry: BTreeSet<String>,
}

impl Vocabulary {
    fn load() -> Self {
        let context: Value = serde_json::from_str(
            &fs::read_to_string(root().join("docs/records.context.jsonld")).expect("context"),
        )
        .expect("the context is JSON");
        let consentry = context["@context"]
            .as_object()
            .expect("a context object")
            .keys()
            .filter_map(|k| k.strip_prefix("consentry:").map(str::to_owned))
            .collect();
        let dpv = lines("tests/data/dpv/dpv-2.3-terms.txt");
        assert!(
            dpv.len() > 1000 && dpv.contains("ConsentRecord"),
            "{}",
            dpv.len()
        );
        Vocabulary {
            dpv,
            profiles: lines("tests/data/dpv/dpv-27560-schema.txt"),
            consentry,
        }
    }

    /// Checks one compact IRI; `urn:uuid:` identifiers are data, not terms.
    fn check(&self, iri: &str, used: &mut BTreeSet<String>) {
        if iri.starts_with("urn:uuid:") {
            return;
        }
        let (prefix, name) = iri
            .split_once(':')
            .unwrap_or_else(|| panic!("{iri}: not a compact IRI"));
        let known = match prefix {
            "dpv" => self.dpv.contains(name),
            "dpv-27560" => self.profiles.contains(name),
            "consentry" => self.consentry.contains(name),
            "dct" => ["identifier", "conformsTo", "description", "date"].contains(&name),
            "rdf" => name == "value",
            "xsd" => ["dateTime", "duration"].contains(&name),
            _ => false,
        };
        assert!(known, "{iri} is in no vocabulary the records may use");
        used.insert(iri.to_owned());
    }

    /// Every key, every type and every IRI value of a record, recursively; the texts
    /// consentry's own codes and people's words live in (`dct:identifier`,
    /// `dct:description`, `consentry:derivation`, `@value`) are data.
    fn check_all(&self, v: &Value, used: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match k.as_str() {
                        "@context" => assert_eq!(v, CONTEXT_IRI),
                        // A derivation's code is consentry's data, like a category's.
                        "@id"
                        | "@value"
                        | "dct:identifier"
                        | "dct:description"
                        | "consentry:derivation" => {}
                        "@type" => match v {
                            Value::Array(a) => {
                                for t in a {
                                    self.check(t.as_str().expect("a type"), used);
                                }
                            }
                            t => self.check(t.as_str().expect("a type"), used),
                        },
                        _ => {
                            self.check(k, used);
                            self.check_all(v, used);
                        }
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| self.check_all(v, used)),
            // Times (`YYYY-MM-DDTHH:MM:SSZ`) and durations (`PT…S`) are data, not IRIs.
            Value::String(s)
                if s.contains(':')
                    && !s.contains(' ')
                    && !s.starts_with("PT")
                    && !s.ends_with('Z') =>
            {
                self.check(s, used);
            }
            _ => {}
        }
    }
}

fn index() -> Value {
    let text = fs::read_to_string(root().join("tests/vectors/index.json")).expect("index.json");
    serde_json::from_str(&text).expect("index.json is JSON")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn directory(index: &Value, name: &str) -> Directory {
    let hex = index["directories"][name]["cbor"]
        .as_str()
        .expect("cbor hex");
    Directory::from_cbor(&unhex(hex)).expect("directory")
}

/// RFC 3339 UTC, restated (days to civil date, H. Hinnant's algorithm), so that the records'
/// times are checked against a formatter that is not the library's.
fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).expect("days") + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let s = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn time(v: &Value) -> String {
    rfc3339(v.as_u64().expect("seconds"))
}

fn urn(v: &Value) -> Value {
    Value::String(format!("urn:uuid:{}", v.as_str().expect("a uuid")))
}

fn one_or_many(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

fn codes(v: &Value) -> Vec<Value> {
    one_or_many(v)
        .iter()
        .map(|c| c["dct:identifier"].clone())
        .collect()
}

#[test]
fn every_term_of_every_committed_record_is_in_the_vocabulary() {
    let vocabulary = Vocabulary::load();
    let index = index();
    let cases = index["records"].as_array().expect("records");
    let mut used = BTreeSet::new();
    let mut files = 0;
    for entry in fs::read_dir(root().join("tests/vectors/records")).expect("records/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "jsonld") {
            let doc: Value =
                serde_json::from_str(&fs::read_to_string(&path).expect("readable")).expect("json");
            vocabulary.check_all(&doc, &mut used);
            files += 1;
        }
    }
    assert_eq!(files, cases.len());
    assert_eq!(files, index["counts"]["records"]);
    assert!(files >= 13, "{files}");
    // The terms the mapping rests on are among those checked.
    for term in [
        "dpv:ConsentRecord",
        "dpv:DataProcessingRecord",
        "dpv:hasConsentStatus",
        "dpv:ConsentGiven",
        "dpv:RenewedConsentGiven",
        "dpv:ConsentWithdrawn",
        "dpv:ConsentRevoked",
        "dpv:ConsentExpired",
        "dpv:ActivityHalted",
        "dpv:hasDataSubject",
        "dpv:hasDataController",
        "dpv:hasPurpose",
        "dpv:hasPersonalData",
        "dpv:hasLegalBasis",
        "dpv:SingularFrequency",
        "dpv-27560:record",
        "consentry:ConsentPaused",
        "consentry:use",
    ] {
        assert!(used.contains(term), "{term} never used: {used:?}");
    }
}

/// The record each valid grant and habilitation vector gives, judged when the vectors' clock
/// says (or at issue, if later), restates the vector's claims as `index.json` lists them.
#[test]
fn the_record_of_every_valid_basis_vector_restates_its_facts() {
    let index = index();
    let now = index["clock"]["now"].as_u64().expect("now");
    let vocabulary = Vocabulary::load();
    let (mut grants, mut habilitations) = (0, 0);
    for case in index["objects"].as_array().expect("objects") {
        let kind = case["kind"].as_str().expect("kind");
        if case["expected"]["outcome"] != "valid" || !["grant", "habilitation"].contains(&kind) {
            continue;
        }
        let name = case["name"].as_str().expect("name");
        let dir = directory(&index, case["directory"].as_str().expect("directory"));
        let bytes = fs::read(
            root()
                .join("tests/vectors")
                .join(case["file"].as_str().expect("file")),
        )
        .expect("object file");
        let c = &case["expected"]["claims"];
        let at = now.max(c["issued_at"].as_u64().expect("issued_at"));
        let record = if kind == "grant" {
            grants += 1;
            let g = Verified::<Grant>::parse_and_verify(&bytes, &dir).expect(name);
            record::grant_record(&g, &[], &[], Timestamp::from_secs(at)).expect(name)
        } else {
            habilitations += 1;
            let h = Verified::<Habilitation>::parse_and_verify(&bytes, &dir).expect(name);
            record::habilitation_record(&h, &[], &[], Timestamp::from_secs(at)).expect(name)
        };
        let r: Value = serde_json::from_str(&record.json().to_string()).expect("parses back");
        vocabulary.check_all(&r, &mut BTreeSet::new());

        assert_eq!(r["@id"], urn(&c["id"]), "{name}");
        assert_eq!(r["dct:identifier"], c["id"], "{name}");
        assert_eq!(r["consentry:digest"], case["expected"]["digest"], "{name}");
        assert_eq!(r["dpv:hasDataController"], urn(&c["consumer"]), "{name}");
        assert_eq!(r["consentry:notBefore"], time(&c["not_before"]), "{name}");
        assert_eq!(r["consentry:expiresAt"], time(&c["expires_at"]), "{name}");
        assert_eq!(r["consentry:status"], "active", "{name}");
        assert_eq!(r["consentry:statusAt"], rfc3339(at), "{name}");
        assert_eq!(r["consentry:use"], Value::Array(Vec::new()), "{name}");

        // One process per provider of the scope, in the scope's order.
        let processes = one_or_many(&r["dpv:hasProcess"]);
        let scope = c["scope"].as_array().expect("scope");
        assert_eq!(processes.len(), scope.len(), "{name}");
        for (p, entry) in processes.iter().zip(scope) {
            assert_eq!(p["dpv:hasDataSource"], urn(&entry["provider"]), "{name}");
            assert_eq!(p["dpv:hasRecipient"], urn(&c["consumer"]), "{name}");
            assert_eq!(
                codes(&p["dpv:hasPersonalData"]),
                entry["categories"].as_array().expect("categories").clone(),
                "{name}"
            );
            // A category the grant derives is derived personal data, with its derivation.
            let none = Vec::new();
            let derivations = c["derivations"].as_array().unwrap_or(&none);
            for node in one_or_many(&p["dpv:hasPersonalData"]) {
                match derivations
                    .iter()
                    .find(|t| t["category"] == node["dct:identifier"])
                {
                    Some(t) => {
                        assert_eq!(node["@type"], "dpv:DerivedPersonalData", "{name}");
                        assert_eq!(node["consentry:derivation"], t["derivation"], "{name}");
                        assert_eq!(node["consentry:parameters"], t["parameters"], "{name}");
                    }
                    None => assert_eq!(node["@type"], "dpv:PersonalData", "{name}"),
                }
            }
            assert_eq!(
                p["dpv:hasPurpose"]["dct:identifier"], c["purpose"]["code"],
                "{name}"
            );
            assert_eq!(
                p["dpv:hasPurpose"].get("dct:description"),
                c["purpose"].get("text"),
                "{name}"
            );
            let retention = &p["dpv:hasStorageCondition"]["dpv:hasDuration"]["rdf:value"];
            assert_eq!(
                retention["@value"],
                format!("PT{}S", c["retention_secs"]),
                "{name}"
            );
            if kind == "grant" {
                assert_eq!(
                    p["consentry:dataRange"]["consentry:from"],
                    time(&c["data_range"]["from"])
                );
                assert_eq!(
                    p["consentry:dataRange"]["consentry:until"],
                    time(&c["data_range"]["until"])
                );
                let f = &p["dpv:hasFrequency"];
                match &c["access"] {
                    Value::String(s) if s == "one_time" => assert_eq!(f, "dpv:SingularFrequency"),
                    access => {
                        let periodic = &access["periodic"];
                        assert_eq!(f["consentry:maxUses"], periodic["max_uses"], "{name}");
                        assert_eq!(
                            f["consentry:period"],
                            format!("PT{}S", periodic["period_secs"])
                        );
                    }
                }
            } else {
                assert!(
                    p.get("dpv:hasFrequency").is_none() && p.get("consentry:dataRange").is_none()
                );
            }
        }

        let history = one_or_many(
            &r[if kind == "grant" {
                "dpv:hasConsentStatus"
            } else {
                "dpv:hasActivityStatus"
            }],
        );
        assert_eq!(history.len(), 1, "{name}: only the issue");
        let issue = &history[0];
        assert_eq!(issue["consentry:action"], "issue");
        assert_eq!(
            issue["dpv:isIndicatedAtTime"],
            time(&c["issued_at"]),
            "{name}"
        );
        if kind == "grant" {
            assert_eq!(r["@type"], "dpv:ConsentRecord");
            assert_eq!(r["dct:conformsTo"], "dpv-27560:record");
            assert_eq!(r["dpv:hasDataSubject"], urn(&c["subject"]), "{name}");
            assert_eq!(r["dpv:hasLegalBasis"], "dpv:ExplicitlyExpressedConsent");
            assert_eq!(
                r["consentry:onwardTransfer"], c["onward_transfer"],
                "{name}"
            );
            assert_eq!(issue["@type"], "dpv:ConsentGiven");
            // The signer: the chain's head, or the subject when there is no chain.
            let signer = c["chain"].get(0).unwrap_or(&c["subject"]);
            assert_eq!(issue["dpv:isIndicatedBy"], urn(signer), "{name}");
            assert_eq!(
                issue["dpv:hasDuration"]["rdf:value"]["@value"],
                time(&c["expires_at"])
            );
        } else {
            assert_eq!(r["@type"], "dpv:DataProcessingRecord");
            assert!(r.get("dpv:hasDataSubject").is_none() && r.get("dct:conformsTo").is_none());
            assert_eq!(r["dpv:hasLegalBasis"]["@type"], "dpv:LegalBasis");
            assert_eq!(
                r["dpv:hasLegalBasis"]["dct:description"], c["legal_reference"],
                "{name}"
            );
            assert_eq!(issue["@type"], "dpv:ActivityOngoing");
            assert_eq!(issue["dpv:isIndicatedBy"], urn(&c["authority"]), "{name}");
        }
    }
    assert_eq!((grants, habilitations), (9, 1));
}

fn verified<T: SignedPayload>(s: &Scenario, bytes: &[u8]) -> Verified<T> {
    Verified::parse_and_verify(bytes, &s.directory).expect("verifies")
}

/// A transfer under `basis` now, and the provider's receipt for it.
fn transfer(s: &Scenario, basis: &[u8]) -> Vec<u8> {
    let request = s.sign_request(&s.request(basis));
    let decision = s.decide(&request, basis);
    let allow = decision.allowed().expect("allowed");
    Receipt::for_authorization(allow, s.next_uuid(), s.now).sign(s.key(s.dgfip))
}

fn applied(s: &Scenario, basis: &[u8], action: Action, by: consentry::PartyId) -> Vec<u8> {
    let st = s.statement(basis, action, by);
    s.apply(&st, basis).expect("applied");
    st
}

fn grant_record(
    s: &Scenario,
    grant: &[u8],
    statements: &[Vec<u8>],
    receipts: &[Vec<u8>],
    at: Timestamp,
) -> Result<Record, RecordError> {
    let st: Vec<Verified<Statement>> = statements.iter().map(|b| verified(s, b)).collect();
    let rc: Vec<Verified<Receipt>> = receipts.iter().map(|b| verified(s, b)).collect();
    record::grant_record(&verified(s, grant), &st, &rc, at)
}

fn events(r: &Record, key: &str) -> Vec<(Value, Value)> {
    one_or_many(&r.json()[key])
        .iter()
        .map(|e| (e["@type"].clone(), e["consentry:action"].clone()))
        .collect()
}

#[test]
fn a_paused_resumed_revoked_and_expired_grant_each_give_their_status() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let g = verified::<Grant>(&s, &grant);
    let (not_before, expires_at) = (g.claims().not_before(), g.claims().expires_at());

    let fresh = grant_record(&s, &grant, &[], &[], s.now).expect("record");
    assert_eq!(fresh.status(), RecordStatus::Active);
    // The last second of validity is still valid; the first after it is not.
    let last = grant_record(&s, &grant, &[], &[], expires_at.minus_secs(1)).expect("record");
    assert_eq!(last.status(), RecordStatus::Active);
    let expired = grant_record(&s, &grant, &[], &[], expires_at).expect("record");
    assert_eq!(expired.status(), RecordStatus::Expired { at: expires_at });
    assert_eq!(expired.json()["consentry:status"], "expired");
    assert_eq!(
        events(&expired, "dpv:hasConsentStatus").last(),
        Some(&(Value::from("dpv:ConsentExpired"), Value::from("expire")))
    );
    assert_eq!(
        one_or_many(&expired.json()["dpv:hasConsentStatus"])[1]["dpv:isIndicatedAtTime"],
        rfc3339(expires_at.secs())
    );

    s.advance_days(1);
    let pause = applied(&s, &grant, Action::Pause, s.parent);
    let pause_at = s.now;
    let paused =
        grant_record(&s, &grant, std::slice::from_ref(&pause), &[], s.now).expect("record");
    assert_eq!(paused.status(), RecordStatus::Paused { since: pause_at });
    assert_eq!(paused.json()["consentry:status"], "paused");

    s.advance_days(1);
    let resume = applied(&s, &grant, Action::Resume, s.parent);
    let resumed =
        grant_record(&s, &grant, &[pause.clone(), resume.clone()], &[], s.now).expect("record");
    assert_eq!(resumed.status(), RecordStatus::Active);
    assert_eq!(
        events(&resumed, "dpv:hasConsentStatus"),
        [
            (Value::from("dpv:ConsentGiven"), Value::from("issue")),
            (
                serde_json::json!([
                    "dpv:ConsentStatusInvalidForProcessing",
                    "consentry:ConsentPaused"
                ]),
                Value::from("pause")
            ),
            (
                Value::from("dpv:RenewedConsentGiven"),
                Value::from("resume")
            ),
        ]
    );

    s.advance_days(1);
    let revoke = applied(&s, &grant, Action::Revoke, s.parent);
    let revoke_at = s.now;
    let all = [pause, resume, revoke];
    let revoked = grant_record(&s, &grant, &all, &[], s.now).expect("record");
    assert_eq!(revoked.status(), RecordStatus::Revoked { at: revoke_at });
    assert_eq!(
        events(&revoked, "dpv:hasConsentStatus").last(),
        Some(&(Value::from("dpv:ConsentWithdrawn"), Value::from("revoke")))
    );
    // A revocation is final: judged after the window, the record says revoked, and tells no
    // expiry (the grant ended before).
    let later = grant_record(&s, &grant, &all, &[], expires_at.plus_secs(1)).expect("record");
    assert_eq!(later.status(), RecordStatus::Revoked { at: revoke_at });
    assert_eq!(events(&later, "dpv:hasConsentStatus").len(), 4);

    // A grant whose window has not begun.
    let s = Scenario::canteen();
    let future = s.sign_grant(
        &s.grant()
            .valid(s.now.plus_secs(86_400), s.now.plus_secs(2 * 86_400))
            .build(&s.ceilings)
            .expect("grant"),
    );
    let early = grant_record(&s, &future, &[], &[], s.now).expect("record");
    assert_eq!(early.status(), RecordStatus::NotYetValid);
    assert!(not_before <= s.now);
}

#[test]
fn a_revocation_by_a_representative_is_consent_revoked_not_withdrawn() {
    let mut s = Scenario::canteen();
    let child = s.sign_grant(
        &Grant::builder(
            consentry::BasisId(s.next_uuid()),
            s.child,
            s.mairie,
            consentry::testing::canteen_purpose(),
        )
        .expressed_by(s.parent)
        .cover(s.dgfip, [consentry::testing::rfr()])
        .issued_at(s.now)
        .valid(s.now, s.now.plus_secs(86_400))
        .access(consentry::AccessPattern::MONTHLY)
        .data_range(consentry::DataRange::year(2025).expect("year"))
        .retention_secs(86_400)
        .build(&s.ceilings)
        .expect("grant for the child"),
    );
    let used = transfer(&s, &child);
    s.advance_days(1);
    let revoke = applied(&s, &child, Action::Revoke, s.parent);
    let r =
        grant_record(&s, &child, &[revoke], std::slice::from_ref(&used), s.now).expect("record");
    let history = one_or_many(&r.json()["dpv:hasConsentStatus"]);
    assert_eq!(
        history[0]["dpv:isIndicatedBy"],
        urn(&serde_json::json!(s.parent))
    );
    assert_eq!(history[1]["@type"], "dpv:ConsentRevoked");
    assert_eq!(
        r.json()["dpv:hasDataSubject"],
        urn(&serde_json::json!(s.child))
    );
    // The receipt names who expressed the consent, and on what footing.
    let u = &one_or_many(&r.json()["consentry:use"])[0];
    assert_eq!(
        u["consentry:expressedBy"],
        urn(&serde_json::json!(s.parent))
    );
    assert_eq!(u["consentry:representation"], "parent");
}

/// Each use of the record restates its receipt's claims.
#[test]
fn each_use_restates_its_receipt() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let first = transfer(&s, &grant);
    s.advance_days(31);
    let second = transfer(&s, &grant);
    let receipts = [first, second];
    let r = grant_record(&s, &grant, &[], &receipts, s.now).expect("record");
    let uses = one_or_many(&r.json()["consentry:use"]);
    assert_eq!(uses.len(), 2);
    for (u, bytes) in uses.iter().zip(&receipts) {
        let v = verified::<Receipt>(&s, bytes);
        let c = serde_json::to_value(v.claims()).expect("receipt JSON");
        assert_eq!(u["@type"], "dpv:Transfer");
        assert_eq!(u["@id"], urn(&c["id"]));
        assert_eq!(u["dct:identifier"], c["id"]);
        assert_eq!(u["consentry:request"], urn(&c["request"]));
        assert_eq!(u["consentry:digest"], consentry::Digest::of(bytes).to_hex());
        assert_eq!(u["dct:date"], time(&c["issued_at"]));
        assert_eq!(u["dpv:hasDataSubject"], urn(&c["subject"]));
        assert_eq!(u["dpv:hasDataSource"], urn(&c["provider"]));
        assert_eq!(u["dpv:hasRecipient"], urn(&c["consumer"]));
        assert_eq!(
            codes(&u["dpv:hasPersonalData"]),
            c["categories"].as_array().expect("categories").clone()
        );
        assert_eq!(
            u["consentry:dataRange"]["consentry:from"],
            time(&c["data_range"]["from"])
        );
        assert_eq!(
            u["consentry:dataRange"]["consentry:until"],
            time(&c["data_range"]["until"])
        );
        assert_eq!(
            u["dpv:hasStorageCondition"]["dpv:hasDuration"]["rdf:value"]["@value"],
            time(&c["retain_until"])
        );
        assert_eq!(u["consentry:onwardTransfer"], c["onward_transfer"]);
        assert!(u.get("consentry:expressedBy").is_none());
    }
    assert_ne!(uses[0]["@id"], uses[1]["@id"]);
}

#[test]
fn a_habilitation_record_carries_its_legal_basis_and_its_lifecycle() {
    let mut s = Scenario::canteen();
    let h = s.habilitation();
    let bytes = h.sign(s.key(s.authority));
    let used = transfer(&s, &bytes);
    s.advance_days(1);
    let pause = applied(&s, &bytes, Action::Pause, s.authority);
    let st = [verified::<Statement>(&s, &pause)];
    let rc = [verified::<Receipt>(&s, &used)];
    let r = record::habilitation_record(&verified(&s, &bytes), &st, &rc, s.now).expect("record");
    assert_eq!(r.status(), RecordStatus::Paused { since: s.now });
    assert_eq!(
        r.json()["dpv:hasLegalBasis"]["dct:description"],
        h.legal_reference()
    );
    assert_eq!(
        events(&r, "dpv:hasActivityStatus"),
        [
            (Value::from("dpv:ActivityOngoing"), Value::from("issue")),
            (Value::from("dpv:ActivityHalted"), Value::from("pause")),
        ]
    );
    let u = &one_or_many(&r.json()["consentry:use"])[0];
    assert_eq!(u["dpv:hasDataSubject"], urn(&serde_json::json!(s.parent)));
}

/// A receipt whose payload was rewritten by `edit` (keys of the receipt map), re-signed by the
/// provider: validly signed, so only the record's own checks can refuse it.
fn forged_receipt(s: &Scenario, bytes: &[u8], key: u64, value: Cbor) -> Vec<u8> {
    let payload = verified::<Receipt>(s, bytes).claims().to_payload_bytes();
    let Cbor::Map(mut entries) = Cbor::decode(&payload, Limits::OBJECT).expect("payload") else {
        unreachable!("a receipt is a map")
    };
    for (k, v) in &mut entries {
        if *k == Cbor::Unsigned(key) {
            *v = value.clone();
        }
    }
    Receipt::from_payload_bytes(&Cbor::Map(entries).encode())
        .expect("still a receipt")
        .sign(s.key(s.dgfip))
}

#[test]
fn each_refusal_has_its_code() {
    let mut s = Scenario::canteen();
    let grant = default_grant(&s);
    let other = default_grant(&s);
    let issued = verified::<Grant>(&s, &grant).claims().issued_at();
    let code = |r: Result<Record, RecordError>| r.expect_err("refused").code();

    assert_eq!(
        code(grant_record(&s, &grant, &[], &[], issued.minus_secs(1))),
        "record/before_issue"
    );

    s.advance_days(1);
    let used = transfer(&s, &grant);
    let elsewhere = transfer(&s, &other);
    s.advance_days(1);
    let pause = applied(&s, &grant, Action::Pause, s.parent);
    let about_other = s.statement(&other, Action::Pause, s.parent);
    assert_eq!(
        code(grant_record(&s, &grant, &[about_other], &[], s.now)),
        "record/statement_about_another_basis"
    );
    assert_eq!(
        code(grant_record(
            &s,
            &grant,
            std::slice::from_ref(&pause),
            &[],
            s.now.minus_secs(1)
        )),
        "record/statement_after_time"
    );
    let twice = grant_record(&s, &grant, &[pause.clone(), pause.clone()], &[], s.now);
    assert_eq!(
        twice,
        Err(RecordError::StatementNotApplicable {
            index: 1,
            refusal: consentry::ledger::LifecycleRefusal::Duplicate
        })
    );
    assert_eq!(code(twice), "record/statement_not_applicable");
    // A resume issued before the pause it would lift.
    let early_resume = s.statement(&grant, Action::Resume, s.parent);
    s.advance_days(1);
    let late_pause = s.statement(&grant, Action::Pause, s.parent);
    assert!(matches!(
        grant_record(&s, &grant, &[late_pause, early_resume], &[], s.now),
        Err(RecordError::StatementNotApplicable { index: 1, .. })
    ));
    // Nothing after a revocation.
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    s.advance_days(1);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    assert!(matches!(
        grant_record(&s, &grant, &[revoke, resume], &[], s.now),
        Err(RecordError::StatementNotApplicable { index: 1, .. })
    ));

    assert_eq!(
        code(grant_record(&s, &grant, &[], &[elsewhere], s.now)),
        "record/receipt_about_another_basis"
    );
    assert_eq!(
        code(grant_record(
            &s,
            &grant,
            &[],
            &[used.clone(), used.clone()],
            s.now
        )),
        "record/duplicate_receipt"
    );
    assert_eq!(
        code(grant_record(
            &s,
            &grant,
            &[],
            std::slice::from_ref(&used),
            issued
        )),
        "record/receipt_after_time"
    );
    // Validly signed by the provider, about this grant, but about another person, to another
    // consumer, or for a category the grant does not cover.
    for (key, value) in [
        (7, Cbor::Bytes(s.child.as_bytes().to_vec())),
        (8, Cbor::Bytes(s.other_consumer.as_bytes().to_vec())),
        (
            10,
            Cbor::Array(vec![Cbor::Text("cnaf:quotient_familial".into())]),
        ),
        (14, Cbor::Bool(true)),
        // Another purpose than the grant's.
        (16, Cbor::Text("social:aide_logement".into())),
        // A derived form the grant does not name (the grant releases the income raw).
        (
            18,
            Cbor::Array(vec![Cbor::Array(vec![
                Cbor::Text("dgfip:revenu_fiscal_reference".into()),
                Cbor::Text("dgfip:tranche_rfr".into()),
                Cbor::Array(vec![Cbor::Unsigned(1)]),
            ])]),
        ),
    ] {
        let forged = if key == 14 || key == 18 {
            // A key the honest receipt leaves out, so add it, in its place.
            let payload = verified::<Receipt>(&s, &used).claims().to_payload_bytes();
            let Cbor::Map(mut entries) = Cbor::decode(&payload, Limits::OBJECT).expect("map")
            else {
                unreachable!()
            };
            let at = entries
                .iter()
                .position(|(k, _)| matches!(k, Cbor::Unsigned(k) if *k > key))
                .unwrap_or(entries.len());
            entries.insert(at, (Cbor::Unsigned(key), value));
            Receipt::from_payload_bytes(&Cbor::Map(entries).encode())
                .expect("a receipt")
                .sign(s.key(s.dgfip))
        } else {
            forged_receipt(&s, &used, key, value)
        };
        assert_eq!(
            code(grant_record(&s, &grant, &[], &[forged], s.now)),
            "record/receipt_outside_basis",
            "key {key}"
        );
    }
}
