//! The canteen flow, end to end: a parent consents, through FranceConnect, that the city hall
//! may obtain the reference tax income from the tax administration to price the school canteen,
//! once a month, for one school year. The tax administration releases that income for canteen
//! pricing only as its bracket, so the grant names the bracket (bounds fixed by the parent's
//! grant) and the city hall receives the bracket, never the income. Every transfer is receipted
//! into a tamper-evident log, and at the end the parent checks their access history without
//! trusting the log keeper.
//!
//! Run with `cargo run --example canteen`.

use consentry::ceiling::{DerivedOnly, PurposeCeiling};
use consentry::decision::{Basis, Decision};
use consentry::derivation::{DerivationTerm, DerivedValue};
use consentry::directory::PartyId;
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::ids::BasisId;
use consentry::log::{Denial, LogEntry, Receipt, TransferLog, verify_history};
use consentry::signed::{SignedPayload, Verified};
use consentry::statement::Action;
use consentry::terms::DataRange;
use consentry::testing::{self, Scenario, canteen_purpose, household, kit_ceiling, rfr};
use consentry::vocab::Purpose;

/// The family's reference tax income, which only the tax administration sees.
const RAW_INCOME: u64 = 27_480;

/// The canteen's pricing brackets of the reference tax income, in euros.
const BOUNDS: [u64; 4] = [10_000, 20_000, 30_000, 45_000];

/// The provider's side: its scenario (directory, ceilings, ledger, clock) and its log.
struct Provider {
    s: Scenario,
    log: TransferLog,
}

