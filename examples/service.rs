//! A provider service as it sets itself up, without the auditor's kit (`consentry::testing`):
//! the tax administration's gateway loads its key, builds its directory, loads its vocabulary
//! and its purpose ceilings, chooses its ledger and starts a verifier that receipts every
//! transfer. Then a short story: a grant, an allow, a replay, a request beyond the grant, a
//! revocation, and the subject's access history proven against a signed log head.
//!
//! Everything is deterministic (a reproducible random source, fixed ids of the other parties, a
//! fixed clock) so that the output can be checked; the comments say what a real service does
//! instead. It needs no dependency but consentry: `consentry::uuid` and `consentry::rand` give
//! it the UUID type and the operating system's random source.
//!
//! Run with `cargo run --example service`.

use consentry::ceiling::{Ceilings, PurposeCeiling};
use consentry::decision::{Basis, Decision, Receipts, Verifier};
use consentry::directory::{Directory, Party, PartyId, PartyKey, Representation};
use consentry::directory::{RepresentationKind, Role};
use consentry::grant::Grant;
use consentry::ids::{BasisId, RequestId};
use consentry::ledger::{InMemoryLedger, Status};
use consentry::log::{LogEntry, LogStore, Receipt, verify_history};
use consentry::rand::{self, RandomError, RandomSource};
use consentry::request::Request;
use consentry::signed::{SignedPayload, Unverified, Verified};
use consentry::statement::{Action, Statement};
use consentry::terms::{AccessPattern, DataRange};
use consentry::uuid::Uuid;
use consentry::vocab::{Category, Purpose};
use consentry::{Digest, SigningKey, Timestamp};
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};

const DAY: u64 = 86_400;

// The parties' ids, as the federation's directory publishes them.
const DGFIP: &str = "3f6c1a52-8d0e-4b7a-9c21-5e4d7f0a1b01";
const MAIRIE: &str = "3f6c1a52-8d0e-4b7a-9c21-5e4d7f0a1b02";
const FRANCECONNECT: &str = "3f6c1a52-8d0e-4b7a-9c21-5e4d7f0a1b03";
const CAMILLE: &str = "3f6c1a52-8d0e-4b7a-9c21-5e4d7f0a1b04";

// The provider's purpose ceilings, in the JSON form it publishes (`PurposeCeiling`'s serde
// form): for canteen pricing it releases the reference tax income and the household's
// composition, for at most a year, at most twice a month, kept at most 400 days.
const CEILINGS_JSON: &str = r#"[{
    "publisher": "3f6c1a52-8d0e-4b7a-9c21-5e4d7f0a1b01",
    "purpose": {"code": "education:tarification_cantine",
                "text": "Tarification de la cantine scolaire"},
    "categories": ["dgfip:revenu_fiscal_reference", "dgfip:composition_foyer"],
    "max_validity_secs": 31622400,
    "max_access": {"periodic": {"max_uses": 2, "period_secs": 2592000}},
    "max_retention_secs": 34560000,
    "max_data_range_secs": 31622400
}]"#;

/// The example's random source: SHA-256 of a counter, so that the output is the same at every
/// run. A real service passes the operating system's, `consentry::rand::SystemRandom::new()`,
/// wherever this one is passed below.
struct Reproducible(AtomicU64);

