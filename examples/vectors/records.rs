//! Consent records (ISO/IEC TS 27560 expressed in W3C DPV, JSON-LD; `consentry::record`): the
//! record of every valid grant and habilitation object case, and of canteen stories with
//! statements and receipts. Written under `records/` (`NAME.jsonld`, and the signed objects of
//! each story under `records/NAME/`) and described in the `"records"` section of `index.json`.
//! CI expands every `.jsonld` file with the context `docs/records.context.jsonld`, loaded from
//! that local copy (`tests/interop/check_records.py`).

use consentry::cose::ObjectKind;
use consentry::log::Receipt;
use consentry::record::{self, Record};
use consentry::signed::{SignedPayload, Verified};
use consentry::statement::{Action, Statement};
use consentry::testing::Scenario;
use consentry::{Grant, Habilitation, Timestamp};
use serde_json::{Value as Json, json};

use super::cases::Gen;
use super::common::{DAY, NOW, build, grant_for};

/// A story: a basis, the statements applied to it, the receipts of its transfers, and the
/// time its record is judged at, each object signed and kept as bytes.
struct Story {
    name: &'static str,
    description: &'static str,
    basis: Vec<u8>,
    statements: Vec<Vec<u8>>,
    receipts: Vec<Vec<u8>>,
    at: Timestamp,
}

/// Adds the records of the valid grant and habilitation object cases, then of the stories.
pub fn records(g: &mut Gen) -> Vec<Json> {
    let mut out = Vec::new();
    for case in g.objects.clone() {
        let kind = case["kind"].as_str().unwrap_or_default();
        if case["expected"]["outcome"] != "valid" || !(kind == "grant" || kind == "habilitation") {
            continue;
        }
        let name = case["name"].as_str().unwrap_or_default();
        let file = case["file"].as_str().unwrap_or_default().to_owned();
        let directory = case["directory"].as_str().unwrap_or_default();
        let bytes = g.files[&file].clone();
        let dir = g.dir(directory).clone();
        let issued_at = issued_at(&bytes);
        let at = NOW.max(issued_at);
        let rec = export(&bytes, &[], &[], at, &dir);
        let path = g.file(format!("records/{name}.jsonld"), pretty(rec.json()));
        out.push(json!({
            "name": name,
            "description": format!("the record of the object case {name}, with no statement nor receipt"),
            "kind": kind,
            "directory": directory,
            "basis": file,
            "statements": [],
            "receipts": [],
            "at": at,
            "file": path,
            "status": rec.status(),
        }));
    }
    let s = Scenario::canteen();
    for story in stories() {
        let rec = export(
            &story.basis,
            &story.statements,
            &story.receipts,
            story.at,
            &s.directory,
        );
        let base = format!("records/{}", story.name);
        let kind = if Verified::<Grant>::parse_and_verify(&story.basis, &s.directory).is_ok() {
            ObjectKind::Grant
        } else {
            ObjectKind::Habilitation
        };
        let basis = g.file(format!("{base}/basis.cbor"), story.basis);
        let statements: Vec<String> = story
            .statements
            .into_iter()
            .enumerate()
            .map(|(i, b)| g.file(format!("{base}/statement-{i}.cbor"), b))
            .collect();
        let receipts: Vec<String> = story
            .receipts
            .into_iter()
            .enumerate()
            .map(|(i, b)| g.file(format!("{base}/receipt-{i}.cbor"), b))
            .collect();
        let path = g.file(format!("{base}.jsonld"), pretty(rec.json()));
        out.push(json!({
            "name": story.name,
            "description": story.description,
            "kind": kind,
            "directory": "canteen",
            "basis": basis,
            "statements": statements,
            "receipts": receipts,
            "at": story.at,
            "file": path,
            "status": rec.status(),
        }));
    }
    out
}

fn pretty(json: &Json) -> Vec<u8> {
    (serde_json::to_string_pretty(json).unwrap_or_default() + "\n").into_bytes()
}

fn issued_at(basis: &[u8]) -> Timestamp {
    consentry::Unverified::<Grant>::parse(basis)
        .map(|g| g.claims().issued_at())
        .or_else(|_| {
            consentry::Unverified::<Habilitation>::parse(basis).map(|h| h.claims().issued_at())
        })
        .unwrap_or_else(|e| panic!("not a basis: {e}"))
}

