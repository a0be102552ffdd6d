//! The canteen history the log records: grants, receipts, statements and denials, in order.

use consentry::deletion::Deletion;
use consentry::log::{Denial, LogEntry, LogError, LoggedObject, Receipt};
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::testing::Scenario;

use super::super::common::{build, grant_for};

/// One entry as logged, with what the index says about it.
pub struct Logged {
    pub entry: LogEntry,
    pub name: String,
    pub description: &'static str,
}

/// Signs a receipt for an *allow*, as the provider (DGFiP) does.
pub fn receipt(s: &Scenario, request: &[u8], basis: &[u8]) -> Vec<u8> {
    let decision = s.decide(request, basis);
    let allow = decision
        .allowed()
        .unwrap_or_else(|| panic!("expected allow, got {:?}", decision.codes()));
    Receipt::for_authorization(allow, s.next_uuid(), s.now).sign(s.key(s.dgfip))
}

/// Denies a request and returns the denial the log keeps, made from the decision (so
/// attributed to a subject only on verified grounds).
pub fn denial(s: &Scenario, request: &[u8], basis: &[u8]) -> Denial {
    let decision = s.decide(request, basis);
    Denial::for_decision(&decision).unwrap_or_else(|| panic!("expected a denial"))
}

pub fn minutes(s: &mut Scenario, n: u64) {
    s.now = s.now.plus_secs(n * 60);
}

/// The canteen history the log records, in order.
pub fn history(s: &mut Scenario) -> (Vec<Logged>, Vec<u8>) {
    let mut out = Vec::new();
    let mut log = |entry: LogEntry, description: &'static str| {
        let name = format!("{:02}-{}", out.len(), entry.kind());
        out.push(Logged {
            entry,
            name,
            description,
        });
    };
    let ok = |r: Result<LogEntry, LogError>| r.unwrap_or_else(|e| panic!("{e}"));
    let grant = build(s, s.grant());
    log(
        ok(LogEntry::grant_issued(grant.clone())),
        "the parent's canteen grant to the city hall, as issued",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&grant));
    let first_receipt = receipt(s, &request, &grant);
    log(
        ok(LogEntry::receipt(first_receipt.clone())),
        "DGFiP sends the parent's reference tax income to the city hall under the grant",
    );
    minutes(s, 10);
    let child_grant = build(s, grant_for(s, s.child).expressed_by(s.parent));
    log(
        ok(LogEntry::grant_issued(child_grant.clone())),
        "the parent's grant for the child, as issued",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&child_grant));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &child_grant))),
        "DGFiP sends the child's reference tax income under the child's grant",
    );
    minutes(s, 10);
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let request = s.sign_request(&s.request(&habilitation));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &habilitation))),
        "DGFiP sends the parent's reference tax income under the authority's habilitation",
    );
    s.advance_days(3);
    let pause = s.statement(&grant, Action::Pause, s.parent);
    s.apply(&pause, &grant).unwrap_or_else(|e| panic!("{e:?}"));
    log(
        ok(LogEntry::statement_about_grant(pause, &grant)),
        "the parent pauses the grant",
    );
    s.advance_days(31);
    let request = s.sign_request(&s.request(&grant));
    log(
        LogEntry::Denial(denial(s, &request, &grant)),
        "a request under the paused grant is denied",
    );
    minutes(s, 10);
    log(
        LogEntry::Denial(denial(s, b"not a request", &grant)),
        "bytes that are not a request are denied; the subject is unknown",
    );
    s.advance_days(1);
    let resume = s.statement(&grant, Action::Resume, s.parent);
    s.apply(&resume, &grant).unwrap_or_else(|e| panic!("{e:?}"));
    log(
        ok(LogEntry::statement_about_grant(resume, &grant)),
        "the parent resumes the grant",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&grant));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &grant))),
        "a month later, DGFiP sends the parent's reference tax income again",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&child_grant));
    log(
        ok(LogEntry::receipt(receipt(s, &request, &child_grant))),
        "a month later, DGFiP sends the child's reference tax income again",
    );
    s.advance_days(30);
    let revoke = s.statement(&grant, Action::Revoke, s.parent);
    s.apply(&revoke, &grant).unwrap_or_else(|e| panic!("{e:?}"));
    log(
        ok(LogEntry::statement_about_grant(revoke, &grant)),
        "the parent revokes the grant",
    );
    minutes(s, 10);
    let request = s.sign_request(&s.request(&grant));
    log(
        LogEntry::Denial(denial(s, &request, &grant)),
        "a request under the revoked grant is denied",
    );
    minutes(s, 10);
    let first = LoggedObject::<Receipt>::parse(first_receipt).unwrap_or_else(|e| panic!("{e}"));
    let deletion = Deletion::for_receipt(&first, s.now, s.now).sign(s.key(s.mairie));
    log(
        ok(LogEntry::deletion(deletion)),
        "the city hall states it deleted the reference tax income of the first transfer",
    );
    (out, grant)
}