impl Provider {
    fn name(&self, id: PartyId) -> String {
        self.s
            .directory
            .party(&id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    }

    /// Decides, shows the decision, and logs a receipt (allow) or a denial (deny).
    fn decide(&mut self, title: &str, request: &[u8], basis: Basis<'_>) {
        let decision = self.s.verifier().decide(request, basis, self.s.now);
        println!("\n== {title}");
        match &decision {
            Decision::Allow(a) => {
                println!("   ALLOW: the provider may send exactly:");
                for c in a.categories() {
                    match a.derivation(c) {
                        Some(t) => {
                            let d = self.s.ceilings.derivations().get(t.derivation());
                            let value = d.map(|d| d.apply(t.parameters(), RAW_INCOME));
                            let shown = match value {
                                Some(DerivedValue::Bracket(i)) => format!("bracket {i}"),
                                Some(DerivedValue::Holds(b)) => format!("{b}"),
                                _ => "?".to_owned(),
                            };
                            println!(
                                "     category        {c} only as {} {:?}: sends {shown}, not the value",
                                t.derivation(),
                                t.parameters()
                            );
                        }
                        None => println!("     category        {c} (raw)"),
                    }
                }
                println!("     purpose         {}", a.purpose().code());
                println!(
                    "     data range      {} .. {}",
                    a.data_range().from(),
                    a.data_range().until()
                );
                println!("     keep until      {}", a.retain_until());
                println!("     basis           {} {}", a.basis_kind(), a.basis());
                if let Some(c) = a.consent() {
                    let how = if c.chain.is_empty() {
                        "in person".to_owned()
                    } else {
                        let links: Vec<String> = c
                            .chain
                            .iter()
                            .map(|l| {
                                let (by, of) =
                                    (self.name(l.representative), self.name(l.represented));
                                format!("{by}: {:?} of {of}", l.kind)
                            })
                            .collect();
                        links.join("; ")
                    };
                    println!(
                        "     consent         expressed by {} for {} ({how})",
                        self.name(c.expressed_by),
                        self.name(c.subject)
                    );
                }
                if let Some(l) = a.legal_reference() {
                    println!("     legal basis     {l}");
                }
                println!("     onward transfer {}", a.onward_transfer());
                let receipt = Receipt::for_authorization(a, self.s.next_uuid(), self.s.now)
                    .sign(self.s.key(self.s.dgfip));
                let entry = LogEntry::receipt(receipt).expect("our own receipt");
                println!("     receipt logged  entry #{}", self.log.append(&entry));
            }
            Decision::Deny(refusal) => {
                println!("   DENY, for every reason below:");
                for r in refusal.reasons() {
                    println!("     [{}] {r}", r.code());
                }
                let denial = Denial::for_decision(&decision).expect("a deny");
                println!(
                    "     denial logged   entry #{}",
                    self.log.append(&LogEntry::Denial(denial))
                );
            }
        }
    }

    /// Applies and logs a lifecycle statement.
    fn statement(&mut self, what: &str, statement: Vec<u8>, grant: &[u8]) {
        let outcome = self.s.apply(&statement, grant);
        println!("\n{what}: {} bytes -> {outcome:?}", statement.len());
        if outcome.is_ok() {
            let entry =
                LogEntry::statement_about_grant(statement, grant).expect("about this grant");
            println!("   statement logged entry #{}", self.log.append(&entry));
        }
    }
}

fn main() {
    let mut p = Provider {
        s: Scenario::canteen(),
        log: TransferLog::new(),
    };
    // The tax administration releases the reference income for canteen pricing only as its
    // bracket (the vocabulary's `dgfip:tranche_rfr`); the household composition stays raw.
    let dgfip = p.s.dgfip;
    p.s.ceilings.publish(PurposeCeiling {
        derived_only: vec![DerivedOnly {
            category: rfr(),
            derivations: vec![testing::rfr_bracket().code().clone()],
        }],
        ..kit_ceiling(dgfip, canteen_purpose(), [rfr(), household()])
    });
    println!("consentry: the canteen flow (clock at {})", p.s.now);
    for (id, role) in [
        (p.s.parent, "subject"),
        (p.s.dgfip, "provider: decides, keeps the transfer log"),
        (p.s.mairie, "consumer"),
        (
            p.s.franceconnect,
            "consent manager, holds the parent's mandate",
        ),
        (p.s.authority, "authority, issues habilitations"),
    ] {
        println!("  {:<45} {id} ({role})", p.name(id));
    }

    // A grant for the raw income is beyond the tax administration's ceiling.
    let raw =
        p.s.grant()
            .expressed_by(p.s.franceconnect)
            .build(&p.s.ceilings);
    if let Err(e) = raw {
        println!(
            "\na grant for the raw income is refused when built: [{}] {e}",
            e.code()
        );
    }

    // The parent consents through FranceConnect, which signs the grant under its mandate: the
    // income only as its canteen bracket, the bounds fixed here.
    let bracket = DerivationTerm::new(
        rfr(),
        testing::rfr_bracket().code().clone(),
        BOUNDS.to_vec(),
    )
    .expect("four increasing bounds");
    let grant =
        p.s.grant()
            .expressed_by(p.s.franceconnect)
            .derive(bracket)
            .build(&p.s.ceilings)
            .expect("within the tax administration's ceiling for canteen pricing");
    let grant_bytes = p.s.sign_grant(&grant);
    println!(
        "\ngrant: {} bytes (COSE_Sign1 over deterministic CBOR)",
        grant_bytes.len()
    );
    let issued = LogEntry::grant_issued(grant_bytes.clone()).expect("our own grant");
    println!("   grant logged    entry #{}", p.log.append(&issued));

    // 1. A request beyond the consent: another category, purpose and year.
    let greedy = p.s.request(&grant_bytes);
    let mut categories = greedy.categories().to_vec();
    categories.push(testing::household());
    let greedy = greedy
        .to_builder()
        .categories(categories)
        .purpose(Purpose::new("fiscalite:controle").expect("valid code"))
        .data_range(DataRange::year(2023).expect("valid year"))
        .build()
        .expect("valid request");
    let greedy = p.s.sign_request(&greedy);
    p.decide(
        "September: a request beyond the consent",
        &greedy,
        Basis::Signed(&grant_bytes),
    );

    // 2. The city hall asks for what was granted.
    let request = p.s.sign_request(&p.s.request(&grant_bytes));
    println!("\nrequest: {} bytes", request.len());
    p.decide(
        "September: the city hall asks for the reference tax income",
        &request,
        Basis::Signed(&grant_bytes),
    );

    // 3. A second request in the same month.
    p.s.advance_days(10);
    let again = p.s.sign_request(&p.s.request(&grant_bytes));
    p.decide(
        "Ten days later, a second request",
        &again,
        Basis::Signed(&grant_bytes),
    );

    // 4. The parent pauses, then resumes; a verified grant is cached by the provider.
    p.s.advance_days(25);
    let pause = p.s.statement(&grant_bytes, Action::Pause, p.s.parent);
    p.statement("The parent pauses", pause, &grant_bytes);
    let cached: Verified<Grant> =
        p.s.verifier()
            .verify_grant(&grant_bytes)
            .expect("valid grant");
    let paused = p.s.sign_request(&p.s.request(&grant_bytes));
    p.decide(
        "October, while paused (cached grant)",
        &paused,
        Basis::Grant(&cached),
    );
    p.s.advance_days(1);
    let resume = p.s.statement(&grant_bytes, Action::Resume, p.s.parent);
    p.statement("The parent resumes", resume, &grant_bytes);
    let resumed = p.s.sign_request(&p.s.request(&grant_bytes));
    p.decide(
        "October, resumed (cached grant)",
        &resumed,
        Basis::Grant(&cached),
    );

    // 5. The parent withdraws consent: final, at once.
    p.s.advance_days(1);
    let revoke = p.s.statement(&grant_bytes, Action::Revoke, p.s.parent);
    p.statement("The parent revokes", revoke, &grant_bytes);
    p.s.advance_days(40);
    let after = p.s.sign_request(&p.s.request(&grant_bytes));
    p.decide(
        "December, after the revocation",
        &after,
        Basis::Signed(&grant_bytes),
    );
    let resume_again = p.s.statement(&grant_bytes, Action::Resume, p.s.parent);
    p.statement("A resume after the revocation", resume_again, &grant_bytes);

    // 6. A transfer under a habilitation: no per-subject grant, same decision and audit. A
    // habilitation applies no derivation, so it covers only what the tax administration
    // releases raw: the household composition.
    let hab = Habilitation::builder(
        BasisId(p.s.next_uuid()),
        p.s.authority,
        p.s.mairie,
        canteen_purpose(),
    )
    .legal_reference("CRPA art. L114-8 ; décret n° 2025-0000")
    .cover(p.s.dgfip, [household()])
    .issued_at(p.s.now)
    .valid(p.s.now, p.s.now.plus_secs(365 * 86_400))
    .retention_secs(365 * 86_400)
    .build(&p.s.ceilings)
    .expect("within the tax administration's ceiling")
    .sign(p.s.key(p.s.authority));
    println!("\nhabilitation: {} bytes", hab.len());
    let under_hab = p.s.sign_request(&p.s.request(&hab));
    p.decide("Under the habilitation", &under_hab, Basis::Signed(&hab));

    // 7. The parent's access history, checked against the provider's signed tree head with
    // nothing but the head, the entries and their proofs.
    let head = p.log.sign_head(p.s.key(p.s.dgfip), p.s.dgfip, p.s.now);
    println!(
        "\nsigned tree head: {} entries, {} bytes",
        p.log.len(),
        head.len()
    );
    let history = p
        .log
        .access_history(p.s.parent, p.log.len())
        .expect("a valid size");
    let provider_key = p.s.key(p.s.dgfip).verifying_key();
    let report = verify_history(&history, &head, p.s.dgfip, &provider_key).expect("a valid head");
    println!(
        "\n== The parent's access history ({} entries, each proven):",
        report.verified.len()
    );
    for e in &report.verified {
        let what = match &e.entry {
            LogEntry::Receipt(r) => {
                let r = r.claims();
                let cats: Vec<String> = r
                    .categories()
                    .iter()
                    .map(
                        |c| match r.derivations().iter().find(|t| t.category() == c) {
                            Some(t) => format!("{c} as its bracket ({})", t.derivation()),
                            None => c.to_string(),
                        },
                    )
                    .collect();
                format!(
                    "{} received {} ({:?} {})",
                    p.name(r.consumer()),
                    cats.join(", "),
                    r.basis_kind(),
                    r.basis()
                )
            }
            LogEntry::GrantIssued(g) => {
                format!("consent given to {}", p.name(g.claims().consumer()))
            }
            LogEntry::Statement(e) => format!(
                "{:?} by {}",
                e.statement().claims().action,
                p.name(e.statement().claims().issued_by)
            ),
            LogEntry::Denial(d) => format!("request denied: {}", d.reasons().join(", ")),
            other => format!("{:?}", other.kind()),
        };
        println!("   #{:<2} {}  {what}", e.index, e.entry.time());
    }

    // 8. The log keeper alters one receipt: the parent's check catches it.
    let mut tampered = history.clone();
    let victim = tampered
        .items
        .iter_mut()
        .find(|i| LogEntry::from_bytes(&i.entry).is_ok_and(|e| matches!(e, LogEntry::Receipt(_))))
        .expect("a receipt");
    let last = victim.entry.len() - 1;
    victim.entry[last] ^= 1;
    let report = verify_history(&tampered, &head, p.s.dgfip, &provider_key).expect("a valid head");
    println!("\n== The same history with one receipt altered by the log keeper:");
    for f in &report.failures {
        println!("   entry #{} REFUSED: {}", f.index, f.error);
    }
    assert!(!report.is_clean(), "the tampered entry must be caught");

    // 9. Deletion evidence: the city hall deletes the data of its first transfer and signs a
    // deletion statement; the parent's history shows it; an auditor asks which receipts are
    // past their retention with no deletion, checked by replaying every entry up to a head.
    deletion_evidence(&mut p);

    // 10. The grant, its lifecycle and its uses as a consent record (ISO/IEC TS 27560 in DPV).
    consent_record(&p, &grant_bytes);

    // 11. Public usage statistics of the school year so far, from the log, checked against a
    // signed head.
    usage_statistics(&p);
}

/// Section 10: the consent record of the grant, from the verified objects the log holds.
fn consent_record(p: &Provider, grant_bytes: &[u8]) {
    use consentry::Statement;
    use consentry::record::grant_record;

    let grant = Verified::<Grant>::parse_and_verify(grant_bytes, &p.s.directory).expect("valid");
    let (mut statements, mut receipts) = (Vec::new(), Vec::new());
    for entry in p.log.entries() {
        match LogEntry::from_bytes(entry) {
            Ok(LogEntry::Statement(e)) if e.statement().claims().basis == grant.claims().id() => {
                let bytes = e.statement().bytes();
                statements.push(
                    Verified::<Statement>::parse_and_verify(bytes, &p.s.directory).expect("valid"),
                );
            }
            Ok(LogEntry::Receipt(r)) if r.claims().basis() == grant.claims().id() => {
                receipts.push(r.verify(&p.s.directory).expect("a valid receipt"));
            }
            _ => {}
        }
    }
    let record = grant_record(&grant, &statements, &receipts, p.s.now).expect("a record");
    let json = record.json();
    let types: Vec<String> = json["dpv:hasConsentStatus"]
        .as_array()
        .map(|events| events.iter().map(|e| e["@type"].to_string()).collect())
        .unwrap_or_default();
    println!("\n== The grant as a consent record (ISO/IEC TS 27560 in DPV, JSON-LD):");
    println!(
        "   record {} {}: status {}",
        json["@type"].as_str().unwrap_or("?"),
        json["@id"].as_str().unwrap_or("?"),
        record.status().code()
    );
    println!("   consent events: {}", types.join(", "));
    println!(
        "   uses: {} transfers, each with its receipt's digest",
        json["consentry:use"].as_array().map_or(0, Vec::len)
    );
}

/// Section 11: the usage report of the period, as the federation publishes it (counts below
/// ten suppressed) and as its operator sees it (nothing suppressed, not for publication).
fn usage_statistics(p: &Provider) {
    use consentry::log::SignedTreeHead;
    use consentry::stats::{DEFAULT_THRESHOLD, Period, UsageReport};

    let until = p.s.now.plus_secs(86_400);
    let signed = p.log.sign_head(p.s.key(p.s.dgfip), p.s.dgfip, until);
    let head = SignedTreeHead::verify(&signed, p.s.dgfip, &p.s.key(p.s.dgfip).verifying_key())
        .expect("our own head");
    let period = Period::new(Scenario::CLOCK, until).expect("a period");
    for (title, threshold) in [
        ("the operator's view, nothing suppressed", 1),
        ("published, counts below 10 suppressed", DEFAULT_THRESHOLD),
    ] {
        let report =
            UsageReport::compute(p.log.entries(), &head, period, threshold).expect("the report");
        report
            .verify(p.log.entries(), &head)
            .expect("a reader recomputes the same report");
        println!(
            "\n== Usage statistics {} .. {} ({title}), recomputed from the {} entries of the signed head:",
            period.from(),
            period.until(),
            head.tree_size()
        );
        for line in report.to_csv().lines() {
            println!("   {line}");
        }
    }
}

/// Section 9: the consumer's deletion, the history's retention lines, the overdue query.
fn deletion_evidence(p: &mut Provider) {
    use consentry::deletion::Deletion;
    use consentry::log::{OverdueReport, RetentionState, verify_overdue};

    let receipts: Vec<_> = (0..p.log.len())
        .filter_map(|i| match LogEntry::from_bytes(p.log.entry(i)?) {
            Ok(LogEntry::Receipt(r)) => Some(r),
            _ => None,
        })
        .collect();
    let first = &receipts[0];
    let statement = Deletion::for_receipt(first, p.s.now, p.s.now).sign(p.s.key(p.s.mairie));
    let at = p
        .log
        .append_deletion(statement, &p.s.directory)
        .expect("the city hall deletes what it received");
    println!(
        "
== The city hall deletes the data of its first transfer"
    );
    println!("   deletion statement appended at index {at}, signed by the city hall");
    let head = p.log.sign_head(p.s.key(p.s.dgfip), p.s.dgfip, p.s.now);
    let provider_key = p.s.key(p.s.dgfip).verifying_key();
    let history = p
        .log
        .access_history(p.s.parent, p.log.len())
        .expect("a valid size");
    let report = verify_history(&history, &head, p.s.dgfip, &provider_key).expect("a valid head");
    println!("   the parent's transfers, from the proven history:");
    let mut deleted = Vec::new();
    for line in report.retention(&p.s.directory) {
        if matches!(line.state(p.s.now), RetentionState::Deleted { .. }) {
            deleted.push(line.receipt_index);
        }
        println!(
            "     index {:<2} to {}: {}",
            line.receipt_index,
            p.name(line.receipt.consumer()),
            line.describe(p.s.now)
        );
    }
    assert_eq!(deleted.len(), 1, "the first transfer is shown deleted");

    // After every retention has passed: the receipts not deleted, proven by a replay.
    let later = receipts
        .iter()
        .map(|r| r.claims().retain_until())
        .max()
        .expect("receipts")
        .plus_secs(86_400);
    let head = p.log.sign_head(p.s.key(p.s.dgfip), p.s.dgfip, later);
    let report = OverdueReport::compute(
        p.log.entries(),
        &head,
        p.s.dgfip,
        &provider_key,
        later,
        &p.s.directory,
    )
    .expect("the keeper's report");
    let overdue = verify_overdue(
        &report,
        p.log.entries(),
        p.s.dgfip,
        &provider_key,
        &p.s.directory,
    )
    .expect("the auditor's replay agrees");
    let listed: Vec<String> = overdue.iter().map(|o| o.index.to_string()).collect();
    println!(
        "\n== Overdue retention at {later}: receipts at index {} (replayed over all {} entries)",
        listed.join(", "),
        p.log.len()
    );
    assert_eq!(overdue.len(), receipts.len() - 1);
    assert!(overdue.iter().all(|o| !deleted.contains(&o.index)));
}
