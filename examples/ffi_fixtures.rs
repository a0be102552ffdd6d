//! Writes the inputs of the foreign-language tests (`tests/ffi`, `tests/interop`) into a
//! directory: the canteen scenario as JSON documents and seeds, and a set of signed objects of
//! every kind with their signers' public keys.
//!
//! Run with `cargo run --example ffi_fixtures -- DIR`.
//!
//! Files written:
//! - `directory.json`, `directory.cbor`, `ceilings.json` (a JSON array of ceilings);
//! - `<party>.seed` (32 raw bytes) and `<party>.id` (the UUID) for parent, mairie, dgfip,
//!   franceconnect and authority; `provider.id` is the deciding provider (DGFiP);
//! - `now`, `revoke_at`, `later` (decimal Unix times);
//! - `grant.json` and `grant.digest` (the hex SHA-256 of the grant signed with the parent's
//!   seed: signing is deterministic, so a binding must produce exactly these bytes);
//! - `grant_beyond.json` (beyond DGFiP's ceiling), `habilitation.json`;
//! - `request.json`, `request_extra.json` (an extra category), `request_later.json`,
//!   `revoke.json` (the parent's revocation statement);
//! - `signed/<name>.cose` (COSE_Sign1 bytes) with `signed/<name>.pub` (the signer's raw 32-byte
//!   Ed25519 public key) for grants, a habilitation, requests and statements;
//! - for the service story: `operator.seed` and `operator.pub` (the directory operator's key,
//!   the trust anchor), `directory.signed` (the directory's first version, signed by the
//!   operator at `genesis_at`), `directory_update.cose` (update 1, issued at `rotated_at`: the
//!   city hall's key rotated to the key of `mairie2.seed`), `request_old_key.json` and
//!   `request_paused.json` (fresh requests as granted, issued at `now`), `pause.json` (the
//!   parent's pause statement at `now`) and `receipt.id` (a receipt id);
//! - for notifications, deletions and statistics: `grant_notified.json` (the parent's grant
//!   covering DGFiP and CNAF), `pause_notified.json` (the parent's pause of it at `now`),
//!   `request_notified.json` (the city hall's request to DGFiP under it) and `request_cnaf.json`
//!   (to CNAF), `request_habilitation.json` (to DGFiP under the habilitation), `deleted_at` (a
//!   day after `now`) and `overdue_at` (after the retention of every receipt);
//! - for derivations: `derivations.json` (the vocabulary, a JSON array), `grant_derived.json`
//!   (a grant releasing the reference tax income as a bracket) with `request_derived.json`,
//!   `ceilings_derived_only.json` (DGFiP's ceiling releasing that income only as a bracket) and
//!   `request_raw.json` (a request under the plain grant).

use consentry::Digest;
use consentry::ceiling::PurposeCeiling;
use consentry::danger::UncheckedGrant;
use consentry::directory::{DirectoryHistory, DirectorySnapshot, PartyKey};
use consentry::signed::SignedPayload;
use consentry::statement::{Action, Statement};
use consentry::terms::AccessPattern;
use consentry::testing::{self, Scenario};
use std::path::{Path, PathBuf};

const DAY: u64 = 86_400;

fn seed(name: &str) -> [u8; 32] {
    // The derivation of `testing::key_for`.
    *Digest::of_parts(&[b"consentry-testing:", name.as_bytes()]).as_bytes()
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("serialisable")
}