/// Verifies every object and exports the record; a refusal is a bug in the generator.
fn export(
    basis: &[u8],
    statements: &[Vec<u8>],
    receipts: &[Vec<u8>],
    at: Timestamp,
    dir: &consentry::Directory,
) -> Record {
    let statements: Vec<Verified<Statement>> = statements
        .iter()
        .map(|b| Verified::parse_and_verify(b, dir).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let receipts: Vec<Verified<Receipt>> = receipts
        .iter()
        .map(|b| Verified::parse_and_verify(b, dir).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let made = match Verified::<Grant>::parse_and_verify(basis, dir) {
        Ok(grant) => record::grant_record(&grant, &statements, &receipts, at),
        Err(_) => {
            let h = Verified::<Habilitation>::parse_and_verify(basis, dir)
                .unwrap_or_else(|e| panic!("not a valid basis: {e}"));
            record::habilitation_record(&h, &statements, &receipts, at)
        }
    };
    made.unwrap_or_else(|e| panic!("{}: {e}", e.code()))
}

/// A transfer under `basis` now, and its receipt signed by the provider.
fn transfer(s: &Scenario, basis: &[u8]) -> Vec<u8> {
    let request = s.sign_request(&s.request(basis));
    let decision = s.decide(&request, basis);
    let allow = decision
        .allowed()
        .unwrap_or_else(|| panic!("expected allow, got {:?}", decision.codes()));
    Receipt::for_authorization(allow, s.next_uuid(), s.now).sign(s.key(s.dgfip))
}

fn statement(s: &Scenario, basis: &[u8], action: Action, by: consentry::PartyId) -> Vec<u8> {
    let st = s.statement(basis, action, by);
    s.apply(&st, basis).unwrap_or_else(|e| panic!("{e:?}"));
    st
}

fn stories() -> Vec<Story> {
    let mut out = Vec::new();

    // The parent's grant: a transfer, a pause, a resume, a transfer, a revocation.
    let mut s = Scenario::canteen();
    let grant = build(&s, s.grant());
    let first = transfer(&s, &grant);
    s.advance_days(3);
    let pause = statement(&s, &grant, Action::Pause, s.parent);
    s.advance_days(31);
    let resume = statement(&s, &grant, Action::Resume, s.parent);
    let second = transfer(&s, &grant);
    s.advance_days(30);
    let revoke = statement(&s, &grant, Action::Revoke, s.parent);
    out.push(Story {
        name: "grant-used-paused-resumed-revoked",
        description: "the parent's grant: a transfer, a pause, a resume, a transfer a month later, then the parent's revocation (dpv:ConsentWithdrawn)",
        basis: grant,
        statements: vec![pause, resume, revoke],
        receipts: vec![first, second],
        at: s.now.plus_secs(60),
    });

    // The parent's grant for the child, used once, then paused by the parent.
    let mut s = Scenario::canteen();
    let child = build(&s, grant_for(&s, s.child).expressed_by(s.parent));
    let used = transfer(&s, &child);
    s.advance_days(1);
    let pause = statement(&s, &child, Action::Pause, s.parent);
    out.push(Story {
        name: "grant-for-child-used-paused",
        description: "the parent's grant for the child (the receipt names the parent as legal representative), used once, then paused by the parent",
        basis: child,
        statements: vec![pause],
        receipts: vec![used],
        at: s.now.plus_secs(60),
    });

    // The child's grant again, revoked by the parent: revoked by someone other than the
    // subject (dpv:ConsentRevoked).
    let mut s = Scenario::canteen();
    let child = build(&s, grant_for(&s, s.child).expressed_by(s.parent));
    s.advance_days(1);
    let revoke = statement(&s, &child, Action::Revoke, s.parent);
    out.push(Story {
        name: "grant-for-child-revoked-by-parent",
        description: "the parent's grant for the child, revoked by the parent: dpv:ConsentRevoked (not by the data subject)",
        basis: child,
        statements: vec![revoke],
        receipts: vec![],
        at: s.now.plus_secs(60),
    });

    // The parent's grant, used once, judged after its validity window.
    let s = Scenario::canteen();
    let grant = build(&s, s.grant());
    let used = transfer(&s, &grant);
    out.push(Story {
        name: "grant-expired",
        description: "the parent's grant, used once, judged the second its validity window ends",
        basis: grant,
        statements: vec![],
        receipts: vec![used],
        at: s.now.plus_secs(365 * DAY),
    });

    // The authority's habilitation: a transfer, a pause, a resume, a revocation.
    let mut s = Scenario::canteen();
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let used = transfer(&s, &habilitation);
    s.advance_days(2);
    let pause = statement(&s, &habilitation, Action::Pause, s.authority);
    s.advance_days(2);
    let resume = statement(&s, &habilitation, Action::Resume, s.authority);
    s.advance_days(2);
    let revoke = statement(&s, &habilitation, Action::Revoke, s.authority);
    out.push(Story {
        name: "habilitation-used-paused-resumed-revoked",
        description: "the authority's habilitation: a transfer of the parent's data, then a pause, a resume and a revocation by the authority",
        basis: habilitation,
        statements: vec![pause, resume, revoke],
        receipts: vec![used],
        at: s.now.plus_secs(60),
    });
    out
}