impl RandomSource for Reproducible {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        for chunk in dest.chunks_mut(32) {
            let n = self.0.fetch_add(1, Ordering::Relaxed);
            chunk.copy_from_slice(&Digest::of(&n.to_be_bytes()).as_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let rng = Reproducible(AtomicU64::new(0));
    let [dgfip, mairie, franceconnect, camille] = [DGFIP, MAIRIE, FRANCECONNECT, CAMILLE]
        .map(|id| PartyId(Uuid::parse_str(id).expect("a valid UUID")));
    let day = |y, m, d| Timestamp::from_date(y, m, d).expect("a valid date");
    // The core has no clock: the service passes the time in. A real one reads its system
    // clock (`SystemTime::now()`) at each call; here time is fixed so the output is the same.
    let mut now = day(2025, 9, 1).plus_secs(8 * 3600);
    println!("consentry: a provider service sets itself up (clock at {now})");

    // Its own key, which signs the receipts and the log's heads: a PKCS#8 document made once
    // from the random source, kept in the service's HSM or secret store, and loaded at start.
    let document = SigningKey::generate(&rng)?;
    let provider_key = SigningKey::from_pkcs8(&document)?;
    // The other parties hold their own keys; the service only ever sees their public halves.
    // They are made here to play their side of the story. FranceConnect has two: it rotated.
    let [fc_old_key, fc_key, mairie_key, camille_key] =
        [0x21, 0x22, 0x31, 0x41].map(|b| SigningKey::from_seed(&[b; 32]));

    // The directory: who is who, with which role and which keys, valid when. Every signature
    // is judged against it: the key must belong to the signer, and the object's issue time lie
    // in the key's window (so a key rotated out signs nothing new). A real service loads the
    // directory its federation publishes (`Directory::from_json` or `from_cbor`) and reloads
    // it when it changes; here it is built with the same API.
    let key = |k: &SigningKey, from, until| PartyKey::new(k.verifying_key(), from).until(until);
    let jan = |year| day(year, 1, 1);
    let mut directory = Directory::new();
    let dgfip_name = "Direction générale des Finances publiques";
    let provider = Party::new(dgfip, dgfip_name, Role::Provider);
    directory.add_party(provider.with_key(key(&provider_key, jan(2025), jan(2027))))?;
    let consumer = Party::new(mairie, "Mairie de Lyon", Role::Consumer);
    directory.add_party(consumer.with_key(key(&mairie_key, jan(2025), jan(2027))))?;
    let manager = Party::new(franceconnect, "FranceConnect", Role::ConsentManager)
        .with_key(key(&fc_old_key, jan(2024), day(2025, 6, 1)))
        .with_key(key(&fc_key, day(2025, 6, 1), jan(2026)));
    directory.add_party(manager)?;
    let subject = Party::new(camille, "Camille Martin", Role::Subject);
    directory.add_party(subject.with_key(key(&camille_key, jan(2025), jan(2027))))?;
    // (`add_party` refuses a duplicate id or key, a party without role, an empty window.)
    // Camille gave FranceConnect a mandate: it may express consent for her while it holds.
    directory.add_representation(Representation {
        representative: franceconnect,
        subject: camille,
        kind: RepresentationKind::Mandate,
        valid_from: jan(2025),
        valid_until: None,
    })?;
    let name = |id: PartyId| directory.party(&id).map_or("?".into(), |p| p.name.clone());
    let (parties, reps) = (directory.parties(), directory.representations());
    let (n, r) = (parties.len(), reps.len());
    println!("directory: {n} parties, {r} representation");
    for p in parties {
        let (who, role) = (&p.name, format!("{:?}", p.roles[0]));
        for k in &p.keys {
            let (kid, from) = (k.kid(), k.valid_from);
            let until = k.valid_until.map_or("(open)".into(), |t| t.to_string());
            println!("  {who:<42} {role:<15} key {kid} valid {from} .. {until}");
        }
    }

    // The vocabulary: the codes this service deals in, checked once at start-up so that a typo
    // fails here and not at the first request.
    let income = Category::new("dgfip:revenu_fiscal_reference")?;
    let household = Category::new("dgfip:composition_foyer")?;
    let canteen = Purpose::new("education:tarification_cantine")?
        .with_text("Tarification de la cantine scolaire")?;
    let vocabulary = [&income, &household];

    // The ceilings: the most the provider releases per purpose. A purpose without one is not
    // open here, and the verifier refuses any grant beyond one. Loaded from the published JSON;
    // `publish` replaces silently, so a duplicate is refused here, and so is a ceiling naming a
    // code outside the vocabulary (a configuration error).
    let mut ceilings = Ceilings::new();
    for c in serde_json::from_str::<Vec<PurposeCeiling>>(CEILINGS_JSON)? {
        if ceilings.get(&c.publisher, c.purpose.code()).is_some() {
            return Err(format!("two ceilings for {}", c.purpose.code()).into());
        }
        if let Some(unknown) = c.categories.iter().find(|code| !vocabulary.contains(code)) {
            return Err(format!("a ceiling names the unknown category {unknown}").into());
        }
        ceilings.publish(c);
    }
    for c in ceilings.iter() {
        let (by, cats) = (name(c.publisher), codes(&c.categories));
        println!("ceiling: {by} opens {}: {cats}", c.purpose);
    }

    // The ledger: pauses, revocations, usage, request ids seen, and the transfer log, kept
    // together so that an allow and its receipt are recorded in one transaction. In memory
    // here; a gateway node keeps it durable behind a cargo feature, with the same verifier:
    //     // Cargo.toml: consentry = { version = "0.1", features = ["sqlite"] }
    //     let ledger = consentry::store::sqlite::SqliteStore::open("consentry.db")?;
    // (or `consentry::store::postgres::PgStore::connect(params, 16)?` for several nodes).
    let ledger = InMemoryLedger::new();

    // The verifier, with receipts: each allow's receipt is signed with the provider's key and
    // logged with its use; denials and applied statements are logged too. Receipt ids must
    // never repeat: each is a random UUID from the service's source. A source that fails leaves
    // no id to sign with, so the decision stops there.
    let receipt_ids = || rand::uuid(&rng).unwrap_or_else(|e| panic!("receipt id: {e}"));
    let receipts = Receipts {
        key: &provider_key,
        ids: &receipt_ids,
    };
    let verifier = Verifier::new(dgfip, &directory, &ceilings, &ledger).with_receipts(receipts);
    let kid = provider_key.key_id();
    println!("verifier: {}, receipts signed by key {kid}", name(dgfip));

    // Shows a decision and the log entry it left.
    let show = |title: &str, decision: Decision| -> Result<(), Box<dyn Error>> {
        println!("\n== {title}");
        match decision {
            Decision::Allow(a) => {
                println!("   ALLOW: the provider may send exactly:");
                println!("     categories      {}", codes(a.categories()));
                let range = a.data_range();
                println!("     data range      {} .. {}", range.from(), range.until());
                println!("     keep until      {}", a.retain_until());
                println!("     basis           {} {}", a.basis_kind(), a.basis());
                if let Some(c) = a.consent() {
                    let (by, of) = (name(c.expressed_by), name(c.subject));
                    println!("     consent         expressed by {by} for {of}");
                }
                // The consumer checks the receipt it is handed against the directory.
                let bytes = a.receipt().ok_or("an allow with receipts carries one")?;
                let receipt = Verified::<Receipt>::parse_and_verify(bytes, &directory)?;
                let (size, signer) = (bytes.len(), name(receipt.claims().provider()));
                println!("     receipt         {size} bytes, signed by {signer}");
            }
            Decision::Deny(refusal) => {
                println!("   DENY, for every reason below:");
                for r in refusal.reasons() {
                    println!("     [{}] {r}", r.code());
                }
            }
        }
        println!("     logged          entry #{}", ledger.log_size()? - 1);
        Ok(())
    };

    // The consumer's side: the city hall holds the grant's bytes and binds each request to them
    // by their hash; each request has a fresh random id.
    let request = |grant: &[u8], at: Timestamp| -> Result<Request, Box<dyn Error>> {
        let g = Unverified::<Grant>::parse(grant)?;
        let g = g.claims();
        let id = RequestId::generate(&rng)?;
        Ok(Request::builder(id, g.consumer(), dgfip, g.subject())
            .basis(g.id(), grant)
            .categories(g.scope().categories_at(&dgfip).to_vec())
            .purpose(g.purpose().clone())
            .data_range(g.data_range())
            .issued_at(at)
            .build()?)
    };

    // The story. 1: Camille consents through FranceConnect, which builds the grant within the
    // provider's ceiling (or is refused) and signs it with its current key. Twice a month, so
    // that the replay below is refused as a replay and not for the quota.
    // The grant's id: drawn at random by the consent manager that issues it.
    let id = BasisId::generate(&rng)?;
    let twice_a_month = AccessPattern::periodic(2, 30 * DAY)?;
    let grant = Grant::builder(id, camille, mairie, canteen)
        .expressed_by(franceconnect)
        .cover(dgfip, [income])
        .issued_at(now)
        .valid(now, now.plus_secs(365 * DAY))
        .access(twice_a_month)
        .data_range(DataRange::year(2024)?)
        .retention_secs(365 * DAY)
        .build(&ceilings)?
        .sign(&fc_key);
    println!("\n== 1. The consent manager signs Camille's grant");
    let kid = fc_key.key_id();
    println!(
        "   grant: {} bytes, signed by FranceConnect (key {kid})",
        grant.len()
    );

    // 2. The city hall asks for what was granted.
    let first = request(&grant, now)?.sign(&mairie_key);
    let decision = verifier.decide(&first, Basis::Signed(&grant), now);
    show("2. The city hall asks for what was granted", decision)?;

    // 3. The same bytes again a minute later: a replay, caught by the request id.
    now = now.plus_secs(60);
    let decision = verifier.decide(&first, Basis::Signed(&grant), now);
    show("3. The same request, replayed", decision)?;

    // 4. A request beyond the grant: another category, another purpose, another year.
    let asked = request(&grant, now)?;
    let greedy = asked
        .to_builder()
        .categories(asked.categories().iter().cloned().chain([household]))
        .purpose(Purpose::new("fiscalite:controle")?)
        .data_range(DataRange::year(2023)?)
        .build()?;
    let decision = verifier.decide(&greedy.sign(&mairie_key), Basis::Signed(&grant), now);
    show("4. A request beyond the grant", decision)?;

    // 5. The next day, Camille withdraws her consent herself: a revocation statement naming the
    //    grant by id and by the hash of its bytes. It takes effect at once, for good.
    now = day(2025, 9, 2).plus_secs(9 * 3600);
    let revoke = Statement {
        basis: Unverified::<Grant>::parse(&grant)?.claims().id(),
        basis_digest: Digest::of(&grant),
        action: Action::Revoke,
        issued_by: camille,
        issued_at: now,
    };
    println!("\n== 5. Camille revokes her grant");
    match verifier.apply_statement(&revoke.sign(&camille_key), Basis::Signed(&grant), now) {
        Ok(Status::Revoked { at }) => println!("   statement applied -> revoked at {at}"),
        Ok(status) => println!("   statement applied -> {status:?}"),
        Err(refusal) => println!("   statement REFUSED [{}] {refusal}", refusal.code()),
    }
    println!("     logged          entry #{}", ledger.log_size()? - 1);

    // 6. The city hall asks again: denied.
    now = now.plus_secs(3600);
    let after = request(&grant, now)?.sign(&mairie_key);
    let decision = verifier.decide(&after, Basis::Signed(&grant), now);
    show("6. The city hall asks after the revocation", decision)?;

    // 7. The provider signs the head of its log: a commitment to every entry so far, which it
    //    publishes (or hands out with each history).
    let head = ledger.sign_head(&provider_key, dgfip, now)?;
    let size = ledger.log_size()?;
    println!(
        "\n== 7. Signed tree head: {size} entries, {} bytes",
        head.len()
    );

    // 8. Camille asks for her access history, and checks it against the head with nothing but
    //    the provider's public key, as the directory lists it: she need not trust the log.
    let history = ledger.access_history(camille, size)?;
    let operator = directory.party(&dgfip).ok_or("the provider is listed")?;
    let report = verify_history(&history, &head, dgfip, &operator.keys[0].public)?;
    let n = report.verified.len();
    println!("\n== 8. Camille's access history ({n} entries, each proven against the head):");
    for e in &report.verified {
        let what = match &e.entry {
            LogEntry::Receipt(r) => {
                let r = r.claims();
                format!("{} received {}", name(r.consumer()), codes(r.categories()))
            }
            LogEntry::Denial(d) => format!("request denied: {}", d.reasons().join(", ")),
            LogEntry::Statement(s) => {
                let s = s.statement().claims();
                format!("{:?} by {}", s.action, name(s.issued_by))
            }
            other => other.kind().to_string(),
        };
        println!("   #{:<2} {}  {what}", e.index, e.entry.time());
    }
    println!("   history clean: {}", report.is_clean());
    Ok(())
}

/// Category codes, comma-separated.
fn codes(categories: &[Category]) -> String {
    let codes: Vec<&str> = categories.iter().map(Category::as_str).collect();
    codes.join(", ")
}