fn main() {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .expect("usage: ffi_fixtures DIR");
    let signed = dir.join("signed");
    std::fs::create_dir_all(&signed).expect("create the output directory");

    let mut s = Scenario::canteen();
    write(&dir, "directory.json", s.directory.to_json());
    write(&dir, "directory.cbor", s.directory.to_cbor());
    let mut ceilings: Vec<&PurposeCeiling> = s.ceilings.iter().collect();
    ceilings.sort_by_key(|c| (c.publisher, c.purpose.code().to_owned()));
    write(&dir, "ceilings.json", json(&ceilings));

    for (name, id) in [
        ("parent", s.parent),
        ("mairie", s.mairie),
        ("dgfip", s.dgfip),
        ("franceconnect", s.franceconnect),
        ("authority", s.authority),
        ("cnaf", s.cnaf),
    ] {
        let seed = seed(name);
        assert_eq!(
            consentry::SigningKey::from_seed(&seed).verifying_key(),
            s.key(id).verifying_key(),
            "seed derivation"
        );
        write(&dir, &format!("{name}.seed"), seed);
        write(&dir, &format!("{name}.id"), id.to_string());
    }
    write(&dir, "provider.id", s.verifier_provider.to_string());

    let now = s.now;
    let (revoke_at, later) = (now.plus_secs(DAY), now.plus_secs(40 * DAY));
    write(&dir, "now", now.secs().to_string());
    write(&dir, "revoke_at", revoke_at.secs().to_string());
    write(&dir, "later", later.secs().to_string());

    // The parent's grant, and its exact signed bytes.
    let grant = s.grant().build(&s.ceilings).expect("within the ceilings");
    let grant_bytes = s.sign_grant(&grant);
    write(&dir, "grant.json", json(&grant));
    write(&dir, "grant.digest", Digest::of(&grant_bytes).to_hex());
    write(&dir, "signed/grant.cose", &grant_bytes);
    write(
        &dir,
        "signed/grant.pub",
        s.key(s.parent).verifying_key().as_bytes(),
    );

    // A grant beyond DGFiP's ceiling: an extra category there, and a longer retention.
    let beyond = s
        .grant()
        .cover(s.dgfip, [testing::quotient_familial()])
        .retention_secs(800 * DAY)
        .build_without_ceiling_check()
        .expect("a well-formed grant");
    write(&dir, "grant_beyond.json", json(&beyond));

    // Requests: as granted, with an extra category, and after the revocation.
    let request = s.request(&grant_bytes);
    write(&dir, "request.json", json(&request));
    let request_for = s.request(&grant_bytes);
    let extra = request_for
        .to_builder()
        .categories(
            request_for
                .categories()
                .iter()
                .cloned()
                .chain([testing::household()]),
        )
        .build()
        .expect("a valid request");
    write(&dir, "request_extra.json", json(&extra));
    let revoke = Statement {
        basis: grant.id(),
        basis_digest: Digest::of(&grant_bytes),
        action: Action::Revoke,
        issued_by: s.parent,
        issued_at: revoke_at,
    };
    write(&dir, "revoke.json", json(&revoke));
    s.now = later;
    let after = s.request(&grant_bytes);
    write(&dir, "request_later.json", json(&after));
    s.now = now;

    let hab = s.habilitation();
    write(&dir, "habilitation.json", json(&hab));

    // The service story: the directory as its operator signs it, the city hall's key rotated
    // the day before `now`, fresh requests and the parent's pause.
    let operator = seed("operator");
    let operator_key = consentry::SigningKey::from_seed(&operator);
    write(&dir, "operator.seed", operator);
    write(
        &dir,
        "operator.pub",
        operator_key.verifying_key().as_bytes(),
    );
    let (genesis_at, rotated_at) = (now.minus_secs(2 * DAY), now.minus_secs(DAY));
    write(&dir, "genesis_at", genesis_at.secs().to_string());
    write(&dir, "rotated_at", rotated_at.secs().to_string());
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), genesis_at).sign(&operator_key);
    let history = DirectoryHistory::load(&genesis, &operator_key.verifying_key())
        .expect("the operator's own signature");
    let mairie2 = seed("mairie-2");
    let rotation = history
        .next_update(rotated_at)
        .rotate_key(
            s.mairie,
            s.key(s.mairie).key_id(),
            PartyKey::new(
                consentry::SigningKey::from_seed(&mairie2).verifying_key(),
                rotated_at,
            ),
        )
        .sign(&operator_key);
    write(&dir, "directory.signed", &genesis);
    write(&dir, "directory_update.cose", &rotation);
    write(&dir, "mairie2.seed", mairie2);
    let old_key = s.request(&grant_bytes);
    write(&dir, "request_old_key.json", json(&old_key));
    let paused = s.request(&grant_bytes);
    write(&dir, "request_paused.json", json(&paused));
    let pause = Statement {
        action: Action::Pause,
        issued_at: now,
        ..revoke.clone()
    };
    write(&dir, "pause.json", json(&pause));
    write(&dir, "receipt.id", s.next_uuid().to_string());

    // Notifications, deletions and statistics: a grant covering DGFiP and CNAF, its pause, and
    // the city hall's requests to each provider; a request under the habilitation.
    let notified = s
        .grant()
        .cover(s.cnaf, [testing::quotient_familial()])
        .build(&s.ceilings)
        .expect("within the ceilings");
    let notified_bytes = s.sign_grant(&notified);
    write(&dir, "grant_notified.json", json(&notified));
    write(
        &dir,
        "pause_notified.json",
        json(&Statement {
            basis: notified.id(),
            basis_digest: Digest::of(&notified_bytes),
            action: Action::Pause,
            issued_by: s.parent,
            issued_at: now,
        }),
    );
    write(
        &dir,
        "request_notified.json",
        json(&s.request(&notified_bytes)),
    );
    let deciding = s.verifier_provider;
    s.verifier_provider = s.cnaf;
    write(&dir, "request_cnaf.json", json(&s.request(&notified_bytes)));
    s.verifier_provider = deciding;
    let hab_signed = hab.sign(s.key(s.authority));
    write(
        &dir,
        "request_habilitation.json",
        json(&s.request(&hab_signed)),
    );
    write(&dir, "deleted_at", now.plus_secs(DAY).secs().to_string());
    write(
        &dir,
        "overdue_at",
        now.plus_secs(400 * DAY).secs().to_string(),
    );

    // Derivations: the vocabulary, a grant releasing the income as a bracket, and ceilings
    // releasing it only so.
    let vocabulary: Vec<&consentry::derivation::Derivation> =
        s.ceilings.derivations().iter().collect();
    write(&dir, "derivations.json", json(&vocabulary));
    let derived = s
        .grant()
        .derive(testing::derived(
            testing::rfr(),
            testing::RFR_BRACKET,
            &[15_000, 30_000],
        ))
        .build(&s.ceilings)
        .expect("within the ceilings");
    let derived_bytes = s.sign_grant(&derived);
    write(&dir, "grant_derived.json", json(&derived));
    write(
        &dir,
        "request_derived.json",
        json(&s.request(&derived_bytes)),
    );
    write(&dir, "request_raw.json", json(&s.request(&grant_bytes)));
    let mut only: Vec<PurposeCeiling> = ceilings.iter().map(|c| (*c).clone()).collect();
    for c in &mut only {
        if c.publisher == s.dgfip {
            c.derived_only = vec![consentry::ceiling::DerivedOnly {
                category: testing::rfr(),
                derivations: vec![
                    consentry::derivation::DerivationCode::new(testing::RFR_BRACKET)
                        .expect("a valid code"),
                ],
            }];
        }
    }
    write(&dir, "ceilings_derived_only.json", json(&only));

    // Signed objects of every kind this version issues, for other COSE implementations.
    let pub_of = |id| *s.key(id).verifying_key().as_bytes();
    let mut samples: Vec<(&str, Vec<u8>, [u8; 32])> = vec![
        ("request", s.sign_request(&request), pub_of(s.mairie)),
        ("request_extra", s.sign_request(&extra), pub_of(s.mairie)),
        ("revoke", revoke.sign(s.key(s.parent)), pub_of(s.parent)),
    ];
    let via_fc = s
        .grant()
        .expressed_by(s.franceconnect)
        .build(&s.ceilings)
        .expect("within the ceilings");
    samples.push((
        "grant_franceconnect",
        s.sign_grant(&via_fc),
        pub_of(s.franceconnect),
    ));
    let via_chain = s
        .grant_for(s.child)
        .chain([s.franceconnect, s.parent])
        .build(&s.ceilings)
        .expect("within the ceilings");
    samples.push((
        "grant_chain",
        s.sign_grant(&via_chain),
        pub_of(s.franceconnect),
    ));
    let one_time = s
        .grant()
        .access(AccessPattern::one_time())
        .allow_onward_transfer()
        .build(&s.ceilings)
        .expect("within the ceilings");
    samples.push(("grant_one_time", s.sign_grant(&one_time), pub_of(s.parent)));
    let hab_bytes = hab.sign(s.key(s.authority));
    samples.push((
        "request_habilitation",
        s.sign_request(&s.request(&hab_bytes)),
        pub_of(s.mairie),
    ));
    samples.push(("habilitation", hab_bytes, pub_of(s.authority)));
    for action in [Action::Pause, Action::Resume] {
        samples.push((
            if action == Action::Pause {
                "pause"
            } else {
                "resume"
            },
            s.statement(&grant_bytes, action, s.parent),
            pub_of(s.parent),
        ));
    }
    for (name, bytes, public) in &samples {
        write(&signed, &format!("{name}.cose"), bytes);
        write(&signed, &format!("{name}.pub"), public);
    }
    println!(
        "fixtures written to {} ({} signed objects)",
        dir.display(),
        samples.len() + 1
    );
}
